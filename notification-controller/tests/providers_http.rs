//! Every supported provider type delivered over real HTTP to a loopback server playing the
//! service: method, path, the fields each service requires, auth headers and signatures. Commit
//! statuses go to servers playing the GitHub, GitLab, Gitea and Bitbucket APIs. No API server.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::time::Duration;

use notification_controller::providers::http::Sender;
use notification_controller::providers::{self, DEFAULT_TIMEOUT, Endpoint, Notification, Proxy};
use notification_controller::signature::{Algorithm, hex, hmac};
use support::{Capture, Recorded};
use weir_api::event::Event;
use weir_api::notification::ProviderType;

const SHA: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";
const WAIT: Duration = Duration::from_secs(10);

fn notification(severity: &str) -> Notification {
    let mut event = Event {
        severity: severity.into(),
        timestamp: "2026-11-22T02:00:00Z".into(),
        message: "Health check failed after 30s".into(),
        reason: "HealthCheckFailed".into(),
        reporting_controller: "kustomize-controller".into(),
        ..Event::default()
    };
    event.involved_object.kind = Some("Kustomization".into());
    event.involved_object.name = Some("apps".into());
    event.involved_object.namespace = Some("flux-system".into());
    event.involved_object.api_version = Some("kustomize.toolkit.fluxcd.io/v1".into());
    event.metadata.insert("revision".into(), format!("main@sha1:{SHA}"));
    Notification { event, resolved: false }
}

fn endpoint(type_: ProviderType, address: String) -> Endpoint {
    Endpoint {
        type_: Some(type_),
        name: "p".into(),
        namespace: "flux-system".into(),
        uid: "9f8e7d6c-1111-2222-3333-444455556666".into(),
        address,
        timeout: DEFAULT_TIMEOUT,
        ..Endpoint::default()
    }
}

/// Builds and sends one notification, returns what the server received.
async fn deliver(capture: &Capture, endpoint: &Endpoint, n: &Notification) -> Recorded {
    let before = capture.requests().len();
    let request = providers::build(endpoint, n).unwrap().expect("a request");
    Sender::new().unwrap().send(endpoint, &request).await.unwrap();
    capture.wait_for(before + 1, WAIT).await.pop().unwrap()
}

