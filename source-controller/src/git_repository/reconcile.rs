//! One GitRepository reconcile, top to bottom: validate → credentials → fetch (with the cheap
//! remote check) → archive → garbage collect → status and events.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use kube::runtime::controller::Action;
use kube::{Resource, ResourceExt};
use weir_api::Validate;
use weir_api::annotations::RECONCILE_REQUESTED_AT;
use weir_api::conditions::{reasons, types};
use weir_api::source::{GitRepository, GitRepositoryStatus};
use weir_runtime::events::Severity;

use super::State;
use super::fetch::{self, FetchError, FetchRequest, Fetched};
use super::git::{Auth, GitError};
use super::ignore::{IgnoreError, SourceIgnore};
use super::status;
use crate::storage::{ObjectRef, StorageError};

/// The kind's name in storage paths.
pub const KIND: &str = "GitRepository";

/// Why a reconcile failed, each mapped to a condition and reason.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("{0}")]
    Secret(String),
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("failed to load the ignore patterns: {0}")]
    Ignore(#[from] IgnoreError),
    #[error("unable to archive artifact to storage: {0}")]
    Storage(#[from] StorageError),
    #[error("the storage task failed: {0}")]
    Task(String),
    #[error("updating the object: {0}")]
    Kube(#[from] kube::Error),
    #[error("the object has no namespace")]
    NoNamespace,
}

impl ReconcileError {
    /// The negative-polarity condition and the reason, or `None` for errors not shown in status.
    fn condition(&self) -> Option<(&'static str, &'static str)> {
        match self {
            ReconcileError::Secret(_) => Some((types::FETCH_FAILED, reasons::AUTHENTICATION_FAILED)),
            ReconcileError::Fetch(FetchError::Git(GitError::Authentication { .. })) => {
                Some((types::FETCH_FAILED, reasons::AUTHENTICATION_FAILED))
            }
            ReconcileError::Fetch(_) => Some((types::FETCH_FAILED, reasons::GIT_OPERATION_FAILED)),
            ReconcileError::Ignore(_) | ReconcileError::Storage(_) | ReconcileError::Task(_) => {
                Some((types::STORAGE_OPERATION_FAILED, reasons::STORAGE_OPERATION_FAILED))
            }
            ReconcileError::Kube(_) | ReconcileError::NoNamespace => None,
        }
    }
}

/// Reconciles an object that is not being deleted.
pub async fn apply(obj: Arc<GitRepository>, state: &State) -> Result<Action, ReconcileError> {
    let namespace = obj.namespace().ok_or(ReconcileError::NoNamespace)?;
    let name = obj.name_any();
    let api: Api<GitRepository> = Api::namespaced(state.client.clone(), &namespace);
    let generation = obj.meta().generation;
    let requested_at = obj.annotations().get(RECONCILE_REQUESTED_AT).cloned();
    let before = status::current(&obj);

    if obj.spec.suspend == Some(true) {
        tracing::info!(%namespace, %name, "reconciliation is suspended for this object");
        return Ok(Action::await_change());
    }
    if let Err(errors) = obj.validate() {
        let mut next = before.clone();
        status::stalled(&mut next, generation, &format!("invalid spec: {errors}"));
        next.last_handled_reconcile_at = requested_at.or(next.last_handled_reconcile_at);
        if next != before {
            status::apply(&api, &name, &next).await?;
        }
        return Ok(Action::await_change());
    }
    // Validated above, so these parse.
    let interval = obj.spec.interval().unwrap_or(Duration::from_secs(60));
    let timeout = obj.spec.timeout().unwrap_or(weir_api::source::git_repository::DEFAULT_TIMEOUT);

    let mut working = before.clone();
    let new_request = requested_at.is_some() && requested_at != before.last_handled_reconcile_at;
    if before.observed_generation != generation || new_request {
        status::progressing(&mut working, generation, "reconciliation in progress");
        if working != before {
            status::apply(&api, &name, &working).await?;
        }
    }

    let result = produce(&obj, state, &namespace, &name, timeout, &working).await;
    let mut next = working.clone();
    next.last_handled_reconcile_at = requested_at.or(next.last_handled_reconcile_at);
    match result {
        Ok(outcome) => {
            let revision = outcome.revision.clone();
            let new = outcome.artifact.is_some();
            status::succeeded(&mut next, generation, outcome.artifact, obj.spec.ignore.clone(), &revision);
            if next != before {
                status::apply(&api, &name, &next).await?;
            }
            if new {
                tracing::info!(%namespace, %name, %revision, "stored artifact");
                state
                    .recorder
                    .record(
                        obj.as_ref(),
                        Severity::Info,
                        "NewArtifact",
                        &status::stored_message(&revision),
                        Some(&revision),
                        Default::default(),
                    )
                    .await;
            }
            state.backoff.reset(&namespace, &name);
            Ok(Action::requeue(weir_runtime::requeue::jitter(interval)))
        }
        Err(error) => {
            if let Some((type_, reason)) = error.condition() {
                let message = error.to_string();
                let in_storage = next.artifact.as_ref().is_some_and(|a| state.storage.artifact_exists(a));
                status::failed(&mut next, generation, type_, reason, &message, in_storage);
                if next != before {
                    status::apply(&api, &name, &next).await?;
                }
                state.recorder.record(obj.as_ref(), Severity::Error, reason, &message, None, Default::default()).await;
            }
            Err(error)
        }
    }
}

/// What a successful reconcile produced: a new artifact, or none when the revision is stored.
struct Produced {
    revision: String,
    artifact: Option<weir_api::meta::Artifact>,
}

async fn produce(
    obj: &GitRepository,
    state: &State,
    namespace: &str,
    name: &str,
    timeout: Duration,
    current: &GitRepositoryStatus,
) -> Result<Produced, ReconcileError> {
    let auth = credentials(obj, state, namespace).await?;
    let request = FetchRequest { url: obj.spec.url.clone(), auth, reference: obj.spec.reference().into(), timeout };

    // The cheap check: the same revision and ignore rules, and the file still in storage.
    let stored = current.artifact.clone().filter(|a| state.storage.artifact_exists(a));
    let same_ignore = current.observed_ignore == obj.spec.ignore;
    let stored_revision = stored.as_ref().map(|a| a.revision.clone());
    let unchanged = move |revision: &str| same_ignore && stored_revision.as_deref() == Some(revision);

    match fetch::fetch(request, unchanged).await? {
        Fetched::Unchanged { revision } => {
            // Old artifacts expire with time too, so collect on every reconcile, as Flux does.
            if let Some(artifact) = stored {
                let storage = state.storage.clone();
                let collected = tokio::task::spawn_blocking(move || storage.garbage_collect(&artifact)).await;
                if let Ok(Err(error)) = collected {
                    tracing::warn!(%namespace, %name, %error, "garbage collection of old artifacts failed");
                }
            }
            Ok(Produced { revision, artifact: None })
        }
        Fetched::CheckedOut { revision, commit, dir, temp } => {
            let storage = state.storage.clone();
            let ignore = obj.spec.ignore.clone();
            let (namespace, name) = (namespace.to_string(), name.to_string());
            let rev = revision.clone();
            let artifact = tokio::task::spawn_blocking(move || -> Result<_, ReconcileError> {
                let _checkout = temp; // removed once archived
                let filter = SourceIgnore::load(&dir, ignore.as_deref())?;
                let object = ObjectRef::new(KIND, &namespace, &name);
                let artifact = storage.archive_dir(object, &format!("{commit}.tar.gz"), &rev, &dir, &filter)?;
                if let Err(error) = storage.garbage_collect(&artifact) {
                    tracing::warn!(%namespace, %name, %error, "garbage collection of old artifacts failed");
                }
                Ok(artifact)
            })
            .await
            .map_err(|e| ReconcileError::Task(e.to_string()))??;
            Ok(Produced { revision, artifact: Some(artifact) })
        }
    }
}

/// The credentials of `spec.secretRef`: `username`/`password` for basic auth, else `bearerToken`.
async fn credentials(obj: &GitRepository, state: &State, namespace: &str) -> Result<Auth, ReconcileError> {
    let Some(reference) = &obj.spec.secret_ref else { return Ok(Auth::None) };
    let secrets: Api<Secret> = Api::namespaced(state.client.clone(), namespace);
    let secret = secrets.get(&reference.name).await.map_err(|e| {
        ReconcileError::Secret(format!(
            "failed to get secret '{namespace}/{}': {}",
            reference.name,
            short_kube_error(&e)
        ))
    })?;
    let data = secret.data.unwrap_or_default();
    let text = |key: &str| data.get(key).map(|v| String::from_utf8_lossy(&v.0).into_owned());
    match (text("username"), text("password"), text("bearerToken")) {
        (Some(username), Some(password), _) => Ok(Auth::Basic { username, password }),
        (_, _, Some(token)) => Ok(Auth::Bearer(token)),
        (Some(_), None, None) | (None, Some(_), None) => Err(ReconcileError::Secret(format!(
            "invalid secret '{namespace}/{}': basic auth needs both 'username' and 'password'",
            reference.name
        ))),
        // SSH keys and TLS certificates are not supported yet: no HTTP credentials then.
        (None, None, None) => Ok(Auth::None),
    }
}

fn short_kube_error(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) => status.message.clone(),
        other => other.to_string(),
    }
}

/// Removes the object's artifacts when it is deleted.
pub async fn cleanup(obj: Arc<GitRepository>, state: &State) -> Result<Action, ReconcileError> {
    let namespace = obj.namespace().ok_or(ReconcileError::NoNamespace)?;
    let name = obj.name_any();
    let storage = state.storage.clone();
    let (ns, n) = (namespace.clone(), name.clone());
    tokio::task::spawn_blocking(move || storage.remove_object(ObjectRef::new(KIND, &ns, &n)))
        .await
        .map_err(|e| ReconcileError::Task(e.to_string()))??;
    state.backoff.reset(&namespace, &name);
    tracing::info!(%namespace, %name, "removed the artifacts of the deleted object");
    Ok(Action::await_change())
}
