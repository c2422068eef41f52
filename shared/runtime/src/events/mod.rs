//! Events about reconciled objects, sent two ways as Flux's controllers send them: a Kubernetes
//! Event on the object (what `kubectl describe` and `weir events` show), and Flux's event
//! payload POSTed to the notification-controller at `--events-addr`, with the revision in the
//! metadata, so that alerts and commit statuses follow.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use k8s_openapi::jiff::Timestamp;
use kube::Resource;
use weir_api::event::{EVENT_ANNOTATION_PREFIX, Event, SEVERITY_ERROR, SEVERITY_INFO, SEVERITY_TRACE, revision_key};

mod kube_events;

pub use kube_events::{KubeEvent, KubeEvents};

/// How often a POST is tried before the event is dropped (the Kubernetes Event stays).
const POST_ATTEMPTS: u32 = 4;
/// How long one POST may take.
const POST_TIMEOUT: Duration = Duration::from_secs(15);
/// Kubernetes rejects longer Event notes.
const NOTE_LIMIT: usize = 1000;

/// How an event reads in alerts: `Info` for progress, `Error` for failures, `Trace` for
/// bookkeeping only the notification-controller sees (no Kubernetes Event).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Info,
    Error,
    Trace,
}

impl Severity {
    fn as_str(self) -> &'static str {
        match self {
            Severity::Info => SEVERITY_INFO,
            Severity::Error => SEVERITY_ERROR,
            Severity::Trace => SEVERITY_TRACE,
        }
    }
}

/// Sends events; build one per controller and share it.
#[derive(Clone)]
pub struct EventRecorder {
    kube: Arc<KubeEvents>,
    controller: String,
    /// `POD_NAME`, when the controller runs in a Pod.
    instance: Option<String>,
    http: Client<HttpConnector, Full<Bytes>>,
    /// `--events-addr`; empty to send Kubernetes Events only.
    events_addr: String,
}

impl EventRecorder {
    pub fn new(client: kube::Client, controller: &str, events_addr: &str) -> Self {
        let instance = std::env::var("POD_NAME").ok();
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        EventRecorder {
            kube: Arc::new(KubeEvents::new(client, controller, instance.as_deref())),
            controller: controller.to_string(),
            instance,
            http: Client::builder(TokioExecutor::new()).build(connector),
            events_addr: events_addr.trim().to_string(),
        }
    }

    /// Records an event about `obj`. `revision` goes into the metadata under the object's
    /// group, as Flux writes it; `metadata` adds more. Failures are logged, never returned:
    /// an event is not worth failing a reconcile for.
    pub async fn record<K>(
        &self,
        obj: &K,
        severity: Severity,
        reason: &str,
        message: &str,
        revision: Option<&str>,
        metadata: BTreeMap<String, String>,
    ) where
        K: Resource<DynamicType = ()>,
    {
        if severity != Severity::Trace {
            let note: String = message.chars().take(NOTE_LIMIT).collect();
            let event = KubeEvent {
                type_: if severity == Severity::Error { "Warning" } else { "Normal" },
                reason,
                action: "Reconcile",
                note: &note,
            };
            if let Err(error) = self.kube.publish(event, &obj.object_ref(&())).await {
                tracing::warn!(%error, "publishing a Kubernetes Event failed");
            }
        }
        if self.events_addr.is_empty() {
            return;
        }
        let payload = self.payload(obj, severity, reason, message, revision, metadata);
        let (http, address) = (self.http.clone(), self.events_addr.clone());
        // Sent in the background: a slow or absent notification-controller must not hold up
        // the reconcile.
        tokio::spawn(async move { post(&http, &address, &payload).await });
    }

    /// Flux's payload for an event about `obj`.
    pub fn payload<K>(
        &self,
        obj: &K,
        severity: Severity,
        reason: &str,
        message: &str,
        revision: Option<&str>,
        mut metadata: BTreeMap<String, String>,
    ) -> Event
    where
        K: Resource<DynamicType = ()>,
    {
        if let Some(revision) = revision {
            metadata.insert(revision_key(&K::group(&())), revision.to_string());
        }
        for (key, value) in obj.meta().annotations.iter().flatten() {
            if key.starts_with(EVENT_ANNOTATION_PREFIX) {
                metadata.insert(key.clone(), value.clone());
            }
        }
        Event {
            involved_object: obj.object_ref(&()),
            severity: severity.as_str().to_string(),
            timestamp: Timestamp::now().to_string(),
            message: message.to_string(),
            reason: reason.to_string(),
            metadata,
            reporting_controller: self.controller.clone(),
            reporting_instance: self.instance.clone().unwrap_or_default(),
        }
    }
}

