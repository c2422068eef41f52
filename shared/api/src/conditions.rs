//! Status conditions as Flux writes them (`metav1.Condition`, kstatus polarity), with the condition
//! types and reasons Flux uses, so that `flux get`, kstatus and dashboards read Weir's status unchanged.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One aspect of an object's state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// When the status last changed from one value to another.
    #[schemars(schema_with = "crate::schema::date_time")]
    pub last_transition_time: Time,
    /// A sentence for people about the transition; may be empty.
    #[schemars(length(max = 32768))]
    pub message: String,
    /// The `metadata.generation` the condition was computed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub observed_generation: Option<i64>,
    /// A CamelCase word that says why the condition has its status.
    #[schemars(length(min = 1, max = 1024), regex(pattern = r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"))]
    pub reason: String,
    /// `True`, `False` or `Unknown`.
    pub status: ConditionStatus,
    /// The aspect this condition is about, e.g. `Ready`.
    #[serde(rename = "type")]
    #[schemars(
        length(max = 316),
        regex(
            pattern = r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$"
        )
    )]
    pub type_: String,
}

/// The value of a condition.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ConditionStatus {
    True,
    False,
    #[default]
    Unknown,
}

impl ConditionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionStatus::True => "True",
            ConditionStatus::False => "False",
            ConditionStatus::Unknown => "Unknown",
        }
    }
}

impl From<bool> for ConditionStatus {
    fn from(value: bool) -> Self {
        if value { ConditionStatus::True } else { ConditionStatus::False }
    }
}

/// Condition types.
pub mod types {
    /// Whether the object is in its desired state (kstatus).
    pub const READY: &str = "Ready";
    /// Present and True while the controller works towards the desired state (kstatus).
    pub const RECONCILING: &str = "Reconciling";
    /// Present and True when the controller cannot progress without a change to the object (kstatus).
    pub const STALLED: &str = "Stalled";
    /// Kustomization: whether the last applied objects passed their health checks.
    pub const HEALTHY: &str = "Healthy";
    /// Sources: the artifact in storage matches the status.
    pub const ARTIFACT_IN_STORAGE: &str = "ArtifactInStorage";
    /// Sources: a newer revision exists upstream than the stored artifact.
    pub const ARTIFACT_OUTDATED: &str = "ArtifactOutdated";
    /// Sources: the artifact's signature was verified.
    pub const SOURCE_VERIFIED: &str = "SourceVerified";
    /// Sources (negative polarity): fetching from upstream failed.
    pub const FETCH_FAILED: &str = "FetchFailed";
    /// Sources (negative polarity): building the artifact failed.
    pub const BUILD_FAILED: &str = "BuildFailed";
    /// Sources (negative polarity): writing to storage failed.
    pub const STORAGE_OPERATION_FAILED: &str = "StorageOperationFailed";
    /// GitRepository (negative polarity): an included repository has no artifact.
    pub const INCLUDE_UNAVAILABLE: &str = "IncludeUnavailable";
    /// HelmRelease: the last release action succeeded.
    pub const RELEASED: &str = "Released";
    /// HelmRelease: the last test run succeeded.
    pub const TEST_SUCCESS: &str = "TestSuccess";
    /// HelmRelease: the last failure was remediated.
    pub const REMEDIATED: &str = "Remediated";
    /// HelmRelease: the cluster state drifted from the release.
    pub const DRIFTED: &str = "Drifted";
}

/// Condition reasons.
pub mod reasons {
    pub const SUCCEEDED: &str = "Succeeded";
    pub const FAILED: &str = "Failed";
    pub const PROGRESSING: &str = "Progressing";
    pub const PROGRESSING_WITH_RETRY: &str = "ProgressingWithRetry";
    pub const SUSPENDED: &str = "Suspended";
    pub const RECONCILIATION_SUCCEEDED: &str = "ReconciliationSucceeded";
    pub const RECONCILIATION_FAILED: &str = "ReconciliationFailed";
    pub const DEPENDENCY_NOT_READY: &str = "DependencyNotReady";
    pub const ARTIFACT_FAILED: &str = "ArtifactFailed";
    pub const BUILD_FAILED: &str = "BuildFailed";
    pub const HEALTH_CHECK_FAILED: &str = "HealthCheckFailed";
    pub const PRUNE_FAILED: &str = "PruneFailed";
    pub const INVALID_CEL_EXPRESSION: &str = "InvalidCELExpression";
    pub const ACCESS_DENIED: &str = "AccessDenied";
    pub const FEATURE_GATE_DISABLED: &str = "FeatureGateDisabled";
    pub const NEW_REVISION: &str = "NewRevision";
    pub const AUTHENTICATION_FAILED: &str = "AuthenticationFailed";
    pub const VERIFICATION_ERROR: &str = "VerificationError";
    pub const STORAGE_OPERATION_FAILED: &str = "StorageOperationFailed";
    pub const ARCHIVE_OPERATION_FAILED: &str = "ArchiveOperationFailed";
    pub const GIT_OPERATION_FAILED: &str = "GitOperationFailed";
    pub const OCI_PULL_FAILED: &str = "OCIArtifactPullFailed";
    /// Weir: the spec failed validation in the controller (the server could not check it).
    pub const INVALID_SPEC: &str = "InvalidSpec";
}

/// Returns the condition of the given type, if present.
pub fn find<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

/// Whether the condition of the given type is present with status True.
pub fn is_true(conditions: &[Condition], type_: &str) -> bool {
    find(conditions, type_).is_some_and(|c| c.status == ConditionStatus::True)
}

/// Inserts or replaces the condition of `new.type_`, keeping the transition time when the status
/// did not change, as `meta.SetStatusCondition` does.
pub fn set(conditions: &mut Vec<Condition>, mut new: Condition) {
    match conditions.iter_mut().find(|c| c.type_ == new.type_) {
        Some(existing) => {
            if existing.status == new.status {
                new.last_transition_time = existing.last_transition_time.clone();
            }
            *existing = new;
        }
        None => conditions.push(new),
    }
}

/// Removes the condition of the given type.
pub fn remove(conditions: &mut Vec<Condition>, type_: &str) {
    conditions.retain(|c| c.type_ != type_);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(type_: &str, status: ConditionStatus, secs: i64) -> Condition {
        Condition {
            last_transition_time: Time(k8s_openapi::jiff::Timestamp::from_second(secs).unwrap()),
            message: String::new(),
            observed_generation: Some(1),
            reason: reasons::SUCCEEDED.into(),
            status,
            type_: type_.into(),
        }
    }

    #[test]
    fn set_keeps_transition_time_when_status_is_unchanged() {
        let mut cs = vec![cond(types::READY, ConditionStatus::True, 10)];
        set(&mut cs, cond(types::READY, ConditionStatus::True, 20));
        assert_eq!(cs.len(), 1);
        assert_eq!(cs[0].last_transition_time, cond("x", ConditionStatus::True, 10).last_transition_time);
        set(&mut cs, cond(types::READY, ConditionStatus::False, 30));
        assert_eq!(cs[0].last_transition_time, cond("x", ConditionStatus::True, 30).last_transition_time);
        assert!(!is_true(&cs, types::READY));
    }

    #[test]
    fn status_serializes_as_flux_writes_it() {
        assert_eq!(serde_json::to_string(&ConditionStatus::Unknown).unwrap(), "\"Unknown\"");
        let c = cond(types::READY, ConditionStatus::True, 0);
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["type"], "Ready");
        assert_eq!(v["lastTransitionTime"], "1970-01-01T00:00:00Z");
    }
}
