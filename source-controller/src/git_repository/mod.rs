//! The GitRepository reconciler: a kube-runtime `Controller` that turns each GitRepository into
//! a tarball artifact of the checked-out ref (FLUX-API.md §1.1, §2).
//!
//! - `reference`: which ref to follow and Flux's revision strings (pure);
//! - `ignore`: what stays out of the artifact (pure, plus reading `.sourceignore` files);
//! - `git`: listing refs and checking out with gitoxide (blocking);
//! - `include`: other GitRepositories' artifacts copied in; `submodules`: `recurseSubmodules`; `sparse`: `sparseCheckout` as an archive filter;
//! - `ssh`: the `ssh` command and key files of one SSH operation; `http_options`: TLS and proxy;
//! - `verify`: `spec.verify`, the OpenPGP signatures of the commit and tag checked out;
//! - `fetch`: the Git steps off the async runtime within `spec.timeout`;
//! - `reconcile`: the pipeline; `status`: conditions and the status patch.

pub mod fetch;
pub mod git;
pub mod http_options;
pub mod ignore;
pub mod include;
mod reconcile;
pub mod reference;
pub mod sparse;
pub mod ssh;
mod status;
pub mod submodules;
pub mod verify;

use std::sync::Arc;

use futures::StreamExt;
use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::{self, Action, Controller};
use kube::runtime::finalizer::{self, Event as Finalizer};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use weir_api::annotations::FINALIZER;
use weir_api::source::GitRepository;
use weir_runtime::metrics::ReconcileResult;

use crate::storage::Storage;
pub use reconcile::{KIND, ReconcileError};

/// What every reconcile shares.
pub struct State {
    pub client: kube::Client,
    pub storage: Storage,
    recorder: weir_runtime::events::EventRecorder,
    backoff: weir_runtime::requeue::Backoff,
    metrics: Arc<weir_runtime::Metrics>,
}

/// Runs the GitRepository controller until `context.shutdown`.
pub async fn run(context: weir_runtime::Context, storage: Storage) -> anyhow::Result<()> {
    let client = context.client.clone();
    let api: Api<GitRepository> = match &context.watch_namespace {
        Some(namespace) => Api::namespaced(client.clone(), namespace),
        None => Api::all(client.clone()),
    };
    let state = Arc::new(State {
        client: client.clone(),
        storage,
        recorder: weir_runtime::events::EventRecorder::new(client, context.name, &context.events_addr),
        backoff: weir_runtime::requeue::Backoff::default(),
        metrics: context.metrics.clone(),
    });
    let (reader, writer) = reflector::store();
    let trigger = reflector(writer, watcher(api.clone(), watcher::Config::default().any_semantic()))
        .default_backoff()
        .applied_objects()
        .predicate_filter(|o: &GitRepository| weir_runtime::requeue::trigger_hash(o, FINALIZER), Default::default());
    let shutdown = context.shutdown.clone();
    tracing::info!(namespace = ?context.watch_namespace, concurrency = context.concurrency, "starting the GitRepository controller");
    let store = reader.clone();
    Controller::for_stream(trigger, reader)
        // A new artifact of an included GitRepository wakes the ones that include it.
        .watches(api.clone(), watcher::Config::default().any_semantic(), move |changed: GitRepository| {
            includers(&store.state(), &changed)
        })
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

/// The GitRepositories that include `changed` (same namespace).
fn includers(all: &[Arc<GitRepository>], changed: &GitRepository) -> Vec<reflector::ObjectRef<GitRepository>> {
    let namespace = changed.namespace();
    let name = changed.name_any();
    all.iter()
        .filter(|o| o.namespace() == namespace)
        .filter(|o| o.spec.include.iter().flatten().any(|i| i.repository.name == name))
        .map(|o| reflector::ObjectRef::from_obj(o.as_ref()))
        .collect()
}

async fn reconcile(obj: Arc<GitRepository>, state: Arc<State>) -> Result<Action, finalizer::Error<ReconcileError>> {
    let namespace = obj.namespace().unwrap_or_default();
    let api: Api<GitRepository> = Api::namespaced(state.client.clone(), &namespace);
    let name = obj.name_any();
    let started = std::time::Instant::now();
    let result = finalizer::finalizer(&api, FINALIZER, obj, |event| async {
        match event {
            Finalizer::Apply(obj) => reconcile::apply(obj, &state).await,
            Finalizer::Cleanup(obj) => reconcile::cleanup(obj, &state).await,
        }
    })
    .await;
    let outcome = match &result {
        Ok(_) => ReconcileResult::success,
        Err(_) => ReconcileResult::error,
    };
    state.metrics.observe_reconcile(KIND, &namespace, &name, started.elapsed(), outcome);
    result
}

fn error_policy(obj: Arc<GitRepository>, error: &finalizer::Error<ReconcileError>, state: Arc<State>) -> Action {
    let namespace = obj.namespace().unwrap_or_default();
    let name = obj.name_any();
    let delay = state.backoff.next(&namespace, &name);
    tracing::warn!(%namespace, %name, error = %error, retry_in = ?delay, "GitRepository reconcile failed");
    Action::requeue(delay)
}
