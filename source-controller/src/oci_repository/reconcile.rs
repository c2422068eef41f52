//! One OCIRepository reconcile: validate → registry client (credentials, TLS) → resolve the
//! reference with a manifest `HEAD` → verify → pull unless the revision is stored → store →
//! garbage collect → status and events.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use kube::Resource;
use kube::runtime::controller::Action;
use weir_api::Validate;
use weir_api::conditions::{ConditionStatus, reasons, types};
use weir_api::meta::Artifact;
use weir_api::source::oci_repository::{OCIProvider, VerificationProvider};
use weir_api::source::{OCIRepository, OCIRepositoryStatus};

use super::ignore::{IgnoreError, LayerIgnore};
use super::pull::{self, Content, PullError, Resolved};
use crate::oci::manifest::{ANNOTATION_REVISION, ANNOTATION_SOURCE};
use crate::oci::{ClientOptions, Credentials, RegistryClient, Repository, cosign, docker_config};
use crate::reconciler::{Cycle, NewArtifact, SourceError, State, conditions, secrets};
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

impl SourceError for ReconcileError {
    fn condition(&self) -> Option<(&'static str, &'static str)> {
        match self {
            ReconcileError::Credentials(_) => Some((types::FETCH_FAILED, reasons::AUTHENTICATION_FAILED)),
            ReconcileError::Pull(e) => Some((types::FETCH_FAILED, e.reason())),
            ReconcileError::Timeout(_) => Some((types::FETCH_FAILED, reasons::OCI_PULL_FAILED)),
            ReconcileError::Verification { .. } => Some((types::SOURCE_VERIFIED, reasons::VERIFICATION_ERROR)),
            ReconcileError::Ignore(_) | ReconcileError::Storage(_) | ReconcileError::Task(_) => {
                Some((types::STORAGE_OPERATION_FAILED, reasons::ARCHIVE_OPERATION_FAILED))
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

/// `stored artifact for digest '<revision>'`, Flux's Ready message.
fn stored_message(revision: &str) -> String {
    format!("stored artifact for digest '{revision}'")
}

/// Reconciles an object that is not being deleted.
pub async fn apply(obj: Arc<OCIRepository>, state: &State) -> Result<Action, ReconcileError> {
    let Some(cycle) = Cycle::begin::<ReconcileError>(obj, state)? else {
        return Ok(Action::await_change());
    };
    let (obj, namespace, name, generation) = (&cycle.obj, &cycle.namespace, &cycle.name, cycle.generation);
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
        return Ok(cycle.stall(reason, &message).await?);
    }
    // Validated above, so these parse.
    let interval = obj.spec.interval().unwrap_or(Duration::from_secs(60));
    let timeout = obj.spec.timeout().unwrap_or(weir_api::source::oci_repository::DEFAULT_TIMEOUT);

    let mut next = cycle.start(|_| {}).await?;
    let result = tokio::time::timeout(timeout, produce(obj, state, namespace, name, &mut next))
        .await
        .unwrap_or(Err(ReconcileError::Timeout(timeout)));
    let produced = match result {
        Ok(produced) => produced,
        Err(error) => return cycle.failed(state, next, error).await,
    };
    let revision = produced.revision;
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
    let message = new.as_ref().map(|artifact| new_artifact_message(artifact, &obj.spec.url));
    let event = new.as_ref().zip(message.as_deref()).map(|(artifact, message)| NewArtifact {
        reason: "NewArtifact",
        message,
        revision: &revision,
        metadata: BTreeMap::from([("source.toolkit.fluxcd.io/digest".to_string(), artifact.digest.clone())]),
    });
    cycle.succeeded(state, next, event).await?;
    Ok(Action::requeue(weir_runtime::requeue::jitter(interval)))
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
    let selector = obj.spec.layer_selector.as_ref();
    let max_size = state.storage.max_size();
    let pulled = pull::pull(&client, &obj.spec.url, &resolved, selector, work.path(), max_size).await?;

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
    let keys = cosign::public_keys(&data, &format!("{namespace}/{}", secret.name))
        .map_err(|e| fail("cosign", e.to_string()))?;
    cosign::verify_reference(client, &resolved.digest, &resolved.display, &keys)
        .await
        .map_err(|e| fail("cosign", e.to_string()))?;
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
    if let Some(reference) = &obj.spec.proxy_secret_ref {
        let name = format!("{namespace}/{}", reference.name);
        let proxy = secrets::data(&state.client, namespace, &reference.name)
            .await
            .and_then(|data| crate::oci::ProxyOptions::from_secret(&data, &name))
            .map_err(|m| {
                ReconcileError::Credentials(format!("failed to generate transport for '{}': {m}", obj.spec.url))
            })?;
        options.proxy = Some(proxy);
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
