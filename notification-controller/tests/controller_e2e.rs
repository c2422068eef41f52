//! The notification-controller binary against a real API server: Provider, Alert and Receiver
//! status; events in over HTTP and out to a loopback server through Alerts (matchLabels,
//! annotations, rate limiting, the resolved notification); GitHub-style webhooks that set
//! `reconcile.fluxcd.io/requestedAt` on a GitRepository, while forged, replayed and oversized
//! requests change nothing; and the whole loop with the source- and kustomize-controller running:
//! a push, its webhook, the change in the cluster, and the controllers' events out to a provider.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;
// Git servers on loopback (git http-backend behind a CGI shim).
use weir_testenv::git as git_support;

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ObjectMeta, Patch, PatchParams, PostParams};
use kube::{Resource, ResourceExt};
use notification_controller::resolved::SEND_RESOLVED_ANNOTATION;
use notification_controller::signature::{Algorithm, hex, hmac};
use serde_json::json;
use support::Capture;
use tokio::process::{Child, Command};
use weir_api::annotations::RECONCILE_REQUESTED_AT;
use weir_api::conditions::{self, ConditionStatus, types};
use weir_api::kustomize::Kustomization;
use weir_api::notification::{Alert, Provider, Receiver};
use weir_api::source::GitRepository;
use weir_testenv::controllers::Controllers;
use weir_testenv::{TestEnv, free_addr};

const WAIT: Duration = Duration::from_secs(60);

struct Controller {
    _child: Child,
    log: PathBuf,
    events: SocketAddr,
    hooks: SocketAddr,
}

