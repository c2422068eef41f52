//! One OCIRepository reconcile: validate → registry client (credentials, TLS) → resolve the
//! reference with a manifest `HEAD` → verify → pull unless the revision is stored → store →
//! garbage collect → status and events.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use kube::api::Api;
use kube::runtime::controller::Action;
use kube::{Resource, ResourceExt};
use weir_api::Validate;
use weir_api::annotations::RECONCILE_REQUESTED_AT;
use weir_api::annotations::field_managers::SOURCE_CONTROLLER;
use weir_api::conditions::{ConditionStatus, reasons, types};
use weir_api::meta::Artifact;
use weir_api::source::oci_repository::{OCIProvider, VerificationProvider};
use weir_api::source::{OCIRepository, OCIRepositoryStatus};
use weir_runtime::events::Severity;

use super::State;
use super::ignore::{IgnoreError, LayerIgnore};
use super::pull::{self, Content, PullError, Resolved};
use crate::oci::manifest::{ANNOTATION_REVISION, ANNOTATION_SOURCE};
use crate::oci::{ClientOptions, Credentials, RegistryClient, Repository, cosign, docker_config};
use crate::reconciler::conditions;
use crate::reconciler::secrets;
use crate::storage::{ObjectRef, StorageError};

/// The kind's name in storage paths.
pub const KIND: &str = "OCIRepository";

/// Why a reconcile failed, each mapped to a condition and reason.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("{0}")]
    Credentials(String),
    #[error(transparent)]
    Pull(#[from] PullError),
    #[error("failed to verify the signature using provider '{provider}': {message}")]
    Verification { provider: String, message: String },
    #[error("processing the request timed out after {0:?}")]
    Timeout(Duration),
    #[error(transparent)]
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
    /// The condition and reason, or `None` for errors not shown in status.
    fn condition(&self) -> Option<(&'static str, &'static str)> {
        match self {
            ReconcileError::Credentials(_) => Some((types::FETCH_FAILED, reasons::AUTHENTICATION_FAILED)),
            ReconcileError::Pull(e) => Some((types::FETCH_FAILED, e.reason())),
            ReconcileError::Timeout(_) => Some((types::FETCH_FAILED, reasons::OCI_PULL_FAILED)),
            ReconcileError::Verification { .. } => Some((types::SOURCE_VERIFIED, reasons::VERIFICATION_ERROR)),
            ReconcileError::Ignore(_) | ReconcileError::Storage(_) | ReconcileError::Task(_) => {
                Some((types::STORAGE_OPERATION_FAILED, "ArchiveOperationFailed"))
            }
            ReconcileError::Kube(_) | ReconcileError::NoNamespace => None,
        }
    }
}

/// `stored artifact for digest '<revision>'`, Flux's Ready message.
fn stored_message(revision: &str) -> String {
    format!("stored artifact for digest '{revision}'")
}

