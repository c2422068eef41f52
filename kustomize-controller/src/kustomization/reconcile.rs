//! One Kustomization reconcile, top to bottom: validate → source artifact → dependencies →
//! variables → fetch (verify, untar) and build, or the same set as last time → owner labels →
//! (a new revision that builds to the set applied last only records the revision, see `skip`) →
//! apply → prune → health → status, history and events. The whole pipeline runs under `timeout`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use kube::api::Api;
use kube::runtime::controller::Action;
use kube::{Resource, ResourceExt};
use weir_api::Validate;
use weir_api::annotations::RECONCILE_REQUESTED_AT;
use weir_api::conditions::reasons;
use weir_api::kustomize::{DeletionPolicy, Kustomization, KustomizationStatus};
use weir_api::meta::{ResourceInventory, ResourceRef};
use weir_apply::{ApplyError, ApplyOptions, ChangeSet, DeleteOptions, ObjMeta, Object, ResourceManager, WaitOptions};
use weir_runtime::Metrics;
use weir_runtime::events::Severity;

use super::dependencies::{self, DependencyError};
use super::health_exprs::HealthExprs;
use super::runs::{BuildInputs, BuiltSet};
use super::skip::{self, LastApply, Verdict};
use super::source::{self, SourceError};
use super::{KIND, State, build, decrypt, history, status, variables};

/// How much longer than `spec.timeout` the whole pipeline may take before it is abandoned.
const TIMEOUT_GRACE: Duration = Duration::from_secs(2);

/// Why a reconcile failed, each mapped to Flux's Ready reason.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("{0}")]
    AccessDenied(String),
    #[error("{0}")]
    Artifact(String),
    /// The source does not exist or has no artifact yet: its watch wakes the Kustomization.
    #[error("{0}")]
    SourceNotReady(String),
    #[error("{0}")]
    DependencyNotReady(String),
    #[error("{0}")]
    Build(String),
    #[error("{0}")]
    Apply(String),
    #[error("{0}")]
    Prune(String),
    #[error("{0}")]
    Health(String),
    #[error("health check cancelled: the source has a new revision to apply")]
    HealthCancelled,
    #[error("reconciliation timed out after {0}")]
    Timeout(String),
    #[error("updating the object: {0}")]
    Kube(#[from] kube::Error),
    #[error("the object has no namespace")]
    NoNamespace,
}

impl ReconcileError {
    /// The Ready reason shown in status, or `None` for errors that are only retried.
    fn reason(&self) -> Option<&'static str> {
        match self {
            ReconcileError::AccessDenied(_) => Some(reasons::ACCESS_DENIED),
            ReconcileError::Artifact(_) | ReconcileError::SourceNotReady(_) => Some(reasons::ARTIFACT_FAILED),
            ReconcileError::DependencyNotReady(_) => Some(reasons::DEPENDENCY_NOT_READY),
            ReconcileError::Build(_) => Some(reasons::BUILD_FAILED),
            ReconcileError::Apply(_) | ReconcileError::Timeout(_) => Some(reasons::RECONCILIATION_FAILED),
            ReconcileError::Prune(_) => Some(reasons::PRUNE_FAILED),
            ReconcileError::Health(_) | ReconcileError::HealthCancelled => Some(reasons::HEALTH_CHECK_FAILED),
            ReconcileError::Kube(_) | ReconcileError::NoNamespace => None,
        }
    }
}

/// Where one reconcile writes the object's status.
struct StatusWriter<'a> {
    api: &'a Api<Kustomization>,
    namespace: &'a str,
    name: &'a str,
    /// The status the reconcile started from.
    before: &'a KustomizationStatus,
    metrics: &'a Metrics,
}

impl StatusWriter<'_> {
    /// Writes `next` when it differs from the status the reconcile started from. Its Ready
    /// condition goes into the metrics either way, so a restarted controller reports objects
    /// whose status it had no need to write.
    async fn write(&self, next: &KustomizationStatus) -> kube::Result<()> {
        self.metrics.record_ready(KIND, self.namespace, self.name, next.conditions.as_deref());
        if next != self.before {
            status::apply(self.api, self.name, next).await?;
        }
        Ok(())
    }
}

