//! Drops duplicate events within an interval, as Flux's event server does: the key is the SHA-256
//! of the involved object's name, namespace and kind, the message, and the `revision` and `token`
//! metadata when present (after the group prefix is stripped). Flux answers a duplicate with 429.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use weir_api::event::Event;

/// Flux's `--rate-limit-interval` default.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(300);

/// The dedupe key of an event whose metadata is already cleaned (see `events_server::clean_metadata`).
pub fn event_key(event: &Event) -> String {
    let object = &event.involved_object;
    let mut parts = vec![
        "event".to_string(),
        format!("name={}", object.name.as_deref().unwrap_or_default()),
        format!("namespace={}", object.namespace.as_deref().unwrap_or_default()),
        format!("kind={}", object.kind.as_deref().unwrap_or_default()),
        format!("message={}", event.message),
    ];
    if let Some(revision) = event.metadata.get("revision") {
        parts.push(format!("revision={revision}"));
    }
    if let Some(token) = event.metadata.get("token") {
        parts.push(format!("token={token}"));
    }
    crate::signature::sha256_hex(parts.join("/").as_bytes())
}

/// One token per key per interval; an interval of zero lets everything through.
pub struct RateLimiter {
    interval: Duration,
    seen: Mutex<HashMap<String, Instant>>,
}

impl RateLimiter {
    pub fn new(interval: Duration) -> RateLimiter {
        RateLimiter { interval, seen: Mutex::new(HashMap::new()) }
    }

    /// Whether an event with this key may pass now; records it when it does.
    pub fn allow(&self, key: &str) -> bool {
        self.allow_at(key, Instant::now())
    }

    fn allow_at(&self, key: &str, now: Instant) -> bool {
        if self.interval.is_zero() {
            return true;
        }
        let mut seen = self.seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // Forget expired keys so that memory follows the event rate, not the uptime.
        let interval = self.interval;
        if seen.len() > 1024 {
            seen.retain(|_, at| now.duration_since(*at) < interval);
        }
        match seen.get(key) {
            Some(at) if now.duration_since(*at) < interval => false,
            _ => {
                seen.insert(key.to_string(), now);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(message: &str, revision: Option<&str>) -> Event {
        let mut e = Event { message: message.into(), ..Event::default() };
        e.involved_object.kind = Some("Kustomization".into());
        e.involved_object.name = Some("apps".into());
        e.involved_object.namespace = Some("flux-system".into());
        if let Some(r) = revision {
            e.metadata.insert("revision".into(), r.into());
        }
        e
    }

    #[test]
    fn key_follows_flux_components() {
        let expected = crate::signature::sha256_hex(
            b"event/name=apps/namespace=flux-system/kind=Kustomization/message=failed/revision=main@sha1:abc",
        );
        assert_eq!(event_key(&event("failed", Some("main@sha1:abc"))), expected);
        assert_ne!(event_key(&event("failed", Some("main@sha1:def"))), expected);
        assert_ne!(event_key(&event("failed", None)), expected);
    }

    #[test]
    fn duplicates_wait_for_the_interval() {
        let limiter = RateLimiter::new(Duration::from_secs(300));
        let t0 = Instant::now();
        assert!(limiter.allow_at("a", t0));
        assert!(!limiter.allow_at("a", t0 + Duration::from_secs(299)));
        assert!(limiter.allow_at("b", t0 + Duration::from_secs(1)));
        assert!(limiter.allow_at("a", t0 + Duration::from_secs(301)));
        let off = RateLimiter::new(Duration::ZERO);
        assert!(off.allow("a") && off.allow("a"));
    }
}
