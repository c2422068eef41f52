//! Getting a chart from each kind of source: the chart `.tgz` from a HelmRepository's index or
//! OCI registry, or the chart directory inside a GitRepository's or Bucket's artifact (read from
//! this controller's own storage).

use std::path::{Path, PathBuf};

use weir_api::meta::Artifact;
use weir_api::source::HelmRepository;
use weir_runtime::artifact::{UntarLimits, untar_gz};

use crate::helm_repository::index::{self, MAX_CHART_BYTES};
use crate::helm_repository::oci_credentials;
use crate::oci::{ClientOptions, RegistryClient, Repository};
use crate::reconciler::secrets;
use crate::storage::Storage;

/// Helm's chart layer media type in OCI registries.
pub const HELM_CHART_LAYER: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";

/// A chart version chosen in a repository, before download.
pub struct Chosen {
    pub name: String,
    pub version: String,
    location: Location,
}

enum Location {
    Http { url: String },
    Oci { client: Box<RegistryClient>, tag: String },
}

/// Chooses the version of `chart` matching `range` in an HTTP repository's stored index.
pub fn choose_in_index(
    storage: &Storage,
    index_artifact: &Artifact,
    repository_url: &str,
    chart: &str,
    range: &str,
) -> Result<Chosen, String> {
    let path = storage.local_path(index_artifact).map_err(|e| e.to_string())?;
    let bytes = std::fs::read(&path).map_err(|e| format!("reading the repository index {}: {e}", path.display()))?;
    let index = index::parse(&bytes)?;
    let version = index.best(chart, range)?;
    let url = index::chart_url(repository_url, version)?;
    Ok(Chosen { name: chart.to_string(), version: version.version.clone(), location: Location::Http { url } })
}

/// Chooses the version of `chart` matching `range` among the tags of `<repository>/<chart>`.
pub async fn choose_in_registry(
    client: &kube::Client,
    repo: &HelmRepository,
    namespace: &str,
    chart: &str,
    range: &str,
) -> Result<Chosen, String> {
    let repository =
        Repository::parse(&format!("{}/{chart}", repo.spec.url.trim_end_matches('/'))).map_err(|e| e.to_string())?;
    let credentials = oci_credentials(client, repo, namespace, &repository).await?;
    let mut options = ClientOptions { credentials, insecure: repo.spec.insecure == Some(true), ..Default::default() };
    if let Some(reference) = &repo.spec.cert_secret_ref {
        let data = secrets::data(client, namespace, &reference.name).await?;
        let tls = secrets::tls(&data, &format!("{namespace}/{}", reference.name))?;
        options.ca_pem = tls.ca;
        options.client_identity = tls.identity;
    }
    let registry = RegistryClient::new(repository, options).map_err(|e| e.to_string())?;
    // OCI tags cannot hold '+': Helm pushes build metadata as '_'.
    let tags: Vec<String> =
        registry.tags().await.map_err(|e| e.to_string())?.into_iter().map(|t| t.replace('_', "+")).collect();
    let range = if range.trim().is_empty() { "*" } else { range.trim() };
    let version = if tags.iter().any(|t| t == range) {
        range.to_string()
    } else {
        let refs: Vec<&str> = tags.iter().map(String::as_str).collect();
        crate::git_repository::reference::highest_matching(range, &refs)
            .map_err(|_| format!("could not get a chart version matching '{range}' for '{chart}'"))?
    };
    let tag = version.replace('+', "_");
    Ok(Chosen { name: chart.to_string(), version, location: Location::Oci { client: Box::new(registry), tag } })
}

/// Checks the cosign signature of an OCI chart against `keys`; returns the verified manifest
/// digest, or `None` for charts from HTTP repositories, which Flux does not verify.
pub async fn verify(chosen: &Chosen, keys: &[p256::ecdsa::VerifyingKey]) -> Result<Option<String>, String> {
    let Location::Oci { client, tag } = &chosen.location else { return Ok(None) };
    let digest = client.resolve(tag).await.map_err(|e| e.to_string())?;
    crate::oci::cosign::verify(client, &digest, keys).await.map_err(|e| e.to_string())?;
    Ok(Some(digest))
}

/// Downloads the chosen chart into `dest`.
pub async fn download(
    chosen: &Chosen,
    options: &index::HttpOptions,
    repository_url: &str,
    pass_credentials: bool,
    dest: &Path,
) -> Result<(), String> {
    match &chosen.location {
        Location::Http { url } => {
            let http = index::client(options)?;
            // Credentials go to the repository's own host only, unless passCredentials.
            let same_host = host(url) == host(repository_url);
            let basic = options.basic.as_ref().filter(|_| same_host || pass_credentials);
            let bytes = index::download(&http, url, basic, MAX_CHART_BYTES).await?;
            std::fs::write(dest, bytes).map_err(|e| format!("writing {}: {e}", dest.display()))
        }
        Location::Oci { client, tag } => {
            let (manifest, _, _) = client.manifest(tag).await.map_err(|e| e.to_string())?;
            let layer = manifest
                .layers
                .iter()
                .find(|l| l.media_type == HELM_CHART_LAYER)
                .ok_or_else(|| format!("'{}:{tag}' has no Helm chart layer", client.repository().name()))?;
            client.blob_to_file(&layer.digest, dest, MAX_CHART_BYTES as u64).await.map_err(|e| e.to_string())?;
            Ok(())
        }
    }
}

fn host(url: &str) -> Option<String> {
    reqwest::Url::parse(url).ok().and_then(|u| u.host_str().map(|h| format!("{h}:{:?}", u.port_or_known_default())))
}

/// Extracts a chart `.tgz` into `dest`; returns the chart's directory (the archive's top one).
pub fn extract_chart(tgz: &Path, dest: &Path) -> Result<PathBuf, String> {
    let file = std::fs::File::open(tgz).map_err(|e| format!("opening {}: {e}", tgz.display()))?;
    untar_gz(std::io::BufReader::new(file), dest, UntarLimits::default()).map_err(|e| e.to_string())?;
    let mut dirs = std::fs::read_dir(dest)
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .filter(|e| e.path().join("Chart.yaml").is_file())
        .map(|e| e.path());
    dirs.next().ok_or_else(|| "the chart archive has no Chart.yaml".to_string())
}

/// Extracts a source's artifact from the storage into `dest`.
pub fn extract_artifact(storage: &Storage, artifact: &Artifact, dest: &Path) -> Result<(), String> {
    let path = storage.local_path(artifact).map_err(|e| e.to_string())?;
    let file =
        std::fs::File::open(&path).map_err(|e| format!("opening the source artifact {}: {e}", path.display()))?;
    untar_gz(std::io::BufReader::new(file), dest, UntarLimits::default()).map_err(|e| e.to_string())?;
    Ok(())
}