/// Reconciles an object that is not being deleted.
pub async fn apply(obj: Arc<OCIRepository>, state: &State) -> Result<Action, ReconcileError> {
    let namespace = obj.namespace().ok_or(ReconcileError::NoNamespace)?;
    let name = obj.name_any();
    let api: Api<OCIRepository> = Api::namespaced(state.client.clone(), &namespace);
    let generation = obj.meta().generation;
    let requested_at = obj.annotations().get(RECONCILE_REQUESTED_AT).cloned();
    let before = obj.status.clone().unwrap_or_default();

    if obj.spec.suspend == Some(true) {
        tracing::info!(%namespace, %name, "reconciliation is suspended for this object");
        return Ok(Action::await_change());
    }
    let refused = match (obj.validate(), Repository::parse(&obj.spec.url)) {
        (Err(errors), _) => Some((reasons::INVALID_SPEC, format!("invalid spec: {errors}"))),
        (Ok(()), Err(e)) => {
            Some((pull::reasons::URL_INVALID, format!("URL validation failed for '{}': {e}", obj.spec.url)))
        }
        (Ok(()), Ok(_)) if obj.spec.provider() != OCIProvider::Generic => Some((
            reasons::INVALID_SPEC,
            format!("provider '{:?}' is not supported: only 'generic' credentials are", obj.spec.provider()),
        )),
        _ => None,
    };
    if let Some((reason, message)) = refused {
        let mut next = before.clone();
        next.observed_generation = generation;
        conditions::stalled(&mut next.conditions, generation, reason, &message);
        next.last_handled_reconcile_at = requested_at.or(next.last_handled_reconcile_at);
        if next != before {
            write_status(&api, &name, &next).await?;
        }
        return Ok(Action::await_change());
    }
    // Validated above, so these parse.
    let interval = obj.spec.interval().unwrap_or(Duration::from_secs(60));
    let timeout = obj.spec.timeout().unwrap_or(weir_api::source::oci_repository::DEFAULT_TIMEOUT);

    let mut working = before.clone();
    let new_request = requested_at.is_some() && requested_at != before.last_handled_reconcile_at;
    if before.observed_generation != generation || new_request {
        conditions::progressing(&mut working.conditions, generation, "reconciliation in progress");
        if working != before {
            write_status(&api, &name, &working).await?;
        }
    }

    let mut next = working.clone();
    next.last_handled_reconcile_at = requested_at.or(next.last_handled_reconcile_at);
    let result = match tokio::time::timeout(timeout, produce(&obj, state, &namespace, &name, &mut next)).await {
        Ok(result) => result,
        Err(_) => Err(ReconcileError::Timeout(timeout)),
    };
    match result {
        Ok(produced) => {
            let revision = produced.revision.clone();
            let new = produced.artifact.clone();
            if let Some(artifact) = produced.artifact {
                next.artifact = Some(artifact);
                if produced.url.is_some() {
                    next.url = produced.url;
                }
            }
            next.observed_ignore = obj.spec.ignore.clone();
            next.observed_layer_selector = obj.spec.layer_selector.clone();
            next.observed_generation = generation;
            conditions::succeeded(&mut next.conditions, generation, &stored_message(&revision));
            if next != before {
                write_status(&api, &name, &next).await?;
            }
            if let Some(artifact) = new {
                let message = new_artifact_message(&artifact, &obj.spec.url);
                tracing::info!(%namespace, %name, %revision, "stored artifact");
                let mut metadata = BTreeMap::new();
                metadata.insert("source.toolkit.fluxcd.io/digest".to_string(), artifact.digest.clone());
                state
                    .recorder
                    .record(obj.as_ref(), Severity::Info, "NewArtifact", &message, Some(&revision), metadata)
                    .await;
            }
            state.backoff.reset(&namespace, &name);
            Ok(Action::requeue(weir_runtime::requeue::jitter(interval)))
        }
        Err(error) => {
            if let Some((type_, reason)) = error.condition() {
                let message = error.to_string();
                let in_storage = next.artifact.as_ref().is_some_and(|a| state.storage.artifact_exists(a));
                conditions::failed(&mut next.conditions, generation, type_, reason, &message, in_storage);
                if next != before {
                    write_status(&api, &name, &next).await?;
                }
                state.recorder.record(obj.as_ref(), Severity::Error, reason, &message, None, Default::default()).await;
            }
            Err(error)
        }
    }
}

/// `stored artifact with revision '…' from '…'`, with the origin when the artifact names it.
fn new_artifact_message(artifact: &Artifact, url: &str) -> String {
    let mut message = format!("stored artifact with revision '{}' from '{url}'", artifact.revision);
    if let Some(metadata) = &artifact.metadata
        && let (Some(source), Some(revision)) = (metadata.get(ANNOTATION_SOURCE), metadata.get(ANNOTATION_REVISION))
    {
        message.push_str(&format!(", origin source '{source}', origin revision '{revision}'"));
    }
    message
}

/// What a successful reconcile produced: a new artifact, or none when the revision is stored.
struct Produced {
    revision: String,
    artifact: Option<Artifact>,
    url: Option<String>,
}