impl Controller {
    fn start(env: &TestEnv, namespace: &str) -> Controller {
        let (events, hooks) = (free_addr(), free_addr());
        let log = std::env::temp_dir().join(format!("weir-notification-controller-{namespace}.log"));
        let child = Command::new(env!("CARGO_BIN_EXE_notification-controller"))
            .arg(format!("--kubeconfig={}", env.kubeconfig_path().display()))
            .arg(format!("--health-addr={}", free_addr()))
            .arg(format!("--metrics-addr={}", free_addr()))
            .arg(format!("--events-addr={events}"))
            .arg(format!("--receiver-addr={hooks}"))
            .arg("--watch-all-namespaces=false")
            .arg("--log-level=debug")
            .env("RUNTIME_NAMESPACE", namespace)
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .kill_on_drop(true)
            .spawn()
            .expect("starting notification-controller");
        Controller { _child: child, log, events, hooks }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Polls `check` until it returns Some, or fails with the controller's log.
    async fn eventually<T, F, Fut>(&self, what: &str, check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        weir_testenv::eventually(what, WAIT, || format!("controller log:\n{}", self.log()), check).await
    }

    /// POSTs to the event server once it listens.
    async fn post_event(&self, body: &[u8]) -> reqwest::StatusCode {
        let url = format!("http://{}/", self.events);
        self.eventually("the event server answers", || async {
            http().post(&url).header("Content-Type", "application/json").body(body.to_vec()).send().await.ok()
        })
        .await
        .status()
    }
}

fn http() -> reqwest::Client {
    weir_runtime::client::install_crypto_provider();
    reqwest::Client::builder().no_proxy().build().unwrap()
}

fn secret(name: &str, data: &[(&str, &str)]) -> Secret {
    let data: BTreeMap<String, ByteString> =
        data.iter().map(|(k, v)| (k.to_string(), ByteString(v.as_bytes().to_vec()))).collect();
    Secret {
        metadata: ObjectMeta { name: Some(name.into()), ..Default::default() },
        data: Some(data),
        ..Default::default()
    }
}

fn object<K: serde::de::DeserializeOwned>(value: serde_json::Value) -> K {
    serde_json::from_value(value).unwrap()
}

/// `(status, reason, message)` of the Ready condition once it reflects the current generation.
fn ready<K: Resource>(
    obj: &K,
    status: Option<&weir_api::notification::NotificationStatus>,
) -> Option<(ConditionStatus, String, String)> {
    let status = status?;
    (status.observed_generation == obj.meta().generation).then_some(())?;
    let c = conditions::find(status.conditions.as_deref()?, types::READY)?;
    Some((c.status, c.reason.clone(), c.message.clone()))
}

async fn provider_ready(c: &Controller, api: &Api<Provider>, name: &str, want: ConditionStatus) -> (String, String) {
    c.eventually(&format!("Provider {name} Ready={want:?}"), || async {
        let p = api.get(name).await.ok()?;
        let (status, reason, message) = ready(&p, p.status.as_ref())?;
        (status == want).then_some((reason, message))
    })
    .await
}

async fn alert_ready(c: &Controller, api: &Api<Alert>, name: &str, want: ConditionStatus) -> (String, String) {
    c.eventually(&format!("Alert {name} Ready={want:?}"), || async {
        let a = api.get(name).await.ok()?;
        let (status, reason, message) = ready(&a, a.status.as_ref())?;
        (status == want).then_some((reason, message))
    })
    .await
}

/// Asks the controller to look again now, as `flux reconcile` would.
async fn poke<K>(api: &Api<K>, name: &str, value: &str)
where
    K: Resource<DynamicType = ()> + Clone + std::fmt::Debug + serde::de::DeserializeOwned,
{
    let patch = json!({"metadata": {"annotations": {RECONCILE_REQUESTED_AT: value}}});
    api.patch(name, &PatchParams::default(), &Patch::Merge(&patch)).await.unwrap();
}

#[tokio::test]
async fn provider_and_alert_status() {
    let env = TestEnv::shared().await;
    let ns = env.namespace("notify-status").await;
    let client = env.client();
    let c = Controller::start(env, &ns);
    let providers: Api<Provider> = Api::namespaced(client.clone(), &ns);
    let alerts: Api<Alert> = Api::namespaced(client.clone(), &ns);
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
    let pp = PostParams::default();

    // A Provider whose Secret is missing, one with an address that does not parse, one that works.
    let missing = object(json!({"apiVersion": "notification.toolkit.fluxcd.io/v1beta3", "kind": "Provider",
        "metadata": {"name": "slack"}, "spec": {"type": "slack", "secretRef": {"name": "slack-url"}}}));
    providers.create(&pp, &missing).await.unwrap();
    let bad = object(json!({"apiVersion": "notification.toolkit.fluxcd.io/v1beta3", "kind": "Provider",
        "metadata": {"name": "bad"}, "spec": {"type": "generic", "address": "hooks.example.com:notaport/x"}}));
    providers.create(&pp, &bad).await.unwrap();
    let github = object(json!({"apiVersion": "notification.toolkit.fluxcd.io/v1beta3", "kind": "Provider",
        "metadata": {"name": "github"}, "spec": {"type": "github", "address": "https://github.com/org/repo"}}));
    providers.create(&pp, &github).await.unwrap();

    let (reason, message) = provider_ready(&c, &providers, "slack", ConditionStatus::False).await;
    assert_eq!(reason, "SecretNotFound");
    assert!(message.contains("slack-url"), "{message}");
    let (reason, _) = provider_ready(&c, &providers, "bad", ConditionStatus::False).await;
    assert_eq!(reason, "InvalidAddress");
    let (reason, message) = provider_ready(&c, &providers, "github", ConditionStatus::False).await;
    assert_eq!(reason, "TokenNotFound", "{message}");

    // An Alert on the broken Provider, and one on a Provider that does not exist.
    let on_slack = object(json!({"apiVersion": "notification.toolkit.fluxcd.io/v1beta3", "kind": "Alert",
        "metadata": {"name": "on-slack"}, "spec": {"providerRef": {"name": "slack"},
        "eventSources": [{"kind": "Kustomization", "name": "*"}]}}));
    alerts.create(&pp, &on_slack).await.unwrap();
    let orphan = object(json!({"apiVersion": "notification.toolkit.fluxcd.io/v1beta3", "kind": "Alert",
        "metadata": {"name": "orphan"}, "spec": {"providerRef": {"name": "nowhere"},
        "eventSources": [{"kind": "Kustomization", "name": "*"}], "exclusionList": ["("]}}));
    alerts.create(&pp, &orphan).await.unwrap();
    let (reason, _) = alert_ready(&c, &alerts, "on-slack", ConditionStatus::False).await;
    assert_eq!(reason, "ProviderNotReady");
    let (reason, message) = alert_ready(&c, &alerts, "orphan", ConditionStatus::False).await;
    assert_eq!(reason, "InvalidSpec", "a bad regex is reported first: {message}");

    // The Secret appears: the Provider becomes Ready, and so does the Alert that uses it.
    secrets.create(&pp, &secret("slack-url", &[("address", "https://hooks.slack.com/services/T/B/X")])).await.unwrap();
    poke(&providers, "slack", "1").await;
    let (reason, _) = provider_ready(&c, &providers, "slack", ConditionStatus::True).await;
    assert_eq!(reason, "Succeeded");
    alert_ready(&c, &alerts, "on-slack", ConditionStatus::True).await;

    // Fixing the regex leaves the missing Provider.
    let fix = json!({"spec": {"exclusionList": ["timeout"]}});
    alerts.patch("orphan", &PatchParams::default(), &Patch::Merge(&fix)).await.unwrap();
    let (reason, message) = alert_ready(&c, &alerts, "orphan", ConditionStatus::False).await;
    assert_eq!(reason, "ProviderNotFound");
    assert!(message.contains("nowhere"), "{message}");
}

fn event(
    kind: &str,
    api_version: &str,
    name: &str,
    ns: &str,
    severity: &str,
    message: &str,
    revision: &str,
) -> Vec<u8> {
    let group = api_version.split('/').next().unwrap();
    serde_json::to_vec(&json!({
        "involvedObject": {"kind": kind, "namespace": ns, "name": name, "apiVersion": api_version},
        "severity": severity,
        "timestamp": "2026-11-22T03:00:00Z",
        "message": message,
        "reason": if severity == "error" { "HealthCheckFailed" } else { "ReconciliationSucceeded" },
        "metadata": {format!("{group}/revision"): revision, format!("{group}/checksum"): "dropped"},
        "reportingController": "kustomize-controller",
        "reportingInstance": "kustomize-controller-1"
    }))
    .unwrap()
}

#[tokio::test]
async fn events_are_forwarded_as_alerts_select_them() {
    let env = TestEnv::shared().await;
    let ns = env.namespace("notify-events").await;
    let client = env.client();
    let c = Controller::start(env, &ns);
    let capture = Capture::start().await;
    let pp = PostParams::default();
    let providers: Api<Provider> = Api::namespaced(client.clone(), &ns);
    let alerts: Api<Alert> = Api::namespaced(client.clone(), &ns);
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
    let kustomizations: Api<Kustomization> = Api::namespaced(client.clone(), &ns);

    secrets.create(&pp, &secret("hmac", &[("token", "hmac-key")])).await.unwrap();
    let provider = object(json!({"apiVersion": "notification.toolkit.fluxcd.io/v1beta3", "kind": "Provider",
        "metadata": {"name": "hook"}, "spec": {"type": "generic-hmac", "address": capture.url("/flux"),
        "secretRef": {"name": "hmac"}}}));
    providers.create(&pp, &provider).await.unwrap();
    // Labelled Kustomizations only, with metadata and an opt-in resolved notification; errors only.
    let alert = object(json!({"apiVersion": "notification.toolkit.fluxcd.io/v1beta3", "kind": "Alert",
        "metadata": {"name": "team-a", "annotations": {SEND_RESOLVED_ANNOTATION: "true"}},
        "spec": {"providerRef": {"name": "hook"}, "eventSeverity": "error", "summary": "prod",
        "eventMetadata": {"cluster": "eu-1"}, "exclusionList": ["^ignored"],
        "eventSources": [{"kind": "Kustomization", "name": "*", "matchLabels": {"team": "a"}}]}}));
    alerts.create(&pp, &alert).await.unwrap();
    for (name, team) in [("apps", "a"), ("infra", "b")] {
        let k: Kustomization = object(json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": name, "labels": {"team": team},
                         "annotations": {"event.toolkit.fluxcd.io/owner": "team-a@example.com"}},
            "spec": {"interval": "10m", "prune": true, "sourceRef": {"kind": "GitRepository", "name": "repo"}}}));
        kustomizations.create(&pp, &k).await.unwrap();
    }
    alert_ready(&c, &alerts, "team-a", ConditionStatus::True).await;

    let kv1 = "kustomize.toolkit.fluxcd.io/v1";
    let rev = "main@sha1:a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";
    // Not forwarded: an info event (error alert), team b, an excluded message, another namespace.
    assert_eq!(c.post_event(&event("Kustomization", kv1, "apps", &ns, "info", "applied", rev)).await, 202);
    assert_eq!(c.post_event(&event("Kustomization", kv1, "infra", &ns, "error", "failed", rev)).await, 202);
    assert_eq!(c.post_event(&event("Kustomization", kv1, "apps", &ns, "error", "ignored: x", rev)).await, 202);
    assert_eq!(c.post_event(&event("Kustomization", kv1, "apps", "elsewhere", "error", "failed", rev)).await, 202);
    // Forwarded.
    let started = std::time::Instant::now();
    assert_eq!(c.post_event(&event("Kustomization", kv1, "apps", &ns, "error", "health check failed", rev)).await, 202);
    let requests = capture.wait_for(1, WAIT).await;
    eprintln!("event POST to delivery at the provider: {:?}", started.elapsed());
    let r = &requests[0];
    let body = r.json();
    assert_eq!(body["message"], "health check failed", "only the selected event arrives first: {body}");
    assert_eq!(body["involvedObject"]["name"], "apps");
    assert_eq!(body["metadata"]["revision"], rev);
    assert!(body["metadata"].get("checksum").is_none());
    assert_eq!(body["metadata"]["summary"], "prod");
    assert_eq!(body["metadata"]["cluster"], "eu-1");
    assert_eq!(body["metadata"]["owner"], "team-a@example.com");
    let signature = format!("sha256={}", hex(&hmac(Algorithm::Sha256, b"hmac-key", &r.body)));
    assert_eq!(r.header("x-signature"), Some(signature.as_str()));

    // The same event again within the interval is refused and not sent.
    assert_eq!(c.post_event(&event("Kustomization", kv1, "apps", &ns, "error", "health check failed", rev)).await, 429);
    // Bad payloads.
    assert_eq!(c.post_event(b"{not json").await, 400);
    assert_eq!(c.post_event(br#"{"involvedObject": {"kind": "Kustomization"}, "severity": "info"}"#).await, 400);
    let huge = vec![b' '; 3 * 1024 * 1024 + 1];
    assert_eq!(c.post_event(&huge).await, 413);

    // The object recovers: the error alert sends one resolved notification.
    assert_eq!(
        c.post_event(&event("Kustomization", kv1, "apps", &ns, "info", "Reconciliation finished", rev)).await,
        202
    );
    let requests = capture.wait_for(2, WAIT).await;
    let resolved = requests[1].json();
    assert_eq!(resolved["message"], "Resolved: health check failed");
    assert_eq!(resolved["severity"], "info");
    assert_eq!(resolved["metadata"]["resolved"], "true");
    // Nothing else was sent: wait for any stray delivery, then count.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(capture.requests().len(), 2, "{:#?}", capture.requests());
}

fn github_push(token: &str, body: &[u8], delivery: &str) -> Vec<(&'static str, String)> {
    vec![
        ("X-GitHub-Event", "push".into()),
        ("X-GitHub-Delivery", delivery.into()),
        ("X-Hub-Signature-256", format!("sha256={}", hex(&hmac(Algorithm::Sha256, token.as_bytes(), body)))),
        ("Content-Type", "application/json".into()),
    ]
}

#[tokio::test]
async fn github_webhook_requests_a_reconcile() {
    let env = TestEnv::shared().await;
    let ns = env.namespace("notify-hooks").await;
    let client = env.client();
    let c = Controller::start(env, &ns);
    let pp = PostParams::default();
    let repos: Api<GitRepository> = Api::namespaced(client.clone(), &ns);
    let receivers: Api<Receiver> = Api::namespaced(client.clone(), &ns);
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);

    for (name, labels) in [("podinfo", json!({})), ("labelled", json!({"app": "web"})), ("other", json!({"app": "db"}))]
    {
        let repo: GitRepository = object(json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
            "metadata": {"name": name, "labels": labels},
            "spec": {"url": "https://github.com/org/podinfo", "interval": "1h"}}));
        repos.create(&pp, &repo).await.unwrap();
    }
    let token = "webhook-token-1";
    secrets.create(&pp, &secret("webhook-token", &[("token", token)])).await.unwrap();
    let receiver: Receiver = object(json!({"apiVersion": "notification.toolkit.fluxcd.io/v1", "kind": "Receiver",
        "metadata": {"name": "github"}, "spec": {"type": "github", "events": ["push"],
        "secretRef": {"name": "webhook-token"}, "resources": [
            {"kind": "GitRepository", "name": "podinfo"},
            {"kind": "GitRepository", "name": "*", "matchLabels": {"app": "web"}}]}}));
    receivers.create(&pp, &receiver).await.unwrap();

    let path = c
        .eventually("the Receiver is Ready with a webhook path", || async {
            let r = receivers.get("github").await.ok()?;
            let status = r.status.as_ref()?;
            let ready = conditions::find(status.conditions.as_deref()?, types::READY)?;
            (ready.status == ConditionStatus::True && status.observed_generation == r.metadata.generation)
                .then(|| status.webhook_path.clone())?
        })
        .await;
    assert_eq!(path, weir_api::notification::webhook_path(token, "github", &ns));
    let r = receivers.get("github").await.unwrap();
    let ready = conditions::find(r.status.as_ref().unwrap().conditions.as_deref().unwrap(), types::READY).unwrap();
    assert_eq!(ready.message, format!("Receiver initialized for path: {path}"));

    let url = format!("http://{}{path}", c.hooks);
    let send = |headers: Vec<(&'static str, String)>, body: Vec<u8>| {
        let url = url.clone();
        async move {
            let mut request = http().post(&url).body(body);
            for (k, v) in headers {
                request = request.header(k, v);
            }
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    let requested = |name: &'static str| {
        let repos = repos.clone();
        async move { repos.get(name).await.unwrap().annotations().get(RECONCILE_REQUESTED_AT).cloned() }
    };
    let body = br#"{"ref":"refs/heads/main","after":"a1b2c3d4"}"#.to_vec();

    // Forged signature, missing signature, wrong path: 401/401/404 and nothing annotated.
    let mut forged = github_push("not-the-token", &body, "d-0");
    forged.truncate(4);
    c.eventually("the webhook server answers", || async { http().post(&url).send().await.ok().map(|_| ()) }).await;
    assert_eq!(send(forged, body.clone()).await.0, 401);
    assert_eq!(send(vec![("X-GitHub-Event", "push".into())], body.clone()).await.0, 401);
    let wrong = format!("http://{}/hook/{}", c.hooks, "0".repeat(64));
    assert_eq!(http().post(&wrong).body(body.clone()).send().await.unwrap().status().as_u16(), 404);
    // A signed event that spec.events does not list, and a ping: 200, nothing changes.
    let mut release = github_push(token, &body, "d-1");
    release[0].1 = "release".into();
    assert_eq!(send(release, body.clone()).await.0, 200);
    let mut ping = github_push(token, &body, "d-2");
    ping[0].1 = "ping".into();
    assert_eq!(send(ping, body.clone()).await, (200, "pong\n".to_string()));
    // Oversized.
    let huge = vec![b'x'; 3 * 1024 * 1024 + 1];
    assert_eq!(send(github_push(token, &huge, "d-3"), huge.clone()).await.0, 413);
    for name in ["podinfo", "labelled", "other"] {
        assert_eq!(requested(name).await, None, "{name} must not be annotated yet");
    }

    // The signed push: the named and the labelled repositories are asked to reconcile.
    let started = std::time::Instant::now();
    let (status, text) = send(github_push(token, &body, "d-4"), body.clone()).await;
    eprintln!("signed webhook to 2 objects annotated (response): {:?}", started.elapsed());
    assert_eq!((status, text.as_str()), (200, "reconciliation requested for 2 object(s)\n"));
    let first = requested("podinfo").await.expect("podinfo annotated");
    assert!(first.parse::<jiff::Timestamp>().is_ok(), "requestedAt is an RFC 3339 time: {first}");
    assert_eq!(requested("labelled").await, Some(first.clone()));
    assert_eq!(requested("other").await, None);

    // The same delivery again is a replay: 409, the annotation stays.
    assert_eq!(send(github_push(token, &body, "d-4"), body.clone()).await.0, 409);
    assert_eq!(requested("podinfo").await, Some(first.clone()));
    // A new delivery requests again.
    assert_eq!(send(github_push(token, &body, "d-5"), body.clone()).await.0, 200);
    let second = requested("podinfo").await.unwrap();
    assert_ne!(second, first);

    // A rotated token moves the path: the old one stops working.
    let rotate = json!({"data": {"token": k8s_openapi::ByteString(b"webhook-token-2".to_vec())}});
    secrets.patch("webhook-token", &PatchParams::default(), &Patch::Merge(&rotate)).await.unwrap();
    assert_eq!(send(github_push("webhook-token-2", &body, "d-6"), body.clone()).await.0, 404);
}

