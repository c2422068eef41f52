//! The reconcilers of Alerts, Providers and Receivers: each checks what would stop its object from
//! working and writes a `Ready` condition that says so, with `observedGeneration`.

pub mod alert;
pub mod provider;
pub mod receiver;
mod status;

use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;

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
    weir_runtime::drive(controller, context, reconcile, error_policy::<K, E>, shared).await;
}

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
