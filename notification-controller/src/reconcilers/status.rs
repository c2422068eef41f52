//! The outcome of a check and how it shows in kstatus conditions, written with weir-runtime's
//! status helpers under the `notification-controller` field manager.

use weir_api::conditions::{Condition, reasons};
use weir_runtime::status;

pub use weir_api::annotations::field_managers::NOTIFICATION_CONTROLLER as FIELD_MANAGER;

/// Ready with a message, or not with a reason and message.
#[derive(Clone, Debug, PartialEq)]
pub struct Readiness {
    pub ready: bool,
    pub reason: String,
    pub message: String,
}

impl Readiness {
    pub fn ready(message: impl Into<String>) -> Readiness {
        Readiness { ready: true, reason: reasons::SUCCEEDED.into(), message: message.into() }
    }

    pub fn not_ready(reason: impl Into<String>, message: impl Into<String>) -> Readiness {
        Readiness { ready: false, reason: reason.into(), message: message.into() }
    }
}

/// Ready True; or Stalled for a spec that only an edit can fix; or Ready False with a retry.
pub fn set(list: &mut Vec<Condition>, readiness: &Readiness, generation: Option<i64>) {
    let (reason, message) = (readiness.reason.as_str(), readiness.message.as_str());
    if readiness.ready {
        status::mark_ready(list, generation, reason, message);
    } else if reason == reasons::INVALID_SPEC {
        status::mark_stalled(list, generation, reason, message);
    } else {
        status::mark_failed(list, generation, reason, message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_api::conditions::{ConditionStatus, find, types};

    #[test]
    fn kstatus_conditions() {
        let mut list = Vec::new();
        set(&mut list, &Readiness::not_ready("SecretNotFound", "Secret x not found"), Some(2));
        assert_eq!(find(&list, types::READY).unwrap().status, ConditionStatus::False);
        assert_eq!(find(&list, types::RECONCILING).unwrap().reason, reasons::PROGRESSING_WITH_RETRY);
        set(&mut list, &Readiness::not_ready(reasons::INVALID_SPEC, "bad"), Some(3));
        assert_eq!(find(&list, types::STALLED).unwrap().status, ConditionStatus::True);
        assert!(find(&list, types::RECONCILING).is_none());
        set(&mut list, &Readiness::ready("ok"), Some(4));
        assert_eq!(find(&list, types::READY).unwrap().observed_generation, Some(4));
        assert!(find(&list, types::STALLED).is_none() && find(&list, types::RECONCILING).is_none());
    }
}
