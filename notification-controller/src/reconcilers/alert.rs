//! Alert status (beyond Flux): Ready when its spec is valid (regular expressions included) and its
//! Provider exists and is Ready; otherwise Ready=False with `InvalidSpec`, `ProviderNotFound` or
//! `ProviderNotReady`. Provider changes wake the Alerts that reference them.

use std::sync::Arc;
use std::time::Duration;

use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{ObjectRef, store::Writer};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use weir_api::Validate;
use weir_api::conditions::{self, types};
use weir_api::notification::{Alert, Provider};

use super::status::{self, Readiness};
use super::{Shared, drive};

const RECHECK: Duration = Duration::from_secs(600);

/// Runs the Alert controller; `writer` feeds the store the event dispatcher reads.
pub async fn run(context: weir_runtime::Context, writer: Writer<Alert>) -> anyhow::Result<()> {
    let client = context.client.clone();
    let (alerts, providers): (Api<Alert>, Api<Provider>) = match &context.watch_namespace {
        Some(namespace) => (Api::namespaced(client.clone(), namespace), Api::namespaced(client.clone(), namespace)),
        None => (Api::all(client.clone()), Api::all(client.clone())),
    };
    let reader = writer.as_reader();
    let trigger = reflector(writer, watcher(alerts, watcher::Config::default().any_semantic()))
        .default_backoff()
        .applied_objects()
        .predicate_filter(|o: &Alert| weir_runtime::requeue::trigger_hash(o, ""), Default::default());
    let store = reader.clone();
    let controller = Controller::for_stream(trigger, reader).watches(
        providers,
        watcher::Config::default(),
        move |provider: Provider| {
            let namespace = provider.namespace();
            let name = provider.name_any();
            store
                .state()
                .into_iter()
                .filter(|a| a.namespace() == namespace && a.spec.provider_ref.name == name)
                .map(|a| ObjectRef::from_obj(&*a))
                .collect::<Vec<_>>()
        },
    );
    tracing::info!("starting the Alert controller");
    drive(controller, &context, reconcile, Shared::new(client)).await;
    Ok(())
}

/// Whether events reaching this Alert can be delivered.
pub async fn readiness(client: &kube::Client, alert: &Alert) -> Result<Readiness, kube::Error> {
    if let Err(errors) = alert.validate() {
        return Ok(Readiness::not_ready(conditions::reasons::INVALID_SPEC, errors.to_string()));
    }
    let lists = [("inclusionList", &alert.spec.inclusion_list), ("exclusionList", &alert.spec.exclusion_list)];
    for (field, list) in lists {
        for (i, expression) in list.iter().flatten().enumerate() {
            if let Err(error) = regex::Regex::new(expression) {
                let message = format!("spec.{field}[{i}]: invalid regular expression: {error}");
                return Ok(Readiness::not_ready(conditions::reasons::INVALID_SPEC, message));
            }
        }
    }
    let namespace = alert.namespace().unwrap_or_default();
    let name = &alert.spec.provider_ref.name;
    let providers: Api<Provider> = Api::namespaced(client.clone(), &namespace);
    let Some(provider) = providers.get_opt(name).await? else {
        return Ok(Readiness::not_ready("ProviderNotFound", format!("Provider {namespace}/{name} not found")));
    };
    let ready =
        provider.status.as_ref().and_then(|s| s.conditions.as_deref()).and_then(|c| conditions::find(c, types::READY));
    Ok(match ready {
        Some(c) if c.status == conditions::ConditionStatus::True => Readiness::ready("Alert is ready"),
        Some(c) => Readiness::not_ready("ProviderNotReady", format!("Provider {name} is not ready: {}", c.message)),
        None => Readiness::not_ready("ProviderNotReady", format!("Provider {name} has not been checked yet")),
    })
}

async fn reconcile(alert: Arc<Alert>, shared: Arc<Shared>) -> Result<Action, kube::Error> {
    let readiness = readiness(&shared.client, &alert).await?;
    let generation = alert.metadata.generation;
    let mut new = alert.status.clone().unwrap_or_default();
    status::set(new.conditions.get_or_insert_with(Vec::new), &readiness, generation);
    new.observed_generation = generation;
    if alert.status.as_ref() != Some(&new) {
        let api: Api<Alert> = Api::namespaced(shared.client.clone(), &alert.namespace().unwrap_or_default());
        weir_runtime::status::apply(&api, status::FIELD_MANAGER, &alert.name_any(), &new).await?;
    }
    shared.backoff.reset(&alert.namespace().unwrap_or_default(), &alert.name_any());
    Ok(Action::requeue(RECHECK))
}
