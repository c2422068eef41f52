//! How OCIRepository reaches a registry: Bearer token auth (a token gate in front of Debian's
//! docker-registry), TLS with a private CA and client certificates from `certSecretRef` (the
//! registry's own `http.tls`), and an HTTP proxy from `proxySecretRef`; all on loopback, driven
//! through the source-controller binary and a real API server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod oci_support;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, PostParams};
use source_controller::oci::Credentials;
use weir_api::conditions::{ConditionStatus, types};
use weir_api::meta::LocalObjectReference;
use weir_api::source::OCIRepository;
use weir_testenv::TestEnv;
use weir_testenv::controllers::Controllers;

use oci_support::forward_proxy::ForwardProxy;
use oci_support::token_gate::{SERVICE, TokenGate};
use oci_support::{
    Pki, Registry, condition, create, docker_config_secret, push_artifact, ready_true, secret, settled, spec_for_tag,
    tar_gz, unpack,
};

fn reference(name: &str) -> Option<LocalObjectReference> {
    Some(LocalObjectReference { name: name.into() })
}

/// Ready's status, reason and message.
fn ready(obj: &OCIRepository) -> (ConditionStatus, String, String) {
    let ready = condition(obj, types::READY).expect("a Ready condition");
    (ready.status, ready.reason, ready.message)
}

async fn create_secrets(api: &Api<Secret>, secrets: &[Secret]) {
    for secret in secrets {
        api.create(&PostParams::default(), secret).await.unwrap();
    }
}

#[tokio::test]
async fn bearer_tokens_from_the_registry_realm() {
    let env = TestEnv::shared().await;
    let namespace = env.namespace("oci-bearer").await;
    let registry = Registry::start(None);
    let layer = tar_gz(&[("app.yaml", "auth: bearer\n")]);
    let digest = push_artifact(&registry.client("team/app"), "v1", layer, vec![], &[]).await;
    let credentials = Credentials { username: "flux".into(), password: "t0ken-s3cret".into() };
    let gate = TokenGate::start(registry.addr, credentials.clone()).await;
    let host = gate.addr.to_string();
    let wrong = Credentials { username: "flux".into(), password: "not-the-password".into() };
    let secrets: Api<Secret> = Api::namespaced(env.client(), &namespace);
    create_secrets(
        &secrets,
        &[docker_config_secret("good", &host, &credentials), docker_config_secret("wrong", &host, &wrong)],
    )
    .await;

    let controllers = Controllers::start(env, &namespace, &["source-controller"], &[]).unwrap();
    let api: Api<OCIRepository> = Api::namespaced(env.client(), &namespace);
    let url = gate.url("team/app");
    for (name, pull_secret) in [("bearer", Some("good")), ("bearer-wrong", Some("wrong")), ("bearer-anonymous", None)] {
        let mut spec = spec_for_tag(&url, "v1");
        spec.secret_ref = pull_secret.and_then(reference);
        create(&api, name, spec).await;
    }

    let obj = settled(&controllers, &api, "bearer", None).await;
    assert!(ready_true(&obj), "{:?}", ready(&obj));
    assert_eq!(obj.status.as_ref().unwrap().artifact.as_ref().unwrap().revision, format!("v1@{digest}"));
    let dir = unpack(&obj).await;
    assert_eq!(std::fs::read_to_string(dir.path().join("app.yaml")).unwrap(), "auth: bearer\n");
    let granted: Vec<_> = gate.token_requests().into_iter().filter(|r| r.granted).collect();
    assert!(!granted.is_empty(), "no token was issued: {:?}", gate.token_requests());
    for request in &granted {
        assert_eq!(request.username.as_deref(), Some("flux"));
        assert_eq!(request.scope.as_deref(), Some("repository:team/app:pull"), "{request:?}");
        assert_eq!(request.service.as_deref(), Some(SERVICE), "{request:?}");
    }
    let forwarded = gate.forwarded();
    assert!(forwarded.iter().any(|r| r.starts_with("GET /v2/team/app/blobs/sha256:")), "{forwarded:?}");

    for name in ["bearer-wrong", "bearer-anonymous"] {
        let obj = settled(&controllers, &api, name, None).await;
        let (status, reason, message) = ready(&obj);
        assert_eq!((status, reason.as_str()), (ConditionStatus::False, "AuthenticationFailed"), "{name}: {message}");
        assert!(message.contains(&format!("the token endpoint http://{host}/token answered 401")), "{name}: {message}");
        assert!(!message.contains("not-the-password") && !message.contains("t0ken"), "{name}: {message}");
        assert!(obj.status.unwrap().artifact.is_none(), "{name}");
    }
    let refused = gate.token_requests().into_iter().filter(|r| !r.granted).count();
    assert!(refused >= 2, "the wrong and the missing credentials each asked for a token");
}

