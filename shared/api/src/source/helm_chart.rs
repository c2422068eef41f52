//! HelmChart (`source.toolkit.fluxcd.io/v1`): one chart, at a version or version range, taken
//! from a HelmRepository, or from a directory of a GitRepository or Bucket artifact, and packaged
//! as a `.tgz` artifact for helm-controller.

use std::time::Duration;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::conditions::Condition;
use crate::duration::{DurationError, parse_duration};
use crate::meta::{Artifact, LocalObjectReference};
use crate::validation::{Validate, ValidationErrors, Validator};

/// The message of the CEL rule that ties `spec.verify` to HelmRepository sources.
pub const VERIFY_NEEDS_HELM_REPOSITORY: &str =
    "spec.verify is only supported when spec.sourceRef.kind is 'HelmRepository'";

/// Which chart to build, from which source, and how.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "source.toolkit.fluxcd.io",
    version = "v1",
    kind = "HelmChart",
    doc = "A Helm chart from a HelmRepository, GitRepository or Bucket, packaged as an artifact.",
    namespaced,
    status = "HelmChartStatus",
    shortname = "hc",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-sources",
    printcolumn(name = "Chart", type_ = "string", json_path = ".spec.chart"),
    printcolumn(name = "Version", type_ = "string", json_path = ".spec.version"),
    printcolumn(name = "Source Kind", type_ = "string", json_path = ".spec.sourceRef.kind"),
    printcolumn(name = "Source Name", type_ = "string", json_path = ".spec.sourceRef.name"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    printcolumn(name = "Ready", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].status"#),
    printcolumn(name = "Status", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].message"#)
)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [{
    "message": "spec.verify is only supported when spec.sourceRef.kind is 'HelmRepository'",
    "rule": "!has(self.verify) || self.sourceRef.kind == 'HelmRepository'"
}]))]
pub struct HelmChartSpec {
    /// The chart: its name in a HelmRepository, or the path of its directory inside a
    /// GitRepository or Bucket artifact.
    pub chart: String,

    /// A semver version or range of the chart (HelmRepository sources only; the other sources
    /// use the version in `Chart.yaml`). `*`, the latest version, when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "*"))]
    pub version: Option<String>,

    /// The source the chart comes from.
    pub source_ref: LocalHelmChartSourceReference,

    /// How often to check the source for a new chart version; some jitter may be added.
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub interval: String,

    /// What makes a new artifact: a new chart version (`ChartVersion`), or also any new revision
    /// of the source (`Revision`, GitRepository and Bucket sources only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "ChartVersion"))]
    pub reconcile_strategy: Option<ReconcileStrategy>,

    /// Values files, relative to the source, merged in order (later files win) into the chart's
    /// default values; the chart's own `values.yaml` is not included unless listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values_files: Option<Vec<String>>,

    /// Skip values files that do not exist instead of failing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_missing_values_files: Option<bool>,

    /// Stop reconciling this object until set back to false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,

    /// Verify the signature of an OCI chart (HelmRepository sources of type `oci` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<HelmChartVerification>,
}

/// A source in the same namespace that holds the chart.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocalHelmChartSourceReference {
    /// API version of the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Kind of the source.
    pub kind: HelmChartSourceKind,
    /// Name of the source.
    pub name: String,
}

/// The kinds of source a HelmChart can take its chart from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum HelmChartSourceKind {
    #[default]
    HelmRepository,
    GitRepository,
    Bucket,
}

impl HelmChartSourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HelmChartSourceKind::HelmRepository => "HelmRepository",
            HelmChartSourceKind::GitRepository => "GitRepository",
            HelmChartSourceKind::Bucket => "Bucket",
        }
    }
}

/// When a HelmChart builds a new artifact.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ReconcileStrategy {
    /// When the chart version changes.
    #[default]
    ChartVersion,
    /// When the chart version or the source revision changes.
    Revision,
}

/// How to verify the signature of an OCI Helm chart.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = crate::schema::require("provider"))]
pub struct HelmChartVerification {
    /// The signing technology.
    // Required in the schema, but the server fills in its default first, so an object without it
    // is valid and decodes to the default here too.
    #[serde(default)]
    #[schemars(extend("default" = "cosign"))]
    pub provider: VerificationProvider,
    /// Secret holding the trusted public keys (Cosign) or trust policy and certificates (Notation);
    /// without it, Cosign verifies keyless signatures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// For Cosign keyless signatures: the signing identity must match at least one entry.
    #[serde(default, rename = "matchOIDCIdentity", skip_serializing_if = "Option::is_none")]
    pub match_oidc_identity: Option<Vec<OidcIdentityMatch>>,
}

/// The technology a chart was signed with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum VerificationProvider {
    /// Sigstore Cosign.
    #[default]
    #[serde(rename = "cosign")]
    Cosign,
    /// Notary Project Notation.
    #[serde(rename = "notation")]
    Notation,
}