/// Reconciles an object that is not being deleted.
pub async fn apply(obj: Arc<Kustomization>, state: &State) -> Result<Action, ReconcileError> {
    let namespace = obj.namespace().ok_or(ReconcileError::NoNamespace)?;
    let name = obj.name_any();
    let api: Api<Kustomization> = Api::namespaced(state.client.clone(), &namespace);
    let generation = obj.meta().generation;
    let requested_at = obj.annotations().get(RECONCILE_REQUESTED_AT).cloned();
    let before = obj.status.clone().unwrap_or_default();
    let writer =
        StatusWriter { api: &api, namespace: &namespace, name: &name, before: &before, metrics: &state.metrics };

    state.metrics.record_suspended(KIND, &namespace, &name, obj.spec.suspend == Some(true));
    if obj.spec.suspend == Some(true) {
        tracing::info!(%namespace, %name, "reconciliation is suspended for this object");
        state
            .recorder
            .record(
                obj.as_ref(),
                Severity::Info,
                reasons::SUSPENDED,
                "Reconciliation is suspended for this object",
                before.last_applied_revision.as_deref(),
                Default::default(),
            )
            .await;
        return Ok(Action::await_change());
    }
    // A spec the controller refuses: Stalled until the object changes.
    let stalled = |reason: &'static str, message: String| {
        let mut next = before.clone();
        status::stalled(&mut next, generation, reason, &message);
        next.last_handled_reconcile_at = requested_at.clone().or(next.last_handled_reconcile_at);
        next
    };
    if let Err(errors) = obj.validate() {
        let next = stalled(reasons::INVALID_SPEC, format!("invalid spec: {errors}"));
        writer.write(&next).await?;
        return Ok(Action::await_change());
    }
    let health_exprs = match HealthExprs::compile(obj.spec.health_check_exprs.as_deref().unwrap_or_default()) {
        Ok(exprs) => exprs,
        Err(message) => {
            writer.write(&stalled(reasons::INVALID_CEL_EXPRESSION, message)).await?;
            return Ok(Action::await_change());
        }
    };
    if let Err(message) = dependencies::compile_ready_exprs(&obj) {
        writer.write(&stalled(reasons::INVALID_CEL_EXPRESSION, message)).await?;
        return Ok(Action::await_change());
    }
    if let Some(cycle) = dependencies::find_cycle(&obj, &state.store) {
        let message = format!("dependency cycle: {cycle}");
        tracing::warn!(%namespace, %name, %message, "Kustomization stalled");
        writer.write(&stalled(reasons::DEPENDENCY_NOT_READY, message.clone())).await?;
        state
            .recorder
            .record(obj.as_ref(), Severity::Error, reasons::DEPENDENCY_NOT_READY, &message, None, Default::default())
            .await;
        return Ok(Action::await_change());
    }
    // Validated above, so these parse.
    let interval = obj.spec.interval().unwrap_or(Duration::from_secs(600));
    let retry_interval = obj.spec.retry_interval().unwrap_or(interval);
    let timeout = obj.spec.timeout().unwrap_or(Duration::from_secs(30));

    let mut working = before.clone();
    let new_request = requested_at.is_some() && requested_at != before.last_handled_reconcile_at;
    if before.observed_generation != generation || new_request {
        status::progressing(&mut working, generation, "reconciliation in progress");
        writer.write(&working).await?;
    }

    let started = std::time::Instant::now();
    let mut next = working.clone();
    next.last_handled_reconcile_at = requested_at.or(next.last_handled_reconcile_at);
    let mut attempt = Attempt::default();
    let run = Run {
        obj: &obj,
        state,
        namespace: &namespace,
        name: &name,
        timeout,
        interval,
        requested: new_request,
        health_exprs: &health_exprs,
    };
    // A little past `timeout`, so that the health wait, which has its own deadline, reports first.
    let deadline = timeout + TIMEOUT_GRACE;
    let result = match tokio::time::timeout(deadline, run.pipeline(&mut next, &mut attempt)).await {
        Ok(result) => result,
        Err(_) => Err(ReconcileError::Timeout(humantime(timeout))),
    };
    let origin_revision = attempt.origin_revision.clone();
    let metadata = || event_metadata(origin_revision.as_deref());
    let record_history = |next: &mut KustomizationStatus, reason: &str| {
        if let (Some(digest), Some(revision)) = (&attempt.digest, next.last_attempted_revision.clone()) {
            let list = next.history.get_or_insert_with(Vec::new);
            let origin = origin_revision.as_deref();
            history::record(list, digest, Timestamp::now(), started.elapsed(), reason, &revision, origin);
        }
    };
    if !matches!(result, Ok(_) | Err(ReconcileError::DependencyNotReady(_) | ReconcileError::SourceNotReady(_))) {
        // Whatever the cluster holds now, the next revision must apply in full.
        state.runs.forget_apply(&namespace, &name);
    }
    match result {
        Ok(outcome) => {
            status::succeeded(&mut next, generation, &outcome.revision, outcome.checked_health);
            next.last_applied_origin_revision = origin_revision.clone();
            record_history(&mut next, reasons::RECONCILIATION_SUCCEEDED);
            writer.write(&next).await?;
            let next_run = match outcome.skipped {
                Some(drift_check_in) => {
                    state.skipped.inc();
                    drift_check_in
                }
                None => {
                    if let Some(digest) = &attempt.digest {
                        let apply = LastApply {
                            digest: digest.clone(),
                            generation,
                            at: std::time::Instant::now(),
                            checked_health: outcome.checked_health,
                        };
                        state.runs.remember_apply(&namespace, &name, apply);
                    }
                    weir_runtime::requeue::jitter(interval)
                }
            };
            let lines: Vec<String> =
                outcome.changes.changes().map(|e| format!("{} {}", e.subject, e.action.as_str())).collect();
            if !lines.is_empty() {
                state
                    .recorder
                    .record(
                        obj.as_ref(),
                        Severity::Info,
                        reasons::PROGRESSING,
                        &lines.join("\n"),
                        Some(&outcome.revision),
                        metadata(),
                    )
                    .await;
            }
            if before.last_applied_revision.as_deref() != Some(outcome.revision.as_str()) || !lines.is_empty() {
                let message = format!(
                    "Reconciliation finished in {:.3}s, next run in {}",
                    started.elapsed().as_secs_f64(),
                    humantime(next_run)
                );
                state
                    .recorder
                    .record(
                        obj.as_ref(),
                        Severity::Info,
                        reasons::RECONCILIATION_SUCCEEDED,
                        &message,
                        Some(&outcome.revision),
                        metadata(),
                    )
                    .await;
            }
            state.backoff.reset(&namespace, &name);
            let expired = state.cache.expired();
            if !expired.is_empty() {
                tokio::task::spawn_blocking(move || expired.iter().for_each(|dir| drop(std::fs::remove_dir_all(dir))));
            }
            Ok(Action::requeue(next_run))
        }
        Err(ReconcileError::HealthCancelled) => {
            // Not a failure: the new revision is already queued. Ready keeps what it said, and
            // Reconciling says what happens, until the new revision is reconciled.
            let revision = next.last_attempted_revision.clone().unwrap_or_default();
            tracing::info!(%namespace, %name, %revision, "health check cancelled: a new revision is being reconciled");
            let message = format!("health check of revision {revision} cancelled: reconciling a new revision");
            status::progressing(&mut next, generation, &message);
            writer.write(&next).await?;
            Ok(Action::requeue(Duration::ZERO))
        }
        Err(ReconcileError::DependencyNotReady(message)) => {
            let wait = state.options.requeue_dependency;
            tracing::info!(%namespace, %name, %message, "dependencies are not ready");
            status::failed(&mut next, generation, reasons::DEPENDENCY_NOT_READY, &message);
            writer.write(&next).await?;
            if before != next {
                let event = format!("Dependencies do not meet ready condition, retrying in {}", humantime(wait));
                state
                    .recorder
                    .record(
                        obj.as_ref(),
                        Severity::Info,
                        reasons::DEPENDENCY_NOT_READY,
                        &event,
                        next.last_attempted_revision.as_deref(),
                        metadata(),
                    )
                    .await;
            }
            // A dependency that becomes Ready wakes this one sooner (see `dependents`).
            Ok(Action::requeue(wait))
        }
        Err(ReconcileError::SourceNotReady(message)) => {
            // As Flux: a log line and the condition, no event; the source's watch wakes this
            // Kustomization when its artifact appears, the retry interval is only a fallback.
            tracing::info!(%namespace, %name, %message, "the source is not ready");
            status::failed(&mut next, generation, reasons::ARTIFACT_FAILED, &message);
            writer.write(&next).await?;
            Ok(Action::requeue(retry_interval))
        }
        Err(error) => {
            let Some(reason) = error.reason() else { return Err(error) };
            let message = error.to_string();
            tracing::warn!(%namespace, %name, %reason, %message, "Kustomization reconcile failed");
            status::failed(&mut next, generation, reason, &message);
            record_history(&mut next, reason);
            writer.write(&next).await?;
            state
                .recorder
                .record(
                    obj.as_ref(),
                    Severity::Error,
                    reason,
                    &message,
                    next.last_attempted_revision.as_deref(),
                    metadata(),
                )
                .await;
            Ok(Action::requeue(retry_interval))
        }
    }
}

