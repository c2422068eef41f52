//! The condition transitions of a source reconcile, on a kind's condition list: success with an
//! artifact in storage, a failure with its negative-polarity condition, a refused spec.

use weir_api::conditions::{self, Condition, ConditionStatus, reasons, types};
use weir_runtime::status::{condition, mark_failed, mark_progressing, mark_ready, mark_stalled};

/// The negative-polarity conditions a success clears.
const FAILURES: [&str; 4] =
    [types::FETCH_FAILED, types::STORAGE_OPERATION_FAILED, types::BUILD_FAILED, types::ARTIFACT_OUTDATED];

/// A reconcile starts on a new generation or a requested reconcile.
pub fn progressing(list: &mut Option<Vec<Condition>>, generation: Option<i64>, message: &str) {
    mark_progressing(list.get_or_insert_with(Vec::new), generation, message);
}

/// The artifact is stored and published: Ready and ArtifactInStorage True with `message`.
pub fn succeeded(list: &mut Option<Vec<Condition>>, generation: Option<i64>, message: &str) {
    let list = list.get_or_insert_with(Vec::new);
    for type_ in FAILURES {
        conditions::remove(list, type_);
    }
    mark_ready(list, generation, reasons::SUCCEEDED, message);
    conditions::set(
        list,
        condition(types::ARTIFACT_IN_STORAGE, ConditionStatus::True, reasons::SUCCEEDED, message, generation),
    );
}

/// Ready True without an artifact (HelmRepository `type: oci`): no storage conditions.
pub fn ready_without_artifact(list: &mut Option<Vec<Condition>>, generation: Option<i64>, message: &str) {
    let list = list.get_or_insert_with(Vec::new);
    for type_ in FAILURES.iter().chain(&[types::ARTIFACT_IN_STORAGE]) {
        conditions::remove(list, type_);
    }
    mark_ready(list, generation, reasons::SUCCEEDED, message);
}

/// A failure that is retried: `failure_type` True with `reason`, Ready False. The published
/// artifact stays; ArtifactInStorage goes only when its file is gone.
pub fn failed(
    list: &mut Option<Vec<Condition>>,
    generation: Option<i64>,
    failure_type: &str,
    reason: &str,
    message: &str,
    artifact_in_storage: bool,
) {
    let list = list.get_or_insert_with(Vec::new);
    for type_ in [types::FETCH_FAILED, types::STORAGE_OPERATION_FAILED, types::BUILD_FAILED] {
        if type_ != failure_type {
            conditions::remove(list, type_);
        }
    }
    if failure_type != types::READY {
        let status =
            if failure_type == types::SOURCE_VERIFIED { ConditionStatus::False } else { ConditionStatus::True };
        conditions::set(list, condition(failure_type, status, reason, message, generation));
    }
    mark_failed(list, generation, reason, message);
    if !artifact_in_storage {
        conditions::remove(list, types::ARTIFACT_IN_STORAGE);
    }
}

/// A spec the controller refuses: Stalled until the object changes.
pub fn stalled(list: &mut Option<Vec<Condition>>, generation: Option<i64>, reason: &str, message: &str) {
    mark_stalled(list.get_or_insert_with(Vec::new), generation, reason, message);
}

/// Sets a condition (SourceVerified True, ArtifactOutdated).
pub fn set(
    list: &mut Option<Vec<Condition>>,
    type_: &str,
    status: ConditionStatus,
    reason: &str,
    message: &str,
    generation: Option<i64>,
) {
    conditions::set(list.get_or_insert_with(Vec::new), condition(type_, status, reason, message, generation));
}

/// Removes a condition.
pub fn remove(list: &mut Option<Vec<Condition>>, type_: &str) {
    if let Some(list) = list {
        conditions::remove(list, type_);
    }
}

/// The condition of `type_`, if set.
pub fn find<'a>(list: &'a Option<Vec<Condition>>, type_: &str) -> Option<&'a Condition> {
    list.as_deref().and_then(|list| conditions::find(list, type_))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_then_success() {
        let mut list = None;
        progressing(&mut list, Some(1), "reconciliation in progress");
        failed(&mut list, Some(1), types::SOURCE_VERIFIED, reasons::VERIFICATION_ERROR, "unsigned", false);
        assert_eq!(find(&list, types::SOURCE_VERIFIED).unwrap().status, ConditionStatus::False);
        assert_eq!(find(&list, types::READY).unwrap().reason, reasons::VERIFICATION_ERROR);
        failed(&mut list, Some(1), types::FETCH_FAILED, "OCIArtifactPullFailed", "down", false);
        assert_eq!(find(&list, types::FETCH_FAILED).unwrap().status, ConditionStatus::True);
        succeeded(&mut list, Some(1), "stored artifact for digest 'x'");
        assert!(find(&list, types::FETCH_FAILED).is_none());
        assert!(find(&list, types::RECONCILING).is_none());
        assert_eq!(find(&list, types::READY).unwrap().status, ConditionStatus::True);
        assert_eq!(find(&list, types::ARTIFACT_IN_STORAGE).unwrap().status, ConditionStatus::True);
    }
}