#[tokio::test]
async fn a_push_webhook_gets_the_commit_into_the_cluster_and_the_controllers_events_out() {
    let env = TestEnv::shared().await;
    let ns = env.namespace("notify-loop").await;
    let client = env.client();
    let configmap = |value: &str| {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  namespace: {ns}\ndata:\n  value: {value}\n")
    };
    let repo = git_support::Repo::new("app");
    let first = repo.commit(&[("deploy/app.yaml", &configmap("one"))], "first");
    repo.push("main");
    let git = git_support::GitHttpServer::start(&repo.root, git_support::ServerAuth::None);

    // The notification-controller first: the other controllers send their events to it.
    let c = Controller::start(env, &ns);
    let events_addr = format!("--events-addr=http://{}/", c.events);
    let controllers = Controllers::start(env, &ns, &["source-controller", "kustomize-controller"], &[events_addr])
        .expect("starting source-controller and kustomize-controller");
    let capture = Capture::start().await;
    let pp = PostParams::default();
    let repos: Api<GitRepository> = Api::namespaced(client.clone(), &ns);
    let kustomizations: Api<Kustomization> = Api::namespaced(client.clone(), &ns);
    let receivers: Api<Receiver> = Api::namespaced(client.clone(), &ns);
    let providers: Api<Provider> = Api::namespaced(client.clone(), &ns);
    let alerts: Api<Alert> = Api::namespaced(client.clone(), &ns);
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
    let configmaps: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(client.clone(), &ns);

    let provider = object(json!({"apiVersion": "notification.toolkit.fluxcd.io/v1beta3", "kind": "Provider",
        "metadata": {"name": "capture"}, "spec": {"type": "generic", "address": capture.url("/events")}}));
    providers.create(&pp, &provider).await.unwrap();
    let alert = object(json!({"apiVersion": "notification.toolkit.fluxcd.io/v1beta3", "kind": "Alert",
        "metadata": {"name": "deploys"}, "spec": {"providerRef": {"name": "capture"}, "eventSeverity": "info",
        "eventSources": [{"kind": "Kustomization", "name": "*"}]}}));
    alerts.create(&pp, &alert).await.unwrap();
    alert_ready(&c, &alerts, "deploys", ConditionStatus::True).await;

    // Intervals of an hour: only the webhook can bring the second commit within the test.
    let git_repo: GitRepository = object(json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
        "metadata": {"name": "app"}, "spec": {"url": git.url("app"), "interval": "1h", "ref": {"branch": "main"}}}));
    repos.create(&pp, &git_repo).await.unwrap();
    let kustomization: Kustomization = object(json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization", "metadata": {"name": "app"}, "spec": {"interval": "1h", "path": "./deploy",
        "prune": true, "sourceRef": {"kind": "GitRepository", "name": "app"}}}));
    kustomizations.create(&pp, &kustomization).await.unwrap();
    let value = || async { configmaps.get_opt("app").await.ok().flatten()?.data?.get("value").cloned() };
    let wait_for_value = |want: &'static str| {
        let value = &value;
        let controllers = &controllers;
        async move {
            let deadline = tokio::time::Instant::now() + WAIT;
            while value().await.as_deref() != Some(want) {
                assert!(tokio::time::Instant::now() < deadline, "value never became {want}:\n{}", controllers.logs());
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    wait_for_value("one").await;

    let token = "loop-token";
    secrets.create(&pp, &secret("hook", &[("token", token)])).await.unwrap();
    let receiver: Receiver = object(json!({"apiVersion": "notification.toolkit.fluxcd.io/v1", "kind": "Receiver",
        "metadata": {"name": "push"}, "spec": {"type": "github", "events": ["push"], "secretRef": {"name": "hook"},
        "resources": [{"kind": "GitRepository", "name": "app"}]}}));
    receivers.create(&pp, &receiver).await.unwrap();
    let path = c
        .eventually("the Receiver has its path", || async { receivers.get("push").await.ok()?.status?.webhook_path })
        .await;

    let second = repo.commit(&[("deploy/app.yaml", &configmap("two"))], "second");
    repo.push("main");
    let body = serde_json::to_vec(&json!({"ref": "refs/heads/main", "after": second})).unwrap();
    let url = format!("http://{}{path}", c.hooks);
    let started = std::time::Instant::now();
    let status = c
        .eventually("the webhook server answers", || async {
            let mut request = http().post(&url).body(body.clone());
            for (k, v) in github_push(token, &body, "loop-1") {
                request = request.header(k, v);
            }
            request.send().await.ok().map(|r| r.status().as_u16())
        })
        .await;
    assert_eq!(status, 200);
    wait_for_value("two").await;
    eprintln!("push webhook to the change in the cluster: {:?}", started.elapsed());

    // The kustomize-controller's own events reached the Alert, with the revision it applied.
    let second_revision = format!("main@sha1:{second}");
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let delivered = capture.requests().iter().map(|r| r.json()).any(|e| {
            e["involvedObject"]["kind"] == "Kustomization" && e["metadata"]["revision"] == second_revision.as_str()
        });
        if delivered {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no event for {second_revision} (first was {first}); delivered: {:#?}\n{}",
            capture.requests().iter().map(|r| r.json()).collect::<Vec<_>>(),
            c.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
