//! Alert (`notification.toolkit.fluxcd.io/v1beta3`): which events to forward to a Provider, chosen
//! by the object that emitted them, their severity and their message. Flux gives it no status;
//! Weir adds one (see [`NotificationStatus`]) so that a missing Provider shows instead of events
//! being dropped silently.

use std::collections::BTreeMap;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::meta::LocalObjectReference;
use crate::notification::status::NotificationStatus;
use crate::validation::{Validate, ValidationErrors, Validator};

/// Selects events and names the Provider they go to.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "notification.toolkit.fluxcd.io",
    version = "v1beta3",
    kind = "Alert",
    doc = "A rule that forwards the events of selected Flux objects to a Provider.",
    namespaced,
    status = "NotificationStatus",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-notifications",
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
pub struct AlertSpec {
    /// Extra metadata added to every forwarded event; keys the emitter already set keep the
    /// emitter's value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_metadata: Option<BTreeMap<String, String>>,
    /// The lowest severity forwarded: `info` forwards every event, `error` only errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "info"))]
    pub event_severity: Option<EventSeverity>,
    /// The objects whose events are forwarded.
    pub event_sources: Vec<CrossNamespaceObjectReference>,
    /// Regular expressions (Go syntax); an event whose message matches one is dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclusion_list: Option<Vec<String>>,
    /// Regular expressions (Go syntax); when set, only events whose message matches one are forwarded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inclusion_list: Option<Vec<String>>,
    /// The Provider that delivers the events.
    pub provider_ref: LocalObjectReference,
    /// Deprecated in favour of `eventMetadata`: a short text about the impact, added to events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 255))]
    pub summary: Option<String>,
    /// When true, no events are forwarded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
}

/// The severity of an event, or the lowest severity an Alert forwards.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum EventSeverity {
    /// Informational: progress and success.
    #[default]
    #[serde(rename = "info")]
    Info,
    /// A failure.
    #[serde(rename = "error")]
    Error,
}

impl EventSeverity {
    /// The value as written in YAML and in events.
    pub fn as_str(self) -> &'static str {
        match self {
            EventSeverity::Info => "info",
            EventSeverity::Error => "error",
        }
    }
}

/// Whether an Alert with `alert_severity` forwards an event of `event_severity`: `info` alerts
/// forward every event, `error` alerts only errors.
pub fn matches_severity(alert_severity: EventSeverity, event_severity: EventSeverity) -> bool {
    match alert_severity {
        EventSeverity::Info => true,
        EventSeverity::Error => event_severity == EventSeverity::Error,
    }
}

impl AlertSpec {
    /// `eventSeverity` with its default (`info`) applied.
    pub fn event_severity(&self) -> EventSeverity {
        self.event_severity.unwrap_or_default()
    }
}

/// Selects Flux objects of one kind by name (`*` for all) and optionally labels, in one namespace.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CrossNamespaceObjectReference {
    /// API version of the objects; any version when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Kind of the objects.
    pub kind: FluxKind,
    /// Labels the objects must all carry; only used when `name` is `*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_labels: Option<BTreeMap<String, String>>,
    /// Name of the object, or `*` for every object of the kind.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Namespace of the objects; defaults to the namespace of the referring object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub namespace: Option<String>,
}

impl CrossNamespaceObjectReference {
    /// Checks the bounds the CRD puts on the reference, under `path` (e.g. `spec.eventSources[0]`).
    pub(crate) fn validate_at(&self, v: &mut Validator, path: &str) {
        v.length(&format!("{path}.name"), Some(&self.name), 1, 253);
        v.length(&format!("{path}.namespace"), self.namespace.as_deref(), 1, 253);
    }
}

/// The Flux kinds that emit events and accept reconcile requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum FluxKind {
    Bucket,
    GitRepository,
    Kustomization,
    HelmRelease,
    HelmChart,
    HelmRepository,
    ImageRepository,
    ImagePolicy,
    ImageUpdateAutomation,
    #[serde(rename = "OCIRepository")]
    OciRepository,
    ArtifactGenerator,
    ExternalArtifact,
}

