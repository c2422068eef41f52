//! The storage's HTTP file server (Flux's `http.FileServer` on `--storage-addr`): GET and HEAD
//! of files under the storage root, nothing else. No directory listings, no hidden (temp)
//! files, no way out of the root: `..`, encoded or not, is refused, and a symlink (such as a
//! HelmRepository's `index.yaml`) is followed only when it stays inside the root.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::io::ReaderStream;
use tokio_util::sync::CancellationToken;

/// Binds `addr` and serves `root` until `stop` is cancelled. Returns the bound address (useful
/// with port 0) and the server task.
pub async fn spawn(
    addr: SocketAddr,
    root: PathBuf,
    stop: CancellationToken,
) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    // Canonical, so that resolved paths can be compared with it.
    let root = tokio::fs::canonicalize(&root).await?;
    tracing::info!(addr = %bound, root = %root.display(), "starting the artifact file server");
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, router(root)).with_graceful_shutdown(stop.cancelled_owned()).await;
        match served {
            Ok(()) => tracing::info!("artifact file server stopped"),
            Err(error) => tracing::error!(error = %error, "artifact file server failed"),
        }
    });
    Ok((bound, task))
}

/// The file server's routes, for a canonical `root`.
pub fn router(root: PathBuf) -> Router {
    Router::new().fallback(serve_file).with_state(Arc::new(root))
}

async fn serve_file(State(root): State<Arc<PathBuf>>, method: Method, uri: Uri) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return ([(header::ALLOW, "GET, HEAD")], StatusCode::METHOD_NOT_ALLOWED).into_response();
    }
    let segments = match request_segments(uri.path()) {
        Ok(segments) => segments,
        Err(status) => return status.into_response(),
    };
    let mut path = PathBuf::clone(&root);
    path.extend(&segments);
    // Follows symlinks: the result must still be inside the root.
    let Ok(resolved) = tokio::fs::canonicalize(&path).await else { return StatusCode::NOT_FOUND.into_response() };
    if !resolved.starts_with(&*root) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Ok(file) = tokio::fs::File::open(&resolved).await else { return StatusCode::NOT_FOUND.into_response() };
    let Ok(metadata) = file.metadata().await else { return StatusCode::NOT_FOUND.into_response() };
    if !metadata.is_file() {
        return StatusCode::NOT_FOUND.into_response();
    }
    let name = segments.last().map(String::as_str).unwrap_or_default();
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type(name))),
        (header::CONTENT_LENGTH, HeaderValue::from(metadata.len())),
    ];
    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        Body::from_stream(ReaderStream::with_capacity(file, 64 * 1024))
    };
    (headers, body).into_response()
}

/// The decoded path segments of a request, or the status that refuses it: 400 for `..`, a
/// backslash, NUL or bad percent-encoding; 404 for the root, empty segments and hidden names.
fn request_segments(raw: &str) -> Result<Vec<String>, StatusCode> {
    let decoded = percent_decode(raw).ok_or(StatusCode::BAD_REQUEST)?;
    let decoded = String::from_utf8(decoded).map_err(|_| StatusCode::BAD_REQUEST)?;
    let Some(relative) = decoded.strip_prefix('/') else { return Err(StatusCode::BAD_REQUEST) };
    let segments: Vec<String> = relative.split('/').map(str::to_string).collect();
    for segment in &segments {
        if segment == ".." || segment.contains(['\\', '\0']) {
            return Err(StatusCode::BAD_REQUEST);
        }
        if segment.is_empty() || segment.starts_with('.') {
            return Err(StatusCode::NOT_FOUND);
        }
    }
    Ok(segments)
}

/// `%XX` decoding; `None` for a malformed escape.
fn percent_decode(raw: &str) -> Option<Vec<u8>> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

fn content_type(name: &str) -> &'static str {
    if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        "application/gzip"
    } else if name.ends_with(".yaml") || name.ends_with(".yml") {
        "application/yaml"
    } else {
        "application/octet-stream"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_paths_are_checked() {
        assert_eq!(request_segments("/gitrepository/ns/x/a.tar.gz").unwrap(), ["gitrepository", "ns", "x", "a.tar.gz"]);
        assert_eq!(request_segments("/a/%61.tar.gz").unwrap(), ["a", "a.tar.gz"]);
        for bad in
            ["/../etc/passwd", "/a/%2e%2e/b", "/a/%2E%2E%2fb", "/a/..%2f..%2fetc", "/a%5c..", "/a%00", "/a/%zz", "x"]
        {
            assert_eq!(request_segments(bad), Err(StatusCode::BAD_REQUEST), "{bad}");
        }
        for missing in ["/", "//etc/passwd", "/a//b", "/a/./b", "/a/.hidden.tmp"] {
            assert_eq!(request_segments(missing), Err(StatusCode::NOT_FOUND), "{missing}");
        }
    }
}