/// The event metadata Flux adds besides the revision: the origin revision, when the artifact
/// has one.
fn event_metadata(origin_revision: Option<&str>) -> BTreeMap<String, String> {
    let key = format!("{}/{}", Kustomization::group(&()), weir_api::event::META_ORIGIN_REVISION_KEY);
    origin_revision.map(|origin| (key, origin.to_string())).into_iter().collect()
}

/// `org.opencontainers.image.revision` of the artifact's metadata: the revision of the source
/// the artifact was built from (an OCI artifact pushed from a Git commit, for example).
fn origin_revision(artifact: &weir_api::meta::Artifact) -> Option<String> {
    artifact.metadata.as_ref()?.get(OCI_REVISION_ANNOTATION).filter(|r| !r.is_empty()).cloned()
}

const OCI_REVISION_ANNOTATION: &str = "org.opencontainers.image.revision";

/// What a successful pipeline did.
struct Outcome {
    revision: String,
    changes: ChangeSet,
    checked_health: bool,
    /// The apply was skipped (see `skip`); the drift check is due in this long.
    skipped: Option<Duration>,
}

/// What the pipeline learnt, kept on failure too.
#[derive(Default)]
struct Attempt {
    /// The digest of the set, once built.
    digest: Option<String>,
    origin_revision: Option<String>,
}

