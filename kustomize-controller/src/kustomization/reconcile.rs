//! One Kustomization reconcile, top to bottom: validate → source artifact → fetch (verify,
//! untar) → build → owner labels → apply → prune → health → status and events.

use std::sync::Arc;
use std::time::Duration;

use kube::api::Api;
use kube::runtime::controller::Action;
use kube::{Resource, ResourceExt};
use weir_api::Validate;
use weir_api::annotations::RECONCILE_REQUESTED_AT;
use weir_api::conditions::reasons;
use weir_api::kustomize::{DeletionPolicy, Kustomization, KustomizationStatus};
use weir_api::meta::{ResourceInventory, ResourceRef};
use weir_apply::{ApplyOptions, ChangeSet, DeleteOptions, ObjMeta, Object, WaitOptions};
use weir_runtime::events::Severity;

use super::build;
use super::source::{self, SourceError};
use super::{State, status};

/// Why a reconcile failed, each mapped to Flux's Ready reason.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("{0}")]
    AccessDenied(String),
    #[error("{0}")]
    Artifact(String),
    #[error("{0}")]
    Build(String),
    #[error("{0}")]
    Apply(String),
    #[error("{0}")]
    Prune(String),
    #[error("{0}")]
    Health(String),
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
            ReconcileError::Artifact(_) => Some(reasons::ARTIFACT_FAILED),
            ReconcileError::Build(_) => Some(reasons::BUILD_FAILED),
            ReconcileError::Apply(_) => Some(reasons::RECONCILIATION_FAILED),
            ReconcileError::Prune(_) => Some(reasons::PRUNE_FAILED),
            ReconcileError::Health(_) => Some(reasons::HEALTH_CHECK_FAILED),
            ReconcileError::Kube(_) | ReconcileError::NoNamespace => None,
        }
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
    let interval = obj.spec.interval().unwrap_or(Duration::from_secs(600));
    let retry_interval = obj.spec.retry_interval().unwrap_or(interval);
    let timeout = obj.spec.timeout().unwrap_or(Duration::from_secs(30));

    let mut working = before.clone();
    let new_request = requested_at.is_some() && requested_at != before.last_handled_reconcile_at;
    if before.observed_generation != generation || new_request {
        status::progressing(&mut working, generation, "reconciliation in progress");
        if working != before {
            status::apply(&api, &name, &working).await?;
        }
    }

    let started = std::time::Instant::now();
    let mut next = working.clone();
    next.last_handled_reconcile_at = requested_at.or(next.last_handled_reconcile_at);
    let result = pipeline(&obj, state, &namespace, &name, timeout, &mut next).await;
    match result {
        Ok(outcome) => {
            status::succeeded(&mut next, generation, &outcome.revision, outcome.checked_health);
            if next != before {
                status::apply(&api, &name, &next).await?;
            }
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
                        Default::default(),
                    )
                    .await;
            }
            if before.last_applied_revision.as_deref() != Some(outcome.revision.as_str()) || !lines.is_empty() {
                let message = format!(
                    "Reconciliation finished in {:.3}s, next run in {}",
                    started.elapsed().as_secs_f64(),
                    humantime(interval)
                );
                state
                    .recorder
                    .record(
                        obj.as_ref(),
                        Severity::Info,
                        reasons::RECONCILIATION_SUCCEEDED,
                        &message,
                        Some(&outcome.revision),
                        Default::default(),
                    )
                    .await;
            }
            state.backoff.reset(&namespace, &name);
            let expired = state.cache.expired();
            if !expired.is_empty() {
                tokio::task::spawn_blocking(move || expired.iter().for_each(|dir| drop(std::fs::remove_dir_all(dir))));
            }
            Ok(Action::requeue(weir_runtime::requeue::jitter(interval)))
        }
        Err(error) => {
            let Some(reason) = error.reason() else { return Err(error) };
            let message = error.to_string();
            tracing::warn!(%namespace, %name, %reason, %message, "Kustomization reconcile failed");
            status::failed(&mut next, generation, reason, &message);
            if next != before {
                status::apply(&api, &name, &next).await?;
            }
            state
                .recorder
                .record(
                    obj.as_ref(),
                    Severity::Error,
                    reason,
                    &message,
                    next.last_attempted_revision.as_deref(),
                    Default::default(),
                )
                .await;
            Ok(Action::requeue(retry_interval))
        }
    }
}

