//! One GitRepository reconcile, top to bottom: validate → credentials → fetch (with the cheap
//! remote check) → archive → garbage collect → status and events.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::Action;
use weir_api::Validate;
use weir_api::conditions::{reasons, types};
use weir_api::source::git_repository::GitRepositoryInclude;
use weir_api::source::{GitRepository, GitRepositoryStatus};

use super::fetch::{self, FetchError, FetchRequest, Fetched};
use super::git::{self, Auth, GitError};
use super::http_options::HttpOptions;
use super::ignore::{IgnoreError, SourceIgnore};
use super::include::{self, IncludeError};
use super::limit;
use super::sparse::{SparseDirs, SparseError, SparseFilter};
use super::ssh::SshAuth;
use super::status;
use super::verify::{self, VerifyError};
use crate::reconciler::{Cycle, NewArtifact, SourceError, State};
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
    #[error(transparent)]
    Sparse(#[from] SparseError),
    #[error(transparent)]
    Include(#[from] IncludeError),
    #[error(transparent)]
    Verify(#[from] VerifyError),
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
            ReconcileError::Secret(_) => Some((types::FETCH_FAILED, reasons::AUTHENTICATION_FAILED)),
            ReconcileError::Fetch(FetchError::Git(GitError::Authentication { .. } | GitError::Ssh { .. })) => {
                Some((types::FETCH_FAILED, reasons::AUTHENTICATION_FAILED))
            }
            ReconcileError::Include(error) => Some((types::INCLUDE_UNAVAILABLE, error.reason)),
            ReconcileError::Fetch(_) | ReconcileError::Sparse(_) => {
                Some((types::FETCH_FAILED, reasons::GIT_OPERATION_FAILED))
            }
            ReconcileError::Storage(StorageError::Content(_)) => {
                Some((types::STORAGE_OPERATION_FAILED, reasons::ARCHIVE_OPERATION_FAILED))
            }
            ReconcileError::Ignore(_) | ReconcileError::Storage(_) | ReconcileError::Task(_) => {
                Some((types::STORAGE_OPERATION_FAILED, reasons::STORAGE_OPERATION_FAILED))
            }
            // Shown on SourceVerified instead (`status::verification_failed`).
            ReconcileError::Verify(_) | ReconcileError::Kube(_) | ReconcileError::NoNamespace => None,
        }
    }

    fn no_namespace() -> Self {
        ReconcileError::NoNamespace
    }

    fn task(error: tokio::task::JoinError) -> Self {
        ReconcileError::Task(error.to_string())
    }
}

/// Reconciles an object that is not being deleted.
pub async fn apply(obj: Arc<GitRepository>, state: &State) -> Result<Action, ReconcileError> {
    let Some(cycle) = Cycle::begin::<ReconcileError>(obj, state)? else {
        return Ok(Action::await_change());
    };
    let (obj, namespace, name, generation) = (&cycle.obj, &cycle.namespace, &cycle.name, cycle.generation);
    if let Err(errors) = obj.validate() {
        return Ok(cycle.stall(reasons::INVALID_SPEC, &format!("invalid spec: {errors}")).await?);
    }
    // Validated above, so these parse.
    let interval = obj.spec.interval().unwrap_or(Duration::from_secs(60));
    let timeout = obj.spec.timeout().unwrap_or(weir_api::source::git_repository::DEFAULT_TIMEOUT);

    let mut next = cycle
        .start(|working| {
            if working.artifact.is_some() && !status::Observed::of(&obj.spec).matches(working) {
                status::outdated(working, generation);
            }
        })
        .await?;
    let result = produce(obj, state, namespace, name, timeout, &next).await;
    match result {
        Ok(outcome) => {
            let revision = outcome.revision;
            let new = outcome.artifact.is_some();
            let observed = status::Observed::of(&obj.spec);
            status::succeeded(&mut next, generation, outcome.artifact, observed, &revision);
            status::verification(&mut next, obj.spec.verify.as_ref(), generation, outcome.verified.as_deref());
            next.included_artifacts = (!outcome.included.is_empty()).then_some(outcome.included);
            let message = status::stored_message(&revision);
            let event = new.then(|| NewArtifact {
                reason: "NewArtifact",
                message: &message,
                revision: &revision,
                metadata: Default::default(),
            });
            cycle.succeeded(state, next, event).await?;
            Ok(Action::requeue(weir_runtime::requeue::jitter(interval)))
        }
        Err(ReconcileError::Verify(error)) => {
            let (reason, message) = (error.reason(), error.to_string());
            let in_storage = cycle.in_storage(state, &next);
            status::verification_failed(&mut next, generation, reason, &message, error.is_stalling(), in_storage);
            cycle.report_failure(state, &next, reason, &message).await?;
            if error.is_stalling() {
                return Ok(Action::await_change());
            }
            Err(ReconcileError::Verify(error))
        }
        Err(error) => cycle.failed(state, next, error).await,
    }
}

