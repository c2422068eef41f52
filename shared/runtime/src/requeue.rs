//! When a reconciler runs again: what updates trigger it, the requeue interval with jitter, and
//! the per-object backoff after errors. Shared by every Weir controller.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;
use std::time::Duration;

use kube::ResourceExt;
use weir_api::annotations::RECONCILE_REQUESTED_AT;

/// Hash of what makes an update worth a reconcile: a new generation, a new
/// `reconcile.fluxcd.io/requestedAt`, and the deletion and `finalizer` changes the finalizer
/// handling needs to see. Status updates do not change it. For `predicate_filter`.
pub fn trigger_hash<K: ResourceExt>(obj: &K, finalizer: &str) -> Option<u64> {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    obj.meta().generation.hash(&mut hasher);
    obj.annotations().get(RECONCILE_REQUESTED_AT).hash(&mut hasher);
    obj.meta().deletion_timestamp.is_some().hash(&mut hasher);
    obj.finalizers().iter().any(|f| f == finalizer).hash(&mut hasher);
    Some(hasher.finish())
}

/// The interval with up to ±5% jitter, as Flux's `--interval-jitter-percentage` default, so that
/// objects created together do not run together forever.
pub fn jitter(interval: Duration) -> Duration {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    // A factor in [-1, 1].
    let factor = f64::from(nanos % 2001) / 1000.0 - 1.0;
    let delta = interval.as_secs_f64() * 0.05 * factor;
    Duration::from_secs_f64((interval.as_secs_f64() + delta).max(0.0))
}

/// Per-object exponential backoff after errors the status does not show: 1s, 2s, 4s … 5 minutes.
#[derive(Default)]
pub struct Backoff {
    failures: Mutex<HashMap<String, u32>>,
}

impl Backoff {
    pub const MAX: Duration = Duration::from_secs(300);

    /// The delay before the next attempt for this object, counting this failure.
    pub fn next(&self, namespace: &str, name: &str) -> Duration {
        let mut failures = self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = failures.entry(format!("{namespace}/{name}")).or_insert(0);
        let delay = Duration::from_secs(1u64 << (*count).min(9)).min(Self::MAX);
        *count = count.saturating_add(1);
        delay
    }

    /// Forgets the object's failures after a success.
    pub fn reset(&self, namespace: &str, name: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        failures.remove(&format!("{namespace}/{name}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ConfigMap;

    #[test]
    fn jitter_stays_within_five_percent() {
        for _ in 0..100 {
            let d = jitter(Duration::from_secs(100));
            assert!(d >= Duration::from_secs(95) && d <= Duration::from_secs(105), "{d:?}");
        }
    }

    #[test]
    fn backoff_grows_and_resets() {
        let backoff = Backoff::default();
        assert_eq!(backoff.next("ns", "a"), Duration::from_secs(1));
        assert_eq!(backoff.next("ns", "a"), Duration::from_secs(2));
        assert_eq!(backoff.next("ns", "b"), Duration::from_secs(1));
        backoff.reset("ns", "a");
        assert_eq!(backoff.next("ns", "a"), Duration::from_secs(1));
        for _ in 0..20 {
            assert!(backoff.next("ns", "c") <= Backoff::MAX);
        }
    }

    #[test]
    fn data_changes_do_not_trigger_but_requests_and_finalizers_do() {
        let mut obj = ConfigMap::default();
        obj.metadata.generation = Some(1);
        let base = trigger_hash(&obj, "f");
        obj.data = Some([("k".to_string(), "v".to_string())].into());
        assert_eq!(trigger_hash(&obj, "f"), base);
        obj.annotations_mut().insert(RECONCILE_REQUESTED_AT.into(), "now".into());
        let requested = trigger_hash(&obj, "f");
        assert_ne!(requested, base);
        obj.finalizers_mut().push("f".into());
        assert_ne!(trigger_hash(&obj, "f"), requested);
    }
}
