//! How the controller runs each Helm action (install, upgrade, test, rollback, uninstall), how it
//! recovers from failures, and how it waits for the released objects.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::duration::{DurationError, parse_duration};

/// The CEL rule on `spec.install.strategy`, and its message.
pub const INSTALL_STRATEGY_RULE: &str = "!has(self.retryInterval) || self.name != 'RemediateOnFailure'";
pub const INSTALL_STRATEGY_MESSAGE: &str = ".retryInterval cannot be set when .name is 'RemediateOnFailure'";
/// The CEL rule on `spec.upgrade.strategy`, and its message.
pub const UPGRADE_STRATEGY_RULE: &str = "!has(self.retryInterval) || self.name == 'RetryOnFailure'";
pub const UPGRADE_STRATEGY_MESSAGE: &str = ".retryInterval can only be set when .name is 'RetryOnFailure'";

/// How long a failed action waits before `RetryOnFailure` tries again, when `retryInterval` is unset.
pub const DEFAULT_RETRY_INTERVAL: Duration = Duration::from_secs(300);

/// Parses an optional duration field, falling back to `default` when it is unset.
pub(crate) fn duration_or(value: Option<&str>, default: Duration) -> Result<Duration, DurationError> {
    value.map_or(Ok(default), parse_duration)
}

/// Settings of the Helm install action.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Install {
    /// What to do with the chart's `crds/` directory on install; `Create` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crds: Option<CrdsPolicy>,
    /// Create the target namespace when it does not exist (it is left in place on uninstall).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_namespace: Option<bool>,
    /// Do not run the chart's hooks on install.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_hooks: Option<bool>,
    /// Do not validate the rendered manifests against the cluster's OpenAPI schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(rename = "disableOpenAPIValidation")]
    pub disable_openapi_validation: Option<bool>,
    /// Do not validate the values against the chart's JSON schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_schema_validation: Option<bool>,
    /// Fail instead of adopting objects that already exist in the cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_take_ownership: Option<bool>,
    /// Do not wait for the installed objects to become ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_wait: Option<bool>,
    /// Do not wait for the installed Jobs to complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_wait_for_jobs: Option<bool>,
    /// What to do when the install fails; nothing by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<InstallRemediation>,
    /// Reuse the release name when it only belongs to an uninstalled release kept in the history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace: Option<bool>,
    /// Apply the objects with server-side apply; the controller's default applies when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_side_apply: Option<bool>,
    /// Skip the chart's CRDs. Deprecated: set `crds: Skip` instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(rename = "skipCRDs")]
    pub skip_crds: Option<bool>,
    /// Whether a failed install is remediated or simply retried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<InstallStrategy>,
    /// Timeout of each Kubernetes operation of the install; defaults to `spec.timeout`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub timeout: Option<String>,
}

impl Install {
    /// The CRD policy in effect: `crds` when set, `Skip` when the deprecated `skipCRDs` is true,
    /// `Create` otherwise.
    pub fn crds_policy(&self) -> CrdsPolicy {
        match (self.crds, self.skip_crds) {
            (Some(p), _) => p,
            (None, Some(true)) => CrdsPolicy::Skip,
            (None, _) => CrdsPolicy::Create,
        }
    }
}

/// Recovery from a failed install.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InstallRemediation {
    /// Do not remediate when the tests run after the install fail; defaults to `spec.test.ignoreFailures`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_test_failures: Option<bool>,
    /// Also remediate the last failure, once no retries are left; false by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediate_last_failure: Option<bool>,
    /// How many times to retry (uninstalling in between) before giving up; 0 by default, and a
    /// negative number retries forever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::integer")]
    pub retries: Option<i64>,
}

impl InstallRemediation {
    /// The number of retries, 0 when unset.
    pub fn retries(&self) -> i64 {
        self.retries.unwrap_or(0)
    }

    /// Whether the last failure is remediated too once the retries are exhausted (false when unset).
    pub fn remediate_last_failure(&self) -> bool {
        self.remediate_last_failure.unwrap_or(false)
    }
}

/// The install strategy.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [{
    "message": ".retryInterval cannot be set when .name is 'RemediateOnFailure'",
    "rule": "!has(self.retryInterval) || self.name != 'RemediateOnFailure'"
}]))]
pub struct InstallStrategy {
    /// The strategy.
    pub name: ActionStrategyName,
    /// How long to wait before retrying a failed install (`RetryOnFailure` only); 5m by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub retry_interval: Option<String>,
}

