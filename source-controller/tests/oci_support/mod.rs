//! Test helpers for the OCI sources: Debian's `docker-registry` on loopback (optionally with
//! htpasswd auth, or TLS with a private CA and client certificates), a Bearer token gate and a
//! forward proxy in front of it, and Flux-format artifacts and cosign signatures pushed with the
//! crate's client.

#![allow(dead_code)]

pub mod forward_proxy;
pub mod pki;
pub use pki::Pki;
pub mod token_gate;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ObjectMeta, PostParams};
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use source_controller::oci::cosign::{SIGNATURE_ANNOTATION, SimpleSigning, signature_tag};
use source_controller::oci::manifest::{COSIGN_SIMPLE_SIGNING, FLUX_CONFIG, FLUX_CONTENT, OCI_MANIFEST};
use source_controller::oci::{ClientOptions, Credentials, Descriptor, Manifest, RegistryClient, Repository};
use weir_api::conditions::{self, ConditionStatus, types};
use weir_api::source::oci_repository::OCIRepositoryRef;
use weir_api::source::{OCIRepository, OCIRepositorySpec};
use weir_testenv::controllers::Controllers;

/// A running `docker-registry`; killed on drop.
pub struct Registry {
    child: Child,
    pub addr: SocketAddr,
    pub credentials: Option<Credentials>,
    /// The CA and client identity to push with, for a TLS registry.
    client_tls: Option<ClientTls>,
    _dir: tempfile::TempDir,
    log: PathBuf,
}

/// A PEM CA bundle, and a PEM client certificate with its key when the registry asks for one.
type ClientTls = (Vec<u8>, Option<(Vec<u8>, Vec<u8>)>);

impl Registry {
    /// Starts a registry, with htpasswd (bcrypt) auth when `credentials` are given. Panics with
    /// a clear message when the `docker-registry` package is missing.
    pub fn start(credentials: Option<Credentials>) -> Registry {
        Registry::launch(credentials, None)
    }

    /// Starts a registry serving TLS with `pki`'s server certificate, requiring a client
    /// certificate of `pki`'s CA when `require_client_cert`.
    pub fn start_tls(pki: &Pki, require_client_cert: bool) -> Registry {
        Registry::launch(None, Some((pki, require_client_cert)))
    }

    fn launch(credentials: Option<Credentials>, tls: Option<(&Pki, bool)>) -> Registry {
        let binary = "/usr/bin/docker-registry";
        assert!(
            std::path::Path::new(binary).exists(),
            "{binary} is missing: install Debian's docker-registry package (hack/test.sh does)"
        );
        let dir = tempfile::tempdir().unwrap();
        let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let mut config = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {addr}\n",
            dir.path().join("data").display()
        );
        let mut client_tls = None;
        if let Some((pki, require_client_cert)) = tls {
            let write = |name: &str, pem: &str| {
                let path = dir.path().join(name);
                std::fs::write(&path, pem).unwrap();
                path.display().to_string()
            };
            // Under `http:`, so before the top-level `auth:`.
            let (cert, key) = (write("server.crt", &pki.server_cert), write("server.key", &pki.server_key));
            config.push_str(&format!("  tls:\n    certificate: {cert}\n    key: {key}\n"));
            let identity = require_client_cert.then(|| {
                config.push_str(&format!("    clientcas:\n      - {}\n", write("ca.crt", &pki.ca)));
                (pki.client_cert.as_bytes().to_vec(), pki.client_key.as_bytes().to_vec())
            });
            client_tls = Some((pki.ca.as_bytes().to_vec(), identity));
        }
        if let Some(credentials) = &credentials {
            let hash = bcrypt::hash(&credentials.password, 4).unwrap();
            let htpasswd = dir.path().join("htpasswd");
            std::fs::write(&htpasswd, format!("{}:{hash}\n", credentials.username)).unwrap();
            config.push_str(&format!("auth:\n  htpasswd:\n    realm: weir-test\n    path: {}\n", htpasswd.display()));
        }
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let log = dir.path().join("registry.log");
        let child = Command::new(binary)
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::create(dir.path().join("registry.err")).unwrap())
            .spawn()
            .unwrap();
        let registry = Registry { child, addr, credentials, client_tls, _dir: dir, log };
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(std::time::Instant::now() < deadline, "docker-registry did not listen on {addr}");
            std::thread::sleep(Duration::from_millis(50));
        }
        registry
    }

    /// `oci://127.0.0.1:<port>/<path>`.
    pub fn url(&self, path: &str) -> String {
        format!("oci://{}/{path}", self.addr)
    }

    /// A client for `path` with the registry's credentials.
    pub fn client(&self, path: &str) -> RegistryClient {
        let repository = Repository::parse(&self.url(path)).unwrap();
        let mut options = ClientOptions { credentials: self.credentials.clone(), ..Default::default() };
        if let Some((ca, identity)) = &self.client_tls {
            options.ca_pem = Some(ca.clone());
            options.client_identity = identity.clone();
        }
        RegistryClient::new(repository, options).unwrap()
    }

    /// The registry's log (its stderr), for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("registry.err")).unwrap_or_default()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A gzipped tarball of `files` (name, content), as `flux push artifact` builds its layer.
