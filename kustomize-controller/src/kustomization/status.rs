//! The Kustomization status as Flux writes it: Ready/Reconciling/Stalled/Healthy with Flux's
//! reasons, written by server-side apply of the status subresource (`gotk-kustomize-controller`).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::Resource;
use kube::api::{Api, Patch, PatchParams};
use weir_api::annotations::field_managers::KUSTOMIZE_CONTROLLER_STATUS;
use weir_api::conditions::{self, Condition, ConditionStatus, reasons, types};
use weir_api::kustomize::{Kustomization, KustomizationStatus};

fn condition(type_: &str, status: ConditionStatus, reason: &str, message: &str, generation: Option<i64>) -> Condition {
    Condition {
        last_transition_time: Time(Timestamp::now()),
        message: message.to_string(),
        observed_generation: generation,
        reason: reason.to_string(),
        status,
        type_: type_.to_string(),
    }
}

/// `Applied revision: <rev>`, Flux's Ready message after success.
pub fn applied_message(revision: &str) -> String {
    format!("Applied revision: {revision}")
}

/// Marks the reconcile as in progress; Ready becomes Unknown only when it was never set.
pub fn progressing(status: &mut KustomizationStatus, generation: Option<i64>, message: &str) {
    let list = status.conditions.get_or_insert_with(Vec::new);
    conditions::set(
        list,
        condition(types::RECONCILING, ConditionStatus::True, reasons::PROGRESSING, message, generation),
    );
    if conditions::find(list, types::READY).is_none() {
        conditions::set(
            list,
            condition(types::READY, ConditionStatus::Unknown, reasons::PROGRESSING, message, generation),
        );
    }
}

/// The revision is applied (and healthy, when checked).
pub fn succeeded(status: &mut KustomizationStatus, generation: Option<i64>, revision: &str, checked_health: bool) {
    status.observed_generation = generation;
    status.last_applied_revision = Some(revision.to_string());
    status.last_attempted_revision = Some(revision.to_string());
    let message = applied_message(revision);
    let list = status.conditions.get_or_insert_with(Vec::new);
    conditions::remove(list, types::RECONCILING);
    conditions::remove(list, types::STALLED);
    if checked_health {
        let healthy =
            condition(types::HEALTHY, ConditionStatus::True, reasons::SUCCEEDED, "Health check passed", generation);
        conditions::set(list, healthy);
    } else {
        conditions::remove(list, types::HEALTHY);
    }
    let ready = condition(types::READY, ConditionStatus::True, reasons::RECONCILIATION_SUCCEEDED, &message, generation);
    conditions::set(list, ready);
}

/// A failed attempt: Ready False with `reason`; Reconciling says a retry follows.
pub fn failed(status: &mut KustomizationStatus, generation: Option<i64>, reason: &str, message: &str) {
    status.observed_generation = generation;
    let list = status.conditions.get_or_insert_with(Vec::new);
    conditions::remove(list, types::STALLED);
    if reason == reasons::HEALTH_CHECK_FAILED {
        conditions::set(list, condition(types::HEALTHY, ConditionStatus::False, reason, message, generation));
    }
    conditions::set(list, condition(types::READY, ConditionStatus::False, reason, message, generation));
    let retry =
        condition(types::RECONCILING, ConditionStatus::True, reasons::PROGRESSING_WITH_RETRY, message, generation);
    conditions::set(list, retry);
}

/// A spec the controller refuses: Stalled until the object changes.
pub fn stalled(status: &mut KustomizationStatus, generation: Option<i64>, message: &str) {
    status.observed_generation = generation;
    let list = status.conditions.get_or_insert_with(Vec::new);
    conditions::remove(list, types::RECONCILING);
    conditions::set(list, condition(types::STALLED, ConditionStatus::True, reasons::INVALID_SPEC, message, generation));
    conditions::set(list, condition(types::READY, ConditionStatus::False, reasons::INVALID_SPEC, message, generation));
}

/// Writes `status` with server-side apply, forcing ownership of the fields, as Flux does.
pub async fn apply(api: &Api<Kustomization>, name: &str, status: &KustomizationStatus) -> kube::Result<()> {
    let body = serde_json::json!({
        "apiVersion": Kustomization::api_version(&()),
        "kind": Kustomization::kind(&()),
        "status": status,
    });
    let params = PatchParams::apply(KUSTOMIZE_CONTROLLER_STATUS).force();
    api.patch_status(name, &params, &Patch::Apply(&body)).await.map(|_| ())
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
