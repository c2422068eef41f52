//! The webhook HTTP server: `POST /hook/<digest>` looked up among the Receivers' `status.webhookPath`.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::reflector::Store;
use weir_api::notification::Receiver;

use super::replay::{ReplayGuard, delivery_id};
use super::targets;
use super::verify::{Rejection, Verdict, verify};
use crate::events_server::MAX_BODY_BYTES;

pub struct ReceiverServer {
    pub client: kube::Client,
    /// The Receivers, kept current by the Receiver controller's reflector.
    pub receivers: Store<Receiver>,
    pub replays: ReplayGuard,
    /// `--no-cross-namespace-refs`: a Receiver may only reconcile objects in its own namespace.
    pub no_cross_namespace_refs: bool,
}

pub fn router(server: Arc<ReceiverServer>) -> Router {
    Router::new().route("/hook/{digest}", post(hook)).layer(DefaultBodyLimit::max(MAX_BODY_BYTES)).with_state(server)
}

type Answer = (StatusCode, String);

fn answer(status: StatusCode, message: impl Into<String>) -> Answer {
    let mut message = message.into();
    message.push('\n');
    (status, message)
}

async fn hook(
    State(server): State<Arc<ReceiverServer>>,
    Path(digest): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let path = format!("{}{digest}", weir_api::notification::receiver::WEBHOOK_PATH_PREFIX);
    let found = server
        .receivers
        .state()
        .into_iter()
        .find(|r| r.status.as_ref().and_then(|s| s.webhook_path.as_deref()) == Some(path.as_str()));
    let Some(receiver) = found else { return answer(StatusCode::NOT_FOUND, "no receiver at this path") };
    let key = format!("{}/{}", receiver.namespace().unwrap_or_default(), receiver.name_any());
    match handle(&server, &receiver, &path, &headers, &body).await {
        Ok(message) => {
            tracing::info!(receiver = %key, %message, "webhook handled");
            answer(StatusCode::OK, message)
        }
        Err((status, message)) => {
            tracing::warn!(receiver = %key, status = status.as_u16(), %message, "webhook refused");
            answer(status, message)
        }
    }
}

async fn handle(
    server: &ReceiverServer,
    receiver: &Receiver,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<String, Answer> {
    let namespace = receiver.namespace().unwrap_or_default();
    let key = format!("{namespace}/{}", receiver.name_any());
    if receiver.spec.suspend == Some(true) {
        return Err(answer(StatusCode::SERVICE_UNAVAILABLE, "the receiver is suspended"));
    }
    if receiver.spec.resource_filter.is_some() || receiver.spec.resources.iter().any(|r| r.filter.is_some()) {
        return Err(answer(StatusCode::NOT_IMPLEMENTED, "CEL resource filters are not supported by Weir yet"));
    }
    if server.no_cross_namespace_refs
        && receiver.spec.resources.iter().any(|r| r.namespace.as_ref().is_some_and(|n| *n != namespace))
    {
        let message = "cross-namespace resources are not allowed (--no-cross-namespace-refs)";
        return Err(answer(StatusCode::FORBIDDEN, message));
    }
    let token = match &receiver.spec.secret_ref {
        Some(reference) => {
            let secrets: Api<Secret> = Api::namespaced(server.client.clone(), &namespace);
            let secret = secrets.get_opt(&reference.name).await.map_err(|e| {
                answer(StatusCode::INTERNAL_SERVER_ERROR, format!("reading Secret {}: {e}", reference.name))
            })?;
            let token = secret
                .and_then(|s| s.data)
                .and_then(|d| d.get("token").map(|t| String::from_utf8_lossy(&t.0).trim().to_string()));
            token.ok_or_else(|| {
                answer(StatusCode::SERVICE_UNAVAILABLE, format!("no token in Secret {}/{}", namespace, reference.name))
            })?
        }
        None => String::new(),
    };
    // A path computed from an old token must stop working as soon as the token changes.
    if receiver.webhook_path(&token) != path {
        return Err(answer(StatusCode::NOT_FOUND, "no receiver at this path"));
    }
    let events = receiver.spec.events.clone().unwrap_or_default();
    match verify(receiver.spec.type_, &token, &events, headers, body) {
        Ok(Verdict::Trigger) => {}
        Ok(Verdict::Ignore(message)) => return Ok(message),
        Err(Rejection::Unauthorized(m)) => return Err(answer(StatusCode::UNAUTHORIZED, m)),
        Err(Rejection::BadRequest(m)) => return Err(answer(StatusCode::BAD_REQUEST, m)),
        Err(Rejection::Unsupported(m)) => return Err(answer(StatusCode::NOT_IMPLEMENTED, m)),
    }
    if let Some(id) = delivery_id(headers)
        && !server.replays.first_time(&key, &id)
    {
        return Err(answer(StatusCode::CONFLICT, format!("delivery {id} was handled already")));
    }
    let targets = targets::resolve(&server.client, receiver)
        .await
        .map_err(|e| answer(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let requested_at = jiff::Timestamp::now().to_string();
    let mut failures = Vec::new();
    for target in &targets {
        if let Err(error) = targets::request_reconcile(&server.client, target, &requested_at).await {
            failures.push(error.to_string());
        }
    }
    if !failures.is_empty() {
        return Err(answer(StatusCode::INTERNAL_SERVER_ERROR, failures.join("; ")));
    }
    Ok(format!("reconciliation requested for {} object(s)", targets.len()))
}
