//! Readiness with kstatus' rules for the kinds Weir applies most, and waiting for a set.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::changeset::ChangeSet;
use crate::error::ApplyError;
use crate::manager::{ResourceManager, api_error};
use crate::object::ObjMeta;

/// The health of one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Health {
    /// It reached its desired state.
    Current,
    /// Not yet; the reason says what is missing.
    InProgress(String),
    /// It will not get there without a change.
    Failed(String),
}

#[derive(Clone, Debug)]
pub struct WaitOptions {
    pub timeout: Duration,
    pub interval: Duration,
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions { timeout: Duration::from_secs(300), interval: Duration::from_millis(500) }
    }
}

fn condition<'a>(object: &'a Value, kind: &str) -> Option<&'a Value> {
    object
        .pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
}

fn condition_status<'a>(object: &'a Value, kind: &str) -> Option<&'a str> {
    condition(object, kind)?.get("status")?.as_str()
}

fn condition_message(object: &Value, kind: &str) -> String {
    condition(object, kind)
        .and_then(|c| c.get("message").or(c.get("reason")))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn int(object: &Value, pointer: &str) -> Option<i64> {
    object.pointer(pointer).and_then(Value::as_i64)
}

/// kstatus-like health of a live object.
pub fn object_health(object: &Value) -> Health {
    if object.pointer("/metadata/deletionTimestamp").is_some() {
        return Health::InProgress("being deleted".into());
    }
    let generation = int(object, "/metadata/generation");
    let observed = int(object, "/status/observedGeneration");
    if let (Some(g), Some(o)) = (generation, observed)
        && o < g
    {
        return Health::InProgress(format!("observed generation {o} is behind generation {g}"));
    }
    let group = object.get("apiVersion").and_then(Value::as_str).and_then(|v| v.rsplit_once('/')).map(|(g, _)| g);
    match (group.unwrap_or_default(), object.get("kind").and_then(Value::as_str).unwrap_or_default()) {
        ("apiextensions.k8s.io", "CustomResourceDefinition") => crd_health(object),
        ("", "Namespace") => match object.pointer("/status/phase").and_then(Value::as_str) {
            Some("Active") => Health::Current,
            phase => Health::InProgress(format!("phase {}", phase.unwrap_or("unknown"))),
        },
        ("apps", "Deployment") => deployment_health(object, generation, observed),
        ("batch", "Job") => job_health(object),
        ("apps", "StatefulSet") => statefulset_health(object, observed),
        ("apps", "DaemonSet") => daemonset_health(object, observed),
        ("apps", "ReplicaSet") => replicaset_health(object, observed),
        ("", "Pod") => pod_health(object),
        ("", "PersistentVolumeClaim") => match object.pointer("/status/phase").and_then(Value::as_str) {
            Some("Bound") => Health::Current,
            phase => Health::InProgress(format!("phase {}", phase.unwrap_or("unknown"))),
        },
        ("", "Service") => service_health(object),
        _ => generic_health(object),
    }
}

fn crd_health(object: &Value) -> Health {
    if condition_status(object, "NamesAccepted") == Some("False") {
        return Health::Failed(format!("names not accepted: {}", condition_message(object, "NamesAccepted")));
    }
    match condition_status(object, "Established") {
        Some("True") => Health::Current,
        _ => Health::InProgress("not established yet".into()),
    }
}

fn deployment_health(object: &Value, generation: Option<i64>, observed: Option<i64>) -> Health {
    if observed.is_none() && generation.is_some() {
        return Health::InProgress("the controller has not observed it yet".into());
    }
    if let Some(c) = condition(object, "Progressing")
        && c.get("reason").and_then(Value::as_str) == Some("ProgressDeadlineExceeded")
    {
        return Health::Failed(format!("progress deadline exceeded: {}", condition_message(object, "Progressing")));
    }
    let desired = int(object, "/spec/replicas").unwrap_or(1);
    let updated = int(object, "/status/updatedReplicas").unwrap_or(0);
    let total = int(object, "/status/replicas").unwrap_or(0);
    let available = int(object, "/status/availableReplicas").unwrap_or(0);
    if updated < desired {
        return Health::InProgress(format!("{updated} of {desired} replicas updated"));
    }
    if total > updated {
        return Health::InProgress(format!("{} old replicas pending termination", total - updated));
    }
    if available < updated {
        return Health::InProgress(format!("{available} of {updated} updated replicas available"));
    }
    if condition_status(object, "Available") == Some("False") {
        return Health::InProgress(format!("not available: {}", condition_message(object, "Available")));
    }
    Health::Current
}

fn job_health(object: &Value) -> Health {
    if condition_status(object, "Failed") == Some("True") {
        return Health::Failed(format!("job failed: {}", condition_message(object, "Failed")));
    }
    if condition_status(object, "Complete") == Some("True") {
        return Health::Current;
    }
    Health::InProgress("job not complete".into())
}

fn not_observed() -> Health {
    Health::InProgress("the controller has not observed it yet".into())
}

fn statefulset_health(object: &Value, observed: Option<i64>) -> Health {
    if observed.is_none() {
        return not_observed();
    }
    if object.pointer("/spec/updateStrategy/type").and_then(Value::as_str) == Some("OnDelete") {
        return Health::Current;
    }
    let desired = int(object, "/spec/replicas").unwrap_or(1);
    let ready = int(object, "/status/readyReplicas").unwrap_or(0);
    if ready < desired {
        return Health::InProgress(format!("{ready} of {desired} replicas ready"));
    }
    let current = object.pointer("/status/currentRevision").and_then(Value::as_str);
    let update = object.pointer("/status/updateRevision").and_then(Value::as_str);
    if desired > 0 && update.is_some() && current != update {
        return Health::InProgress("rolling update in progress".into());
    }
    Health::Current
}

fn daemonset_health(object: &Value, observed: Option<i64>) -> Health {
    if observed.is_none() {
        return not_observed();
    }
    let desired = int(object, "/status/desiredNumberScheduled").unwrap_or(0);
    let updated = int(object, "/status/updatedNumberScheduled").unwrap_or(0);
    let available = int(object, "/status/numberAvailable").unwrap_or(0);
    if updated < desired {
        return Health::InProgress(format!("{updated} of {desired} pods updated"));
    }
    if available < desired {
        return Health::InProgress(format!("{available} of {desired} pods available"));
    }
    Health::Current
}

fn replicaset_health(object: &Value, observed: Option<i64>) -> Health {
    if observed.is_none() {
        return not_observed();
    }
    let desired = int(object, "/spec/replicas").unwrap_or(1);
    let available = int(object, "/status/availableReplicas").unwrap_or(0);
    let total = int(object, "/status/replicas").unwrap_or(0);
    if available < desired {
        return Health::InProgress(format!("{available} of {desired} replicas available"));
    }
    if total > desired {
        return Health::InProgress(format!("{} extra replicas pending termination", total - desired));
    }
    Health::Current
}

fn pod_health(object: &Value) -> Health {
    match object.pointer("/status/phase").and_then(Value::as_str) {
        Some("Succeeded") => Health::Current,
        Some("Failed") => Health::Failed("pod failed".into()),
        Some("Running") if condition_status(object, "Ready") == Some("True") => Health::Current,
        phase => Health::InProgress(format!("pod {} and not ready", phase.unwrap_or("pending"))),
    }
}

fn service_health(object: &Value) -> Health {
    let load_balancer = object.pointer("/spec/type").and_then(Value::as_str) == Some("LoadBalancer");
    let has_ingress =
        object.pointer("/status/loadBalancer/ingress").and_then(Value::as_array).is_some_and(|i| !i.is_empty());
    if load_balancer && !has_ingress {
        return Health::InProgress("waiting for a load balancer address".into());
    }
    Health::Current
}

fn generic_health(object: &Value) -> Health {
    if condition_status(object, "Stalled") == Some("True") {
        return Health::Failed(format!("stalled: {}", condition_message(object, "Stalled")));
    }
    match condition_status(object, "Ready") {
        Some("True") | None => Health::Current,
        Some(status) => Health::InProgress(format!("Ready is {status}: {}", condition_message(object, "Ready"))),
    }
}

/// A caller's health rule for some objects (e.g. a Kustomization's `healthCheckExprs`): `None`
/// leaves the object to the built-in rules.
pub type HealthOverride<'a> = &'a (dyn Fn(&ObjMeta, &Value) -> Option<Health> + Send + Sync);

fn no_override(_: &ObjMeta, _: &Value) -> Option<Health> {
    None
}

/// The `targets` that still need waiting for: those the change set saw healthy, when it applied
/// or read them, are left out. An object healthy when the API server answered the apply needs
/// no second look; polling it again would only load the API server.
pub fn pending_after_apply(targets: &[ObjMeta], applied: &ChangeSet, custom: HealthOverride<'_>) -> Vec<ObjMeta> {
    let healthy: HashSet<&ObjMeta> = applied
        .entries
        .iter()
        .filter_map(|entry| Some((&entry.object, entry.observed.as_deref()?)))
        .filter(|(meta, object)| custom(meta, object).unwrap_or_else(|| object_health(object)) == Health::Current)
        .map(|(meta, _)| meta)
        .collect();
    targets.iter().filter(|target| !healthy.contains(target)).cloned().collect()
}

impl ResourceManager {
    /// Waits until every object is healthy, polling. A failed object ends the wait with its
    /// reason; so do the timeout and the cancellation token (e.g. on a new source revision).
    pub async fn wait_for(
        &self,
        objects: &[ObjMeta],
        opts: &WaitOptions,
        cancel: &CancellationToken,
    ) -> Result<(), ApplyError> {
        self.wait_for_with(objects, opts, cancel, &no_override).await
    }

    /// [`wait_for`](Self::wait_for) where `custom` decides the health of the objects it knows.
    pub async fn wait_for_with(
        &self,
        objects: &[ObjMeta],
        opts: &WaitOptions,
        cancel: &CancellationToken,
        custom: HealthOverride<'_>,
    ) -> Result<(), ApplyError> {
        let deadline = tokio::time::Instant::now() + opts.timeout;
        let mut pending: Vec<ObjMeta> = objects.to_vec();
        loop {
            let mut still = Vec::new();
            for meta in pending {
                let health = tokio::select! {
                    _ = cancel.cancelled() => {
                        return Err(ApplyError::Cancelled { pending: vec![meta.subject()] });
                    }
                    health = self.health_of_with(&meta, custom) => health?,
                };
                match health {
                    Health::Current => {}
                    Health::Failed(reason) => {
                        return Err(ApplyError::Failed { subject: meta.subject(), message: reason });
                    }
                    Health::InProgress(reason) => {
                        tracing::debug!(object = %meta, %reason, "waiting");
                        still.push(meta);
                    }
                }
            }
            pending = still;
            if pending.is_empty() {
                return Ok(());
            }
            let names = || pending.iter().map(ObjMeta::subject).collect::<Vec<_>>();
            if tokio::time::Instant::now() >= deadline {
                return Err(ApplyError::Timeout { timeout: opts.timeout, pending: names() });
            }
            tokio::select! {
                _ = cancel.cancelled() => return Err(ApplyError::Cancelled { pending: names() }),
                _ = tokio::time::sleep(opts.interval) => {}
            }
        }
    }

    /// The health of one object in the cluster; a missing object is in progress.
    pub async fn health_of(&self, meta: &ObjMeta) -> Result<Health, ApplyError> {
        self.health_of_with(meta, &no_override).await
    }

    /// [`health_of`](Self::health_of) where `custom` decides first.
    pub async fn health_of_with(&self, meta: &ObjMeta, custom: HealthOverride<'_>) -> Result<Health, ApplyError> {
        let kind = self.discovery.resolve(meta).await?;
        let api: kube::Api<kube::api::DynamicObject> = if kind.namespaced {
            kube::Api::namespaced_with(self.client.clone(), &meta.namespace, &kind.resource)
        } else {
            kube::Api::all_with(self.client.clone(), &kind.resource)
        };
        let live = api.get_opt(&meta.name).await.map_err(|e| api_error(&meta.subject(), "get", e))?;
        Ok(match live {
            None => Health::InProgress("not found".into()),
            Some(o) => {
                let object = serde_json::to_value(o).unwrap_or(Value::Null);
                custom(meta, &object).unwrap_or_else(|| object_health(&object))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::changeset::{Action, ChangeSetEntry};
    use serde_json::json;

    #[test]
    fn only_objects_seen_unhealthy_or_not_seen_are_still_pending() {
        let meta = |kind: &str, name: &str| ObjMeta {
            group: String::new(),
            version: "v1".into(),
            kind: kind.into(),
            namespace: "ns".into(),
            name: name.into(),
        };
        let (service, fresh, unseen) = (meta("Service", "web"), meta("Deployment", "app"), meta("Service", "other"));
        let applied = ChangeSet {
            entries: vec![
                ChangeSetEntry::new(service.clone(), Action::Created)
                    .observed(json!({"apiVersion": "v1", "kind": "Service", "spec": {"type": "ClusterIP"}})),
                ChangeSetEntry::new(fresh.clone(), Action::Created)
                    .observed(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"generation": 1}})),
                ChangeSetEntry::new(unseen.clone(), Action::Skipped),
            ],
        };
        let targets = [service.clone(), fresh.clone(), unseen.clone()];
        assert_eq!(pending_after_apply(&targets, &applied, &no_override), vec![fresh.clone(), unseen.clone()]);
        // A health expression overrides what kstatus would say of the object seen.
        let never_healthy = |_: &ObjMeta, _: &Value| Some(Health::InProgress("expression".into()));
        assert_eq!(pending_after_apply(&targets, &applied, &never_healthy), targets.to_vec());
    }

    #[test]
    fn deployment() {
        let d = |status: Value| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a", "generation": 2},
                   "spec": {"replicas": 2}, "status": status})
        };
        assert!(matches!(object_health(&d(json!({}))), Health::InProgress(_)));
        assert!(matches!(object_health(&d(json!({"observedGeneration": 1}))), Health::InProgress(_)));
        assert!(matches!(
            object_health(&d(
                json!({"observedGeneration": 2, "updatedReplicas": 2, "replicas": 3, "availableReplicas": 2})
            )),
            Health::InProgress(_)
        ));
        assert_eq!(
            object_health(&d(
                json!({"observedGeneration": 2, "updatedReplicas": 2, "replicas": 2, "availableReplicas": 2,
                "conditions": [{"type": "Available", "status": "True"}]})
            )),
            Health::Current
        );
        assert!(matches!(
            object_health(&d(json!({"observedGeneration": 2, "conditions": [
                {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]}))),
            Health::Failed(_)
        ));
        let zero = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a", "generation": 1},
            "spec": {"replicas": 0}, "status": {"observedGeneration": 1}});
        assert_eq!(object_health(&zero), Health::Current);
    }

    #[test]
    fn other_kinds() {
        let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "a"}, "status": {"conditions": [{"type": "Established", "status": "True"}]}});
        assert_eq!(object_health(&crd), Health::Current);
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}, "status": {"phase": "Terminating"}});
        assert!(matches!(object_health(&ns), Health::InProgress(_)));
        let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "a"},
            "status": {"conditions": [{"type": "Failed", "status": "True", "message": "BackoffLimitExceeded"}]}});
        assert_eq!(object_health(&job), Health::Failed("job failed: BackoffLimitExceeded".into()));
        let sts = |status: Value| {
            json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "a", "generation": 1},
                   "spec": {"replicas": 2}, "status": status})
        };
        assert!(matches!(
            object_health(&sts(json!({"observedGeneration": 1, "readyReplicas": 1}))),
            Health::InProgress(_)
        ));
        assert_eq!(
            object_health(&sts(
                json!({"observedGeneration": 1, "readyReplicas": 2, "currentRevision": "r1", "updateRevision": "r1"})
            )),
            Health::Current
        );
        let ds = json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "a", "generation": 1},
            "status": {"observedGeneration": 1, "desiredNumberScheduled": 3, "updatedNumberScheduled": 3, "numberAvailable": 2}});
        assert!(matches!(object_health(&ds), Health::InProgress(_)));
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"}, "status": {"phase": "Failed"}});
        assert!(matches!(object_health(&pod), Health::Failed(_)));
        let pvc = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "a"}, "status": {"phase": "Bound"}});
        assert_eq!(object_health(&pvc), Health::Current);
        let lb =
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a"}, "spec": {"type": "LoadBalancer"}});
        assert!(matches!(object_health(&lb), Health::InProgress(_)));
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}});
        assert_eq!(object_health(&cm), Health::Current);
        let cr = json!({"apiVersion": "x.io/v1", "kind": "W", "metadata": {"name": "a", "generation": 3},
            "status": {"observedGeneration": 3, "conditions": [{"type": "Ready", "status": "False", "message": "no"}]}});
        assert_eq!(object_health(&cr), Health::InProgress("Ready is False: no".into()));
    }
}
