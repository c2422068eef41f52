//! The HTTP endpoints of a controller process: `/healthz` and `/readyz` on the health address,
//! `/metrics` on the metrics address. Both servers stop gracefully when their token is cancelled.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::flags::ListenAddr;
use crate::metrics::{self, Metrics};

/// A listener could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("listening on the {what} address {addr}: {source}")]
pub struct BindError {
    what: &'static str,
    addr: SocketAddr,
    source: std::io::Error,
}

/// Whether the process is ready: set once the API server answered.
#[derive(Clone, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    pub fn set_ready(&self) {
        self.0.store(true, Ordering::Release);
    }

    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// The running servers.
pub struct Servers {
    tasks: Vec<JoinHandle<()>>,
}

impl Servers {
    /// Waits for the servers to finish after their stop token was cancelled; open keep-alive
    /// connections get a few seconds to close.
    pub async fn join(self) {
        let all = futures::future::join_all(self.tasks);
        if tokio::time::timeout(Duration::from_secs(5), all).await.is_err() {
            tracing::warn!("HTTP servers did not stop within 5s, leaving them");
        }
    }
}

/// Binds both addresses (a disabled one is skipped) and serves until `stop` is cancelled.
pub async fn serve(
    health_addr: ListenAddr,
    metrics_addr: ListenAddr,
    metrics: Arc<Metrics>,
    readiness: Readiness,
    stop: CancellationToken,
) -> Result<Servers, BindError> {
    let mut tasks = Vec::new();
    if let Some(addr) = health_addr.socket_addr() {
        let router = Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz)).with_state(readiness);
        tasks.push(spawn("health probe", addr, router, stop.clone()).await?);
    }
    if let Some(addr) = metrics_addr.socket_addr() {
        let router = Router::new().route("/metrics", get(render_metrics)).with_state(metrics);
        tasks.push(spawn("metrics", addr, router, stop).await?);
    }
    Ok(Servers { tasks })
}

async fn spawn(
    what: &'static str,
    addr: SocketAddr,
    router: Router,
    stop: CancellationToken,
) -> Result<JoinHandle<()>, BindError> {
    let listener = TcpListener::bind(addr).await.map_err(|source| BindError { what, addr, source })?;
    let addr = listener.local_addr().unwrap_or(addr);
    tracing::info!(name = what, addr = %addr, "starting server");
    Ok(tokio::spawn(async move {
        let served = axum::serve(listener, router).with_graceful_shutdown(stop.cancelled_owned()).await;
        match served {
            Ok(()) => tracing::info!(name = what, "server stopped"),
            Err(error) => tracing::error!(name = what, error = %crate::logging::chain(&error), "server failed"),
        }
    }))
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(readiness): State<Readiness>) -> (StatusCode, &'static str) {
    if readiness.is_ready() {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "the Kubernetes API server has not been reached yet")
    }
}

async fn render_metrics(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], metrics.render())
}

/// Asks the API server for its version until it answers, then marks the process ready.
pub async fn wait_for_api_server(client: kube::Client, readiness: Readiness, stop: CancellationToken) {
    let mut delay = Duration::from_millis(250);
    loop {
        let attempt = tokio::time::timeout(Duration::from_secs(10), client.apiserver_version());
        let error = tokio::select! {
            _ = stop.cancelled() => return,
            answer = attempt => match answer {
                Ok(Ok(version)) => {
                    tracing::info!(version = %version.git_version, "reached the Kubernetes API server");
                    readiness.set_ready();
                    return;
                }
                Ok(Err(error)) => crate::logging::chain(&error),
                Err(_) => "no answer within 10s".to_string(),
            },
        };
        tracing::warn!(%error, retry_in = ?delay, "cannot reach the Kubernetes API server");
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(Duration::from_secs(10));
    }
}
