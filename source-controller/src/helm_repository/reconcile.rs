//! One HelmRepository reconcile: validate → credentials → download the index (or log in to the
//! OCI registry) → store when the index changed → garbage collect → status and events.

use std::sync::Arc;
use std::time::Duration;

use kube::runtime::controller::Action;
use weir_api::Validate;
use weir_api::conditions::{reasons, types};
use weir_api::meta::Artifact;
use weir_api::source::helm_repository::HelmRepositoryType;
use weir_api::source::{HelmRepository, HelmRepositoryStatus};

use super::index::{self, HttpOptions};
use crate::oci::manifest::sha256_digest;
use crate::oci::{ClientOptions, Credentials, RegistryClient, Repository, docker_config};
use crate::reconciler::{Cycle, NewArtifact, SourceError, SourceStatus, State, conditions, secrets};
use crate::storage::{ObjectRef, StorageError};

/// The kind's name in storage paths.
pub const KIND: &str = "HelmRepository";
/// Flux's reason when the index cannot be fetched or read.
const INDEXATION_FAILED: &str = "IndexationFailed";

/// Why a reconcile failed.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("{0}")]
    Credentials(String),
    #[error("failed to fetch Helm repository index: {0}")]
    Index(String),
    #[error("failed to login to the registry: {0}")]
    Login(String),
    #[error("processing the request timed out after {0:?}")]
    Timeout(Duration),
    #[error("unable to save artifact to storage: {0}")]
    Storage(#[from] StorageError),
    #[error("the storage task failed: {0}")]
    Task(String),
    #[error("updating the object: {0}")]
    Kube(#[from] kube::Error),
    #[error("the object has no namespace")]
    NoNamespace,
}

impl SourceError for ReconcileError {
    fn condition(&self) -> Option<(&'static str, &'static str)> {
        match self {
            ReconcileError::Credentials(_) | ReconcileError::Login(_) => {
                Some((types::FETCH_FAILED, reasons::AUTHENTICATION_FAILED))
            }
            ReconcileError::Index(_) | ReconcileError::Timeout(_) => Some((types::FETCH_FAILED, INDEXATION_FAILED)),
            ReconcileError::Storage(_) | ReconcileError::Task(_) => {
                Some((types::STORAGE_OPERATION_FAILED, reasons::STORAGE_OPERATION_FAILED))
            }
            ReconcileError::Kube(_) | ReconcileError::NoNamespace => None,
        }
    }

    fn no_namespace() -> Self {
        ReconcileError::NoNamespace
    }

    fn task(error: tokio::task::JoinError) -> Self {
        ReconcileError::Task(error.to_string())
    }
}

fn stored_message(revision: &str) -> String {
    format!("stored artifact: revision '{revision}'")
}

/// Reconciles an object that is not being deleted.
pub async fn apply(obj: Arc<HelmRepository>, state: &State) -> Result<Action, ReconcileError> {
    let Some(cycle) = Cycle::begin::<ReconcileError>(obj, state)? else {
        return Ok(Action::await_change());
    };
    let (obj, namespace, name, generation) = (&cycle.obj, &cycle.namespace, &cycle.name, cycle.generation);
    let oci = obj.spec.repository_type() == HelmRepositoryType::Oci;
    let refused = match obj.validate() {
        Err(errors) => Some(format!("invalid spec: {errors}")),
        Ok(()) if oci != obj.spec.url.starts_with("oci://") => Some(format!(
            "invalid spec: the URL scheme of '{}' does not match type '{}'",
            obj.spec.url,
            if oci { "oci" } else { "default" }
        )),
        Ok(()) => None,
    };
    if let Some(message) = refused {
        return Ok(cycle.stall(reasons::INVALID_SPEC, &message).await?);
    }
    let interval = obj.spec.interval().ok().flatten();
    let timeout = obj.spec.timeout().unwrap_or(weir_api::source::helm_repository::DEFAULT_TIMEOUT);

    let mut next = cycle.start(|_| {}).await?;
    let work = async {
        if oci {
            login(obj, state, namespace).await.map(|()| None)
        } else {
            fetch_index(obj, state, namespace, name, &next).await.map(Some)
        }
    };
    let result = tokio::time::timeout(timeout, work).await.unwrap_or(Err(ReconcileError::Timeout(timeout)));
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(error) => return cycle.failed(state, next, error).await,
    };
    *next.observed_generation_mut() = generation;
    let mut new_artifact = None;
    match outcome {
        None => {
            // Flux keeps no artifact for OCI repositories.
            next.artifact = None;
            next.url = None;
            conditions::ready_without_artifact(&mut next.conditions, generation, "Helm repository is ready");
        }
        Some(stored) => {
            if let Some(artifact) = stored.artifact {
                next.artifact = Some(artifact.clone());
                next.url = stored.url.or(next.url);
                new_artifact = Some(artifact);
            }
            conditions::succeeded(&mut next.conditions, generation, &stored_message(&stored.revision));
        }
    }
    let message = new_artifact
        .as_ref()
        .map(|a| format!("stored fetched index of size {} from '{}'", size_text(a.size), obj.spec.url));
    let event = new_artifact.as_ref().zip(message.as_deref()).map(|(artifact, message)| NewArtifact {
        reason: "NewArtifact",
        message,
        revision: &artifact.revision,
        metadata: Default::default(),
    });
    cycle.succeeded(state, next, event).await?;
    Ok(interval.map_or_else(Action::await_change, |i| Action::requeue(weir_runtime::requeue::jitter(i))))
}

