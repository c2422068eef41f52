//! Replay protection. A signature proves who made a request, not that it is new: a captured
//! webhook can be sent again. Senders that number their deliveries (GitHub `X-GitHub-Delivery`,
//! GitLab `X-Gitlab-Event-UUID`, Bitbucket `X-Request-UUID`, Nexus `X-Nexus-Webhook-Delivery`,
//! CDEvents `Ce-Id`) get each delivery id accepted once per Receiver for an hour; a repeat is
//! answered 409 and changes nothing. Only authenticated requests are recorded, so a forger cannot
//! burn a future id. Requests without an id are not deduplicated (a re-sent generic webhook only
//! asks for one more reconcile). Note: GitHub's "Redeliver" button reuses the id, so it is refused.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;

const TTL: Duration = Duration::from_secs(3600);
const MAX_ENTRIES: usize = 100_000;

pub const DELIVERY_HEADERS: &[&str] =
    &["X-GitHub-Delivery", "X-Gitlab-Event-UUID", "X-Request-UUID", "X-Nexus-Webhook-Delivery", "Ce-Id"];

/// The delivery id of a request, when its sender sets one.
pub fn delivery_id(headers: &HeaderMap) -> Option<String> {
    DELIVERY_HEADERS
        .iter()
        .find_map(|name| headers.get(*name).and_then(|v| v.to_str().ok()))
        .filter(|id| !id.is_empty())
        .map(str::to_string)
}

#[derive(Default)]
pub struct ReplayGuard {
    seen: Mutex<HashMap<(String, String), Instant>>,
}

impl ReplayGuard {
    /// Records the delivery for the Receiver; false when it was seen within the last hour.
    pub fn first_time(&self, receiver: &str, delivery: &str) -> bool {
        let now = Instant::now();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() >= MAX_ENTRIES {
            seen.retain(|_, at| now.duration_since(*at) < TTL);
        }
        let key = (receiver.to_string(), delivery.to_string());
        match seen.get(&key) {
            Some(at) if now.duration_since(*at) < TTL => false,
            _ => {
                seen.insert(key, now);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_accepted_once_per_receiver() {
        let guard = ReplayGuard::default();
        assert!(guard.first_time("ns/a", "d1"));
        assert!(!guard.first_time("ns/a", "d1"));
        assert!(guard.first_time("ns/b", "d1"));
        assert!(guard.first_time("ns/a", "d2"));
        let mut h = HeaderMap::new();
        assert_eq!(delivery_id(&h), None);
        h.insert("x-github-delivery", "72d3162e".parse().unwrap());
        assert_eq!(delivery_id(&h).as_deref(), Some("72d3162e"));
    }
}
