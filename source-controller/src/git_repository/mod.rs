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

use std::sync::Arc;

use futures::StreamExt;
use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::{self, Action, Controller};
use kube::runtime::finalizer::{self, Event as Finalizer};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use weir_api::annotations::FINALIZER;
use weir_api::source::GitRepository;

use crate::storage::Storage;
pub use reconcile::{KIND, ReconcileError};

/// What every reconcile shares.
pub struct State {
    pub client: kube::Client,
    pub storage: Storage,
    recorder: weir_runtime::events::EventRecorder,
    backoff: weir_runtime::requeue::Backoff,
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
    });
    let (reader, writer) = reflector::store();
    let trigger = reflector(writer, watcher(api.clone(), watcher::Config::default().any_semantic()))
        .default_backoff()
        .applied_objects()
        .predicate_filter(|o: &GitRepository| weir_runtime::requeue::trigger_hash(o, FINALIZER), Default::default());
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