impl FluxKind {
    /// The kind as written in YAML.
    pub fn as_str(self) -> &'static str {
        match self {
            FluxKind::Bucket => "Bucket",
            FluxKind::GitRepository => "GitRepository",
            FluxKind::Kustomization => "Kustomization",
            FluxKind::HelmRelease => "HelmRelease",
            FluxKind::HelmChart => "HelmChart",
            FluxKind::HelmRepository => "HelmRepository",
            FluxKind::ImageRepository => "ImageRepository",
            FluxKind::ImagePolicy => "ImagePolicy",
            FluxKind::ImageUpdateAutomation => "ImageUpdateAutomation",
            FluxKind::OciRepository => "OCIRepository",
            FluxKind::ArtifactGenerator => "ArtifactGenerator",
            FluxKind::ExternalArtifact => "ExternalArtifact",
        }
    }
}

impl Validate for Alert {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut v = Validator::new();
        let s = &self.spec;
        for (i, source) in s.event_sources.iter().enumerate() {
            source.validate_at(&mut v, &format!("spec.eventSources[{i}]"));
        }
        v.required("spec.providerRef.name", &s.provider_ref.name);
        v.length("spec.summary", s.summary.as_deref(), 0, 255);
        v.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../../tests/fixtures/alerts.yaml");

    fn alert() -> Alert {
        Alert::new(
            "on-call",
            AlertSpec {
                event_metadata: None,
                event_severity: None,
                event_sources: vec![CrossNamespaceObjectReference {
                    api_version: None,
                    kind: FluxKind::Kustomization,
                    match_labels: None,
                    name: "*".into(),
                    namespace: None,
                }],
                exclusion_list: None,
                inclusion_list: None,
                provider_ref: LocalObjectReference { name: "slack".into() },
                summary: None,
                suspend: None,
            },
        )
    }

    #[test]
    fn minimal_alert_is_valid_and_defaults_to_info() {
        let a = alert();
        a.validate().unwrap();
        assert_eq!(a.spec.event_severity(), EventSeverity::Info);
    }

    #[test]
    fn rejects_bad_lengths() {
        let mut a = alert();
        a.spec.event_sources[0].name = String::new();
        a.spec.event_sources[0].namespace = Some("n".repeat(254));
        a.spec.summary = Some("s".repeat(256));
        a.spec.provider_ref.name = String::new();
        let errs = a.validate().unwrap_err();
        let text = errs.to_string();
        assert!(text.contains("spec.eventSources[0].name: must be at least 1 characters long"), "{text}");
        assert!(text.contains("spec.eventSources[0].namespace: must be at most 253 characters long"), "{text}");
        assert!(text.contains("spec.summary: must be at most 255 characters long"), "{text}");
        assert!(text.contains("spec.providerRef.name: is required"), "{text}");
        assert_eq!(errs.0.len(), 4, "{text}");
    }

    #[test]
    fn severity_matching() {
        use EventSeverity::{Error, Info};
        assert!(matches_severity(Info, Info));
        assert!(matches_severity(Info, Error));
        assert!(matches_severity(Error, Error));
        assert!(!matches_severity(Error, Info));
    }

    #[test]
    fn unknown_enum_values_are_rejected_by_serde() {
        assert!(
            serde_saphyr::from_str::<Alert>(&FIXTURE.replace("eventSeverity: error", "eventSeverity: warn")).is_err()
        );
        assert!(serde_saphyr::from_str::<Alert>(&FIXTURE.replace("kind: HelmRelease", "kind: Deployment")).is_err());
    }

    #[test]
    fn kind_as_str_matches_serde() {
        let kinds = [
            FluxKind::Bucket,
            FluxKind::GitRepository,
            FluxKind::Kustomization,
            FluxKind::HelmRelease,
            FluxKind::HelmChart,
            FluxKind::HelmRepository,
            FluxKind::ImageRepository,
            FluxKind::ImagePolicy,
            FluxKind::ImageUpdateAutomation,
            FluxKind::OciRepository,
            FluxKind::ArtifactGenerator,
            FluxKind::ExternalArtifact,
        ];
        for k in kinds {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        assert_eq!(EventSeverity::Error.as_str(), "error");
    }
}