impl InstallStrategy {
    /// The retry interval, [`DEFAULT_RETRY_INTERVAL`] when unset.
    pub fn retry_interval(&self) -> Result<Duration, DurationError> {
        duration_or(self.retry_interval.as_deref(), DEFAULT_RETRY_INTERVAL)
    }
}

/// What the controller does after a failed install or upgrade.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ActionStrategyName {
    /// Remediate as `remediation` says (uninstall or roll back), then try again.
    #[default]
    RemediateOnFailure,
    /// Leave the failed release in place and retry the action after `retryInterval`.
    RetryOnFailure,
}

/// What to do with the CRDs in a chart's `crds/` directory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum CrdsPolicy {
    /// Neither create nor update CRDs.
    Skip,
    /// Create missing CRDs, leave existing ones unchanged.
    #[default]
    Create,
    /// Create missing CRDs and replace existing ones.
    CreateReplace,
}

/// Settings of the Helm upgrade action.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Upgrade {
    /// What to do when the chart name of the release changes; `Reinstall` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart_name_change_strategy: Option<ChartNameChangeStrategy>,
    /// Delete the objects created by a failed upgrade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup_on_fail: Option<bool>,
    /// What to do with the chart's `crds/` directory on upgrade; `Skip` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crds: Option<CrdsPolicy>,
    /// Do not run the chart's hooks on upgrade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_hooks: Option<bool>,
    /// Do not validate the rendered manifests against the cluster's OpenAPI schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(rename = "disableOpenAPIValidation")]
    pub disable_openapi_validation: Option<bool>,
    /// Do not validate the values against the chart's JSON schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_schema_validation: Option<bool>,
    /// Fail instead of adopting objects that already exist in the cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_take_ownership: Option<bool>,
    /// Do not wait for the upgraded objects to become ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_wait: Option<bool>,
    /// Do not wait for the Jobs of the upgrade to complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_wait_for_jobs: Option<bool>,
    /// Replace objects instead of patching them when a client-side patch conflicts (ignored with
    /// server-side apply).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
    /// Start from the values of the last release and merge `values` over them. This makes the
    /// release depend on its history rather than on the HelmRelease alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preserve_values: Option<bool>,
    /// What to do when the upgrade fails; nothing by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<UpgradeRemediation>,
    /// Server-side apply for the upgrade; `auto` (follow the previous release) when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_side_apply: Option<ServerSideApplyMode>,
    /// Whether a failed upgrade is remediated or simply retried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<UpgradeStrategy>,
    /// Timeout of each Kubernetes operation of the upgrade; defaults to `spec.timeout`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub timeout: Option<String>,
}

impl Upgrade {
    /// The CRD policy in effect, `Skip` when unset.
    pub fn crds_policy(&self) -> CrdsPolicy {
        self.crds.unwrap_or(CrdsPolicy::Skip)
    }
}

/// Recovery from a failed upgrade.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeRemediation {
    /// Do not remediate when the tests run after the upgrade fail; defaults to `spec.test.ignoreFailures`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_test_failures: Option<bool>,
    /// Also remediate the last failure, once no retries are left; by default only when
    /// `retries` is above 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediate_last_failure: Option<bool>,
    /// How many times to retry (remediating in between) before giving up; 0 by default, and a
    /// negative number retries forever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::integer")]
    pub retries: Option<i64>,
    /// How to remediate: roll back (the default) or uninstall.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<RemediationStrategy>,
}

impl UpgradeRemediation {
    /// The number of retries, 0 when unset.
    pub fn retries(&self) -> i64 {
        self.retries.unwrap_or(0)
    }

    /// Whether the last failure is remediated too once the retries are exhausted; when unset,
    /// true exactly when `retries` is above 0.
    pub fn remediate_last_failure(&self) -> bool {
        self.remediate_last_failure.unwrap_or(self.retries() > 0)
    }

    /// The remediation strategy, `rollback` when unset.
    pub fn strategy(&self) -> RemediationStrategy {
        self.strategy.unwrap_or_default()
    }
}

/// The upgrade strategy.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [{
    "message": ".retryInterval can only be set when .name is 'RetryOnFailure'",
    "rule": "!has(self.retryInterval) || self.name == 'RetryOnFailure'"
}]))]
pub struct UpgradeStrategy {
    /// The strategy.
    pub name: ActionStrategyName,
    /// How long to wait before retrying a failed upgrade (`RetryOnFailure` only); 5m by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub retry_interval: Option<String>,
}

