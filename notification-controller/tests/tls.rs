//! `certSecretRef` end to end: a provider on a TLS server signed by a private CA, which also
//! requires a client certificate. The fixtures in tests/fixtures/tls are a test CA (key discarded)
//! with a server certificate for 127.0.0.1 and a client certificate, valid for 100 years.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use notification_controller::providers::http::Sender;
use notification_controller::providers::{self, DEFAULT_TIMEOUT, Endpoint, Notification, Tls};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use weir_api::notification::ProviderType;

const CA: &[u8] = include_bytes!("fixtures/tls/ca.crt");
const SERVER_CRT: &[u8] = include_bytes!("fixtures/tls/server.crt");
const SERVER_KEY: &[u8] = include_bytes!("fixtures/tls/server.key");
const CLIENT_CRT: &[u8] = include_bytes!("fixtures/tls/client.crt");
const CLIENT_KEY: &[u8] = include_bytes!("fixtures/tls/client.key");

/// A TLS server demanding a client certificate from the test CA; counts complete requests.
async fn mtls_server() -> (String, Arc<AtomicUsize>) {
    weir_runtime::client::install_crypto_provider();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_slice(CA).unwrap()).unwrap();
    let verifier = rustls::server::WebPkiClientVerifier::builder(Arc::new(roots)).build().unwrap();
    let config = rustls::ServerConfig::builder()
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![CertificateDer::from_pem_slice(SERVER_CRT).unwrap()],
            PrivateKeyDer::from_pem_slice(SERVER_KEY).unwrap(),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://127.0.0.1:{}/hook", listener.local_addr().unwrap().port());
    let count = Arc::new(AtomicUsize::new(0));
    let served = count.clone();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let (acceptor, served) = (acceptor.clone(), served.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                // Enough HTTP/1.1 for one small POST: headers, then Content-Length bytes.
                let mut data = Vec::new();
                let mut buf = [0u8; 4096];
                loop {
                    let Ok(n) = tls.read(&mut buf).await else { return };
                    if n == 0 {
                        return;
                    }
                    data.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&data).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length: usize = text[..end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string())
                            })
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0);
                        if data.len() >= end + 4 + length {
                            break;
                        }
                    }
                }
                served.fetch_add(1, Ordering::SeqCst);
                let _ = tls.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (url, count)
}

fn notification() -> Notification {
    let mut n = Notification::default();
    n.event.severity = "info".into();
    n.event.message = "hello over mTLS".into();
    n.event.involved_object.kind = Some("Kustomization".into());
    n.event.involved_object.name = Some("apps".into());
    n
}

async fn send(endpoint: &Endpoint) -> Result<(), String> {
    let request = providers::build(endpoint, &notification()).unwrap().unwrap();
    Sender::new().unwrap().send(endpoint, &request).await.map_err(|e| e.to_string())
}

#[tokio::test]
async fn cert_secret_ref_trusts_the_ca_and_presents_the_client_certificate() {
    let (url, count) = mtls_server().await;
    let mut endpoint =
        Endpoint { type_: Some(ProviderType::Generic), address: url, timeout: DEFAULT_TIMEOUT, ..Endpoint::default() };

    // System roots only: the private CA is unknown.
    let error = send(&endpoint).await.unwrap_err();
    assert!(error.to_lowercase().contains("certificate"), "{error}");

    // The CA but no client certificate: the server refuses the handshake.
    endpoint.tls = Some(Tls { ca: Some(CA.to_vec()), cert: None, key: None });
    assert!(send(&endpoint).await.is_err());
    assert_eq!(count.load(Ordering::SeqCst), 0);

    // ca.crt, tls.crt and tls.key: delivered.
    endpoint.tls = Some(Tls { ca: Some(CA.to_vec()), cert: Some(CLIENT_CRT.to_vec()), key: Some(CLIENT_KEY.to_vec()) });
    send(&endpoint).await.unwrap();
    assert_eq!(count.load(Ordering::SeqCst), 1);
}