/// One reconcile's inputs.
struct Run<'a> {
    obj: &'a Kustomization,
    state: &'a State,
    namespace: &'a str,
    name: &'a str,
    timeout: Duration,
    interval: Duration,
    /// A `reconcile.fluxcd.io/requestedAt` value not handled yet.
    requested: bool,
    health_exprs: &'a HealthExprs,
}

impl Run<'_> {
    /// The steps after validation. `next` receives what must be recorded even on failure: the
    /// attempted revision, and the inventory once objects were applied; `attempt` the origin
    /// revision and, once it is built, the digest of the set.
    async fn pipeline(&self, next: &mut KustomizationStatus, attempt: &mut Attempt) -> Result<Outcome, ReconcileError> {
        let started = tokio::time::Instant::now();
        let (obj, state, namespace, name) = (self.obj, self.state, self.namespace, self.name);
        let cross_namespace = !state.options.no_cross_namespace_refs;
        let artifact = source::artifact_of(&state.client, &state.sources, obj, namespace, cross_namespace)
            .await
            .map_err(|e| match e {
                SourceError::Kube(e) => ReconcileError::Kube(e),
                denied @ SourceError::CrossNamespace { .. } => ReconcileError::AccessDenied(denied.to_string()),
                missing => ReconcileError::SourceNotReady(missing.to_string()),
            })?;
        let revision = artifact.revision.clone();
        next.last_attempted_revision = Some(revision.clone());
        attempt.origin_revision = origin_revision(&artifact);

        dependencies::check(&state.client, obj, namespace, &revision).await.map_err(|e| match e {
            DependencyError::NotReady(message) => ReconcileError::DependencyNotReady(message),
            DependencyError::Kube { source, .. } => ReconcileError::Kube(source),
            invalid @ DependencyError::InvalidExpression(_) => ReconcileError::DependencyNotReady(invalid.to_string()),
        })?;

        let variables = variables::gather(&state.client, namespace, obj.spec.post_build.as_ref())
            .await
            .map_err(|e| ReconcileError::Build(e.to_string()))?;

        let decryption = decrypt::load(&state.client, obj, namespace, state.options.sops_age_secret.as_deref())
            .await
            .map_err(ReconcileError::Build)?
            .map(Arc::new);

        // The same artifact, spec, variables and decryption keys give the same set: reuse it, and
        // let the apply's dry-run be the drift check.
        let inputs = BuildInputs::new(&artifact.digest, obj.meta().generation, &variables)
            .with_decryption(decryption.as_ref().map(|d| d.version.as_str()));
        let set = match state.runs.built(namespace, name, &inputs) {
            Some(set) => {
                tracing::debug!(%namespace, %name, %revision, "nothing changed since the last build: reusing it");
                set
            }
            None => {
                let set = self.fetch_and_build(&artifact, variables, decryption).await?;
                state.runs.remember_build(namespace, name, inputs, set.clone());
                set
            }
        };
        attempt.digest = Some(set.digest.clone());
        if let Some(drift_check_in) = self.skip_unchanged(&set.digest, &revision) {
            let checked_health = state.runs.last_apply(namespace, name).is_some_and(|last| last.checked_health);
            return Ok(Outcome {
                revision,
                changes: ChangeSet::default(),
                checked_health,
                skipped: Some(drift_check_in),
            });
        }

        let manager = state
            .clients
            .manager_for(&state.client, obj, namespace)
            .await
            .map_err(|e| ReconcileError::Apply(e.to_string()))?;

        // Apply.
        let options = ApplyOptions {
            force: obj.spec.force.unwrap_or(false),
            default_namespace: Some(namespace.to_string()),
            wait_timeout: self.timeout,
        };
        let applied = manager
            .apply_all_staged(set.objects().map_err(ReconcileError::Build)?, &options)
            .await
            .map_err(|e| ReconcileError::Apply(e.to_string()))?;
        let mut inventory = weir_apply::inventory_from(&applied);
        let old = next.inventory.clone().unwrap_or_default();

        // Prune what left the set; failed deletes stay in the inventory to be retried.
        let mut changes = applied.clone();
        let mut prune_failures = Vec::new();
        if obj.spec.prune {
            let stale = weir_apply::inventory_diff(&old, &inventory);
            if !stale.is_empty() {
                let owner = build::owner_labels(name, namespace);
                let result = manager.delete_all(&stale, &DeleteOptions { owner_labels: owner }).await;
                for (meta, error) in result.failed {
                    inventory.entries.push(ResourceRef::new(
                        &meta.namespace,
                        &meta.name,
                        &meta.group,
                        &meta.kind,
                        &meta.version,
                    ));
                    prune_failures.push(error.to_string());
                }
                inventory.entries.sort();
                changes.append(result.change_set);
            }
        }
        next.inventory = Some(inventory);
        if !prune_failures.is_empty() {
            return Err(ReconcileError::Prune(format!("prune failed: {}", prune_failures.join("; "))));
        }

        // Health, for the time left; a new source revision cancels the wait.
        let checks = health_targets(obj, namespace, &applied);
        let checked_health = !checks.is_empty();
        if checked_health {
            let left = self.timeout.saturating_sub(started.elapsed()).max(Duration::from_secs(1));
            self.wait_healthy(&manager, &checks, &applied, &revision, left).await?;
        }
        Ok(Outcome { revision, changes, checked_health, skipped: None })
    }

    /// `Some(time until the drift check)` when the new revision built to the set applied last and
    /// the apply can be skipped.
    fn skip_unchanged(&self, digest: &str, revision: &str) -> Option<Duration> {
        let (namespace, name) = (self.namespace, self.name);
        let before = self.obj.status.as_ref();
        let last = self.state.runs.last_apply(namespace, name);
        let verdict = skip::decide(&skip::Inputs {
            enabled: self.state.options.skip_unchanged_revisions,
            new_revision: before.and_then(|s| s.last_applied_revision.as_deref()) != Some(revision),
            requested: self.requested,
            generation: self.obj.meta().generation,
            observed_generation: before.and_then(|s| s.observed_generation),
            ready: before
                .and_then(|s| s.conditions.as_deref())
                .is_some_and(|list| weir_api::conditions::is_true(list, weir_api::conditions::types::READY)),
            last: last.as_ref(),
            digest,
            interval: self.interval,
            now: std::time::Instant::now(),
        });
        match verdict {
            Verdict::Skip { drift_check_in } => {
                tracing::debug!(%namespace, %name, %revision, %digest, ?drift_check_in,
                    "skipping the apply: the new revision builds to the set applied last, less than an interval ago");
                Some(drift_check_in)
            }
            Verdict::Apply(reason) => {
                tracing::debug!(%namespace, %name, %revision, reason, "applying the set");
                None
            }
        }
    }

    async fn fetch_and_build(
        &self,
        artifact: &weir_api::meta::Artifact,
        variables: BTreeMap<String, String>,
        decryption: Option<Arc<decrypt::Decryption>>,
    ) -> Result<BuiltSet, ReconcileError> {
        let revision = &artifact.revision;
        // Fetch: download, verify against the source's digest and untar, once per digest.
        let root = self.state.cache.extracted(&artifact.url, &artifact.digest).await.map_err(|e| {
            ReconcileError::Artifact(if e.is_not_found() {
                format!(
                    "artifact of revision {revision} not found at {}, it may be garbage collected: {e}",
                    artifact.url
                )
            } else {
                format!("failed to fetch artifact of revision {revision}: {e}")
            })
        })?;

        // Build, off the async runtime.
        let spec = self.obj.spec.clone();
        let options = build::options(&self.state.options.feature_gates);
        let mut values = tokio::task::spawn_blocking(move || {
            decrypt::build(&root, &spec, &variables, options, decryption.as_deref())
        })
        .await
        .map_err(|e| ReconcileError::Build(format!("the build task failed: {e}")))?
        .map_err(decrypt::DecryptBuildError::into_reconcile)?;
        build::add_labels(&mut values, &build::owner_labels(self.name, self.namespace));
        let digest = history::digest(&values);
        let objects = values
            .into_iter()
            .map(Object::new)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ReconcileError::Build(e.to_string()))?;
        BuiltSet::new(&objects, digest).map_err(ReconcileError::Build)
    }

    async fn wait_healthy(
        &self,
        manager: &ResourceManager,
        checks: &[ObjMeta],
        applied: &ChangeSet,
        revision: &str,
        timeout: Duration,
    ) -> Result<(), ReconcileError> {
        let exprs = self.health_exprs;
        let custom = move |meta: &ObjMeta, object: &serde_json::Value| exprs.health(meta, object);
        let checks = weir_apply::pending_after_apply(checks, applied, &custom);
        if checks.is_empty() {
            return Ok(());
        }
        let guard = self.state.runs.start_wait(self.namespace, self.name, revision);
        let wait = WaitOptions { timeout, ..WaitOptions::default() };
        match manager.wait_for_with(&checks, &wait, &guard.token, &custom).await {
            Ok(()) => Ok(()),
            Err(ApplyError::Cancelled { .. }) => Err(ReconcileError::HealthCancelled),
            Err(e @ ApplyError::Timeout { .. }) => {
                Err(ReconcileError::Health(format!("health check failed after {}: {e}", humantime(timeout))))
            }
            Err(e) => Err(ReconcileError::Health(format!("health check failed: {e}"))),
        }
    }
}

