//! Downloading an artifact, as Flux's `ArchiveFetcher`: a GET retried with backoff on
//! connection errors, timeouts, 429 and 5xx; 404 reported at once as [`FetchError::NotFound`];
//! the body streamed to a temp file while it is hashed, and refused when the digest differs.
//!
//! HTTP is hyper 1 with hyper-rustls on `ring`, the stack kube already brings: no new TLS
//! provider (never aws-lc-rs, see DEPENDENCIES.md), and `https` works for third-party artifact
//! producers (ExternalArtifact) besides the plain HTTP of the source-controller.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::{Request, StatusCode, Uri, header};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tempfile::TempPath;
use tokio::io::AsyncWriteExt;

use super::digest::{Digest, DigestError};
use super::untar::{UntarError, UntarLimits, UntarSummary, untar_gz};

/// Flux's variable: when set, its value (`host[:port]`) replaces the host of every artifact URL,
/// e.g. to run a controller outside the cluster against a port-forwarded source-controller.
pub const LOCALHOST_ENV: &str = "SOURCE_CONTROLLER_LOCALHOST";

/// How downloads behave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchOptions {
    /// Retries after the first attempt, for retryable failures.
    pub retries: u32,
    /// The first wait between attempts; doubled each time up to `max_backoff`.
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    /// The time one attempt (connect, headers and body) may take.
    pub timeout: Duration,
    /// Replaces the host of artifact URLs (see [`LOCALHOST_ENV`]).
    pub localhost: Option<String>,
    pub limits: UntarLimits,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            retries: 3,
            min_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(5),
            timeout: Duration::from_secs(300),
            localhost: None,
            limits: UntarLimits::default(),
        }
    }
}

impl FetchOptions {
    /// The defaults, with `SOURCE_CONTROLLER_LOCALHOST` read from the environment.
    pub fn from_env() -> Self {
        let localhost = std::env::var(LOCALHOST_ENV).ok().filter(|host| !host.is_empty());
        FetchOptions { localhost, ..FetchOptions::default() }
    }
}

/// Why an artifact could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("invalid artifact URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("invalid artifact digest: {0}")]
    Digest(#[from] DigestError),
    #[error("artifact not found at {url} (not written yet, or the source-controller's storage was reset)")]
    NotFound { url: String },
    #[error("downloading {url}: HTTP status {status}")]
    Status { url: String, status: StatusCode },
    #[error("downloading {url}: {reason}")]
    Transport { url: String, reason: String },
    #[error("downloading {url}: no complete answer within {timeout:?}")]
    Timeout { url: String, timeout: Duration },
    #[error("artifact digest mismatch for {url}: expected {expected}, got {actual}")]
    DigestMismatch { url: String, expected: String, actual: String },
    #[error("{action}: {source}")]
    Io { action: String, source: std::io::Error },
    #[error("unpacking {url}: {source}")]
    Untar { url: String, source: UntarError },
    #[error("unpacking {url}: the task failed: {reason}")]
    Task { url: String, reason: String },
    #[error("setting up TLS: {0}")]
    Tls(String),
}

impl FetchError {
    /// The artifact is not there (yet): requeue rather than fail.
    pub fn is_not_found(&self) -> bool {
        matches!(self, FetchError::NotFound { .. })
    }
}

/// A downloaded and verified artifact, in a temp file deleted on drop.
#[derive(Debug)]
pub struct Downloaded {
    path: TempPath,
    pub digest: String,
    pub size: u64,
}