/// Flux writes sizes as `1.2 kB` (decimal units).
fn size_text(size: Option<i64>) -> String {
    let size = size.unwrap_or(0) as f64;
    match size {
        s if s >= 1e6 => format!("{:.1} MB", s / 1e6),
        s if s >= 1e3 => format!("{:.1} kB", s / 1e3),
        s => format!("{s} B"),
    }
}

struct Stored {
    revision: String,
    artifact: Option<Artifact>,
    url: Option<String>,
}

/// Basic auth and TLS of a HelmRepository: `secretRef` (username/password, and TLS keys for
/// compatibility) and `certSecretRef`.
pub async fn http_options(
    client: &kube::Client,
    obj: &HelmRepository,
    namespace: &str,
    timeout: Option<Duration>,
) -> Result<HttpOptions, String> {
    let mut options = HttpOptions { timeout, ..Default::default() };
    if let Some(reference) = &obj.spec.secret_ref {
        let data = secrets::data(client, namespace, &reference.name).await?;
        match (secrets::text(&data, "username"), secrets::text(&data, "password")) {
            (Some(username), Some(password)) => options.basic = Some((username, password)),
            (None, None) => {}
            _ => {
                return Err(format!(
                    "invalid secret '{namespace}/{}': basic auth needs both 'username' and 'password'",
                    reference.name
                ));
            }
        }
        if data.contains_key("ca.crt") || data.contains_key("tls.crt") {
            options.tls = secrets::tls(&data, &format!("{namespace}/{}", reference.name))?;
        }
    }
    if let Some(reference) = &obj.spec.cert_secret_ref {
        let data = secrets::data(client, namespace, &reference.name).await?;
        options.tls = secrets::tls(&data, &format!("{namespace}/{}", reference.name))?;
    }
    Ok(options)
}