/// `wait: true`: every applied object; else the `healthChecks` list.
fn health_targets(obj: &Kustomization, namespace: &str, applied: &ChangeSet) -> Vec<ObjMeta> {
    if obj.spec.wait == Some(true) {
        return applied.entries.iter().map(|e| e.object.clone()).collect();
    }
    obj.spec
        .health_checks
        .iter()
        .flatten()
        .map(|check| {
            let api_version = check.api_version.clone().unwrap_or_else(|| "v1".to_string());
            let (group, version) = match api_version.split_once('/') {
                Some((g, v)) => (g.to_string(), v.to_string()),
                None => (String::new(), api_version),
            };
            ObjMeta {
                group,
                version,
                kind: check.kind.clone(),
                namespace: check.namespace.clone().unwrap_or_else(|| namespace.to_string()),
                name: check.name.clone(),
            }
        })
        .collect()
}

/// Go's duration style for messages: `1m0s`, `30s`.
fn humantime(d: Duration) -> String {
    let secs = d.as_secs();
    match (secs / 3600, secs % 3600 / 60, secs % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m{s}s"),
        (h, m, s) => format!("{h}h{m}m{s}s"),
    }
}

/// On deletion: delete the inventory when the deletion policy says so, unless suspended.
pub async fn cleanup(obj: Arc<Kustomization>, state: &State) -> Result<Action, ReconcileError> {
    let namespace = obj.namespace().ok_or(ReconcileError::NoNamespace)?;
    let name = obj.name_any();
    state.backoff.reset(&namespace, &name);
    let delete = match obj.spec.deletion_policy() {
        DeletionPolicy::MirrorPrune => obj.spec.prune,
        DeletionPolicy::Delete | DeletionPolicy::WaitForTermination => true,
        DeletionPolicy::Orphan => false,
    };
    if obj.spec.suspend == Some(true) || !delete {
        return Ok(Action::await_change());
    }
    let inventory: ResourceInventory = obj.status.as_ref().and_then(|s| s.inventory.clone()).unwrap_or_default();
    // Everything is stale, in deletion order (Namespaces and CRDs last).
    let objects = weir_apply::inventory_diff(&inventory, &ResourceInventory::default());
    let owner = build::owner_labels(&name, &namespace);
    state.runs.forget(&namespace, &name);
    let manager = state
        .clients
        .manager_for(&state.client, &obj, &namespace)
        .await
        .map_err(|e| ReconcileError::Prune(format!("prune on deletion: {e}")))?;
    let result = manager.delete_all(&objects, &DeleteOptions { owner_labels: owner }).await;
    let lines: Vec<String> =
        result.change_set.changes().map(|e| format!("{} {}", e.subject, e.action.as_str())).collect();
    if !lines.is_empty() {
        state
            .recorder
            .record(
                obj.as_ref(),
                Severity::Info,
                "Pruned",
                &lines.join("\n"),
                obj.status.as_ref().and_then(|s| s.last_applied_revision.as_deref()),
                Default::default(),
            )
            .await;
    }
    if !result.failed.is_empty() {
        let failures: Vec<String> = result.failed.iter().map(|(_, e)| e.to_string()).collect();
        return Err(ReconcileError::Prune(format!("prune on deletion failed: {}", failures.join("; "))));
    }
    tracing::info!(%namespace, %name, deleted = lines.len(), "garbage collected the inventory of the deleted Kustomization");
    Ok(Action::await_change())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_origin_revision_comes_from_the_artifact_and_goes_into_event_metadata() {
        let mut artifact: weir_api::meta::Artifact = serde_json::from_value(serde_json::json!({
            "digest": "sha256:0", "lastUpdateTime": "2025-01-01T00:00:00Z", "path": "p", "revision": "v1@sha256:1",
            "url": "http://x/p"}))
        .unwrap();
        assert_eq!(origin_revision(&artifact), None);
        assert!(event_metadata(None).is_empty());
        artifact.metadata = Some([(OCI_REVISION_ANNOTATION.to_string(), "main@sha1:abc".to_string())].into());
        assert_eq!(origin_revision(&artifact).as_deref(), Some("main@sha1:abc"));
        assert_eq!(
            event_metadata(Some("main@sha1:abc")),
            BTreeMap::from([("kustomize.toolkit.fluxcd.io/originRevision".to_string(), "main@sha1:abc".to_string())])
        );
    }

    #[test]
    fn go_style_durations() {
        assert_eq!(humantime(Duration::from_secs(30)), "30s");
        assert_eq!(humantime(Duration::from_secs(60)), "1m0s");
        assert_eq!(humantime(Duration::from_secs(3725)), "1h2m5s");
    }
}
