//! The event endpoint: `POST /` with Flux's event payload (`event.toolkit.fluxcd.io/v1beta1`),
//! from Weir's controllers and Flux's alike. Answers 202 once the event is accepted (delivery
//! continues in the background, as in Flux), 400 for a payload that is not an event, 413 for a
//! body over 3 MiB, and 429 for a duplicate within the rate-limit interval.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::routing::post;
use weir_api::event::{Event, SEVERITY_ERROR, SEVERITY_INFO, SEVERITY_TRACE};
use weir_runtime::CancellationToken;

use crate::dispatch::Dispatcher;
use crate::ratelimit::{RateLimiter, event_key};

/// Flux's limit on request bodies, for events and webhooks alike.
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

struct ServerState {
    limiter: RateLimiter,
    dispatcher: Arc<Dispatcher>,
}

/// The router; `/` and any other path take events, as Flux's mux on `/` does.
pub fn router(limiter: RateLimiter, dispatcher: Arc<Dispatcher>) -> Router {
    let state = Arc::new(ServerState { limiter, dispatcher });
    Router::new()
        .route("/", post(receive))
        .route("/{*path}", post(receive))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// Binds `addr` and serves until `shutdown`; returns the bound address and the serving task.
pub async fn spawn(
    addr: SocketAddr,
    router: Router,
    shutdown: CancellationToken,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let task = tokio::spawn(async move {
        let serve = axum::serve(listener, router).with_graceful_shutdown(async move { shutdown.cancelled().await });
        if let Err(error) = serve.await {
            tracing::error!(%error, %local, "HTTP server stopped");
        }
    });
    Ok((local, task))
}

async fn receive(State(state): State<Arc<ServerState>>, body: Bytes) -> (StatusCode, String) {
    let mut event: Event = match serde_json::from_slice(&body) {
        Ok(e) => e,
        Err(error) => return (StatusCode::BAD_REQUEST, format!("decoding the event: {error}\n")),
    };
    if let Err(problem) = check(&event) {
        return (StatusCode::BAD_REQUEST, format!("invalid event: {problem}\n"));
    }
    clean_metadata(&mut event);
    if !state.limiter.allow(&event_key(&event)) {
        tracing::debug!(object = ?event.involved_object.name, "discarding event, rate limiting duplicate events");
        return (StatusCode::TOO_MANY_REQUESTS, "duplicate event\n".into());
    }
    tracing::info!(
        kind = ?event.involved_object.kind, name = ?event.involved_object.name,
        namespace = ?event.involved_object.namespace, reason = %event.reason, "dispatching event"
    );
    tokio::spawn(state.dispatcher.clone().dispatch(event));
    (StatusCode::ACCEPTED, String::new())
}

/// The fields every event must have.
pub fn check(event: &Event) -> Result<(), String> {
    let o = &event.involved_object;
    for (field, value) in [("involvedObject.kind", &o.kind), ("involvedObject.name", &o.name)] {
        if value.as_deref().is_none_or(str::is_empty) {
            return Err(format!("{field} is required"));
        }
    }
    if ![SEVERITY_INFO, SEVERITY_ERROR, SEVERITY_TRACE].contains(&event.severity.as_str()) {
        return Err(format!("severity {:?} is not info, error or trace", event.severity));
    }
    Ok(())
}

/// Keeps only the metadata of the involved object's group, without the group prefix, and drops
/// the checksum and digest entries, as Flux does before matching and sending.
pub fn clean_metadata(event: &mut Event) {
    let group = event
        .involved_object
        .api_version
        .as_deref()
        .and_then(|v| v.split_once('/'))
        .map(|(g, _)| g.to_string())
        .unwrap_or_default();
    let prefix = format!("{group}/");
    let metadata = std::mem::take(&mut event.metadata);
    event.metadata = metadata
        .into_iter()
        .filter_map(|(k, v)| k.strip_prefix(&prefix).map(|short| (short.to_string(), v)))
        .filter(|(k, _)| !k.eq_ignore_ascii_case("checksum") && !k.eq_ignore_ascii_case("digest"))
        .collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_keeps_the_objects_group_only() {
        let mut e = Event::default();
        e.involved_object.api_version = Some("kustomize.toolkit.fluxcd.io/v1".into());
        for (k, v) in [
            ("kustomize.toolkit.fluxcd.io/revision", "main@sha1:abc"),
            ("kustomize.toolkit.fluxcd.io/checksum", "x"),
            ("kustomize.toolkit.fluxcd.io/digest", "x"),
            ("source.toolkit.fluxcd.io/revision", "other"),
            ("plain", "x"),
        ] {
            e.metadata.insert(k.into(), v.into());
        }
        clean_metadata(&mut e);
        assert_eq!(e.metadata, [("revision".to_string(), "main@sha1:abc".to_string())].into());
    }

    #[test]
    fn required_fields() {
        let mut e = Event { severity: "info".into(), ..Event::default() };
        assert!(check(&e).unwrap_err().contains("involvedObject.kind"));
        e.involved_object.kind = Some("Kustomization".into());
        e.involved_object.name = Some("apps".into());
        check(&e).unwrap();
        e.severity = "warning".into();
        assert!(check(&e).is_err());
    }
}