impl UpgradeStrategy {
    /// The retry interval, [`DEFAULT_RETRY_INTERVAL`] when unset.
    pub fn retry_interval(&self) -> Result<Duration, DurationError> {
        duration_or(self.retry_interval.as_deref(), DEFAULT_RETRY_INTERVAL)
    }
}

/// How a failed upgrade is remediated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RemediationStrategy {
    /// Roll back to the last successful release.
    #[default]
    Rollback,
    /// Uninstall the release.
    Uninstall,
}

/// Whether an action uses server-side apply.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ServerSideApplyMode {
    /// Always use server-side apply.
    Enabled,
    /// Use client-side (three-way merge) apply.
    Disabled,
    /// Do as the release being upgraded or rolled back to did.
    #[default]
    Auto,
}

/// What an upgrade does when the chart of the release has a new name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ChartNameChangeStrategy {
    /// Upgrade the existing release in place.
    InPlaceUpdate,
    /// Uninstall the existing release, then install the new chart.
    #[default]
    Reinstall,
}

/// Settings of the Helm test action.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Test {
    /// Run the chart's tests after each install and upgrade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable: Option<bool>,
    /// Tests to run or to skip, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<TestFilter>>,
    /// Do not remediate when tests fail; `install.remediation` and `upgrade.remediation` can
    /// override this for their action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_failures: Option<bool>,
    /// Timeout of each Kubernetes operation of the tests; defaults to `spec.timeout`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub timeout: Option<String>,
}

/// Selects one test by name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TestFilter {
    /// Skip this test instead of running only the listed ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude: Option<bool>,
    /// Name of the test.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
}

/// Settings of the Helm rollback action.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Rollback {
    /// Delete the objects created by a failed rollback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup_on_fail: Option<bool>,
    /// Do not run the chart's hooks on rollback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_hooks: Option<bool>,
    /// Do not wait for the objects to become ready after the rollback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_wait: Option<bool>,
    /// Do not wait for the Jobs of the rollback to complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_wait_for_jobs: Option<bool>,
    /// Replace objects instead of patching them when a client-side patch conflicts (ignored with
    /// server-side apply).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
    /// Restart the pods of the rolled-back workloads. Deprecated and without effect with Helm 4.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recreate: Option<bool>,
    /// Server-side apply for the rollback; `auto` (follow the target release) when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_side_apply: Option<ServerSideApplyMode>,
    /// Timeout of each Kubernetes operation of the rollback; defaults to `spec.timeout`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub timeout: Option<String>,
}

/// Settings of the Helm uninstall action.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Uninstall {
    /// How the deletion of the release's objects propagates to their dependents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "background"))]
    pub deletion_propagation: Option<DeletionPropagation>,
    /// Do not run the chart's hooks on uninstall.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_hooks: Option<bool>,
    /// Do not wait for the objects to be deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_wait: Option<bool>,
    /// Delete the objects but keep the release history, marking the release uninstalled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_history: Option<bool>,
    /// Timeout of each Kubernetes operation of the uninstall; defaults to `spec.timeout`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub timeout: Option<String>,
}

impl Uninstall {
    /// The deletion propagation policy, `background` when unset.
    pub fn deletion_propagation(&self) -> DeletionPropagation {
        self.deletion_propagation.unwrap_or_default()
    }
}

/// The deletion propagation policy of an uninstall.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeletionPropagation {
    /// Delete the objects at once; the garbage collector removes their dependents afterwards.
    #[default]
    Background,
    /// Delete the dependents first, then the objects.
    Foreground,
    /// Delete the objects and leave their dependents in place.
    Orphan,
}

/// How Helm waits for the released objects to become ready.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct WaitStrategy {
    /// The waiting method.
    pub name: WaitStrategyName,
}

/// Helm's waiting methods.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum WaitStrategyName {
    /// Poll the objects' status with kstatus (and `healthCheckExprs`).
    #[default]
    Poller,
    /// Helm 3's built-in readiness checks.
    Legacy,
}

/// Which manifests a HelmRelease hands to its post-renderers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PostRenderStrategy {
    /// Templates only; hooks are not post-rendered (Helm 3's behaviour).
    #[serde(rename = "nohooks")]
    NoHooks,
    /// Hooks and templates in one stream.
    #[default]
    Combined,
    /// Hooks and templates in two separate streams.
    Separate,
}
