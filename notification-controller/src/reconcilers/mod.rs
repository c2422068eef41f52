//! The reconcilers of Alerts, Providers and Receivers: each checks what would stop its object from
//! working and writes a `Ready` condition that says so, with `observedGeneration`.

pub mod alert;
pub mod provider;
pub mod receiver;
mod status;

use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;

use futures::StreamExt;
use kube::runtime::controller::{Action, Controller};
use kube::{Resource, ResourceExt};

/// Runs a built controller until shutdown, logging failed reconciles.
async fn drive<K, ReconcileFut, E>(
    controller: Controller<K>,
    context: &weir_runtime::Context,
    reconcile: impl FnMut(Arc<K>, Arc<Shared>) -> ReconcileFut + Send + 'static,
    shared: Arc<Shared>,
) where
    K: Resource<DynamicType = ()> + Clone + Debug + serde::de::DeserializeOwned + Send + Sync + 'static,
    ReconcileFut: Future<Output = Result<Action, E>> + Send + 'static,
    E: std::error::Error + Send + Sync + 'static,
{
    let shutdown = context.shutdown.clone();
    let running = controller
        .with_config(kube::runtime::controller::Config::default().concurrency(context.concurrency))
        .graceful_shutdown_on(async move { shutdown.cancelled().await })
        .run(reconcile, error_policy::<K, E>, shared)
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(%error, kind = %K::kind(&()), "reconcile");
            }
        });
    // A shutdown that arrives before the first list completes cuts the watch that would make
    // the store ready, and kube's runner then waits for it forever: bound the wait.
    let deadline = async {
        context.shutdown.cancelled().await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        () = running => {}
        () = deadline => tracing::warn!(kind = %K::kind(&()), "reconciles still running at shutdown were abandoned"),
    }
}

/// How long running reconciles may take to finish after the shutdown signal.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// What every reconcile shares.
pub struct Shared {
    pub client: kube::Client,
    backoff: weir_runtime::requeue::Backoff,
}

impl Shared {
    pub fn new(client: kube::Client) -> Arc<Shared> {
        Arc::new(Shared { client, backoff: weir_runtime::requeue::Backoff::default() })
    }
}

fn error_policy<K: Resource + ResourceExt, E: std::error::Error>(
    obj: Arc<K>,
    error: &E,
    shared: Arc<Shared>,
) -> Action {
    let namespace = obj.namespace().unwrap_or_default();
    let name = obj.name_any();
    let delay = shared.backoff.next(&namespace, &name);
    tracing::warn!(%namespace, %name, %error, retry_in = ?delay, "reconcile failed");
    Action::requeue(delay)
}
