//! Weir's opt-in resolved notification (beyond Flux, whose alerts repeat an error every
//! `--rate-limit-interval` and never say when it is over).
//!
//! An Alert annotated `notification.weir.dev/send-resolved: "true"` remembers, per involved object,
//! the last error it forwarded. When that object next reports an `info` event, the Alert sends one
//! more notification marked resolved (message `Resolved: <the error>`; Alertmanager gets `endsAt`),
//! even if its `eventSeverity` is `error`. The memory is in-process: a restart forgets open errors.

use std::collections::HashMap;
use std::sync::Mutex;

use weir_api::event::{Event, SEVERITY_ERROR, SEVERITY_INFO};
use weir_api::notification::Alert;

/// The Alert annotation that opts in.
pub const SEND_RESOLVED_ANNOTATION: &str = "notification.weir.dev/send-resolved";

/// Whether the Alert asked for resolved notifications.
pub fn enabled(alert: &Alert) -> bool {
    alert
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(SEND_RESOLVED_ANNOTATION))
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// The open errors of each (Alert, object) pair.
#[derive(Default)]
pub struct Tracker {
    open: Mutex<HashMap<(String, String), Event>>,
}

impl Tracker {
    /// Records an event for an Alert whose sources select the object. Returns the event to send as
    /// resolved when this event clears an error the Alert forwarded before.
    pub fn observe(&self, alert_key: &str, event: &Event) -> Option<Event> {
        let object = object_key(event);
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let key = (alert_key.to_string(), object);
        match event.severity.as_str() {
            SEVERITY_ERROR => {
                open.insert(key, event.clone());
                None
            }
            SEVERITY_INFO => open.remove(&key).map(|error| Event {
                severity: SEVERITY_INFO.into(),
                message: error.message,
                reason: event.reason.clone(),
                timestamp: event.timestamp.clone(),
                ..event.clone()
            }),
            _ => None,
        }
    }
}

fn object_key(event: &Event) -> String {
    let o = &event.involved_object;
    format!(
        "{}/{}/{}",
        o.kind.as_deref().unwrap_or_default(),
        o.namespace.as_deref().unwrap_or_default(),
        o.name.as_deref().unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(severity: &str, message: &str) -> Event {
        let mut e = Event { severity: severity.into(), message: message.into(), ..Event::default() };
        e.involved_object.kind = Some("Kustomization".into());
        e.involved_object.name = Some("apps".into());
        e
    }

    #[test]
    fn an_info_after_an_error_resolves_it_once() {
        let t = Tracker::default();
        assert!(t.observe("a", &event("info", "ok")).is_none());
        assert!(t.observe("a", &event("error", "health check failed")).is_none());
        assert!(t.observe("b", &event("info", "ok")).is_none(), "another alert had no open error");
        let resolved = t.observe("a", &event("info", "Reconciliation finished")).unwrap();
        assert_eq!(resolved.message, "health check failed");
        assert_eq!(resolved.severity, "info");
        assert!(t.observe("a", &event("info", "again")).is_none());
    }

    #[test]
    fn opt_in_by_annotation() {
        let mut alert: Alert = serde_json::from_value(serde_json::json!({
            "apiVersion": "notification.toolkit.fluxcd.io/v1beta3", "kind": "Alert",
            "metadata": {"name": "a"}, "spec": {"eventSources": [], "providerRef": {"name": "p"}}
        }))
        .unwrap();
        assert!(!enabled(&alert));
        alert.metadata.annotations = Some([(SEND_RESOLVED_ANNOTATION.to_string(), "true".to_string())].into());
        assert!(enabled(&alert));
    }
}