pub fn tar_gz(files: &[(&str, &str)]) -> Vec<u8> {
    let gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gzip);
    for (name, content) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, name, content.as_bytes()).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap()
}

/// A tarball with an entry escaping the root (written raw: the tar crate refuses `..`).
pub fn traversal_tar_gz() -> Vec<u8> {
    let mut header = tar::Header::new_old();
    let name = b"../../escape.txt";
    header.as_old_mut().name[..name.len()].copy_from_slice(name);
    header.set_size(4);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    let mut raw = header.as_bytes().to_vec();
    raw.extend_from_slice(b"evil");
    raw.resize(512 * 2, 0);
    raw.extend_from_slice(&[0u8; 1024]);
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gzip, &raw).unwrap();
    gzip.finish().unwrap()
}

/// Pushes a Flux artifact (config + one content layer, plus `extra_layers`) tagged `tag`;
/// returns the manifest digest.
pub async fn push_artifact(
    client: &RegistryClient,
    tag: &str,
    layer: Vec<u8>,
    extra_layers: Vec<(String, Vec<u8>)>,
    annotations: &[(&str, &str)],
) -> String {
    let config = client.push_blob(b"{}".to_vec()).await.unwrap();
    let mut layers = vec![descriptor(FLUX_CONTENT, client.push_blob(layer.clone()).await.unwrap(), layer.len())];
    for (media_type, bytes) in extra_layers {
        let len = bytes.len();
        layers.push(descriptor(&media_type, client.push_blob(bytes).await.unwrap(), len));
    }
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(OCI_MANIFEST.into()),
        artifact_type: None,
        config: Some(descriptor(FLUX_CONFIG, config, 2)),
        layers,
        manifests: None,
        annotations: Some(annotations.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()),
    };
    client.push_manifest(tag, OCI_MANIFEST, serde_json::to_vec(&manifest).unwrap()).await.unwrap()
}

fn descriptor(media_type: &str, digest: String, size: usize) -> Descriptor {
    Descriptor { media_type: media_type.into(), digest, size: size as i64, annotations: None }
}

/// A deterministic P-256 key.
pub fn signing_key(seed: u8) -> SigningKey {
    SigningKey::from_slice(&[seed; 32]).unwrap()
}

/// The PEM public key of `key`, as `cosign.pub`.
pub fn public_pem(key: &SigningKey) -> String {
    use p256::pkcs8::EncodePublicKey as _;
    key.verifying_key().to_public_key_pem(Default::default()).unwrap()
}

