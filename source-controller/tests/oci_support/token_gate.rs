//! A registry behind Bearer token auth, as Docker Hub or GHCR run it: a reverse proxy that
//! answers `401` with a `WWW-Authenticate: Bearer realm=…,service=…,scope=…` challenge unless
//! the request carries a token it issued, and a token endpoint (the realm) that issues tokens
//! for the right Basic credentials.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Request, Response, StatusCode, header};
use base64::Engine as _;
use source_controller::oci::Credentials;

pub const SERVICE: &str = "weir-test-registry";

/// What the token endpoint was asked: the user and the query.
#[derive(Clone, Debug)]
pub struct TokenRequest {
    pub username: Option<String>,
    pub scope: Option<String>,
    pub service: Option<String>,
    pub granted: bool,
}

#[derive(Default)]
struct Seen {
    issued: Vec<String>,
    token_requests: Vec<TokenRequest>,
    /// Requests let through to the registry, `METHOD path`.
    forwarded: Vec<String>,
}

struct Gate {
    upstream: SocketAddr,
    addr: SocketAddr,
    credentials: Credentials,
    http: reqwest::Client,
    seen: Mutex<Seen>,
}

/// The running gate; it stops with the test's runtime.
pub struct TokenGate {
    pub addr: SocketAddr,
    gate: Arc<Gate>,
}

impl TokenGate {
    /// Serves on loopback in front of the plain-HTTP registry at `upstream`, issuing tokens to
    /// `credentials`.
    pub async fn start(upstream: SocketAddr, credentials: Credentials) -> TokenGate {
        weir_runtime::client::install_crypto_provider();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let gate = Arc::new(Gate { upstream, addr, credentials, http, seen: Mutex::default() });
        let app =
            axum::Router::new().route("/token", axum::routing::get(token)).fallback(forward).with_state(gate.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        TokenGate { addr, gate }
    }

    pub fn url(&self, path: &str) -> String {
        format!("oci://{}/{path}", self.addr)
    }

    pub fn token_requests(&self) -> Vec<TokenRequest> {
        self.gate.seen.lock().unwrap().token_requests.clone()
    }

    pub fn forwarded(&self) -> Vec<String> {
        self.gate.seen.lock().unwrap().forwarded.clone()
    }
}

/// The realm: a token for the right Basic credentials, `401` otherwise.
async fn token(State(gate): State<Arc<Gate>>, request: Request<Body>) -> Response<Body> {
    let query: Vec<(String, String)> = request.uri().query().map(url_pairs).unwrap_or_default();
    let get = |key: &str| query.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let basic = basic_credentials(request.headers());
    let granted = basic
        .as_ref()
        .is_some_and(|(user, password)| *user == gate.credentials.username && *password == gate.credentials.password);
    let mut seen = gate.seen.lock().unwrap();
    seen.token_requests.push(TokenRequest {
        username: basic.map(|(user, _)| user),
        scope: get("scope"),
        service: get("service"),
        granted,
    });
    if !granted {
        return status(StatusCode::UNAUTHORIZED, r#"{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}"#);
    }
    let token = format!("weir-token-{}", seen.issued.len() + 1);
    seen.issued.push(token.clone());
    let body = serde_json::json!({ "token": token, "expires_in": 300 }).to_string();
    status(StatusCode::OK, &body)
}

/// The registry API: forwarded with an issued token, challenged without one.
async fn forward(State(gate): State<Arc<Gate>>, request: Request<Body>) -> Response<Body> {
    let path = request.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    let authorized = bearer.is_some_and(|t| gate.seen.lock().unwrap().issued.contains(&t));
    if !authorized {
        let mut challenge = format!(r#"Bearer realm="http://{}/token",service="{SERVICE}""#, gate.addr);
        if let Some(repository) = repository_of(request.uri().path()) {
            challenge.push_str(&format!(r#",scope="repository:{repository}:pull""#));
        }
        let mut response = status(StatusCode::UNAUTHORIZED, r#"{"errors":[{"code":"UNAUTHORIZED"}]}"#);
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_str(&challenge).unwrap());
        return response;
    }
    let method = request.method().clone();
    gate.seen.lock().unwrap().forwarded.push(format!("{method} {path}"));
    let mut upstream = gate.http.request(method.clone(), format!("http://{}{path}", gate.upstream));
    for (name, value) in request.headers() {
        if name != header::HOST && name != header::AUTHORIZATION {
            upstream = upstream.header(name, value);
        }
    }
    let body = to_bytes(request.into_body(), usize::MAX).await.unwrap();
    let answer = upstream.body(body).send().await.unwrap();
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        // The body is re-framed here; HEAD answers keep their length.
        let framing = name == header::TRANSFER_ENCODING || name == header::CONNECTION;
        if !framing && (name != header::CONTENT_LENGTH || method == axum::http::Method::HEAD) {
            response = response.header(name, value);
        }
    }
    response.body(Body::from(answer.bytes().await.unwrap())).unwrap()
}

/// `app/sub` of `/v2/app/sub/manifests/latest`.
fn repository_of(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/v2/")?;
    ["/manifests/", "/blobs/", "/tags/"].iter().find_map(|marker| rest.find(marker).map(|i| rest[..i].to_string()))
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(value).ok()?;
    let (user, password) =
        String::from_utf8(decoded).ok()?.split_once(':').map(|(u, p)| (u.to_string(), p.to_string()))?;
    Some((user, password))
}

fn url_pairs(query: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(&format!("http://x/?{query}"))
        .map(|url| url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
        .unwrap_or_default()
}

fn status(status: StatusCode, body: &str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}
