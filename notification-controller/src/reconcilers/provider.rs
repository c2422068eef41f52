//! Provider status (beyond Flux): Ready when the Provider can deliver; otherwise Ready=False with
//! why (`SecretNotFound`, `InvalidAddress`, `TokenNotFound`, `UnsupportedProviderType`, …), from
//! the same resolution delivery uses.

use std::sync::Arc;
use std::time::Duration;

use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use weir_api::notification::Provider;

use super::status::{self, Readiness};
use super::{Shared, drive};
use crate::providers::endpoint;

/// Secrets are not watched: a Provider that is not ready is checked again this often.
const RETRY_NOT_READY: Duration = Duration::from_secs(30);
const RECHECK_READY: Duration = Duration::from_secs(600);

pub async fn run(context: weir_runtime::Context) -> anyhow::Result<()> {
    let client = context.client.clone();
    let api: Api<Provider> = match &context.watch_namespace {
        Some(namespace) => Api::namespaced(client.clone(), namespace),
        None => Api::all(client.clone()),
    };
    let (reader, writer) = reflector::store();
    let trigger = reflector(writer, watcher(api, watcher::Config::default().any_semantic()))
        .default_backoff()
        .applied_objects()
        .predicate_filter(|o: &Provider| weir_runtime::requeue::trigger_hash(o, ""), Default::default());
    tracing::info!("starting the Provider controller");
    drive(Controller::for_stream(trigger, reader), &context, reconcile, Shared::new(client)).await;
    Ok(())
}

/// Checks the Provider and writes its status.
pub async fn readiness(client: &kube::Client, provider: &Provider) -> Readiness {
    match endpoint::resolve(client, provider).await {
        Ok(_) => Readiness::ready("Provider is ready"),
        Err(error) => Readiness::not_ready(error.reason(), error.to_string()),
    }
}

async fn reconcile(provider: Arc<Provider>, shared: Arc<Shared>) -> Result<Action, kube::Error> {
    let readiness = readiness(&shared.client, &provider).await;
    let generation = provider.metadata.generation;
    let mut new = provider.status.clone().unwrap_or_default();
    status::set(new.conditions.get_or_insert_with(Vec::new), &readiness, generation);
    new.observed_generation = generation;
    if provider.status.as_ref() != Some(&new) {
        let api: Api<Provider> = Api::namespaced(shared.client.clone(), &provider.namespace().unwrap_or_default());
        weir_runtime::status::apply(&api, status::FIELD_MANAGER, &provider.name_any(), &new).await?;
    }
    shared.backoff.reset(&provider.namespace().unwrap_or_default(), &provider.name_any());
    Ok(Action::requeue(if readiness.ready { RECHECK_READY } else { RETRY_NOT_READY }))
}
