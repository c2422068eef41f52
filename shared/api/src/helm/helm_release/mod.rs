//! HelmRelease (`helm.toolkit.fluxcd.io/v2`): a Helm release the controller installs, upgrades,
//! tests, remediates and uninstalls from a chart published by a source.
//!
//! - `mod.rs`: the spec and the accessors that apply Flux's defaults;
//! - [`chart`]: where the chart comes from (`chart` template or `chartRef`);
//! - [`actions`]: settings of the Helm actions, their failure strategies and waiting;
//! - [`values`]: values from ConfigMaps and Secrets;
//! - [`post_render`]: post-renderers and drift detection;
//! - [`status`]: the status and release history;
//! - [`release_name`]: the release name Flux derives;
//! - `validate.rs`: the in-code checks of the schema's patterns, bounds and CEL rules.

pub mod actions;
pub mod chart;
pub mod post_render;
pub mod release_name;
pub mod status;
mod validate;
pub mod values;

use std::time::Duration;

use kube::{CustomResource, ResourceExt};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::duration::{DurationError, parse_duration};
use crate::meta::{CommonMetadata, CustomHealthCheck, DependencyReference, KubeConfigReference};

pub use actions::{
    ActionStrategyName, ChartNameChangeStrategy, CrdsPolicy, DeletionPropagation, Install, InstallRemediation,
    InstallStrategy, PostRenderStrategy, RemediationStrategy, Rollback, ServerSideApplyMode, Test, TestFilter,
    Uninstall, Upgrade, UpgradeRemediation, UpgradeStrategy, WaitStrategy, WaitStrategyName,
};
pub use chart::{
    ChartRefKind, ChartSourceKind, CrossNamespaceObjectReference, CrossNamespaceSourceReference, HelmChartTemplate,
    HelmChartTemplateObjectMeta, HelmChartTemplateSpec, HelmChartTemplateVerification, ReconcileStrategy,
    VerificationProvider,
};
pub use post_render::{DriftDetection, DriftDetectionMode, Kustomize, PostRenderer};
pub use status::{HelmReleaseStatus, ReleaseAction, Snapshot, TestHookStatus};
pub use values::{ValuesKind, ValuesReference};

/// The CEL rule on `spec` that requires exactly one chart source, and its message.
pub const CHART_SOURCE_RULE: &str =
    "(has(self.chart) && !has(self.chartRef)) || (!has(self.chart) && has(self.chartRef))";
pub const CHART_SOURCE_MESSAGE: &str = "either chart or chartRef must be set";

/// The timeout of Helm actions when `spec.timeout` is unset.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);
/// The number of release revisions Helm keeps when `spec.maxHistory` is unset.
pub const DEFAULT_MAX_HISTORY: i64 = 5;