/// What a successful reconcile produced: a new artifact, or none when the revision is stored.
struct Produced {
    revision: String,
    artifact: Option<weir_api::meta::Artifact>,
    /// The artifacts of `spec.include`, in its order.
    included: Vec<weir_api::meta::Artifact>,
    /// The SourceVerified message, when `spec.verify` checked this checkout.
    verified: Option<String>,
}

async fn produce(
    obj: &GitRepository,
    state: &State,
    namespace: &str,
    name: &str,
    timeout: Duration,
    current: &GitRepositoryStatus,
) -> Result<Produced, ReconcileError> {
    let (auth, http) = credentials(obj, state, namespace).await?;
    let includes = obj.spec.include.clone().unwrap_or_default();
    let included = included_artifacts(state, namespace, &includes).await?;
    // The included directories stay in a sparse artifact, as Flux copies them after the checkout.
    let mut sparse_dirs = obj.spec.sparse_checkout.clone().unwrap_or_default();
    if !sparse_dirs.is_empty() {
        sparse_dirs.extend(includes.iter().map(|i| i.to_path().to_string()));
    }
    let sparse = SparseDirs::new(&sparse_dirs)?;
    let request = FetchRequest {
        url: obj.spec.url.clone(),
        auth,
        http,
        reference: obj.spec.reference().into(),
        timeout,
        recurse_submodules: obj.spec.recurse_submodules == Some(true),
    };

    // The cheap check: the same revision and content rules, and the file still in storage.
    let stored = current.artifact.clone().filter(|a| state.storage.artifact_exists(a));
    let same_rules = status::Observed::of(&obj.spec).matches(current)
        && include::same_artifacts(current.included_artifacts.as_deref(), &included)
        && !status::requires_verification(obj.spec.verify.as_ref(), current);
    let stored_revision = stored.as_ref().map(|a| a.revision.clone());
    let unchanged = move |revision: &str| same_rules && stored_revision.as_deref() == Some(revision);

    // Held until the artifact is stored; see `limit` for why.
    let _slot = limit::fetch_slot().await;
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
            Ok(Produced { revision, artifact: None, included, verified: None })
        }
        Fetched::CheckedOut { revision, commit, tag, dir, temp } => {
            let verification = match &obj.spec.verify {
                Some(verify) => Some((verify.mode(), trusted_keys(state, namespace, &verify.secret_ref.name).await?)),
                None => None,
            };
            let storage = state.storage.clone();
            let ignore = obj.spec.ignore.clone();
            let (namespace, name) = (namespace.to_string(), name.to_string());
            let rev = revision.clone();
            let to_copy = included.clone();
            let artifact = tokio::task::spawn_blocking(move || -> Result<_, ReconcileError> {
                let _checkout = temp; // removed once archived
                // Nothing of an unverified checkout may reach the storage.
                let verified = match verification {
                    Some((mode, keys)) => Some(verify::verify_checkout(&dir, &commit, tag.as_ref(), mode, &keys)?),
                    None => None,
                };
                include::copy_into(&dir, &includes, &to_copy, &storage)?;
                let ignore = SourceIgnore::load(&dir, ignore.as_deref())?;
                if let Some(sparse) = &sparse {
                    sparse.check_exist(&dir, &rev)?;
                }
                let filter = SparseFilter { inner: &ignore, sparse: sparse.as_ref() };
                let object = ObjectRef::new(KIND, &namespace, &name);
                let artifact = storage.archive_dir(object, &format!("{commit}.tar.gz"), &rev, &dir, &filter)?;
                if let Err(error) = storage.garbage_collect(&artifact) {
                    tracing::warn!(%namespace, %name, %error, "garbage collection of old artifacts failed");
                }
                Ok((artifact, verified))
            })
            .await
            .map_err(|e| ReconcileError::Task(e.to_string()))??;
            let (artifact, verified) = artifact;
            Ok(Produced { revision, artifact: Some(artifact), included, verified })
        }
    }
}

