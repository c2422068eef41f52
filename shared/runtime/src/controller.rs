//! Driving one kind's kube-runtime `Controller` the same way in every Weir controller:
//! `--concurrent` reconciles at once, a graceful stop on the shutdown signal, failed reconciles
//! logged, and reconciles still running [`RECONCILE_GRACE`](crate::RECONCILE_GRACE) after the
//! signal abandoned.

use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;

use futures::StreamExt;
use kube::Resource;
use kube::runtime::controller::{Action, Config, Controller};

use crate::{Context, RECONCILE_GRACE, shutdown};

/// Runs `controller` with `reconcile` and `error_policy` until `context.shutdown`, then gives the
/// running reconciles [`RECONCILE_GRACE`] to finish. The bound matters beyond slow reconciles: a
/// signal that arrives before the first list completes cuts the watch that would make kube's
/// store ready, and kube's runner then waits for it forever.
pub async fn drive<K, ReconcileFut, E, Ctx>(
    controller: Controller<K>,
    context: &Context,
    reconcile: impl FnMut(Arc<K>, Arc<Ctx>) -> ReconcileFut,
    error_policy: impl Fn(Arc<K>, &E, Arc<Ctx>) -> Action,
    ctx: Arc<Ctx>,
) where
    K: Resource<DynamicType = ()> + Clone + Debug + serde::de::DeserializeOwned + Send + Sync + 'static,
    ReconcileFut: Future<Output = Result<Action, E>> + Send + 'static,
    E: std::error::Error + Send + 'static,
{
    let kind = K::kind(&());
    let stop = context.shutdown.clone();
    let running = controller
        .with_config(Config::default().concurrency(context.concurrency))
        .graceful_shutdown_on(async move { stop.cancelled().await })
        .run(reconcile, error_policy, ctx)
        .for_each(|result| {
            if let Err(error) = result {
                tracing::debug!(%error, %kind, "reconcile");
            }
            std::future::ready(())
        });
    if shutdown::bounded(running, &context.shutdown, RECONCILE_GRACE).await.is_none() {
        tracing::warn!(%kind, "reconciles still running {RECONCILE_GRACE:?} after the shutdown signal were abandoned");
    }
}