/// Regular expressions (Go syntax) the issuer and subject of a Fulcio certificate must match.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OidcIdentityMatch {
    /// Expression for the OIDC issuer.
    pub issuer: String,
    /// Expression for the identity subject.
    pub subject: String,
}

/// What the controller last observed and produced.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("default" = {"observedGeneration": -1}))]
pub struct HelmChartStatus {
    /// The `metadata.generation` of the last reconciliation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The source artifact revision the last chart was built from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_source_artifact_revision: Option<String>,
    /// The chart name the last build resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_chart_name: Option<String>,
    /// The values files merged into the last artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_values_files: Option<Vec<String>>,
    /// The state of the chart, such as `Ready`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
    /// Where to download the latest artifact; `artifact.url` is the precise address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The packaged chart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<Artifact>,
    /// The last `reconcile.fluxcd.io/requestedAt` annotation value acted upon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
}

impl HelmChartSpec {
    /// How often to check the source for a new chart.
    pub fn interval(&self) -> Result<Duration, DurationError> {
        parse_duration(&self.interval)
    }

    /// The version or range of the chart, `*` when not set.
    pub fn version(&self) -> &str {
        self.version.as_deref().unwrap_or("*")
    }

    /// The reconcile strategy, `ChartVersion` when not set.
    pub fn reconcile_strategy(&self) -> ReconcileStrategy {
        self.reconcile_strategy.unwrap_or_default()
    }
}

impl Validate for HelmChart {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let s = &self.spec;
        let mut v = Validator::new();
        v.required("spec.chart", &s.chart);
        v.required("spec.sourceRef.name", &s.source_ref.name);
        v.duration("spec.interval", Some(&s.interval));
        if let Some(verify) = &s.verify {
            v.check(
                s.source_ref.kind == HelmChartSourceKind::HelmRepository,
                "spec.verify",
                VERIFY_NEEDS_HELM_REPOSITORY,
            );
            if let Some(r) = &verify.secret_ref {
                v.required("spec.verify.secretRef.name", &r.name);
            }
        }
        v.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../../tests/fixtures/helmcharts.yaml");

    fn fixture() -> HelmChart {
        serde_saphyr::from_str(FIXTURE).unwrap()
    }

    fn errors(obj: &HelmChart) -> Vec<String> {
        obj.validate().unwrap_err().0.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn minimal_object_is_valid_and_defaults_apply() {
        let obj = HelmChart::new(
            "podinfo",
            HelmChartSpec {
                chart: "./charts/podinfo".into(),
                source_ref: LocalHelmChartSourceReference {
                    kind: HelmChartSourceKind::GitRepository,
                    name: "podinfo".into(),
                    ..Default::default()
                },
                interval: "1h30m".into(),
                ..Default::default()
            },
        );
        obj.validate().unwrap();
        assert_eq!(obj.spec.interval(), Ok(Duration::from_secs(5400)));
        assert_eq!(obj.spec.version(), "*");
        assert_eq!(obj.spec.reconcile_strategy(), ReconcileStrategy::ChartVersion);
    }

    #[test]
    fn verify_needs_a_helm_repository() {
        for kind in [HelmChartSourceKind::GitRepository, HelmChartSourceKind::Bucket] {
            let mut obj = fixture();
            obj.spec.source_ref.kind = kind;
            assert_eq!(errors(&obj), [format!("spec.verify: {VERIFY_NEEDS_HELM_REPOSITORY}")]);
            obj.spec.verify = None;
            obj.validate().unwrap();
        }
    }

    #[test]
    fn rejects_bad_durations_and_empty_names() {
        let mut obj = fixture();
        obj.spec.interval = "10".into();
        obj.spec.source_ref.name = String::new();
        if let Some(verify) = obj.spec.verify.as_mut() {
            verify.secret_ref = Some(LocalObjectReference::default());
        }
        let errs = errors(&obj);
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert_eq!(errs[0], "spec.sourceRef.name: is required");
        assert!(errs[1].starts_with("spec.interval: invalid duration \"10\""), "{errs:?}");
        assert_eq!(errs[2], "spec.verify.secretRef.name: is required");
    }

    #[test]
    fn serde_rejects_unknown_enum_values() {
        for (from, to) in [
            ("kind: HelmRepository", "kind: OCIRepository"),
            ("reconcileStrategy: ChartVersion", "reconcileStrategy: Always"),
            ("provider: cosign", "provider: gpg"),
        ] {
            let bad = FIXTURE.replace(from, to);
            assert_ne!(bad, FIXTURE);
            assert!(serde_saphyr::from_str::<HelmChart>(&bad).is_err(), "{to}");
        }
    }
}