/// The registry and storage steps. Writes the verification outcome into `status`'s conditions.
async fn produce(
    obj: &OCIRepository,
    state: &State,
    namespace: &str,
    name: &str,
    status: &mut OCIRepositoryStatus,
) -> Result<Produced, ReconcileError> {
    let repository = Repository::parse(&obj.spec.url)
        .map_err(|e| ReconcileError::Credentials(format!("URL validation failed for '{}': {e}", obj.spec.url)))?;
    let options = client_options(obj, state, namespace, &repository).await?;
    let client = RegistryClient::new(repository, options).map_err(|e| ReconcileError::Credentials(e.to_string()))?;
    let resolved = pull::resolve(&client, &obj.spec.url, obj.spec.reference()).await?;

    let generation = obj.meta().generation;
    let stored = status.artifact.clone().filter(|a| state.storage.artifact_exists(a));
    let same_revision = stored.as_ref().is_some_and(|a| a.revision == resolved.revision);
    verify(obj, state, namespace, &client, &resolved, same_revision, status).await?;
    if obj.spec.verify.is_none() {
        conditions::remove(&mut status.conditions, types::SOURCE_VERIFIED);
    }

    let same_content =
        status.observed_ignore == obj.spec.ignore && status.observed_layer_selector == obj.spec.layer_selector;
    if let (true, true, Some(artifact)) = (same_revision, same_content, stored) {
        collect_garbage(state, artifact, namespace, name).await;
        return Ok(Produced { revision: resolved.revision, artifact: None, url: None });
    }
    if status.artifact.is_some() && !same_revision {
        let message = format!("new revision '{}' for '{}'", resolved.revision, resolved.display);
        conditions::set(
            &mut status.conditions,
            types::ARTIFACT_OUTDATED,
            ConditionStatus::True,
            reasons::NEW_REVISION,
            &message,
            generation,
        );
    }

    let work = tempfile::Builder::new().prefix("ocirepository-").tempdir().map_err(|e| {
        ReconcileError::Storage(StorageError::Io {
            action: "creating a temp dir",
            path: std::env::temp_dir(),
            source: e,
        })
    })?;
    let pulled = pull::pull(&client, &obj.spec.url, &resolved, obj.spec.layer_selector.as_ref(), work.path()).await?;

    let storage = state.storage.clone();
    let ignore = obj.spec.ignore.clone();
    let (ns, n, revision) = (namespace.to_string(), name.to_string(), resolved.revision.clone());
    let file = format!("{}.tar.gz", resolved.digest);
    let (artifact, url) = tokio::task::spawn_blocking(move || -> Result<_, ReconcileError> {
        let _work = work; // removed once stored
        let object = ObjectRef::new(KIND, &ns, &n);
        let mut artifact = match pulled.content {
            Content::Extracted(dir) => {
                let filter = LayerIgnore::load(&dir, ignore.as_deref())?;
                storage.archive_dir(object, &file, &revision, &dir, &filter)?
            }
            Content::Copied(blob) => storage.copy_file(object, &file, &revision, &blob)?,
        };
        artifact.metadata = pulled.annotations;
        let url = match storage.link(&artifact, "latest.tar.gz") {
            Ok(url) => Some(url),
            Err(error) => {
                tracing::warn!(namespace = %ns, name = %n, %error, "updating the latest.tar.gz link failed");
                None
            }
        };
        if let Err(error) = storage.garbage_collect(&artifact) {
            tracing::warn!(namespace = %ns, name = %n, %error, "garbage collection of old artifacts failed");
        }
        Ok((artifact, url))
    })
    .await
    .map_err(|e| ReconcileError::Task(e.to_string()))??;
    Ok(Produced { revision: resolved.revision, artifact: Some(artifact), url })
}

