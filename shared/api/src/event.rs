//! The event payload Flux's controllers POST to the notification-controller
//! (`event.toolkit.fluxcd.io/v1beta1`), so that Weir's and Flux's controllers and
//! notification-controllers can be mixed.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ObjectReference;
use serde::{Deserialize, Serialize};

/// The API group of the event payload.
pub const GROUP: &str = "event.toolkit.fluxcd.io";

/// Severity of an event that reports normal progress.
pub const SEVERITY_INFO: &str = "info";
/// Severity of an event that reports a failure.
pub const SEVERITY_ERROR: &str = "error";
/// Severity of an event only meant for the notification-controller's own bookkeeping
/// (Flux sends these to update commit statuses without alerting anyone).
pub const SEVERITY_TRACE: &str = "trace";

/// The metadata key suffix carrying the revision an event is about. The full key is
/// `<group of the involved object>/revision`, e.g. `kustomize.toolkit.fluxcd.io/revision`.
pub const META_REVISION_KEY: &str = "revision";
/// The metadata key suffix carrying the source revision the applied revision came from.
pub const META_ORIGIN_REVISION_KEY: &str = "originRevision";
/// The metadata key suffix carrying a summary of the object's state.
pub const META_TOKEN_KEY: &str = "token";
/// Metadata key prefix of annotations that are copied into every event of an object.
pub const EVENT_ANNOTATION_PREFIX: &str = "event.toolkit.fluxcd.io/";

/// One event, as Flux serialises it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// The object the event is about.
    pub involved_object: ObjectReference,
    /// `info`, `error` or `trace`.
    pub severity: String,
    /// When the event happened, RFC 3339.
    pub timestamp: String,
    /// A human-readable description.
    pub message: String,
    /// A short machine-readable CamelCase reason, e.g. `ReconciliationSucceeded`.
    pub reason: String,
    /// Extra data, such as the revision (see [`revision_key`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// The controller that sent the event, e.g. `kustomize-controller`.
    pub reporting_controller: String,
    /// The controller instance (pod name) that sent the event.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reporting_instance: String,
}

impl Event {
    /// Whether the event reports a failure.
    pub fn is_error(&self) -> bool {
        self.severity == SEVERITY_ERROR
    }

    /// The revision the event is about, looked up under the involved object's group.
    pub fn revision(&self) -> Option<&str> {
        let group = self.involved_object.api_version.as_deref().and_then(|v| v.split_once('/')).map(|(g, _)| g)?;
        self.metadata.get(&revision_key(group)).map(String::as_str)
    }
}

/// The metadata key under which an object of `group` reports its revision.
pub fn revision_key(group: &str) -> String {
    format!("{group}/{META_REVISION_KEY}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes_flux_payloads() {
        let payload = serde_json::json!({
            "involvedObject": {"kind": "Kustomization", "namespace": "flux-system", "name": "apps",
                               "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "uid": "u1"},
            "severity": "info",
            "timestamp": "2026-11-22T02:00:00Z",
            "message": "Deployment/apps/web configured",
            "reason": "ReconciliationSucceeded",
            "metadata": {"kustomize.toolkit.fluxcd.io/revision": "main@sha1:abc"},
            "reportingController": "kustomize-controller",
            "reportingInstance": "kustomize-controller-7d9f"
        });
        let event: Event = serde_json::from_value(payload.clone()).unwrap();
        assert_eq!(event.revision(), Some("main@sha1:abc"));
        assert!(!event.is_error());
        assert_eq!(serde_json::to_value(&event).unwrap(), payload);
    }

    #[test]
    fn omits_empty_optional_fields() {
        let event = Event { severity: SEVERITY_ERROR.into(), ..Event::default() };
        let json = serde_json::to_value(&event).unwrap();
        assert!(json.get("metadata").is_none());
        assert!(json.get("reportingInstance").is_none());
        assert!(event.is_error());
        assert_eq!(event.revision(), None);
    }
}
