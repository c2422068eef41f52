//! Where a HelmRelease gets its chart: a HelmChart template the controller creates from a source
//! (`spec.chart`), or a direct reference to an object that already publishes a chart (`spec.chartRef`).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::meta::LocalObjectReference;

/// The HelmChart the controller creates and keeps in sync for this release.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HelmChartTemplate {
    /// Labels and annotations given to the generated HelmChart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<HelmChartTemplateObjectMeta>,
    /// The spec of the generated HelmChart.
    pub spec: HelmChartTemplateSpec,
}

/// Metadata copied onto the generated HelmChart.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HelmChartTemplateObjectMeta {
    /// Annotations of the HelmChart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Labels of the HelmChart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
}

/// What the generated HelmChart fetches, and from where.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HelmChartTemplateSpec {
    /// Chart name in a Helm repository, or path to the chart directory in a Git repository or bucket.
    #[schemars(length(min = 1, max = 2048))]
    pub chart: String,
    /// Do not fail when a file listed in `valuesFiles` is missing from the chart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_missing_values_files: Option<bool>,
    /// How often the HelmChart checks its source; defaults to the HelmRelease's interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub interval: Option<String>,
    /// What makes the HelmChart publish a new artifact: a new chart version (the default) or a new
    /// source revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "ChartVersion"))]
    pub reconcile_strategy: Option<ReconcileStrategy>,
    /// The source object that holds the chart.
    pub source_ref: CrossNamespaceObjectReference,
    /// Values files inside the chart (relative paths) merged in order, replacing the chart's
    /// own `values.yaml` unless it is listed too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values_files: Option<Vec<String>>,
    /// Signature verification of charts pulled from OCI registries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<HelmChartTemplateVerification>,
    /// A semver range selecting the chart version (Helm repositories only); `*` takes the latest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "*"))]
    pub version: Option<String>,
}

impl HelmChartTemplateSpec {
    /// The version constraint, `*` (the latest version) when unset.
    pub fn version(&self) -> &str {
        self.version.as_deref().unwrap_or("*")
    }

    /// The reconcile strategy, [`ReconcileStrategy::ChartVersion`] when unset.
    pub fn reconcile_strategy(&self) -> ReconcileStrategy {
        self.reconcile_strategy.unwrap_or_default()
    }
}

/// When the generated HelmChart produces a new artifact.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ReconcileStrategy {
    /// When the chart version changes.
    #[default]
    ChartVersion,
    /// When the source revision changes, even with the same chart version.
    Revision,
}

/// A source of charts, possibly in another namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CrossNamespaceObjectReference {
    /// API version of the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Kind of the source.
    pub kind: ChartSourceKind,
    /// Name of the source.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Namespace of the source; defaults to the HelmRelease's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub namespace: Option<String>,
}

/// The kinds a HelmChart can pull a chart from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ChartSourceKind {
    #[default]
    HelmRepository,
    GitRepository,
    Bucket,
}

impl ChartSourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChartSourceKind::HelmRepository => "HelmRepository",
            ChartSourceKind::GitRepository => "GitRepository",
            ChartSourceKind::Bucket => "Bucket",
        }
    }
}

/// How to verify the signature of an OCI chart.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = crate::schema::require("provider"))]
pub struct HelmChartTemplateVerification {
    /// The signing technology.
    // Required in the schema, but the server fills in its default first, so an object without it
    // is valid and decodes to the default here too.
    #[serde(default)]
    #[schemars(extend("default" = "cosign"))]
    pub provider: VerificationProvider,
    /// A Secret with the trusted public keys; keyless verification when unset (cosign only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
}

/// The technology a chart was signed with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum VerificationProvider {
    #[default]
    Cosign,
    Notation,
}

/// An object that publishes a chart artifact, referenced directly.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CrossNamespaceSourceReference {
    /// API version of the referent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Kind of the referent.
    pub kind: ChartRefKind,
    /// Name of the referent.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Namespace of the referent; defaults to the HelmRelease's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub namespace: Option<String>,
}

/// The kinds `spec.chartRef` can point at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ChartRefKind {
    #[default]
    OCIRepository,
    HelmChart,
    ExternalArtifact,
}

impl ChartRefKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChartRefKind::OCIRepository => "OCIRepository",
            ChartRefKind::HelmChart => "HelmChart",
            ChartRefKind::ExternalArtifact => "ExternalArtifact",
        }
    }
}