#[tokio::test]
async fn generic_and_generic_hmac() {
    let capture = Capture::start().await;
    let mut e = endpoint(ProviderType::Generic, capture.url("/hook"));
    e.headers.insert("X-Env".into(), "prod".into());
    e.basic_auth = Some(("user".into(), "pass".into()));
    let r = deliver(&capture, &e, &notification("error")).await;
    assert_eq!((r.method.as_str(), r.uri.as_str()), ("POST", "/hook"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("x-env"), Some("prod"));
    assert_eq!(r.header("authorization"), Some("Basic dXNlcjpwYXNz"));
    let body = r.json();
    assert_eq!(body["involvedObject"]["name"], "apps");
    assert_eq!(body["severity"], "error");
    assert_eq!(body["reason"], "HealthCheckFailed");
    assert_eq!(body["metadata"]["revision"], format!("main@sha1:{SHA}"));
    assert_eq!(body["reportingController"], "kustomize-controller");

    let mut e = endpoint(ProviderType::GenericHmac, capture.url("/signed"));
    e.token = Some("hmac-key".into());
    let r = deliver(&capture, &e, &notification("info")).await;
    let expected = format!("sha256={}", hex(&hmac(Algorithm::Sha256, b"hmac-key", &r.body)));
    assert_eq!(r.header("x-signature"), Some(expected.as_str()), "signature over the bytes received");
}

#[tokio::test]
async fn chat_services() {
    let capture = Capture::start().await;
    let n = notification("error");

    let mut slack = endpoint(ProviderType::Slack, capture.url("/services/T0/B0/x"));
    slack.channel = Some("#ops".into());
    slack.username = Some("weir".into());
    let r = deliver(&capture, &slack, &n).await;
    assert_eq!(r.uri, "/services/T0/B0/x");
    let b = r.json();
    assert_eq!(b["channel"], "#ops");
    assert_eq!(b["username"], "weir");
    assert_eq!(b["attachments"][0]["color"], "danger");
    assert_eq!(b["attachments"][0]["text"], "Health check failed after 30s");
    assert_eq!(b["attachments"][0]["author_name"], "kustomization/apps.flux-system");

    slack.token = Some("xoxb-token".into());
    slack.address = capture.url("/api/chat.postMessage");
    let r = deliver(&capture, &slack, &n).await;
    assert_eq!(r.header("authorization"), Some("Bearer xoxb-token"));
    assert_eq!(r.json()["channel"], "#ops");

    let r = deliver(&capture, &endpoint(ProviderType::Discord, capture.url("/api/webhooks/1/tok")), &n).await;
    assert_eq!(r.uri, "/api/webhooks/1/tok/slack");
    assert!(r.json()["attachments"][0]["text"].is_string());

    let r = deliver(&capture, &endpoint(ProviderType::Rocket, capture.url("/hooks/rocket")), &n).await;
    assert_eq!(r.json()["attachments"][0]["author_name"], "kustomization/apps.flux-system");

    let r = deliver(&capture, &endpoint(ProviderType::MsTeams, capture.url("/workflows/1")), &n).await;
    let b = r.json();
    assert_eq!(b["type"], "message");
    assert_eq!(b["attachments"][0]["contentType"], "application/vnd.microsoft.card.adaptive");
    assert_eq!(b["attachments"][0]["content"]["type"], "AdaptiveCard");
    assert!(b["attachments"][0]["content"]["body"].as_array().unwrap().len() >= 2);

    let r =
        deliver(&capture, &endpoint(ProviderType::GoogleChat, capture.url("/v1/spaces/S/messages?key=k")), &n).await;
    assert_eq!(r.uri, "/v1/spaces/S/messages?key=k");
    assert_eq!(r.json()["cards"][0]["header"]["title"], "kustomization/apps.flux-system");

    let mut matrix = endpoint(ProviderType::Matrix, capture.url(""));
    matrix.token = Some("syt_token".into());
    matrix.channel = Some("!room:example.org".into());
    let r = deliver(&capture, &matrix, &n).await;
    assert_eq!(r.method.as_str(), "PUT");
    assert!(r.uri.starts_with("/_matrix/client/r0/rooms/%21room%3Aexample.org/send/m.room.message/"), "{}", r.uri);
    assert_eq!(r.header("authorization"), Some("Bearer syt_token"));
    assert_eq!(r.json()["msgtype"], "m.text");

    let mut telegram = endpoint(ProviderType::Telegram, capture.url(""));
    telegram.token = Some("123:abc".into());
    telegram.channel = Some("@flux".into());
    let r = deliver(&capture, &telegram, &n).await;
    assert_eq!(r.uri, "/bot123:abc/sendMessage");
    assert_eq!(r.json()["chat_id"], "@flux");
    assert!(r.json()["text"].as_str().unwrap().contains("Health check failed"));

    let r = deliver(&capture, &endpoint(ProviderType::Alertmanager, capture.url("/api/v2/alerts")), &n).await;
    let b = r.json();
    assert!(b.is_array());
    assert_eq!(b[0]["labels"]["alertname"], "FluxKustomizationHealthCheckFailed");
    assert_eq!(b[0]["annotations"]["message"], "Health check failed after 30s");

    let mut dispatch = endpoint(ProviderType::GitHubDispatch, capture.url("/org/repo"));
    dispatch.token = Some("ghp_x".into());
    let r = deliver(&capture, &dispatch, &n).await;
    assert_eq!(r.uri, "/api/v3/repos/org/repo/dispatches");
    assert_eq!(r.json()["event_type"], "Kustomization/apps.flux-system");
    assert_eq!(r.header("authorization"), Some("Bearer ghp_x"));
}

#[tokio::test]
async fn commit_statuses_on_each_forge() {
    let capture = Capture::start().await;
    let error = notification("error");
    let info = notification("info");

    let mut github = endpoint(ProviderType::GitHub, capture.url("/org/repo.git"));
    github.token = Some("gh-token".into());
    let r = deliver(&capture, &github, &error).await;
    assert_eq!(r.uri, format!("/api/v3/repos/org/repo/statuses/{SHA}"));
    assert_eq!(r.header("authorization"), Some("Bearer gh-token"));
    assert_eq!(
        r.json(),
        serde_json::json!({"state": "failure", "context": "kustomization/apps/9f8e7d6c", "description": "Health check failed"})
    );

    let mut gitlab = endpoint(ProviderType::GitLab, capture.url("/group/sub/repo"));
    gitlab.token = Some("gl-token".into());
    let r = deliver(&capture, &gitlab, &info).await;
    assert_eq!(r.uri, format!("/api/v4/projects/group%2Fsub%2Frepo/statuses/{SHA}"));
    assert_eq!(r.header("private-token"), Some("gl-token"));
    assert_eq!(r.json()["state"], "success");
    assert_eq!(r.json()["name"], "kustomization/apps/9f8e7d6c");

    let mut gitea = endpoint(ProviderType::Gitea, capture.url("/org/repo"));
    gitea.token = Some("gt-token".into());
    let r = deliver(&capture, &gitea, &error).await;
    assert_eq!(r.uri, format!("/api/v1/repos/org/repo/statuses/{SHA}"));
    assert_eq!(r.header("authorization"), Some("token gt-token"));
    assert_eq!(r.json()["state"], "failure");
    assert_eq!(r.json()["context"], "kustomization/apps/9f8e7d6c");

    let mut bitbucket = endpoint(ProviderType::Bitbucket, capture.url("/org/repo"));
    bitbucket.token = Some("bb-user:app-password".into());
    let r = deliver(&capture, &bitbucket, &info).await;
    assert_eq!(r.uri, format!("/2.0/repositories/org/repo/commit/{SHA}/statuses/build"));
    assert_eq!(r.header("authorization"), Some("Basic YmItdXNlcjphcHAtcGFzc3dvcmQ="));
    let b = r.json();
    assert_eq!(b["state"], "SUCCESSFUL");
    assert_eq!(b["name"], "kustomization/apps/9f8e7d6c");
    assert_eq!(b["key"].as_str().unwrap().len(), 40);
    assert!(b["url"].is_string());

    // An event without a revision posts no status.
    let mut bare = notification("info");
    bare.event.metadata.clear();
    assert_eq!(providers::build(&github, &bare), Ok(None));
}

#[tokio::test]
async fn through_a_proxy_with_credentials() {
    let proxy = Capture::start().await;
    let mut e = endpoint(ProviderType::Generic, "http://hooks.invalid.example/flux".into());
    e.proxy = Some(Proxy { address: proxy.url(""), username: Some("pu".into()), password: Some("pp".into()) });
    let r = deliver(&proxy, &e, &notification("info")).await;
    assert_eq!(r.uri, "http://hooks.invalid.example/flux", "the proxy gets the absolute URI");
    assert_eq!(r.header("proxy-authorization"), Some("Basic cHU6cHA="));
}

#[tokio::test]
async fn failures_carry_the_status_and_hide_the_token() {
    // Nothing listens on this port once the listener is dropped.
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mut e = endpoint(ProviderType::Telegram, format!("http://{addr}"));
    e.token = Some("999:secret-bot-token".into());
    e.channel = Some("@c".into());
    let request = providers::build(&e, &notification("info")).unwrap().unwrap();
    let error = Sender::new().unwrap().send(&e, &request).await.unwrap_err().to_string();
    assert!(!error.contains("secret-bot-token"), "{error}");
    assert!(error.contains("*****"), "{error}");
}