/// A Helm release: the chart, its values, and how to install, upgrade, test, roll back and
/// uninstall it.
// Printer columns repeat `type_ = "string"`, which clippy mistakes for duplicated attributes.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "helm.toolkit.fluxcd.io",
    version = "v2",
    kind = "HelmRelease",
    doc = "A Helm release that the controller keeps in the state the spec describes.",
    namespaced,
    status = "HelmReleaseStatus",
    shortname = "hr",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-appliers",
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    printcolumn(name = "Ready", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].status"#),
    printcolumn(name = "Status", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].message"#)
)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [{
    "message": "either chart or chartRef must be set",
    "rule": "(has(self.chart) && !has(self.chartRef)) || (!has(self.chart) && has(self.chartRef))"
}]))]
pub struct HelmReleaseSpec {
    /// A HelmChart for the controller to create (named `<namespace>-<name>`) and take the chart
    /// from. Exactly one of `chart` and `chartRef` must be set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart: Option<HelmChartTemplate>,
    /// An existing object that publishes the chart: an OCIRepository, HelmChart or ExternalArtifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart_ref: Option<CrossNamespaceSourceReference>,
    /// Labels and annotations set on every object of the release, replacing values under the same keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub common_metadata: Option<CommonMetadata>,
    /// HelmReleases that must be ready before this one is reconciled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depends_on: Option<Vec<DependencyReference>>,
    /// Detection and correction of changes made in the cluster to the release's objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift_detection: Option<DriftDetection>,
    /// CEL health checks for custom kinds, used when an action waits with the `poller` strategy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_exprs: Option<Vec<CustomHealthCheck>>,
    /// Settings of the install action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install: Option<Install>,
    /// How often the release is reconciled.
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub interval: String,
    /// Release to a remote cluster, as the given service account there when `serviceAccountName`
    /// is set too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kube_config: Option<KubeConfigReference>,
    /// How many release revisions Helm keeps; 5 when unset, 0 for no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::integer")]
    pub max_history: Option<i64>,
    /// Keep one Kubernetes client for the whole reconciliation instead of one per Helm action;
    /// true when unset. Turn off for charts whose hooks need CRDs created outside Helm's CRD handling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistent_client: Option<bool>,
    /// Which manifests the post-renderers receive; the controller's default applies when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_render_strategy: Option<PostRenderStrategy>,
    /// Post-renderers applied in order to the manifests Helm renders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_renderers: Option<Vec<PostRenderer>>,
    /// The Helm release name; `[<targetNamespace>-]<name>` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 53))]
    pub release_name: Option<String>,
    /// Settings of the rollback action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback: Option<Rollback>,
    /// The service account to impersonate when acting on the cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub service_account_name: Option<String>,
    /// The namespace of Helm's release storage; the HelmRelease's namespace when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub storage_namespace: Option<String>,
    /// Stop reconciling (a reconciliation already running finishes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
    /// The namespace the release installs into; the HelmRelease's namespace when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub target_namespace: Option<String>,
    /// Settings of the test action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<Test>,
    /// Timeout of each Kubernetes operation of a Helm action (such as a hook Job); 5m when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub timeout: Option<String>,
    /// Settings of the uninstall action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uninstall: Option<Uninstall>,
    /// Settings of the upgrade action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade: Option<Upgrade>,
    /// Values of the release, merged over those from `valuesFrom`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::preserve_unknown_fields")]
    pub values: Option<serde_json::Value>,
    /// ConfigMaps and Secrets with values, merged in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values_from: Option<Vec<ValuesReference>>,
    /// How Helm waits for the objects to become ready; the controller's default applies when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_strategy: Option<WaitStrategy>,
}

impl HelmReleaseSpec {
    /// How often the release is reconciled.
    pub fn interval(&self) -> Result<Duration, DurationError> {
        parse_duration(&self.interval)
    }

    /// The timeout of Helm actions, [`DEFAULT_TIMEOUT`] (5m) when unset.
    pub fn timeout(&self) -> Result<Duration, DurationError> {
        actions::duration_or(self.timeout.as_deref(), DEFAULT_TIMEOUT)
    }

    /// The install timeout, falling back to [`Self::timeout`].
    pub fn install_timeout(&self) -> Result<Duration, DurationError> {
        self.action_timeout(self.install.as_ref().and_then(|a| a.timeout.as_deref()))
    }

    /// The upgrade timeout, falling back to [`Self::timeout`].
    pub fn upgrade_timeout(&self) -> Result<Duration, DurationError> {
        self.action_timeout(self.upgrade.as_ref().and_then(|a| a.timeout.as_deref()))
    }

    /// The test timeout, falling back to [`Self::timeout`].
    pub fn test_timeout(&self) -> Result<Duration, DurationError> {
        self.action_timeout(self.test.as_ref().and_then(|a| a.timeout.as_deref()))
    }

    /// The rollback timeout, falling back to [`Self::timeout`].
    pub fn rollback_timeout(&self) -> Result<Duration, DurationError> {
        self.action_timeout(self.rollback.as_ref().and_then(|a| a.timeout.as_deref()))
    }

    /// The uninstall timeout, falling back to [`Self::timeout`].
    pub fn uninstall_timeout(&self) -> Result<Duration, DurationError> {
        self.action_timeout(self.uninstall.as_ref().and_then(|a| a.timeout.as_deref()))
    }