impl Downloaded {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// An attempt's failure, and whether another attempt may succeed.
enum Failure {
    Retry(FetchError),
    Fatal(FetchError),
}

/// Downloads and unpacks artifacts; build one per process and share it (it pools connections).
#[derive(Clone)]
pub struct ArtifactFetcher {
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
    options: FetchOptions,
}

impl ArtifactFetcher {
    pub fn new(options: FetchOptions) -> Result<Self, FetchError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = match HttpsConnectorBuilder::new().with_provider_and_native_roots(provider.clone()) {
            Ok(builder) => builder,
            Err(error) => {
                // Plain HTTP (the source-controller's case) still works; https fails at the handshake.
                tracing::warn!(%error, "no system CA certificates: https artifact URLs will be refused");
                let config = rustls::ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .map_err(|e| FetchError::Tls(e.to_string()))?
                    .with_root_certificates(rustls::RootCertStore::empty())
                    .with_no_client_auth();
                HttpsConnectorBuilder::new().with_tls_config(config)
            }
        };
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(Duration::from_secs(10)));
        let connector = builder.https_or_http().enable_http1().wrap_connector(http);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(ArtifactFetcher { client, options })
    }

    pub fn options(&self) -> &FetchOptions {
        &self.options
    }

    /// Downloads `url` into `dest`, a new, empty directory, after checking it against `digest`.
    pub async fn fetch(&self, url: &str, digest: &str, dest: &Path) -> Result<UntarSummary, FetchError> {
        let downloaded = self.download(url, digest, &std::env::temp_dir()).await?;
        let (dest, limits, url) = (dest.to_path_buf(), self.options.limits, url.to_string());
        let task = tokio::task::spawn_blocking(move || {
            let file = std::fs::File::open(downloaded.path());
            let result =
                file.map_err(UntarError::Read).and_then(|f| untar_gz(std::io::BufReader::new(f), &dest, limits));
            drop(downloaded);
            result
        });
        match task.await {
            Ok(result) => result.map_err(|source| FetchError::Untar { url, source }),
            Err(error) => Err(FetchError::Task { url, reason: error.to_string() }),
        }
    }

    /// Downloads `url` to a temp file in `temp_dir` and verifies it against `digest`, retrying
    /// what may succeed on another attempt.
    pub async fn download(&self, url: &str, digest: &str, temp_dir: &Path) -> Result<Downloaded, FetchError> {
        let expected: Digest = digest.parse()?;
        let uri = effective_uri(url, self.options.localhost.as_deref())?;
        let mut backoff = self.options.min_backoff;
        let mut attempt = 0;
        loop {
            let timeout = self.options.timeout;
            let result = match tokio::time::timeout(timeout, self.attempt(&uri, &expected, temp_dir)).await {
                Ok(result) => result,
                Err(_) => Err(Failure::Retry(FetchError::Timeout { url: uri.to_string(), timeout })),
            };
            match result {
                Ok(downloaded) => return Ok(downloaded),
                Err(Failure::Fatal(error)) => return Err(error),
                Err(Failure::Retry(error)) if attempt >= self.options.retries => return Err(error),
                Err(Failure::Retry(error)) => {
                    tracing::debug!(%error, retry_in = ?backoff, "artifact download failed, retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(self.options.max_backoff);
                    attempt += 1;
                }
            }
        }
    }

    async fn attempt(&self, uri: &Uri, expected: &Digest, temp_dir: &Path) -> Result<Downloaded, Failure> {
        let url = uri.to_string();
        let transport = |reason: String| Failure::Retry(FetchError::Transport { url: url.clone(), reason });
        let request = Request::get(uri.clone())
            .header(header::USER_AGENT, concat!("weir/", env!("CARGO_PKG_VERSION")))
            .body(Empty::new())
            .map_err(|e| Failure::Fatal(FetchError::InvalidUrl { url: url.clone(), reason: e.to_string() }))?;
        let response = self.client.request(request).await.map_err(|e| transport(error_chain(&e)))?;
        match response.status() {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND => return Err(Failure::Fatal(FetchError::NotFound { url })),
            status
                if status == StatusCode::TOO_MANY_REQUESTS
                    || (status.is_server_error() && status != StatusCode::NOT_IMPLEMENTED) =>
            {
                return Err(Failure::Retry(FetchError::Status { url, status }));
            }
            status => return Err(Failure::Fatal(FetchError::Status { url, status })),
        }

        let io = |action: &str| {
            let action = format!("{action} in {}", temp_dir.display());
            move |source| Failure::Fatal(FetchError::Io { action, source })
        };
        let (file, path) = tempfile::Builder::new()
            .prefix("artifact-")
            .suffix(".tar.gz")
            .tempfile_in(temp_dir)
            .map_err(io("creating a temp file"))?
            .into_parts();
        let mut file = tokio::fs::File::from_std(file);
        let mut hasher = expected.hasher();
        let mut size = 0u64;
        let mut body = response.into_body();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| transport(format!("reading the body: {}", error_chain(&e))))?;
            if let Ok(data) = frame.into_data() {
                hasher.update(&data);
                size += data.len() as u64;
                file.write_all(&data).await.map_err(io("writing the download"))?;
            }
        }
        file.flush().await.map_err(io("writing the download"))?;
        let actual = hasher.finish();
        if actual != *expected {
            // `path` is dropped here: the file is deleted.
            let (expected, actual) = (expected.to_string(), actual.to_string());
            return Err(Failure::Fatal(FetchError::DigestMismatch { url, expected, actual }));
        }
        Ok(Downloaded { path, digest: actual.to_string(), size })
    }
}