#[tokio::test]
async fn tls_with_a_private_ca_and_client_certificates() {
    weir_runtime::client::install_crypto_provider();
    let env = TestEnv::shared().await;
    let namespace = env.namespace("oci-tls").await;
    let pki = Pki::new();
    let registry = Registry::start_tls(&pki, true);
    let layer = tar_gz(&[("app.yaml", "tls: mutual\n")]);
    let digest = push_artifact(&registry.client("app"), "v1", layer, vec![], &[]).await;
    let secrets: Api<Secret> = Api::namespaced(env.client(), &namespace);
    let full =
        [("ca.crt", pki.ca.as_str()), ("tls.crt", pki.client_cert.as_str()), ("tls.key", pki.client_key.as_str())];
    create_secrets(&secrets, &[secret("mtls", None, &full), secret("ca-only", None, &full[..1])]).await;

    let controllers = Controllers::start(env, &namespace, &["source-controller"], &[]).unwrap();
    let api: Api<OCIRepository> = Api::namespaced(env.client(), &namespace);
    let url = registry.url("app");
    for (name, cert_secret) in [("mtls", Some("mtls")), ("ca-only", Some("ca-only")), ("no-ca", None)] {
        let mut spec = spec_for_tag(&url, "v1");
        spec.cert_secret_ref = cert_secret.and_then(reference);
        create(&api, name, spec).await;
    }

    let obj = settled(&controllers, &api, "mtls", None).await;
    assert!(ready_true(&obj), "{:?}\nregistry log:\n{}", ready(&obj), registry.log());
    assert_eq!(obj.status.as_ref().unwrap().artifact.as_ref().unwrap().revision, format!("v1@{digest}"));
    let dir = unpack(&obj).await;
    assert_eq!(std::fs::read_to_string(dir.path().join("app.yaml")).unwrap(), "tls: mutual\n");

    // Without the CA the server's certificate is not trusted; without a client certificate
    // the registry ends the handshake.
    let obj = settled(&controllers, &api, "no-ca", None).await;
    let (status, reason, message) = ready(&obj);
    assert_eq!((status, reason.as_str()), (ConditionStatus::False, "OCIArtifactPullFailed"), "{message}");
    assert!(message.contains(&format!("https://{}/v2/", registry.addr)), "{message}");
    assert!(message.contains("invalid peer certificate: UnknownIssuer"), "{message}");
    let obj = settled(&controllers, &api, "ca-only", None).await;
    let (status, _, message) = ready(&obj);
    assert_eq!(status, ConditionStatus::False, "{message}");
    // TLS 1.3 refuses a missing client certificate after the client's side of the handshake:
    // rustls only sees the connection closed.
    assert!(message.contains(&format!("GET https://{}/v2/: ", registry.addr)), "{message}");
    assert!(obj.status.unwrap().artifact.is_none());
}

#[tokio::test]
async fn pulls_through_the_proxy_of_proxy_secret_ref() {
    let env = TestEnv::shared().await;
    let namespace = env.namespace("oci-proxy").await;
    let registry = Registry::start(None);
    let layer = tar_gz(&[("app.yaml", "proxied: true\n")]);
    let digest = push_artifact(&registry.client("app"), "v1", layer, vec![], &[]).await;
    let proxy = ForwardProxy::start();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let secrets: Api<Secret> = Api::namespaced(env.client(), &namespace);
    let address = format!("http://{}", proxy.addr);
    let unreachable = format!("http://{closed}");
    create_secrets(
        &secrets,
        &[
            secret("proxy", None, &[("address", &address), ("username", "weir"), ("password", "pr0xy")]),
            secret("no-address", None, &[("username", "weir")]),
            secret("unreachable", None, &[("address", &unreachable)]),
        ],
    )
    .await;

    let controllers = Controllers::start(env, &namespace, &["source-controller"], &[]).unwrap();
    let api: Api<OCIRepository> = Api::namespaced(env.client(), &namespace);
    let url = registry.url("app");
    for (name, proxy_secret) in [("proxied", "proxy"), ("no-address", "no-address"), ("unreachable", "unreachable")] {
        let mut spec = spec_for_tag(&url, "v1");
        spec.proxy_secret_ref = reference(proxy_secret);
        create(&api, name, spec).await;
    }

    let obj = settled(&controllers, &api, "proxied", None).await;
    assert!(ready_true(&obj), "{:?}", ready(&obj));
    assert_eq!(obj.status.as_ref().unwrap().artifact.as_ref().unwrap().revision, format!("v1@{digest}"));
    let seen = proxy.seen();
    let registry_host = registry.addr.to_string();
    assert!(
        seen.iter().any(|r| r.request_line.starts_with(&format!("GET http://{registry_host}/v2/app/blobs/"))),
        "the layer was not pulled through the proxy: {seen:?}"
    );
    for request in &seen {
        assert!(request.request_line.contains(&registry_host), "{request:?}");
        // base64("weir:pr0xy")
        assert_eq!(request.authorization.as_deref(), Some("Basic d2VpcjpwcjB4eQ=="), "{request:?}");
    }

    let obj = settled(&controllers, &api, "no-address", None).await;
    let (status, reason, message) = ready(&obj);
    assert_eq!((status, reason.as_str()), (ConditionStatus::False, "AuthenticationFailed"), "{message}");
    assert!(
        message.ends_with(&format!("invalid proxy secret '{namespace}/no-address': key 'address' is missing")),
        "{message}"
    );
    // A proxy that does not answer fails the pull: it never goes direct.
    let obj = settled(&controllers, &api, "unreachable", None).await;
    let (status, _, message) = ready(&obj);
    assert_eq!(status, ConditionStatus::False, "{message}");
    assert!(obj.status.unwrap().artifact.is_none());
}
