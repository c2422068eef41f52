//! Receiver status as Flux writes it: `webhookPath` from the token, name and namespace, Ready
//! (`Receiver initialized for path: <path>`) or Ready=False with the reason, `observedGeneration`
//! and `lastHandledReconcileAt`. Requeued at `spec.interval` so a rotated token moves the path.

use std::sync::Arc;

use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{Store, store::Writer};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use weir_api::Validate;
use weir_api::annotations::RECONCILE_REQUESTED_AT;
use weir_api::conditions;
use weir_api::notification::{Receiver, ReceiverStatus};

use super::status::{self, Readiness};
use super::{Shared, drive};
use crate::receiver::verify;

/// Runs the Receiver controller; `writer` feeds the store the webhook server reads.
pub async fn run(context: weir_runtime::Context, writer: Writer<Receiver>) -> anyhow::Result<()> {
    let client = context.client.clone();
    let api: Api<Receiver> = match &context.watch_namespace {
        Some(namespace) => Api::namespaced(client.clone(), namespace),
        None => Api::all(client.clone()),
    };
    let reader: Store<Receiver> = writer.as_reader();
    let trigger = reflector(writer, watcher(api, watcher::Config::default().any_semantic()))
        .default_backoff()
        .applied_objects()
        .predicate_filter(|o: &Receiver| weir_runtime::requeue::trigger_hash(o, ""), Default::default());
    tracing::info!("starting the Receiver controller");
    drive(Controller::for_stream(trigger, reader), &context, reconcile, Shared::new(client)).await;
    Ok(())
}

/// The webhook path, or why the Receiver cannot serve.
pub async fn check(client: &kube::Client, receiver: &Receiver) -> Result<String, Readiness> {
    if let Err(errors) = receiver.validate() {
        return Err(Readiness::not_ready(conditions::reasons::INVALID_SPEC, errors.to_string()));
    }
    if !verify::is_supported(receiver.spec.type_) {
        let message = format!("receiver type {} is not supported by Weir yet", receiver.spec.type_.as_str());
        return Err(Readiness::not_ready("UnsupportedReceiverType", message));
    }
    if receiver.spec.resource_filter.is_some() || receiver.spec.resources.iter().any(|r| r.filter.is_some()) {
        return Err(Readiness::not_ready("UnsupportedFeature", "CEL resource filters are not supported by Weir yet"));
    }
    let namespace = receiver.namespace().unwrap_or_default();
    let Some(reference) = &receiver.spec.secret_ref else {
        return Err(Readiness::not_ready(conditions::reasons::INVALID_SPEC, "spec.secretRef is required"));
    };
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &namespace);
    let secret = secrets.get_opt(&reference.name).await.map_err(|e| {
        Readiness::not_ready("TokenNotFound", format!("reading Secret {namespace}/{}: {e}", reference.name))
    })?;
    let Some(secret) = secret else {
        return Err(Readiness::not_ready("TokenNotFound", format!("Secret {namespace}/{} not found", reference.name)));
    };
    let token = secret.data.and_then(|d| d.get("token").map(|t| String::from_utf8_lossy(&t.0).trim().to_string()));
    match token {
        Some(token) if !token.is_empty() => Ok(receiver.webhook_path(&token)),
        _ => Err(Readiness::not_ready(
            "TokenNotFound",
            format!("Secret {namespace}/{} has no token key", reference.name),
        )),
    }
}

async fn reconcile(receiver: Arc<Receiver>, shared: Arc<Shared>) -> Result<Action, kube::Error> {
    let namespace = receiver.namespace().unwrap_or_default();
    if receiver.spec.suspend == Some(true) {
        return Ok(Action::await_change());
    }
    let generation = receiver.metadata.generation;
    let mut new: ReceiverStatus = receiver.status.clone().unwrap_or_default();
    let readiness = match check(&shared.client, &receiver).await {
        Ok(path) => {
            let message = format!("Receiver initialized for path: {path}");
            new.webhook_path = Some(path);
            Readiness::ready(message)
        }
        Err(readiness) => readiness,
    };
    status::set(new.conditions.get_or_insert_with(Vec::new), &readiness, generation);
    new.observed_generation = generation;
    if let Some(requested) = receiver.annotations().get(RECONCILE_REQUESTED_AT) {
        new.last_handled_reconcile_at = Some(requested.clone());
    }
    if receiver.status.as_ref() != Some(&new) {
        let api: Api<Receiver> = Api::namespaced(shared.client.clone(), &namespace);
        weir_runtime::status::apply(&api, status::FIELD_MANAGER, &receiver.name_any(), &new).await?;
    }
    shared.backoff.reset(&namespace, &receiver.name_any());
    Ok(Action::requeue(weir_runtime::requeue::jitter(receiver.spec.interval())))
}