/// The URL to request: http or https only, the host replaced when `localhost` is set.
fn effective_uri(url: &str, localhost: Option<&str>) -> Result<Uri, FetchError> {
    let invalid = |reason: String| FetchError::InvalidUrl { url: url.to_string(), reason };
    let uri: Uri = url.parse().map_err(|e: hyper::http::uri::InvalidUri| invalid(e.to_string()))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => return Err(invalid("only http and https URLs can be fetched".to_string())),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(invalid("the URL has no host".to_string()));
    }
    let Some(host) = localhost else { return Ok(uri) };
    let mut parts = uri.into_parts();
    parts.authority = Some(host.parse().map_err(|e| invalid(format!("{LOCALHOST_ENV}={host:?}: {e}")))?);
    Uri::from_parts(parts).map_err(|e| invalid(e.to_string()))
}

fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    use axum::Router;
    use axum::http::StatusCode as AxumStatus;
    use axum::routing::get;

    #[test]
    fn localhost_replaces_the_host() {
        let url = "http://source-controller.flux-system.svc.cluster.local./gitrepository/ns/x/a.tar.gz";
        assert_eq!(effective_uri(url, None).unwrap().to_string(), url);
        let uri = effective_uri(url, Some("localhost:9090")).unwrap();
        assert_eq!(uri.to_string(), "http://localhost:9090/gitrepository/ns/x/a.tar.gz");
        assert!(effective_uri("ftp://x/a", None).is_err());
        assert!(effective_uri("/relative", None).is_err());
    }

    async fn serve(router: Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        format!("http://{addr}")
    }

    fn fast() -> FetchOptions {
        FetchOptions {
            min_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(20),
            ..FetchOptions::default()
        }
    }

    const HELLO: &str = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    #[tokio::test]
    async fn retries_server_errors_then_succeeds() {
        let calls = Arc::new(AtomicU32::new(0));
        let counter = calls.clone();
        let router = Router::new().route(
            "/a",
            get(move || {
                let n = counter.fetch_add(1, Ordering::SeqCst);
                async move { if n < 2 { Err(AxumStatus::SERVICE_UNAVAILABLE) } else { Ok("hello") } }
            }),
        );
        let base = serve(router).await;
        let fetcher = ArtifactFetcher::new(fast()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let downloaded = fetcher.download(&format!("{base}/a"), HELLO, dir.path()).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert_eq!(std::fs::read(downloaded.path()).unwrap(), b"hello");
        assert_eq!(downloaded.size, 5);
        drop(downloaded);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn gives_up_after_the_retries_and_does_not_retry_404() {
        let calls = Arc::new(AtomicU32::new(0));
        let counter = calls.clone();
        let router = Router::new().route(
            "/broken",
            get(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                async { AxumStatus::BAD_GATEWAY }
            }),
        );
        let base = serve(router).await;
        let fetcher = ArtifactFetcher::new(FetchOptions { retries: 2, ..fast() }).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let error = fetcher.download(&format!("{base}/broken"), HELLO, dir.path()).await.unwrap_err();
        assert!(matches!(error, FetchError::Status { status: StatusCode::BAD_GATEWAY, .. }), "{error}");
        assert_eq!(calls.load(Ordering::SeqCst), 3);

        let error = fetcher.download(&format!("{base}/missing"), HELLO, dir.path()).await.unwrap_err();
        assert!(error.is_not_found(), "{error}");
    }

    #[tokio::test]
    async fn a_digest_mismatch_discards_the_download() {
        let base = serve(Router::new().route("/a", get(|| async { "tampered" }))).await;
        let fetcher = ArtifactFetcher::new(fast()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let error = fetcher.download(&format!("{base}/a"), HELLO, dir.path()).await.unwrap_err();
        let FetchError::DigestMismatch { expected, actual, .. } = &error else { panic!("{error}") };
        assert_eq!(expected, HELLO);
        assert!(error.to_string().contains(HELLO) && error.to_string().contains(actual.as_str()), "{error}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "the download was deleted");
    }

    #[tokio::test]
    async fn connection_errors_are_retried_then_reported() {
        // A port nobody listens on.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let fetcher = ArtifactFetcher::new(FetchOptions { retries: 1, ..fast() }).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let error = fetcher.download(&format!("http://{addr}/a"), HELLO, dir.path()).await.unwrap_err();
        assert!(matches!(error, FetchError::Transport { .. }), "{error}");
    }
}
