//! The condition transitions every Flux reconciler makes (progressing, ready, failed, stalled)
//! and the server-side apply of the status subresource, generic over the kind.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::Resource;
use kube::api::{Api, Patch, PatchParams};
use serde::Serialize;
use weir_api::conditions::{self, Condition, ConditionStatus, reasons, types};

/// A condition stamped now.
pub fn condition(
    type_: &str,
    status: ConditionStatus,
    reason: &str,
    message: &str,
    generation: Option<i64>,
) -> Condition {
    Condition {
        last_transition_time: Time(Timestamp::now()),
        message: message.to_string(),
        observed_generation: generation,
        reason: reason.to_string(),
        status,
        type_: type_.to_string(),
    }
}

/// Marks a reconcile as in progress: Reconciling True; Ready becomes Unknown only when it was
/// never set, so that a working object stays Ready while it is being re-checked.
pub fn mark_progressing(list: &mut Vec<Condition>, generation: Option<i64>, message: &str) {
    let reconciling = condition(types::RECONCILING, ConditionStatus::True, reasons::PROGRESSING, message, generation);
    conditions::set(list, reconciling);
    if conditions::find(list, types::READY).is_none() {
        let ready = condition(types::READY, ConditionStatus::Unknown, reasons::PROGRESSING, message, generation);
        conditions::set(list, ready);
    }
}

/// A successful reconcile: Ready True with `reason`; Reconciling and Stalled go away.
pub fn mark_ready(list: &mut Vec<Condition>, generation: Option<i64>, reason: &str, message: &str) {
    conditions::remove(list, types::RECONCILING);
    conditions::remove(list, types::STALLED);
    conditions::set(list, condition(types::READY, ConditionStatus::True, reason, message, generation));
}

/// A failed attempt that will be retried: Ready False with `reason`, Reconciling True with
/// `ProgressingWithRetry`, Stalled gone.
pub fn mark_failed(list: &mut Vec<Condition>, generation: Option<i64>, reason: &str, message: &str) {
    conditions::remove(list, types::STALLED);
    conditions::set(list, condition(types::READY, ConditionStatus::False, reason, message, generation));
    let retry =
        condition(types::RECONCILING, ConditionStatus::True, reasons::PROGRESSING_WITH_RETRY, message, generation);
    conditions::set(list, retry);
}

/// A spec the controller refuses: Stalled and Ready False with `reason` until the object
/// changes; Reconciling goes away because no retry follows.
pub fn mark_stalled(list: &mut Vec<Condition>, generation: Option<i64>, reason: &str, message: &str) {
    conditions::remove(list, types::RECONCILING);
    conditions::set(list, condition(types::STALLED, ConditionStatus::True, reason, message, generation));
    conditions::set(list, condition(types::READY, ConditionStatus::False, reason, message, generation));
}

/// Writes `status` with server-side apply under `field_manager`, forcing ownership of the
/// fields, as Flux's controllers do.
pub async fn apply<K, S>(api: &Api<K>, field_manager: &str, name: &str, status: &S) -> kube::Result<()>
where
    K: Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
    S: Serialize,
{
    let body = serde_json::json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "status": status,
    });
    let params = PatchParams::apply(field_manager).force();
    api.patch_status(name, &params, &Patch::Apply(&body)).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progressing_keeps_an_existing_ready() {
        let mut list = Vec::new();
        mark_progressing(&mut list, Some(1), "working");
        assert_eq!(conditions::find(&list, types::READY).unwrap().status, ConditionStatus::Unknown);
        mark_ready(&mut list, Some(1), reasons::SUCCEEDED, "done");
        mark_progressing(&mut list, Some(2), "again");
        assert!(conditions::is_true(&list, types::READY));
        assert!(conditions::is_true(&list, types::RECONCILING));
    }

    #[test]
    fn failure_stall_and_recovery() {
        let mut list = Vec::new();
        mark_failed(&mut list, Some(1), "BuildFailed", "bad yaml");
        assert_eq!(conditions::find(&list, types::RECONCILING).unwrap().reason, reasons::PROGRESSING_WITH_RETRY);
        mark_stalled(&mut list, Some(2), reasons::INVALID_SPEC, "bad spec");
        assert!(conditions::find(&list, types::RECONCILING).is_none());
        assert!(conditions::is_true(&list, types::STALLED));
        mark_ready(&mut list, Some(3), reasons::SUCCEEDED, "ok");
        assert!(conditions::find(&list, types::STALLED).is_none());
        assert_eq!(conditions::find(&list, types::READY).unwrap().observed_generation, Some(3));
    }
}
