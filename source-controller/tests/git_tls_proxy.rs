//! Git over HTTPS with a private CA and client certificates, and through an HTTP proxy: real
//! git http-backend behind a rustls server and a small forward/CONNECT proxy, all on loopback.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "oci_support/forward_proxy.rs"]
mod forward_proxy;
#[path = "oci_support/pki.rs"]
mod pki;

use weir_testenv::git as support;

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use forward_proxy::ForwardProxy;
use pki::Pki;
use source_controller::git_repository::fetch::{FetchError, FetchRequest, Fetched, OwnedReference, fetch_blocking};
use source_controller::git_repository::git::Auth;
use source_controller::git_repository::http_options::HttpOptions;
use support::{Repo, ServerAuth};

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// git http-backend over TLS, optionally requiring a client certificate from the CA.
struct GitHttpsServer {
    addr: SocketAddr,
}

impl GitHttpsServer {
    fn start(root: &Path, pki: &Pki, require_client_cert: bool) -> GitHttpsServer {
        use rustls::pki_types::pem::PemObject as _;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let certs = vec![CertificateDer::from_pem_slice(pki.server_cert.as_bytes()).unwrap()];
        let key = PrivateKeyDer::from_pem_slice(pki.server_key.as_bytes()).unwrap();
        let builder = rustls::ServerConfig::builder_with_provider(provider()).with_safe_default_protocol_versions();
        let builder = builder.unwrap();
        let config = if require_client_cert {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(CertificateDer::from_pem_slice(pki.ca.as_bytes()).unwrap()).unwrap();
            let verifier =
                rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider()).build();
            builder.with_client_cert_verifier(verifier.unwrap()).with_single_cert(certs, key)
        } else {
            builder.with_no_client_auth().with_single_cert(certs, key)
        };
        let config = Arc::new(config.unwrap());
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let root = root.to_path_buf();
        std::thread::spawn(move || {
            for tcp in listener.incoming().flatten() {
                let (config, root) = (config.clone(), root.clone());
                std::thread::spawn(move || {
                    let connection = rustls::ServerConnection::new(config).unwrap();
                    let mut tls = rustls::StreamOwned::new(connection, tcp);
                    if support::serve(&mut tls, &root, &ServerAuth::None).is_ok() {
                        tls.conn.send_close_notify();
                        let _ = tls.flush();
                    }
                });
            }
        });
        GitHttpsServer { addr }
    }

    fn url(&self, repo: &str) -> String {
        format!("https://127.0.0.1:{}/{repo}.git", self.addr.port())
    }
}

fn request(url: &str, http: HttpOptions) -> FetchRequest {
    FetchRequest {
        url: url.to_string(),
        auth: Auth::None,
        http,
        reference: OwnedReference::Branch("main".into()),
        timeout: Duration::from_secs(60),
        recurse_submodules: false,
    }
}

fn fetch(request: &FetchRequest) -> Result<(String, PathBuf, tempfile::TempDir), FetchError> {
    match fetch_blocking(request, |_| false, &AtomicBool::new(false))? {
        Fetched::CheckedOut { revision, dir, temp, .. } => Ok((revision, dir, temp)),
        Fetched::Unchanged { revision } => panic!("expected a checkout, got unchanged {revision}"),
    }
}

fn fixture() -> (Repo, String) {
    let repo = Repo::new("secure");
    let commit = repo.commit(&[("app.yaml", "tls: true\n")], "first");
    repo.push("main");
    (repo, commit)
}

#[test]
fn https_with_a_private_ca() {
    weir_runtime::client::install_crypto_provider();
    let (repo, commit) = fixture();
    let pki = Pki::new();
    let server = GitHttpsServer::start(&repo.root, &pki, false);
    let url = server.url("secure");

    let error = fetch(&request(&url, HttpOptions::default())).unwrap_err();
    assert!(error.to_string().to_lowercase().contains("certificate"), "untrusted without ca.crt: {error}");

    let http = HttpOptions::default().with_tls(Some(pki.ca.as_bytes()), None, None).unwrap();
    let (revision, dir, _temp) = fetch(&request(&url, http)).unwrap();
    assert_eq!(revision, format!("main@sha1:{commit}"));
    assert_eq!(std::fs::read_to_string(dir.join("app.yaml")).unwrap(), "tls: true\n");
}

#[test]
fn https_with_a_client_certificate() {
    weir_runtime::client::install_crypto_provider();
    let (repo, commit) = fixture();
    let pki = Pki::new();
    let server = GitHttpsServer::start(&repo.root, &pki, true);
    let url = server.url("secure");

    let without = HttpOptions::default().with_tls(Some(pki.ca.as_bytes()), None, None).unwrap();
    assert!(fetch(&request(&url, without)).is_err(), "the server requires a client certificate");

    let with = HttpOptions::default()
        .with_tls(Some(pki.ca.as_bytes()), Some(pki.client_cert.as_bytes()), Some(pki.client_key.as_bytes()))
        .unwrap();
    let (revision, _dir, _temp) = fetch(&request(&url, with)).unwrap();
    assert_eq!(revision, format!("main@sha1:{commit}"));
}

#[test]
fn http_through_a_proxy_with_credentials() {
    weir_runtime::client::install_crypto_provider();
    let (repo, commit) = fixture();
    let server = support::GitHttpServer::start(&repo.root, ServerAuth::None);
    let proxy = ForwardProxy::start();
    let http = HttpOptions::default().with_proxy(&proxy.addr.to_string(), Some("weir"), Some("pr0xy")).unwrap();
    let (revision, _dir, _temp) = fetch(&request(&server.url("secure"), http)).unwrap();
    assert_eq!(revision, format!("main@sha1:{commit}"));
    let seen = proxy.seen();
    assert!(!seen.is_empty(), "the fetch went through the proxy");
    for request in &seen {
        assert!(request.request_line.contains(&server.addr.to_string()), "{request:?}");
        // base64("weir:pr0xy")
        assert_eq!(request.authorization.as_deref(), Some("Basic d2VpcjpwcjB4eQ=="), "{request:?}");
    }
}

#[test]
fn https_through_a_proxy_tunnel() {
    weir_runtime::client::install_crypto_provider();
    let (repo, commit) = fixture();
    let pki = Pki::new();
    let server = GitHttpsServer::start(&repo.root, &pki, false);
    let proxy = ForwardProxy::start();
    let http = HttpOptions::default()
        .with_tls(Some(pki.ca.as_bytes()), None, None)
        .unwrap()
        .with_proxy(&format!("http://{}", proxy.addr), None, None)
        .unwrap();
    let (revision, _dir, _temp) = fetch(&request(&server.url("secure"), http)).unwrap();
    assert_eq!(revision, format!("main@sha1:{commit}"));
    let seen = proxy.seen();
    assert!(
        seen.iter().any(|r| r.request_line.starts_with(&format!("CONNECT 127.0.0.1:{}", server.addr.port()))),
        "{seen:?}"
    );
}

#[test]
fn an_unreachable_proxy_fails_the_fetch() {
    weir_runtime::client::install_crypto_provider();
    let (repo, _) = fixture();
    let server = support::GitHttpServer::start(&repo.root, ServerAuth::None);
    // A port nothing listens on: the fetch must not silently go direct.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let http = HttpOptions::default().with_proxy(&closed.to_string(), None, None).unwrap();
    let error = fetch(&request(&server.url("secure"), http)).unwrap_err();
    assert!(!error.to_string().is_empty());
}
