//! One HelmChart reconcile: validate → the source object and its artifact → choose (remote) or
//! locate (local) the chart → skip when nothing changed → build (values files, version metadata)
//! → store `<name>-<version>.tgz` → garbage collect → status and events.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use kube::Resource;
use kube::api::Api;
use kube::runtime::controller::Action;
use weir_api::Validate;
use weir_api::conditions::{reasons, types};
use weir_api::meta::Artifact;
use weir_api::source::helm_chart::{HelmChartSourceKind, ReconcileStrategy};
use weir_api::source::helm_repository::HelmRepositoryType;
use weir_api::source::{Bucket, GitRepository, HelmChart, HelmChartStatus, HelmRepository};

use super::fetch;
use super::package::{self, BuildError};
use crate::reconciler::{Cycle, NewArtifact, SourceError, State, conditions};
use crate::storage::{ObjectRef, StorageError};

/// The kind's name in storage paths.
pub const KIND: &str = "HelmChart";

/// Why a reconcile failed.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("failed to get source: {0}")]
    Source(String),
    #[error("no artifact available for {kind} source '{name}'")]
    NoSourceArtifact { kind: &'static str, name: String },
    #[error("{0}")]
    Pull(String),
    #[error(transparent)]
    Build(#[from] BuildError),
    #[error("chart verification error: {0}")]
    Verification(String),
    #[error("processing the request timed out after {0:?}")]
    Timeout(Duration),
    #[error("unable to save artifact to storage: {0}")]
    Storage(#[from] StorageError),
    #[error("{0}")]
    Work(String),
    #[error("updating the object: {0}")]
    Kube(#[from] kube::Error),
    #[error("the object has no namespace")]
    NoNamespace,
}

impl SourceError for ReconcileError {
    fn condition(&self) -> Option<(&'static str, &'static str)> {
        match self {
            ReconcileError::Source(_) => Some((types::FETCH_FAILED, "SourceUnavailable")),
            ReconcileError::NoSourceArtifact { .. } => Some((types::FETCH_FAILED, "NoSourceArtifact")),
            ReconcileError::Pull(_) | ReconcileError::Timeout(_) => Some((types::FETCH_FAILED, "ChartPullError")),
            ReconcileError::Build(e) => Some((types::BUILD_FAILED, e.reason())),
            ReconcileError::Verification(_) => Some((types::SOURCE_VERIFIED, reasons::VERIFICATION_ERROR)),
            ReconcileError::Storage(_) | ReconcileError::Work(_) => {
                Some((types::STORAGE_OPERATION_FAILED, reasons::STORAGE_OPERATION_FAILED))
            }
            ReconcileError::Kube(_) | ReconcileError::NoNamespace => None,
        }
    }

    fn no_namespace() -> Self {
        ReconcileError::NoNamespace
    }

    fn task(error: tokio::task::JoinError) -> Self {
        ReconcileError::Work(error.to_string())
    }
}

/// Flux's build summary: `pulled|packaged '<name>' chart with version '<v>'[ and merged values
/// files [a b]]`.
fn summary(packaged: bool, name: &str, version: &str, values_files: &[String]) -> String {
    let action = if packaged { "packaged" } else { "pulled" };
    let mut message = format!("{action} '{name}' chart with version '{version}'");
    if !values_files.is_empty() {
        message.push_str(&format!(" and merged values files [{}]", values_files.join(" ")));
    }
    message
}

/// Reconciles an object that is not being deleted.
pub async fn apply(obj: Arc<HelmChart>, state: &State) -> Result<Action, ReconcileError> {
    let Some(cycle) = Cycle::begin::<ReconcileError>(obj, state)? else {
        return Ok(Action::await_change());
    };
    let (obj, namespace, name, generation) = (&cycle.obj, &cycle.namespace, &cycle.name, cycle.generation);
    if let Err(errors) = obj.validate() {
        return Ok(cycle.stall(reasons::INVALID_SPEC, &format!("invalid spec: {errors}")).await?);
    }
    let interval = obj.spec.interval().unwrap_or(Duration::from_secs(60));

    let mut next = cycle.start(|_| {}).await?;
    // HelmChart has no timeout of its own: a minute at least, the interval up to five.
    let timeout = Duration::from_secs(60).max(interval.min(Duration::from_secs(300)));
    let result = tokio::time::timeout(timeout, produce(obj, state, namespace, name, &next))
        .await
        .unwrap_or(Err(ReconcileError::Timeout(timeout)));
    let built = match result {
        Ok(built) => built,
        Err(error) => return cycle.failed(state, next, error).await,
    };
    if let Some(artifact) = built.artifact.clone() {
        next.artifact = Some(artifact);
        next.url = built.url.clone().or(next.url);
    }
    next.observed_source_artifact_revision = Some(built.source_revision.clone());
    next.observed_chart_name = Some(built.chart_name.clone());
    next.observed_values_files = Some(built.values_files.clone()).filter(|v| !v.is_empty());
    next.observed_generation = generation;
    if obj.spec.verify.is_none() {
        conditions::remove(&mut next.conditions, types::SOURCE_VERIFIED);
    } else if let Some(message) = &built.verified {
        let verified = weir_api::conditions::ConditionStatus::True;
        conditions::set(
            &mut next.conditions,
            types::SOURCE_VERIFIED,
            verified,
            reasons::SUCCEEDED,
            message,
            generation,
        );
    }
    conditions::succeeded(&mut next.conditions, generation, &built.message);
    let event = built.artifact.as_ref().map(|artifact| NewArtifact {
        reason: "ChartPackageSucceeded",
        message: &built.message,
        revision: &artifact.revision,
        metadata: Default::default(),
    });
    cycle.succeeded(state, next, event).await?;
    Ok(Action::requeue(weir_runtime::requeue::jitter(interval)))
}

struct Built {
    /// `SourceVerified`'s message when a signature was checked.
    verified: Option<String>,
    artifact: Option<Artifact>,
    url: Option<String>,
    message: String,
    source_revision: String,
    chart_name: String,
    values_files: Vec<String>,
}

/// The source's artifact (Git, Bucket, HTTP HelmRepository) or `None` for an OCI repository.
enum Source {
    Index { repo: HelmRepository, artifact: Artifact },
    Registry { repo: HelmRepository },
    Archive { artifact: Artifact },
}

async fn source(obj: &HelmChart, state: &State, namespace: &str) -> Result<Source, ReconcileError> {
    let reference = &obj.spec.source_ref;
    let kind = reference.kind.as_str();
    let missing = |e: kube::Error| {
        ReconcileError::Source(format!(
            "{kind} '{namespace}/{}': {}",
            reference.name,
            crate::reconciler::secrets::short(&e)
        ))
    };
    let usable = |artifact: Option<Artifact>| {
        artifact
            .filter(|a| state.storage.artifact_exists(a))
            .ok_or_else(|| ReconcileError::NoSourceArtifact { kind, name: format!("{namespace}/{}", reference.name) })
    };
    match reference.kind {
        HelmChartSourceKind::HelmRepository => {
            let repo = Api::<HelmRepository>::namespaced(state.client.clone(), namespace)
                .get(&reference.name)
                .await
                .map_err(missing)?;
            if repo.spec.repository_type() == HelmRepositoryType::Oci {
                return Ok(Source::Registry { repo });
            }
            let artifact = usable(repo.status.as_ref().and_then(|s| s.artifact.clone()))?;
            Ok(Source::Index { repo, artifact })
        }
        HelmChartSourceKind::GitRepository => {
            let repo = Api::<GitRepository>::namespaced(state.client.clone(), namespace)
                .get(&reference.name)
                .await
                .map_err(missing)?;
            Ok(Source::Archive { artifact: usable(repo.status.and_then(|s| s.artifact))? })
        }
        HelmChartSourceKind::Bucket => {
            let bucket = Api::<Bucket>::namespaced(state.client.clone(), namespace)
                .get(&reference.name)
                .await
                .map_err(missing)?;
            Ok(Source::Archive { artifact: usable(bucket.status.and_then(|s| s.artifact))? })
        }
    }
}

async fn produce(
    obj: &HelmChart,
    state: &State,
    namespace: &str,
    name: &str,
    status: &HelmChartStatus,
) -> Result<Built, ReconcileError> {
    let values_files = obj.spec.values_files.clone().unwrap_or_default();
    let ignore_missing = obj.spec.ignore_missing_values_files == Some(true);
    let stored = status.artifact.clone().filter(|a| state.storage.artifact_exists(a));
    // Missing values files may be skipped, so then the observed list can be shorter.
    let same_config = status.observed_chart_name.is_some()
        && (ignore_missing || status.observed_values_files.clone().unwrap_or_default() == values_files);
    let work = tempfile::Builder::new()
        .prefix("helmchart-")
        .tempdir()
        .map_err(|e| ReconcileError::Work(format!("creating a temp dir: {e}")))?;

    match source(obj, state, namespace).await? {
        Source::Archive { artifact } => {
            let source_revision = artifact.revision.clone();
            // Nothing changed upstream or in the spec: the stored package stands.
            if let Some(current) = stored.as_ref().filter(|_| {
                same_config
                    && status.observed_source_artifact_revision.as_deref() == Some(&source_revision)
                    && obj.meta().generation == status.observed_generation
            }) {
                let chart_name = status.observed_chart_name.clone().unwrap_or_default();
                let used = status.observed_values_files.clone().unwrap_or_default();
                let message = summary(true, &chart_name, &current.revision, &used);
                return Ok(Built {
                    verified: None,
                    artifact: None,
                    url: None,
                    message,
                    source_revision,
                    chart_name,
                    values_files: used,
                });
            }
            let storage = state.storage.clone();
            let spec = obj.spec.clone();
            let (ns, n) = (namespace.to_string(), name.to_string());
            tokio::task::spawn_blocking(move || -> Result<Built, ReconcileError> {
                let root = work.path().join("source");
                std::fs::create_dir(&root).map_err(|e| ReconcileError::Work(e.to_string()))?;
                fetch::extract_artifact(&storage, &artifact, &root).map_err(ReconcileError::Work)?;
                let chart_dir = package::secure_join(&root, &spec.chart).map_err(BuildError::Chart)?;
                if !chart_dir.join("Chart.yaml").is_file() {
                    return Err(
                        BuildError::Chart(format!("no chart found at path '{}' in the source", spec.chart)).into()
                    );
                }
                let (chart_name, mut version) = package::metadata(&chart_dir)?;
                if spec.reconcile_strategy() == ReconcileStrategy::Revision {
                    version = package::with_build_metadata(&version, &short_revision(&artifact.revision))?;
                }
                let (values, used) = if values_files.is_empty() {
                    (None, Vec::new())
                } else {
                    let (values, used) = package::merge_values_files(&root, &values_files, ignore_missing)?;
                    (Some(values), used)
                };
                let (artifact, url) =
                    store_package(&storage, &ns, &n, &chart_dir, &chart_name, &version, values.as_ref())?;
                let message = summary(true, &chart_name, &version, &used);
                Ok(Built {
                    verified: None,
                    artifact: Some(artifact),
                    url,
                    message,
                    source_revision,
                    chart_name,
                    values_files: used,
                })
            })
            .await
            .map_err(|e| ReconcileError::Work(format!("the build task failed: {e}")))?
        }
        Source::Index { repo, artifact } => {
            let chosen =
                fetch::choose_in_index(&state.storage, &artifact, &repo.spec.url, &obj.spec.chart, obj.spec.version())
                    .map_err(ReconcileError::Pull)?;
            remote(
                obj,
                state,
                namespace,
                name,
                status,
                &repo,
                chosen,
                artifact.revision.clone(),
                work,
                same_config,
                stored,
            )
            .await
        }
        Source::Registry { repo } => {
            let chosen =
                fetch::choose_in_registry(&state.client, &repo, namespace, &obj.spec.chart, obj.spec.version())
                    .await
                    .map_err(ReconcileError::Pull)?;
            let source_revision = chosen.version.clone();
            remote(obj, state, namespace, name, status, &repo, chosen, source_revision, work, same_config, stored).await
        }
    }
}

/// A chart from a repository: downloaded unless the same version is stored; repackaged only
/// with values files.
#[allow(clippy::too_many_arguments)]
async fn remote(
    obj: &HelmChart,
    state: &State,
    namespace: &str,
    name: &str,
    status: &HelmChartStatus,
    repo: &HelmRepository,
    chosen: fetch::Chosen,
    source_revision: String,
    work: tempfile::TempDir,
    same_config: bool,
    stored: Option<Artifact>,
) -> Result<Built, ReconcileError> {
    let values_files = obj.spec.values_files.clone().unwrap_or_default();
    let ignore_missing = obj.spec.ignore_missing_values_files == Some(true);
    if stored.as_ref().is_some_and(|a| a.revision == chosen.version)
        && same_config
        && obj.meta().generation == status.observed_generation
    {
        let used = status.observed_values_files.clone().unwrap_or_default();
        let message = summary(!used.is_empty(), &chosen.name, &chosen.version, &used);
        return Ok(Built {
            verified: None,
            artifact: None,
            url: None,
            message,
            source_revision,
            chart_name: chosen.name,
            values_files: used,
        });
    }
    let verified = verify(obj, state, namespace, &chosen).await?;
    let options = crate::helm_repository::http_options(&state.client, repo, namespace, None)
        .await
        .map_err(ReconcileError::Pull)?;
    let tgz = work.path().join("chart.tgz");
    fetch::download(&chosen, &options, &repo.spec.url, repo.spec.pass_credentials == Some(true), &tgz).await.map_err(
        |e| ReconcileError::Pull(format!("failed to pull chart '{}' version '{}': {e}", chosen.name, chosen.version)),
    )?;
    let storage = state.storage.clone();
    let (ns, n) = (namespace.to_string(), name.to_string());
    tokio::task::spawn_blocking(move || -> Result<Built, ReconcileError> {
        let file = format!("{}-{}.tgz", chosen.name, chosen.version);
        let object = ObjectRef::new(KIND, &ns, &n);
        if values_files.is_empty() {
            let artifact = storage.copy_file(object, &file, &chosen.version, &tgz)?;
            let url = finish(&storage, &artifact, &ns, &n);
            let message = summary(false, &chosen.name, &chosen.version, &[]);
            return Ok(Built {
                verified,
                artifact: Some(artifact),
                url,
                message,
                source_revision,
                chart_name: chosen.name,
                values_files,
            });
        }
        let dest = work.path().join("chart");
        std::fs::create_dir(&dest).map_err(|e| ReconcileError::Work(e.to_string()))?;
        let chart_dir = fetch::extract_chart(&tgz, &dest).map_err(BuildError::Chart)?;
        let (values, used) = package::merge_values_files(&chart_dir, &values_files, ignore_missing)?;
        let (artifact, url) =
            store_package(&storage, &ns, &n, &chart_dir, &chosen.name, &chosen.version, Some(&values))?;
        let message = summary(true, &chosen.name, &chosen.version, &used);
        Ok(Built {
            verified,
            artifact: Some(artifact),
            url,
            message,
            source_revision,
            chart_name: chosen.name,
            values_files: used,
        })
    })
    .await
    .map_err(|e| ReconcileError::Work(format!("the build task failed: {e}")))?
}

/// Checks the chart's cosign signature when `spec.verify` asks (OCI charts only); returns the
/// SourceVerified message.
async fn verify(
    obj: &HelmChart,
    state: &State,
    namespace: &str,
    chosen: &fetch::Chosen,
) -> Result<Option<String>, ReconcileError> {
    let Some(spec) = &obj.spec.verify else { return Ok(None) };
    if spec.provider != weir_api::source::helm_chart::VerificationProvider::Cosign {
        return Err(ReconcileError::Verification("only the cosign provider is supported".to_string()));
    }
    let Some(secret) = &spec.secret_ref else {
        return Err(ReconcileError::Verification(
            "keyless verification is not supported: set spec.verify.secretRef".to_string(),
        ));
    };
    let data = crate::reconciler::secrets::data(&state.client, namespace, &secret.name)
        .await
        .map_err(ReconcileError::Verification)?;
    let mut keys = Vec::new();
    for (key, pem) in data.iter().filter(|(k, _)| k.ends_with(".pub")) {
        let parsed = crate::oci::cosign::parse_public_key(key, pem);
        keys.push(parsed.map_err(|e| ReconcileError::Verification(e.to_string()))?);
    }
    let digest = fetch::verify(chosen, &keys).await.map_err(ReconcileError::Verification)?;
    Ok(digest.map(|_| format!("verified signature of version {}", chosen.version)))
}

/// Packages `chart_dir` into the storage as `<name>-<version>.tgz`.
fn store_package(
    storage: &crate::storage::Storage,
    namespace: &str,
    name: &str,
    chart_dir: &Path,
    chart_name: &str,
    version: &str,
    values: Option<&serde_json::Value>,
) -> Result<(Artifact, Option<String>), ReconcileError> {
    let bytes = package::package(chart_dir, chart_name, version, values, Vec::new())?;
    let file = format!("{chart_name}-{version}.tgz");
    let artifact = storage.store(ObjectRef::new(KIND, namespace, name), &file, version, &bytes[..])?;
    let url = finish(storage, &artifact, namespace, name);
    Ok((artifact, url))
}

/// Links `index.tgz`… as Flux links the latest chart, and collects old artifacts.
fn finish(storage: &crate::storage::Storage, artifact: &Artifact, namespace: &str, name: &str) -> Option<String> {
    if let Err(error) = storage.garbage_collect(artifact) {
        tracing::warn!(%namespace, %name, %error, "garbage collection of old artifacts failed");
    }
    storage.link(artifact, "latest.tar.gz").ok()
}

/// The first 12 hex digits of a source revision (`main@sha1:<hex>`, `sha256:<hex>`), as Flux
/// puts in the version metadata.
fn short_revision(revision: &str) -> String {
    let hex = revision.rsplit(':').next().unwrap_or(revision);
    hex.chars().take(12).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_and_short_revisions_are_fluxs() {
        assert_eq!(summary(false, "podinfo", "6.0.3", &[]), "pulled 'podinfo' chart with version '6.0.3'");
        assert_eq!(
            summary(true, "app", "1.0.0", &["values.yaml".into(), "prod.yaml".into()]),
            "packaged 'app' chart with version '1.0.0' and merged values files [values.yaml prod.yaml]"
        );
        assert_eq!(short_revision("main@sha1:0123456789abcdef0123"), "0123456789ab");
        assert_eq!(short_revision("sha256:abcdef0123456789"), "abcdef012345");
    }
}