async fn post(http: &Client<HttpConnector, Full<Bytes>>, address: &str, event: &Event) {
    let body = match serde_json::to_vec(event) {
        Ok(body) => Bytes::from(body),
        Err(error) => return tracing::warn!(%error, "serialising an event failed"),
    };
    let mut delay = Duration::from_millis(500);
    for attempt in 1..=POST_ATTEMPTS {
        let request = Request::builder()
            .method(Method::POST)
            .uri(address)
            .header("content-type", "application/json")
            .body(Full::new(body.clone()));
        let request = match request {
            Ok(request) => request,
            Err(error) => return tracing::warn!(%error, %address, "invalid --events-addr"),
        };
        match tokio::time::timeout(POST_TIMEOUT, http.request(request)).await {
            Ok(Ok(response)) if response.status().is_success() => return,
            // 4xx: the receiver refuses this event and will refuse it again. That includes 429,
            // which the notification-controller answers for a duplicate it has just forwarded.
            Ok(Ok(response)) if response.status().is_client_error() => {
                return tracing::warn!(status = %response.status(), %address, "the event was refused");
            }
            Ok(Ok(response)) => tracing::debug!(status = %response.status(), attempt, "posting an event"),
            Ok(Err(error)) => tracing::debug!(%error, attempt, "posting an event"),
            Err(_) => tracing::debug!(attempt, "posting an event timed out"),
        }
        if attempt < POST_ATTEMPTS {
            tokio::time::sleep(delay).await;
            delay *= 2;
        }
    }
    tracing::warn!(%address, reason = %event.reason, "could not deliver an event to the notification-controller");
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::Router;
    use axum::routing::post as route_post;
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube::api::ObjectMeta;

    use super::*;

    fn http() -> Client<HttpConnector, Full<Bytes>> {
        Client::builder(TokioExecutor::new()).build(HttpConnector::new())
    }

    #[tokio::test]
    async fn posts_flux_payloads_and_retries_server_errors() {
        let received: Arc<Mutex<Vec<Event>>> = Arc::default();
        let calls = Arc::new(Mutex::new(0));
        let (sink, counter) = (received.clone(), calls.clone());
        let router = Router::new().route(
            "/",
            route_post(move |body: Bytes| {
                let (sink, counter) = (sink.clone(), counter.clone());
                async move {
                    let mut calls = counter.lock().unwrap();
                    *calls += 1;
                    if *calls == 1 {
                        return axum::http::StatusCode::SERVICE_UNAVAILABLE;
                    }
                    sink.lock().unwrap().push(serde_json::from_slice(&body).unwrap());
                    axum::http::StatusCode::ACCEPTED
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });

        let event = Event { reason: "ReconciliationSucceeded".into(), ..Event::default() };
        post(&http(), &address, &event).await;
        assert_eq!(*calls.lock().unwrap(), 2);
        assert_eq!(received.lock().unwrap()[0].reason, "ReconciliationSucceeded");
    }

    #[tokio::test]
    async fn the_payload_carries_the_revision_and_event_annotations() {
        // A client that is never used: building the payload needs no server.
        let config = kube::Config::new("http://127.0.0.1:1".parse().unwrap());
        let recorder = EventRecorder::new(kube::Client::try_from(config).unwrap(), "source-controller", "");
        let obj = ConfigMap {
            metadata: ObjectMeta {
                name: Some("app".into()),
                namespace: Some("ns".into()),
                annotations: Some(BTreeMap::from([
                    ("event.toolkit.fluxcd.io/env".to_string(), "prod".to_string()),
                    ("other".to_string(), "x".to_string()),
                ])),
                ..ObjectMeta::default()
            },
            ..ConfigMap::default()
        };
        let event = recorder.payload(&obj, Severity::Error, "Failed", "boom", Some("main@sha1:abc"), BTreeMap::new());
        assert_eq!(event.severity, "error");
        assert_eq!(event.reporting_controller, "source-controller");
        assert_eq!(event.metadata.get("/revision").map(String::as_str), Some("main@sha1:abc"));
        assert_eq!(event.metadata.get("event.toolkit.fluxcd.io/env").map(String::as_str), Some("prod"));
        assert!(!event.metadata.contains_key("other"));
        assert_eq!(event.involved_object.name.as_deref(), Some("app"));
    }
}
