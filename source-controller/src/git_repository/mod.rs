//! The GitRepository reconciler: a kube-runtime `Controller` that turns each GitRepository into
//! a tarball artifact of the checked-out ref (FLUX-API.md §1.1, §2).
//!
//! - `reference`: which ref to follow and Flux's revision strings (pure);
//! - `ignore`: what stays out of the artifact (pure, plus reading `.sourceignore` files);
//! - `git`: listing refs and checking out with gitoxide (blocking);
//! - `fetch`: the Git steps off the async runtime within `spec.timeout`;
//! - `reconcile`: the pipeline; `status`: conditions and the status patch.

pub mod fetch;
pub mod git;
pub mod ignore;
mod reconcile;
pub mod reference;
mod status;

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use kube::api::Api;
use kube::runtime::controller::{self, Action, Controller};
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::finalizer::{self, Event as Finalizer};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Resource, ResourceExt};
use weir_api::annotations::{FINALIZER, RECONCILE_REQUESTED_AT};
use weir_api::source::GitRepository;

use crate::storage::Storage;
pub use reconcile::{KIND, ReconcileError};

/// What every reconcile shares.
pub struct State {
    pub client: kube::Client,
    pub storage: Storage,
    recorder: Recorder,
    backoff: Backoff,
}

/// Runs the GitRepository controller until `context.shutdown`.
pub async fn run(context: weir_runtime::Context, storage: Storage) -> anyhow::Result<()> {
    let client = context.client.clone();
    let api: Api<GitRepository> = match &context.watch_namespace {
        Some(namespace) => Api::namespaced(client.clone(), namespace),
        None => Api::all(client.clone()),
    };
    let reporter = Reporter { controller: context.name.to_string(), instance: std::env::var("POD_NAME").ok() };
    let state = Arc::new(State {
        client: client.clone(),
        storage,
        recorder: Recorder::new(client, reporter),
        backoff: Backoff::default(),
    });
    let (reader, writer) = reflector::store();
    let trigger = reflector(writer, watcher(api.clone(), watcher::Config::default().any_semantic()))
        .default_backoff()
        .applied_objects()
        .predicate_filter(trigger_hash, Default::default());
    let shutdown = context.shutdown.clone();
    tracing::info!(namespace = ?context.watch_namespace, concurrency = context.concurrency, "starting the GitRepository controller");
    Controller::for_stream(trigger, reader)
        .with_config(controller::Config::default().concurrency(context.concurrency))
        .graceful_shutdown_on(async move { shutdown.cancelled().await })
        .run(reconcile, error_policy, state)
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(%error, "GitRepository reconcile");
            }
        })
        .await;
    Ok(())
}

/// What makes an update worth a reconcile: a new generation, a new `requestedAt`, and the
/// finalizer or deletion changes the finalizer handling needs to see (status updates are not).
fn trigger_hash(obj: &GitRepository) -> Option<u64> {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    obj.meta().generation.hash(&mut hasher);
    obj.annotations().get(RECONCILE_REQUESTED_AT).hash(&mut hasher);
    obj.meta().deletion_timestamp.is_some().hash(&mut hasher);
    obj.finalizers().iter().any(|f| f == FINALIZER).hash(&mut hasher);
    Some(hasher.finish())
}

async fn reconcile(obj: Arc<GitRepository>, state: Arc<State>) -> Result<Action, finalizer::Error<ReconcileError>> {
    let namespace = obj.namespace().unwrap_or_default();
    let api: Api<GitRepository> = Api::namespaced(state.client.clone(), &namespace);
    finalizer::finalizer(&api, FINALIZER, obj, |event| async {
        match event {
            Finalizer::Apply(obj) => reconcile::apply(obj, &state).await,
            Finalizer::Cleanup(obj) => reconcile::cleanup(obj, &state).await,
        }
    })
    .await
}

fn error_policy(obj: Arc<GitRepository>, error: &finalizer::Error<ReconcileError>, state: Arc<State>) -> Action {
    let namespace = obj.namespace().unwrap_or_default();
    let name = obj.name_any();
    let delay = state.backoff.next(&namespace, &name);
    tracing::warn!(%namespace, %name, error = %error, retry_in = ?delay, "GitRepository reconcile failed");
    Action::requeue(delay)
}

/// Per-object exponential backoff after failures: 1s, 2s, 4s … capped at 5 minutes.
#[derive(Default)]
struct Backoff {
    failures: Mutex<HashMap<String, u32>>,
}

impl Backoff {
    const MAX: Duration = Duration::from_secs(300);

    fn next(&self, namespace: &str, name: &str) -> Duration {
        let mut failures = self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = failures.entry(format!("{namespace}/{name}")).or_insert(0);
        let delay = Duration::from_secs(1u64 << (*count).min(9)).min(Self::MAX);
        *count = count.saturating_add(1);
        delay
    }

    fn reset(&self, namespace: &str, name: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        failures.remove(&format!("{namespace}/{name}"));
    }
}

/// The interval with up to ±5% jitter, as Flux's `--interval-jitter-percentage` default, so
/// that objects created together do not fetch together forever.
pub fn jitter(interval: Duration) -> Duration {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    // A factor in [-1, 1].
    let factor = f64::from(nanos % 2001) / 1000.0 - 1.0;
    let delta = interval.as_secs_f64() * 0.05 * factor;
    Duration::from_secs_f64((interval.as_secs_f64() + delta).max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn status_changes_do_not_trigger_but_requests_do() {
        let mut obj = GitRepository::new("a", Default::default());
        obj.meta_mut().generation = Some(1);
        let base = trigger_hash(&obj);
        obj.status = Some(Default::default());
        assert_eq!(trigger_hash(&obj), base);
        obj.annotations_mut().insert(RECONCILE_REQUESTED_AT.into(), "now".into());
        assert_ne!(trigger_hash(&obj), base);
    }
}