/// The stored artifacts of the included GitRepositories (same namespace), in order.
async fn included_artifacts(
    state: &State,
    namespace: &str,
    includes: &[GitRepositoryInclude],
) -> Result<Vec<weir_api::meta::Artifact>, ReconcileError> {
    if includes.is_empty() {
        return Ok(Vec::new());
    }
    let api: Api<GitRepository> = Api::namespaced(state.client.clone(), namespace);
    let mut found = Vec::with_capacity(includes.len());
    for include in includes {
        found.push(api.get_opt(&include.repository.name).await?);
    }
    Ok(include::resolve(includes, &found, &state.storage)?)
}

/// The credentials of `spec.secretRef` and the HTTP settings of `spec.proxySecretRef`.
///
/// For SSH URLs: `identity` (with `password` as its passphrase) and `known_hosts`. Otherwise
/// `username`/`password` for basic auth, else `bearerToken`, and `ca.crt` (or the older `caFile`)
/// with an optional client certificate `tls.crt`/`tls.key`.
async fn credentials(
    obj: &GitRepository,
    state: &State,
    namespace: &str,
) -> Result<(Auth, HttpOptions), ReconcileError> {
    let mut http = HttpOptions::default();
    if let Some(reference) = &obj.spec.proxy_secret_ref {
        let data = secret_data(state, namespace, &reference.name).await?;
        let text = |key: &str| data.get(key).map(|v| String::from_utf8_lossy(&v.0).into_owned());
        let address = text("address").ok_or_else(|| {
            ReconcileError::Secret(format!(
                "invalid proxy secret '{namespace}/{}': key 'address' is missing",
                reference.name
            ))
        })?;
        http = http
            .with_proxy(&address, text("username").as_deref(), text("password").as_deref())
            .map_err(|e| ReconcileError::Secret(format!("proxy secret '{namespace}/{}': {e}", reference.name)))?;
        if git::is_ssh_url(&obj.spec.url) {
            tracing::warn!(%namespace, name = %obj.name_any(), "proxySecretRef applies to HTTP(S) URLs only; SSH connects directly");
        }
    }
    let Some(reference) = &obj.spec.secret_ref else { return Ok((Auth::None, http)) };
    let data = secret_data(state, namespace, &reference.name).await?;
    let bytes = |key: &str| data.get(key).map(|v| v.0.as_slice());
    let text = |key: &str| bytes(key).map(|v| String::from_utf8_lossy(v).into_owned());
    let invalid =
        |message: String| ReconcileError::Secret(format!("invalid secret '{namespace}/{}': {message}", reference.name));
    if git::is_ssh_url(&obj.spec.url) {
        let ssh = SshAuth {
            identity: bytes("identity").map(<[u8]>::to_vec),
            password: text("password"),
            known_hosts: text("known_hosts"),
        };
        return Ok((Auth::Ssh(ssh), http));
    }
    http = http
        .with_tls(bytes("ca.crt").or_else(|| bytes("caFile")), bytes("tls.crt"), bytes("tls.key"))
        .map_err(|e| invalid(e.to_string()))?;
    let auth = match (text("username"), text("password"), text("bearerToken")) {
        (Some(username), Some(password), _) => Auth::Basic { username, password },
        (_, _, Some(token)) => Auth::Bearer(token),
        (Some(_), None, None) | (None, Some(_), None) => {
            return Err(invalid("basic auth needs both 'username' and 'password'".to_string()));
        }
        (None, None, None) => Auth::None,
    };
    Ok((auth, http))
}

/// The OpenPGP and SSH public keys of `verify.secretRef`.
async fn trusted_keys(state: &State, namespace: &str, name: &str) -> Result<verify::TrustedKeys, ReconcileError> {
    let secrets: Api<Secret> = Api::namespaced(state.client.clone(), namespace);
    let secret = secrets.get(name).await.map_err(|e| {
        VerifyError::Keys(format!("failed to get secret '{namespace}/{name}': {}", short_kube_error(&e)))
    })?;
    Ok(verify::keys_from_secret(&format!("{namespace}/{name}"), &secret.data.unwrap_or_default())?)
}

async fn secret_data(
    state: &State,
    namespace: &str,
    name: &str,
) -> Result<std::collections::BTreeMap<String, k8s_openapi::ByteString>, ReconcileError> {
    let secrets: Api<Secret> = Api::namespaced(state.client.clone(), namespace);
    let secret = secrets.get(name).await.map_err(|e| {
        ReconcileError::Secret(format!("failed to get secret '{namespace}/{name}': {}", short_kube_error(&e)))
    })?;
    Ok(secret.data.unwrap_or_default())
}

fn short_kube_error(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) => status.message.clone(),
        other => other.to_string(),
    }
}
