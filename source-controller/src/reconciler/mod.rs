//! The controller loop every source kind but GitRepository shares: watch the kind, filter
//! events with Flux's trigger predicates, hold the finalizer, and back off on failure. A kind
//! supplies its [`Reconciler`]. `conditions` holds the source conditions they all write.

pub mod conditions;
pub mod secrets;

use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;

use futures::StreamExt;
use kube::api::Api;
use kube::runtime::controller::{self, Action, Controller};
use kube::runtime::finalizer::{self, Event as Finalizer};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use weir_api::annotations::FINALIZER;

/// One kind's reconcile steps.
pub trait Reconciler: Send + Sync + 'static {
    type Object: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + Debug
        + DeserializeOwned
        + Serialize
        + Send
        + Sync
        + 'static;
    type Error: std::error::Error + Send + Sync + 'static;

    /// The kind, for logs.
    const KIND: &'static str;

    /// Reconciles an object that is not being deleted.
    fn apply(&self, obj: Arc<Self::Object>) -> impl Future<Output = Result<Action, Self::Error>> + Send;

    /// Removes what the object left in storage when it is deleted.
    fn cleanup(&self, obj: Arc<Self::Object>) -> impl Future<Output = Result<Action, Self::Error>> + Send;

    /// The retry backoff, shared between reconciles.
    fn backoff(&self) -> &weir_runtime::requeue::Backoff;

    /// Adds watches of other kinds whose changes should reconcile objects of this kind (a
    /// HelmChart when its source's artifact changes). `objects` holds this kind's objects.
    fn related(
        controller: Controller<Self::Object>,
        _context: &weir_runtime::Context,
        _objects: reflector::Store<Self::Object>,
    ) -> Controller<Self::Object> {
        controller
    }
}

/// Runs `reconciler` until `context.shutdown`.
pub async fn run<R: Reconciler>(context: &weir_runtime::Context, reconciler: R) -> anyhow::Result<()> {
    let client = context.client.clone();
    let api: Api<R::Object> = match &context.watch_namespace {
        Some(namespace) => Api::namespaced(client.clone(), namespace),
        None => Api::all(client.clone()),
    };
    let state = Arc::new(Shared { reconciler, client });
    let (reader, writer) = reflector::store();
    let trigger = reflector(writer, watcher(api, watcher::Config::default().any_semantic()))
        .default_backoff()
        .applied_objects()
        .predicate_filter(|o: &R::Object| weir_runtime::requeue::trigger_hash(o, FINALIZER), Default::default());
    let shutdown = context.shutdown.clone();
    tracing::info!(namespace = ?context.watch_namespace, concurrency = context.concurrency, kind = R::KIND, "starting the controller");
    let controller = Controller::for_stream(trigger, reader.clone());
    R::related(controller, context, reader)
        .with_config(controller::Config::default().concurrency(context.concurrency))
        .graceful_shutdown_on(async move { shutdown.cancelled().await })
        .run(reconcile::<R>, error_policy::<R>, state)
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(%error, kind = R::KIND, "reconcile");
            }
        })
        .await;
    Ok(())
}

struct Shared<R> {
    reconciler: R,
    client: kube::Client,
}

async fn reconcile<R: Reconciler>(
    obj: Arc<R::Object>,
    shared: Arc<Shared<R>>,
) -> Result<Action, finalizer::Error<R::Error>> {
    let namespace = obj.namespace().unwrap_or_default();
    let api: Api<R::Object> = Api::namespaced(shared.client.clone(), &namespace);
    finalizer::finalizer(&api, FINALIZER, obj, |event| async {
        match event {
            Finalizer::Apply(obj) => shared.reconciler.apply(obj).await,
            Finalizer::Cleanup(obj) => shared.reconciler.cleanup(obj).await,
        }
    })
    .await
}

fn error_policy<R: Reconciler>(
    obj: Arc<R::Object>,
    error: &finalizer::Error<R::Error>,
    shared: Arc<Shared<R>>,
) -> Action {
    let namespace = obj.namespace().unwrap_or_default();
    let name = obj.name_any();
    let delay = shared.reconciler.backoff().next(&namespace, &name);
    tracing::warn!(%namespace, %name, kind = R::KIND, error = %error, retry_in = ?delay, "reconcile failed");
    Action::requeue(delay)
}