    fn action_timeout(&self, own: Option<&str>) -> Result<Duration, DurationError> {
        match own {
            Some(t) => parse_duration(t),
            None => self.timeout(),
        }
    }

    /// How many release revisions Helm keeps, [`DEFAULT_MAX_HISTORY`] when unset; 0 means no limit.
    pub fn max_history(&self) -> i64 {
        self.max_history.unwrap_or(DEFAULT_MAX_HISTORY)
    }

    /// Whether one Kubernetes client serves the whole reconciliation (true when unset).
    pub fn persistent_client(&self) -> bool {
        self.persistent_client.unwrap_or(true)
    }

    /// Whether reconciliation is suspended.
    pub fn is_suspended(&self) -> bool {
        self.suspend.unwrap_or(false)
    }

    /// Whether the tests run after install and upgrade.
    pub fn test_enabled(&self) -> bool {
        self.test.as_ref().and_then(|t| t.enable).unwrap_or(false)
    }

    /// Whether failed tests after an install are ignored: `install.remediation.ignoreTestFailures`,
    /// else `test.ignoreFailures`, else false.
    pub fn install_ignores_test_failures(&self) -> bool {
        let own = self.install.as_ref().and_then(|i| i.remediation.as_ref()).and_then(|r| r.ignore_test_failures);
        own.or_else(|| self.test.as_ref().and_then(|t| t.ignore_failures)).unwrap_or(false)
    }

    /// Whether failed tests after an upgrade are ignored: `upgrade.remediation.ignoreTestFailures`,
    /// else `test.ignoreFailures`, else false.
    pub fn upgrade_ignores_test_failures(&self) -> bool {
        let own = self.upgrade.as_ref().and_then(|u| u.remediation.as_ref()).and_then(|r| r.ignore_test_failures);
        own.or_else(|| self.test.as_ref().and_then(|t| t.ignore_failures)).unwrap_or(false)
    }

    /// The values given inline, as a map; empty when unset or not an object.
    pub fn values_map(&self) -> serde_json::Map<String, serde_json::Value> {
        match &self.values {
            Some(serde_json::Value::Object(map)) => map.clone(),
            _ => serde_json::Map::new(),
        }
    }
}

impl HelmRelease {
    /// The Helm release name: `spec.releaseName`, else `[<targetNamespace>-]<name>`, shortened with
    /// a hash when longer than 53 characters (see [`release_name`]).
    pub fn release_name(&self) -> String {
        release_name::release_name(
            self.spec.release_name.as_deref(),
            self.spec.target_namespace.as_deref(),
            &self.name_any(),
        )
    }

    /// The namespace the release installs into: `spec.targetNamespace`, else the HelmRelease's.
    pub fn release_namespace(&self) -> String {
        non_empty(self.spec.target_namespace.as_deref()).unwrap_or_else(|| self.namespace().unwrap_or_default())
    }

    /// The namespace of Helm's storage: `spec.storageNamespace`, else the HelmRelease's namespace.
    pub fn storage_namespace(&self) -> String {
        non_empty(self.spec.storage_namespace.as_deref()).unwrap_or_else(|| self.namespace().unwrap_or_default())
    }

    /// The name of the HelmChart the controller creates for `spec.chart`: `<namespace>-<name>`.
    pub fn helm_chart_name(&self) -> String {
        format!("{}-{}", self.namespace().unwrap_or_default(), self.name_any())
    }
}