async fn fetch_index(
    obj: &HelmRepository,
    state: &State,
    namespace: &str,
    name: &str,
    status: &HelmRepositoryStatus,
) -> Result<Stored, ReconcileError> {
    let options = http_options(&state.client, obj, namespace, None).await.map_err(ReconcileError::Credentials)?;
    let http = index::client(&options).map_err(ReconcileError::Credentials)?;
    let url = index::index_url(&obj.spec.url);
    let bytes = index::download(&http, &url, options.basic.as_ref(), index::MAX_INDEX_BYTES)
        .await
        .map_err(ReconcileError::Index)?;
    index::parse(&bytes).map_err(ReconcileError::Index)?;
    let revision = sha256_digest(&bytes);
    let stored = status.artifact.clone().filter(|a| state.storage.artifact_exists(a));
    if let Some(artifact) = stored.filter(|a| a.revision == revision) {
        let storage = state.storage.clone();
        let _ = tokio::task::spawn_blocking(move || storage.garbage_collect(&artifact)).await;
        return Ok(Stored { revision, artifact: None, url: None });
    }
    let json = index::to_json(&bytes).map_err(ReconcileError::Index)?;
    let storage = state.storage.clone();
    let (ns, n, rev) = (namespace.to_string(), name.to_string(), revision.clone());
    let (artifact, url) = tokio::task::spawn_blocking(move || -> Result<_, ReconcileError> {
        let hex = rev.trim_start_matches("sha256:");
        let artifact = storage.store(ObjectRef::new(KIND, &ns, &n), &format!("index-{hex}.yaml"), &rev, &json[..])?;
        let url = storage.link(&artifact, "index.yaml").ok();
        if let Err(error) = storage.garbage_collect(&artifact) {
            tracing::warn!(namespace = %ns, name = %n, %error, "garbage collection of old artifacts failed");
        }
        Ok((artifact, url))
    })
    .await
    .map_err(|e| ReconcileError::Task(e.to_string()))??;
    Ok(Stored { revision, artifact: Some(artifact), url })
}

/// The registry credentials of an OCI HelmRepository: a dockerconfigjson Secret or
/// username/password.
pub async fn oci_credentials(
    client: &kube::Client,
    obj: &HelmRepository,
    namespace: &str,
    repository: &Repository,
) -> Result<Option<Credentials>, String> {
    let Some(reference) = &obj.spec.secret_ref else { return Ok(None) };
    let data = secrets::data(client, namespace, &reference.name).await?;
    if let (Some(username), Some(password)) = (secrets::text(&data, "username"), secrets::text(&data, "password")) {
        return Ok(Some(Credentials { username, password }));
    }
    docker_config::credentials_for(&data, &repository.registry)
        .map_err(|e| format!("invalid secret '{namespace}/{}': {e}", reference.name))
}

async fn login(obj: &HelmRepository, state: &State, namespace: &str) -> Result<(), ReconcileError> {
    let repository = Repository::parse(&obj.spec.url).map_err(|e| ReconcileError::Login(e.to_string()))?;
    let credentials =
        oci_credentials(&state.client, obj, namespace, &repository).await.map_err(ReconcileError::Credentials)?;
    let mut options = ClientOptions { credentials, insecure: obj.spec.insecure == Some(true), ..Default::default() };
    if let Some(reference) = &obj.spec.cert_secret_ref {
        let data =
            secrets::data(&state.client, namespace, &reference.name).await.map_err(ReconcileError::Credentials)?;
        let tls =
            secrets::tls(&data, &format!("{namespace}/{}", reference.name)).map_err(ReconcileError::Credentials)?;
        options.ca_pem = tls.ca;
        options.client_identity = tls.identity;
    }
    let client = RegistryClient::new(repository, options).map_err(|e| ReconcileError::Login(e.to_string()))?;
    client.login().await.map_err(|e| ReconcileError::Login(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_as_flux_prints_them() {
        assert_eq!(size_text(Some(512)), "512 B");
        assert_eq!(size_text(Some(1234)), "1.2 kB");
        assert_eq!(size_text(Some(2_500_000)), "2.5 MB");
    }

    #[test]
    fn condition_reasons() {
        assert_eq!(ReconcileError::Index("x".into()).condition(), Some((types::FETCH_FAILED, INDEXATION_FAILED)));
        assert_eq!(
            ReconcileError::Login("x".into()).condition(),
            Some((types::FETCH_FAILED, reasons::AUTHENTICATION_FAILED))
        );
    }
}