/// Verifies the signature when `spec.verify` is set and the revision, the spec or a failed
/// verification call for it, as Flux does; records SourceVerified True on success.
async fn verify(
    obj: &OCIRepository,
    state: &State,
    namespace: &str,
    client: &RegistryClient,
    resolved: &Resolved,
    same_revision: bool,
    status: &mut OCIRepositoryStatus,
) -> Result<(), ReconcileError> {
    let Some(spec) = &obj.spec.verify else { return Ok(()) };
    let generation = obj.meta().generation;
    let verified = conditions::find(&status.conditions, types::SOURCE_VERIFIED);
    let still_valid = same_revision
        && verified.is_some_and(|c| c.status == ConditionStatus::True && c.observed_generation == generation);
    if still_valid {
        return Ok(());
    }
    let fail =
        |provider: &str, message: String| ReconcileError::Verification { provider: provider.to_string(), message };
    if spec.provider != VerificationProvider::Cosign {
        return Err(fail("notation", "only the cosign provider is supported".to_string()));
    }
    let Some(secret) = &spec.secret_ref else {
        return Err(fail("cosign keyless", "keyless verification is not supported: set spec.verify.secretRef".into()));
    };
    let data = secrets::data(&state.client, namespace, &secret.name).await.map_err(|m| fail("cosign", m))?;
    let mut keys = Vec::new();
    for (key, pem) in data.iter().filter(|(k, _)| k.ends_with(".pub")) {
        keys.push(cosign::parse_public_key(key, pem).map_err(|e| fail("cosign", e.to_string()))?);
    }
    cosign::verify(client, &resolved.digest, &keys).await.map_err(|e| fail("cosign", e.to_string()))?;
    let message = format!("verified signature of revision {}", resolved.revision);
    conditions::set(
        &mut status.conditions,
        types::SOURCE_VERIFIED,
        ConditionStatus::True,
        reasons::SUCCEEDED,
        &message,
        generation,
    );
    Ok(())
}

/// Credentials from `secretRef` and the service account's image pull secrets, and TLS from
/// `certSecretRef`.
async fn client_options(
    obj: &OCIRepository,
    state: &State,
    namespace: &str,
    repository: &Repository,
) -> Result<ClientOptions, ReconcileError> {
    let mut pull_secrets = Vec::new();
    if let Some(reference) = &obj.spec.secret_ref {
        let data = secrets::data(&state.client, namespace, &reference.name)
            .await
            .map_err(|m| ReconcileError::Credentials(format!("failed to get credential: {m}")))?;
        pull_secrets.push((reference.name.clone(), data));
    }
    if let Some(account) = &obj.spec.service_account_name {
        let found = secrets::pull_secrets(&state.client, namespace, account)
            .await
            .map_err(|m| ReconcileError::Credentials(format!("failed to get credential: {m}")))?;
        pull_secrets.extend(found.into_iter().map(|data| (format!("serviceaccount/{account}"), data)));
    }
    let mut credentials: Option<Credentials> = None;
    for (secret, data) in &pull_secrets {
        let found = docker_config::credentials_for(data, &repository.registry).map_err(|e| {
            ReconcileError::Credentials(format!("failed to get credential from secret '{namespace}/{secret}': {e}"))
        })?;
        if found.is_some() {
            credentials = found;
            break;
        }
    }
    let mut options = ClientOptions { credentials, insecure: obj.spec.insecure == Some(true), ..Default::default() };
    if let Some(reference) = &obj.spec.cert_secret_ref {
        let name = format!("{namespace}/{}", reference.name);
        let tls = secrets::data(&state.client, namespace, &reference.name)
            .await
            .and_then(|data| secrets::tls(&data, &name))
            .map_err(|m| {
                ReconcileError::Credentials(format!("failed to generate transport for '{}': {m}", obj.spec.url))
            })?;
        options.ca_pem = tls.ca;
        options.client_identity = tls.identity;
    }
    Ok(options)
}

async fn collect_garbage(state: &State, artifact: Artifact, namespace: &str, name: &str) {
    let storage = state.storage.clone();
    let collected = tokio::task::spawn_blocking(move || storage.garbage_collect(&artifact)).await;
    if let Ok(Err(error)) = collected {
        tracing::warn!(%namespace, %name, %error, "garbage collection of old artifacts failed");
    }
}

async fn write_status(api: &Api<OCIRepository>, name: &str, status: &OCIRepositoryStatus) -> kube::Result<()> {
    weir_runtime::status::apply(api, SOURCE_CONTROLLER, name, status).await
}

/// Removes the object's artifacts when it is deleted.
pub async fn cleanup(obj: Arc<OCIRepository>, state: &State) -> Result<Action, ReconcileError> {
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
