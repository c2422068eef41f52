//! The Kustomization status as Flux writes it: Ready/Reconciling/Stalled/Healthy with Flux's
//! reasons, written by server-side apply of the status subresource (`gotk-kustomize-controller`).

use kube::api::Api;
use weir_api::annotations::field_managers::KUSTOMIZE_CONTROLLER_STATUS;
use weir_api::conditions::{self, ConditionStatus, reasons, types};
use weir_api::kustomize::{Kustomization, KustomizationStatus};
use weir_runtime::status::{apply as apply_status, condition, mark_failed, mark_progressing, mark_ready, mark_stalled};

/// `Applied revision: <rev>`, Flux's Ready message after success.
pub fn applied_message(revision: &str) -> String {
    format!("Applied revision: {revision}")
}

/// Marks the reconcile as in progress; Ready becomes Unknown only when it was never set.
pub fn progressing(status: &mut KustomizationStatus, generation: Option<i64>, message: &str) {
    mark_progressing(status.conditions.get_or_insert_with(Vec::new), generation, message);
}

/// The revision is applied (and healthy, when checked).
pub fn succeeded(status: &mut KustomizationStatus, generation: Option<i64>, revision: &str, checked_health: bool) {
    status.observed_generation = generation;
    status.last_applied_revision = Some(revision.to_string());
    status.last_attempted_revision = Some(revision.to_string());
    let message = applied_message(revision);
    let list = status.conditions.get_or_insert_with(Vec::new);
    if checked_health {
        let healthy =
            condition(types::HEALTHY, ConditionStatus::True, reasons::SUCCEEDED, "Health check passed", generation);
        conditions::set(list, healthy);
    } else {
        conditions::remove(list, types::HEALTHY);
    }
    mark_ready(list, generation, reasons::RECONCILIATION_SUCCEEDED, &message);
}

/// A failed attempt: Ready False with `reason`; Reconciling says a retry follows.
pub fn failed(status: &mut KustomizationStatus, generation: Option<i64>, reason: &str, message: &str) {
    status.observed_generation = generation;
    let list = status.conditions.get_or_insert_with(Vec::new);
    if reason == reasons::HEALTH_CHECK_FAILED {
        conditions::set(list, condition(types::HEALTHY, ConditionStatus::False, reason, message, generation));
    }
    mark_failed(list, generation, reason, message);
}

/// A spec the controller refuses (`InvalidSpec`, `InvalidCELExpression`, a dependency cycle):
/// Stalled until the object changes.
pub fn stalled(status: &mut KustomizationStatus, generation: Option<i64>, reason: &str, message: &str) {
    status.observed_generation = generation;
    mark_stalled(status.conditions.get_or_insert_with(Vec::new), generation, reason, message);
}

/// Writes `status` with server-side apply, forcing ownership of the fields, as Flux does.
pub async fn apply(api: &Api<Kustomization>, name: &str, status: &KustomizationStatus) -> kube::Result<()> {
    apply_status(api, KUSTOMIZE_CONTROLLER_STATUS, name, status).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_then_success() {
        let mut status = KustomizationStatus::default();
        progressing(&mut status, Some(1), "working");
        failed(&mut status, Some(1), reasons::BUILD_FAILED, "bad yaml");
        let list = status.conditions.clone().unwrap();
        assert_eq!(conditions::find(&list, types::READY).unwrap().reason, "BuildFailed");
        assert!(conditions::is_true(&list, types::RECONCILING));
        assert!(status.last_applied_revision.is_none());
        succeeded(&mut status, Some(2), "main@sha1:abc", false);
        let list = status.conditions.unwrap();
        let ready = conditions::find(&list, types::READY).unwrap();
        assert_eq!(
            (ready.reason.as_str(), ready.message.as_str()),
            ("ReconciliationSucceeded", "Applied revision: main@sha1:abc")
        );
        assert!(conditions::find(&list, types::RECONCILING).is_none());
        assert_eq!(status.last_applied_revision.as_deref(), Some("main@sha1:abc"));
    }
}
