//! The controller loop every source kind shares: watch the kind, filter events with Flux's
//! trigger predicates, hold the finalizer, time each reconcile, back off on failure, and remove
//! the artifacts of deleted objects. A kind supplies its [`Reconciler`]; `cycle` opens and closes
//! each reconcile (status writes and events) over what `source` reads of every kind, and
//! `conditions` holds the source conditions.

pub mod conditions;
pub mod cycle;
pub mod secrets;
pub mod source;

use std::future::Future;
use std::sync::Arc;

use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::finalizer::{self, Event as Finalizer};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use weir_api::annotations::FINALIZER;
use weir_runtime::metrics::ReconcileResult;

use crate::storage::{ObjectRef, Storage, StorageError};
pub use cycle::{Cycle, NewArtifact};
pub use source::{SourceObject, SourceStatus};

/// What every reconcile of one kind shares.
pub struct State {
    pub client: kube::Client,
    pub storage: Storage,
    recorder: weir_runtime::events::EventRecorder,
    backoff: weir_runtime::requeue::Backoff,
    metrics: Arc<weir_runtime::Metrics>,
}

/// A kind's reconcile error: which condition it shows, and the errors every kind can meet.
pub trait SourceError: std::error::Error + From<kube::Error> + From<StorageError> + Send + Sync + 'static {
    /// The negative-polarity condition and the reason, or `None` for errors not shown in status.
    fn condition(&self) -> Option<(&'static str, &'static str)>;
    /// The object has no namespace (every source kind is namespaced).
    fn no_namespace() -> Self;
    /// A blocking task did not finish (it panicked or the runtime is stopping).
    fn task(error: tokio::task::JoinError) -> Self;
}

/// One kind's reconcile steps, implemented on the kind's object type.
pub trait Reconciler: SourceObject {
    type Error: SourceError;

    /// The kind, for storage paths, logs and metrics.
    const KIND: &'static str;

    /// Reconciles an object that is not being deleted.
    fn apply(obj: Arc<Self>, state: &State) -> impl Future<Output = Result<Action, Self::Error>> + Send;

    /// Adds watches of other kinds whose changes should reconcile objects of this kind (a
    /// HelmChart when its source's artifact changes). `objects` holds this kind's objects.
    fn related(
        controller: Controller<Self>,
        _context: &weir_runtime::Context,
        _objects: reflector::Store<Self>,
    ) -> Controller<Self> {
        controller
    }
}

/// Runs the controller of `R` until `context.shutdown`.
pub async fn run<R: Reconciler>(context: &weir_runtime::Context, storage: Storage) -> anyhow::Result<()> {
    let client = context.client.clone();
    let api: Api<R> = watched(context);
    let state = Arc::new(State {
        recorder: weir_runtime::events::EventRecorder::new(client.clone(), context.name, &context.events_addr),
        client,
        storage,
        backoff: weir_runtime::requeue::Backoff::default(),
        metrics: context.metrics.clone(),
    });
    let (reader, writer) = reflector::store();
    // The store holds every object for the process's life; managedFields (often the bulk of an
    // object with a status) is never read here, so it is dropped before the store keeps it.
    let objects =
        watcher(api, watcher::Config::default().any_semantic()).modify(|o: &mut R| o.managed_fields_mut().clear());
    let trigger = reflector(writer, objects)
        .default_backoff()
        .applied_objects()
        .predicate_filter(|o: &R| weir_runtime::requeue::trigger_hash(o, FINALIZER), Default::default());
    tracing::info!(namespace = ?context.watch_namespace, concurrency = context.concurrency, kind = R::KIND, "starting the controller");
    let controller = R::related(Controller::for_stream(trigger, reader.clone()), context, reader);
    weir_runtime::drive(controller, context, reconcile::<R>, error_policy::<R>, state).await;
    Ok(())
}

/// The API of `K` in the namespaces this controller watches (`--watch-all-namespaces`).
pub fn watched<K>(context: &weir_runtime::Context) -> Api<K>
where
    K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>,
{
    match &context.watch_namespace {
        Some(namespace) => Api::namespaced(context.client.clone(), namespace),
        None => Api::all(context.client.clone()),
    }
}

async fn reconcile<R: Reconciler>(obj: Arc<R>, state: Arc<State>) -> Result<Action, finalizer::Error<R::Error>> {
    let namespace = obj.namespace().unwrap_or_default();
    let name = obj.name_any();
    let api: Api<R> = Api::namespaced(state.client.clone(), &namespace);
    let started = std::time::Instant::now();
    let deleting = obj.meta().deletion_timestamp.is_some();
    let result = finalizer::finalizer(&api, FINALIZER, obj, |event| async {
        match event {
            Finalizer::Apply(obj) => R::apply(obj, &state).await,
            Finalizer::Cleanup(obj) => cleanup::<R>(obj, &state).await,
        }
    })
    .await;
    let outcome = match &result {
        Ok(_) => ReconcileResult::success,
        Err(_) => ReconcileResult::error,
    };
    let deleted = deleting && result.is_ok();
    state.metrics.finish_reconcile(R::KIND, &namespace, &name, started.elapsed(), outcome, deleted);
    result
}

/// Removes what a deleted object left in storage.
async fn cleanup<R: Reconciler>(obj: Arc<R>, state: &State) -> Result<Action, R::Error> {
    let namespace = obj.namespace().ok_or_else(R::Error::no_namespace)?;
    let name = obj.name_any();
    let storage = state.storage.clone();
    let (ns, n) = (namespace.clone(), name.clone());
    tokio::task::spawn_blocking(move || storage.remove_object(ObjectRef::new(R::KIND, &ns, &n)))
        .await
        .map_err(R::Error::task)??;
    state.backoff.reset(&namespace, &name);
    tracing::info!(%namespace, %name, kind = R::KIND, "removed the artifacts of the deleted object");
    Ok(Action::await_change())
}

fn error_policy<R: Reconciler>(obj: Arc<R>, error: &finalizer::Error<R::Error>, state: Arc<State>) -> Action {
    let namespace = obj.namespace().unwrap_or_default();
    let name = obj.name_any();
    let delay = state.backoff.next(&namespace, &name);
    tracing::warn!(%namespace, %name, kind = R::KIND, error = %error, retry_in = ?delay, "reconcile failed");
    Action::requeue(delay)
}
