//! What the controller records about a HelmRelease: conditions, failure counters, the last
//! attempt, and the history of the Helm releases it made.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::conditions::Condition;
use crate::meta::ResourceInventory;

/// Observed state of a HelmRelease.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("default" = { "observedGeneration": -1 }))]
pub struct HelmReleaseStatus {
    /// `Ready`, `Reconciling`, `Stalled`, `Released`, `TestSuccess`, `Remediated` and `Drifted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
    /// Failed reconciliations since the desired state last changed; reset on success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failures: Option<i64>,
    /// `<namespace>/<name>` of the HelmChart the controller created for `spec.chart`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub helm_chart: Option<String>,
    /// The Helm releases made for this object, newest first, back to the last successful one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<Snapshot>>,
    /// Failed installs since the desired state last changed; reset on success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install_failures: Option<i64>,
    /// The objects of the current release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<ResourceInventory>,
    /// Digest (`<algorithm>:<checksum>`) of the values of the last attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_config_digest: Option<String>,
    /// The `metadata.generation` of the last attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_generation: Option<i64>,
    /// The Helm action of the last attempt, which selects the retry and remediation settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_release_action: Option<ReleaseAction>,
    /// How long the last Helm action took, as a Go duration string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_release_action_duration: Option<String>,
    /// The chart revision of the last attempt; for OCI sources the chart version followed by
    /// `+` and the first 12 characters of the artifact digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_revision: Option<String>,
    /// The artifact digest of the last attempt (OCIRepository sources only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_revision_digest: Option<String>,
    /// SHA-1 of the values of the last attempt. Deprecated: see `lastAttemptedConfigDigest`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_values_checksum: Option<String>,
    /// The last `reconcile.fluxcd.io/forceAt` annotation value acted upon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_force_at: Option<String>,
    /// The last `reconcile.fluxcd.io/requestedAt` annotation value acted upon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
    /// The last `reconcile.fluxcd.io/resetAt` annotation value acted upon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reset_at: Option<String>,
    /// Helm revision of the last successful release. Deprecated: see `history`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::integer")]
    pub last_release_revision: Option<i64>,
    /// Digest of `spec.commonMetadata` at the last successful reconciliation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_common_metadata_digest: Option<String>,
    /// The `metadata.generation` last reconciled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Digest of `spec.postRenderers` at the last successful reconciliation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_post_renderers_digest: Option<String>,
    /// The namespace holding the Helm storage of the current release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub storage_namespace: Option<String>,
    /// Failed upgrades since the desired state last changed; reset on success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade_failures: Option<i64>,
}

impl HelmReleaseStatus {
    /// The newest entry of the release history.
    pub fn latest_snapshot(&self) -> Option<&Snapshot> {
        self.history.as_ref().and_then(|h| h.first())
    }
}

/// The Helm actions whose failures the controller counts and remediates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReleaseAction {
    /// A first install (or a reinstall).
    Install,
    /// An upgrade of an existing release.
    Upgrade,
}

/// A copy of what Helm stored about one release revision.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// The action that made this release, e.g. `install` or `upgrade`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// Version of the snapshot format, which tells how `digest` was computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// The chart's app version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
    /// The chart's name.
    pub chart_name: String,
    /// The chart's version.
    pub chart_version: String,
    /// Digest (`<algorithm>:<checksum>`) of the release's values.
    pub config_digest: String,
    /// When the release was uninstalled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::date_time")]
    pub deleted: Option<Time>,
    /// Digest (`<algorithm>:<checksum>`) of the release object in Helm's storage.
    pub digest: String,
    /// When the first revision of the release was deployed.
    #[schemars(schema_with = "crate::schema::date_time")]
    pub first_deployed: Time,
    /// When this revision was deployed.
    #[schemars(schema_with = "crate::schema::date_time")]
    pub last_deployed: Time,
    /// The release name.
    pub name: String,
    /// The namespace the release deploys to.
    pub namespace: String,
    /// Digest of the OCI artifact the chart came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(rename = "ociDigest")]
    pub oci_digest: Option<String>,
    /// Helm's status of the release, e.g. `deployed`, `failed` or `superseded`.
    pub status: String,
    /// The chart's tests as last run by the controller, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_hooks: Option<BTreeMap<String, TestHookStatus>>,
    /// The Helm revision number.
    #[schemars(schema_with = "crate::schema::integer")]
    pub version: i64,
}

impl Snapshot {
    /// `<namespace>/<name>.v<version>`, how Helm names a release revision.
    pub fn full_release_name(&self) -> String {
        format!("{}/{}.v{}", self.namespace, self.name, self.version)
    }
}

/// One test hook as the controller saw it run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestHookStatus {
    /// When the test last completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::date_time")]
    pub last_completed: Option<Time>,
    /// When the test last started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::date_time")]
    pub last_started: Option<Time>,
    /// The phase the test was in, e.g. `Succeeded` or `Failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
}