/// Signs `digest` as `cosign sign --key` does: a simple-signing payload layer with the
/// signature annotation, in a manifest tagged `sha256-<hex>.sig`.
pub async fn cosign_sign(client: &RegistryClient, digest: &str, key: &SigningKey) {
    let payload = serde_json::to_vec(&SimpleSigning::new(&client.repository().name(), digest)).unwrap();
    let signature: Signature = key.sign(&payload);
    let encoded = base64::engine::general_purpose::STANDARD.encode(signature.to_der().as_bytes());
    let config = client.push_blob(b"{}".to_vec()).await.unwrap();
    let len = payload.len();
    let payload_digest = client.push_blob(payload).await.unwrap();
    let mut layer = descriptor(COSIGN_SIMPLE_SIGNING, payload_digest, len);
    layer.annotations = Some(BTreeMap::from([(SIGNATURE_ANNOTATION.to_string(), encoded)]));
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(OCI_MANIFEST.into()),
        artifact_type: None,
        config: Some(descriptor("application/vnd.oci.image.config.v1+json", config, 2)),
        layers: vec![layer],
        manifests: None,
        annotations: None,
    };
    client.push_manifest(&signature_tag(digest), OCI_MANIFEST, serde_json::to_vec(&manifest).unwrap()).await.unwrap();
}

/// How long a test waits for the controller.
pub const WAIT: Duration = Duration::from_secs(90);

/// Polls `check` until it gives a value, failing with the controllers' logs after [`WAIT`].
pub async fn eventually<T, F, Fut>(controllers: &Controllers, what: &str, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    weir_testenv::eventually(what, WAIT, || format!("logs:\n{}", controllers.logs()), check).await
}

pub fn condition(obj: &OCIRepository, type_: &str) -> Option<conditions::Condition> {
    let list = obj.status.as_ref()?.conditions.as_deref()?;
    conditions::find(list, type_).cloned()
}

pub fn ready_true(obj: &OCIRepository) -> bool {
    condition(obj, types::READY).is_some_and(|c| c.status == ConditionStatus::True)
}

/// Waits until Ready is decided for the current generation (and, when given, the requested
/// reconcile was handled); returns the object.
pub async fn settled(
    controllers: &Controllers,
    api: &Api<OCIRepository>,
    name: &str,
    token: Option<&str>,
) -> OCIRepository {
    eventually(controllers, &format!("{name} is reconciled"), || async {
        let obj = api.get(name).await.ok()?;
        let ready = condition(&obj, types::READY)?;
        let status = obj.status.as_ref()?;
        let current = ready.observed_generation == obj.metadata.generation && ready.status != ConditionStatus::Unknown;
        let handled = token.is_none_or(|t| status.last_handled_reconcile_at.as_deref() == Some(t));
        (current && handled).then_some(obj)
    })
    .await
}

/// An OCIRepository spec for `url` at `tag`.
pub fn spec_for_tag(url: &str, tag: &str) -> OCIRepositorySpec {
    OCIRepositorySpec {
        url: url.into(),
        interval: "10m".into(),
        reference: Some(OCIRepositoryRef { tag: Some(tag.into()), ..Default::default() }),
        ..Default::default()
    }
}

pub async fn create(api: &Api<OCIRepository>, name: &str, spec: OCIRepositorySpec) {
    api.create(&PostParams::default(), &OCIRepository::new(name, spec)).await.unwrap();
}

pub fn secret(name: &str, type_: Option<&str>, data: &[(&str, &str)]) -> Secret {
    let data: BTreeMap<String, ByteString> =
        data.iter().map(|(k, v)| (k.to_string(), ByteString(v.as_bytes().to_vec()))).collect();
    Secret {
        metadata: ObjectMeta { name: Some(name.into()), ..Default::default() },
        type_: type_.map(str::to_string),
        data: Some(data),
        ..Default::default()
    }
}

/// A `kubernetes.io/dockerconfigjson` Secret with one registry's credentials.
pub fn docker_config_secret(name: &str, registry: &str, credentials: &Credentials) -> Secret {
    let config = serde_json::json!({
        "auths": { registry: { "username": credentials.username, "password": credentials.password } }
    })
    .to_string();
    secret(name, Some("kubernetes.io/dockerconfigjson"), &[(".dockerconfigjson", &config)])
}

/// Downloads, verifies and unpacks the object's artifact as a consumer would.
pub async fn unpack(obj: &OCIRepository) -> tempfile::TempDir {
    let artifact = obj.status.as_ref().unwrap().artifact.as_ref().unwrap();
    let dest = tempfile::tempdir().unwrap();
    let fetcher = weir_runtime::artifact::ArtifactFetcher::new(Default::default()).unwrap();
    fetcher.fetch(&artifact.url, &artifact.digest, dest.path()).await.unwrap();
    dest
}