/// What a successful pipeline did.
struct Outcome {
    revision: String,
    changes: ChangeSet,
    checked_health: bool,
}

/// The steps after validation. `next` receives what must be recorded even on failure: the
/// attempted revision, and the inventory once objects were applied.
async fn pipeline(
    obj: &Kustomization,
    state: &State,
    namespace: &str,
    name: &str,
    timeout: Duration,
    next: &mut KustomizationStatus,
) -> Result<Outcome, ReconcileError> {
    let artifact = source::artifact_of(&state.client, obj, namespace, !state.options.no_cross_namespace_refs)
        .await
        .map_err(|e| match e {
            SourceError::Kube(e) => ReconcileError::Kube(e),
            denied @ SourceError::CrossNamespace { .. } => ReconcileError::AccessDenied(denied.to_string()),
            other => ReconcileError::Artifact(other.to_string()),
        })?;
    let revision = artifact.revision.clone();
    next.last_attempted_revision = Some(revision.clone());

    // Fetch: download, verify against the source's digest and untar, once per digest.
    let root = state.cache.extracted(&artifact.url, &artifact.digest).await.map_err(|e| {
        ReconcileError::Artifact(if e.is_not_found() {
            format!("artifact of revision {revision} not found at {}, it may be garbage collected: {e}", artifact.url)
        } else {
            format!("failed to fetch artifact of revision {revision}: {e}")
        })
    })?;

    // Build, off the async runtime.
    let spec = obj.spec.clone();
    let mut values = tokio::task::spawn_blocking(move || build::build(&root, &spec))
        .await
        .map_err(|e| ReconcileError::Build(format!("the build task failed: {e}")))?
        .map_err(|e| ReconcileError::Build(e.to_string()))?;
    let owner = build::owner_labels(name, namespace);
    build::add_labels(&mut values, &owner);
    let objects = values
        .into_iter()
        .map(Object::new)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ReconcileError::Build(e.to_string()))?;

    // Apply.
    let options = ApplyOptions {
        force: obj.spec.force.unwrap_or(false),
        default_namespace: Some(namespace.to_string()),
        wait_timeout: timeout,
    };
    let applied =
        state.manager.apply_all_staged(objects, &options).await.map_err(|e| ReconcileError::Apply(e.to_string()))?;
    let mut inventory = weir_apply::inventory_from(&applied);
    let old = next.inventory.clone().unwrap_or_default();

    // Prune what left the set; failed deletes stay in the inventory to be retried.
    let mut changes = applied.clone();
    let mut prune_failures = Vec::new();
    if obj.spec.prune {
        let stale = weir_apply::inventory_diff(&old, &inventory);
        if !stale.is_empty() {
            let result = state.manager.delete_all(&stale, &DeleteOptions { owner_labels: owner.clone() }).await;
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

    // Health.
    let checks = health_targets(obj, namespace, &applied);
    let checked_health = !checks.is_empty();
    if checked_health {
        let wait = WaitOptions { timeout, ..WaitOptions::default() };
        state
            .manager
            .wait_for(&checks, &wait, &weir_runtime::CancellationToken::new())
            .await
            .map_err(|e| ReconcileError::Health(format!("health check failed after {}: {e}", humantime(timeout))))?;
    }
    Ok(Outcome { revision, changes, checked_health })
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
    let result = state.manager.delete_all(&objects, &DeleteOptions { owner_labels: owner }).await;
    let lines: Vec<String> =
        result.change_set.changes().map(|e| format!("{} {}", e.subject, e.action.as_str())).collect();
    if !lines.is_empty() {
        state
            .recorder
            .record(obj.as_ref(), Severity::Info, "Pruned", &lines.join("\n"), None, Default::default())
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
    fn go_style_durations() {
        assert_eq!(humantime(Duration::from_secs(30)), "30s");
        assert_eq!(humantime(Duration::from_secs(60)), "1m0s");
        assert_eq!(humantime(Duration::from_secs(3725)), "1h2m5s");
    }
}
