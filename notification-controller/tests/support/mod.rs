//! A loopback HTTP server that records every request, playing Slack, GitHub, a proxy and the like.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: Method,
    /// As sent: origin-form (`/path?q`) normally, absolute-form through a proxy.
    pub uri: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[derive(Clone, Default)]
struct Shared {
    requests: Arc<Mutex<Vec<Recorded>>>,
}

pub struct Capture {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
    _task: tokio::task::JoinHandle<()>,
}

impl Capture {
    /// Starts a server on 127.0.0.1 that answers 200 (201 for POSTs to `.../statuses/...`).
    pub async fn start() -> Capture {
        let shared = Shared::default();
        let requests = shared.requests.clone();
        let router = Router::new().fallback(record).with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Capture { addr, requests, _task: task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    /// Waits until `count` requests have arrived, then returns them all.
    pub async fn wait_for(&self, count: usize, within: Duration) -> Vec<Recorded> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let requests = self.requests();
            if requests.len() >= count {
                return requests;
            }
            if tokio::time::Instant::now() > deadline {
                panic!("expected {count} requests within {within:?}, got {}: {requests:#?}", requests.len());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn record(State(shared): State<Shared>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> StatusCode {
    let created = method == Method::POST && uri.path().contains("/statuses");
    shared.requests.lock().unwrap().push(Recorded { method, uri: uri.to_string(), headers, body: body.to_vec() });
    if created { StatusCode::CREATED } else { StatusCode::OK }
}