fn non_empty(value: Option<&str>) -> Option<String> {
    value.filter(|v| !v.is_empty()).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(name: &str, namespace: &str, spec: HelmReleaseSpec) -> HelmRelease {
        let mut hr = HelmRelease::new(name, spec);
        hr.metadata.namespace = Some(namespace.to_string());
        hr
    }

    fn spec() -> HelmReleaseSpec {
        HelmReleaseSpec { interval: "10m".into(), ..Default::default() }
    }

    #[test]
    fn interval_and_timeout() {
        let mut s = spec();
        assert_eq!(s.interval(), Ok(Duration::from_secs(600)));
        assert_eq!(s.timeout(), Ok(Duration::from_secs(300)));
        assert_eq!(s.install_timeout(), Ok(Duration::from_secs(300)));
        s.timeout = Some("90s".into());
        s.upgrade = Some(Upgrade { timeout: Some("1h".into()), ..Default::default() });
        assert_eq!(s.timeout(), Ok(Duration::from_secs(90)));
        assert_eq!(s.install_timeout(), Ok(Duration::from_secs(90)));
        assert_eq!(s.upgrade_timeout(), Ok(Duration::from_secs(3600)));
        assert_eq!(s.uninstall_timeout(), Ok(Duration::from_secs(90)));
        s.interval = "5d".into();
        assert!(s.interval().is_err());
    }

    #[test]
    fn max_history_and_persistent_client_defaults() {
        let mut s = spec();
        assert_eq!(s.max_history(), 5);
        assert!(s.persistent_client());
        s.max_history = Some(0);
        s.persistent_client = Some(false);
        assert_eq!(s.max_history(), 0);
        assert!(!s.persistent_client());
    }

    #[test]
    fn release_name_namespace_and_storage() {
        let hr = release("podinfo", "flux-system", spec());
        assert_eq!(hr.release_name(), "podinfo");
        assert_eq!(hr.release_namespace(), "flux-system");
        assert_eq!(hr.storage_namespace(), "flux-system");
        assert_eq!(hr.helm_chart_name(), "flux-system-podinfo");

        let s = HelmReleaseSpec {
            target_namespace: Some("apps".into()),
            storage_namespace: Some("helm-storage".into()),
            ..spec()
        };
        let hr = release("podinfo", "flux-system", s);
        assert_eq!(hr.release_name(), "apps-podinfo");
        assert_eq!(hr.release_namespace(), "apps");
        assert_eq!(hr.storage_namespace(), "helm-storage");

        let s = HelmReleaseSpec { release_name: Some("web".into()), target_namespace: Some("apps".into()), ..spec() };
        assert_eq!(release("podinfo", "flux-system", s).release_name(), "web");
    }

    #[test]
    fn long_derived_release_names_are_shortened() {
        let s = HelmReleaseSpec { target_namespace: Some("monitoring".into()), ..spec() };
        let hr = release("kube-prometheus-stack-with-a-rather-long-name", "flux-system", s);
        assert_eq!(hr.release_name(), "monitoring-kube-prometheus-stack-with-a--6c51d553cc17");
    }

    #[test]
    fn test_failure_settings_fall_back_to_the_test_section() {
        let mut s = spec();
        assert!(!s.install_ignores_test_failures());
        s.test = Some(Test { ignore_failures: Some(true), ..Default::default() });
        assert!(s.install_ignores_test_failures() && s.upgrade_ignores_test_failures());
        s.upgrade = Some(Upgrade {
            remediation: Some(UpgradeRemediation { ignore_test_failures: Some(false), ..Default::default() }),
            ..Default::default()
        });
        assert!(s.install_ignores_test_failures());
        assert!(!s.upgrade_ignores_test_failures());
    }

    #[test]
    fn remediation_defaults() {
        let r = UpgradeRemediation::default();
        assert_eq!((r.retries(), r.remediate_last_failure(), r.strategy()), (0, false, RemediationStrategy::Rollback));
        let r = UpgradeRemediation { retries: Some(3), ..Default::default() };
        assert!(r.remediate_last_failure());
        let r = InstallRemediation { retries: Some(3), ..Default::default() };
        assert!(!r.remediate_last_failure());
        let s = InstallStrategy { name: ActionStrategyName::RetryOnFailure, retry_interval: None };
        assert_eq!(s.retry_interval(), Ok(Duration::from_secs(300)));
        assert_eq!(Install::default().crds_policy(), CrdsPolicy::Create);
        assert_eq!(Install { skip_crds: Some(true), ..Default::default() }.crds_policy(), CrdsPolicy::Skip);
        assert_eq!(Upgrade::default().crds_policy(), CrdsPolicy::Skip);
    }
}
