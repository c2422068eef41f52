//! Change latency: a commit is pushed, the Git host's webhook reaches a `generic` Receiver of
//! the notification-controller, which asks the GitRepository to reconcile; the source-controller
//! packs the commit, the kustomize-controller applies it. Measured per commit from the webhook
//! being sent, with each hop's arrival seen on a watch: where the time goes, not only how much.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use k8s_openapi::api::core::v1::Service;
use kube::api::Api;
use serde_json::json;
use weir_api::annotations::RECONCILE_REQUESTED_AT;
use weir_api::conditions::{self, ConditionStatus, types};
use weir_api::kustomize::Kustomization;
use weir_api::notification::Receiver;
use weir_api::source::GitRepository;
use weir_testenv::TestEnv;
use weir_testenv::controllers::Controllers;
use weir_testenv::free_addr;

use crate::bulk_create::create_all;
use crate::readiness::{tail, wait_all_ready};
use crate::support::{GitHttpServer, Repo, ServerAuth};
use crate::timeline::Timeline;
use crate::workload::{app_objects, to_yaml_stream};

const HOME: &str = "bench-webhook";
const TARGET: &str = "bench-webhook-app";
const TOKEN: &str = "bench-webhook-token";
/// The annotation each commit changes on the app's Service.
const COMMIT_ANNOTATION: &str = "bench.weir.dev/commit";
const HOP_LIMIT: Duration = Duration::from_secs(120);

/// When each hop of one commit was seen, from the moment the webhook was sent.
#[derive(Debug, Clone, Copy, Default)]
pub struct Hops {
    /// The Receiver answered (it has annotated the GitRepository by then).
    pub answered: Duration,
    /// The GitRepository's new `requestedAt` arrived on the watch.
    pub requested: Duration,
    /// The GitRepository's status carried the commit's artifact.
    pub artifact: Duration,
    /// The changed Service was in the cluster: the latency a user sees.
    pub applied: Duration,
    /// The Kustomization was Ready at the commit (after its health wait).
    pub ready: Duration,
}

#[derive(Debug, Default)]
pub struct WebhookRun {
    pub commits: Vec<Hops>,
}

pub async fn run(env: &TestEnv, commits: usize) -> anyhow::Result<WebhookRun> {
    let client = env.client();
    crate::floor::create_namespaces(&client, &[HOME.to_string(), TARGET.to_string()], 2).await?;
    let repo = Repo::new("hook");
    let app = |commit: usize| {
        let mut objects = app_objects("app", None);
        objects[2]["metadata"]["annotations"] = json!({ COMMIT_ANNOTATION: commit.to_string() });
        to_yaml_stream(&objects)
    };
    repo.commit(&[("apps/app/app.yaml", &app(0))], "the app");
    repo.push("main");
    let server = GitHttpServer::start(&repo.root, ServerAuth::None);

    // As Flux is deployed: the controllers send their events to the notification-controller.
    let (events, hooks) = (free_addr(), free_addr());
    let notification = Controllers::start(
        env,
        HOME,
        &["notification-controller"],
        &[format!("--events-addr={events}"), format!("--receiver-addr={hooks}")],
    )
    .context("starting the notification-controller")?;
    let controllers = Controllers::start(
        env,
        HOME,
        &["source-controller", "kustomize-controller"],
        &[format!("--events-addr=http://{events}/")],
    )
    .context("starting the source- and kustomize-controller")?;
    let logs = || format!("{}{}", notification.logs(), controllers.logs());

    let repos: Api<GitRepository> = Api::namespaced(client.clone(), HOME);
    let kustomizations: Api<Kustomization> = Api::namespaced(client.clone(), HOME);
    let receivers: Api<Receiver> = Api::namespaced(client.clone(), HOME);
    let source = json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
        "metadata": {"name": "hook"}, "spec": {"url": server.url("hook"), "interval": "60m", "ref": {"branch": "main"}}});
    create_all(&repos, vec![source], 1).await?;
    let ks = json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": "app"},
        "spec": {"interval": "60m", "path": "./apps/app", "prune": true, "wait": true, "timeout": "5m",
                 "targetNamespace": TARGET, "sourceRef": {"kind": "GitRepository", "name": "hook"}}});
    create_all(&kustomizations, vec![ks], 1).await?;
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "webhook-token"},
        "stringData": {"token": TOKEN}});
    create_all(&Api::<k8s_openapi::api::core::v1::Secret>::namespaced(client.clone(), HOME), vec![secret], 1).await?;
    let receiver = json!({"apiVersion": "notification.toolkit.fluxcd.io/v1", "kind": "Receiver",
        "metadata": {"name": "push"},
        "spec": {"type": "generic", "secretRef": {"name": "webhook-token"},
                 "resources": [{"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository", "name": "hook"}]}});
    create_all(&receivers, vec![receiver], 1).await?;

    wait_all_ready(&kustomizations, 1, None, HOP_LIMIT, &controllers).await?;
    let url = webhook_url(&receivers, hooks, &logs).await?;
    let http = reqwest::Client::new();
    let git_repository = Timeline::watch(repos.clone(), "hook");
    let kustomization = Timeline::watch(kustomizations.clone(), "app");
    let service = Timeline::watch(Api::<Service>::namespaced(client.clone(), TARGET), "app");

    let mut run = WebhookRun::default();
    for commit in 1..=commits {
        let sha = repo.commit(&[("apps/app/app.yaml", &app(commit))], &format!("commit {commit}"));
        repo.push("main");
        let sha = sha.trim().to_string();
        let previous_request = requested_at(&repos.get("hook").await?);
        let sent = Instant::now();
        let answer = http.post(&url).json(&json!({"commit": sha})).send().await.context("sending the webhook")?;
        let answered = sent.elapsed();
        if !answer.status().is_success() {
            let status = answer.status();
            bail!("the Receiver refused the webhook with {status}: {}", answer.text().await.unwrap_or_default());
        }
        let since = |at: Instant| at.saturating_duration_since(sent);
        let requested = git_repository
            .first(sent, HOP_LIMIT, "a new requestedAt", |r| requested_at(r) != previous_request)
            .await
            .with_context(|| tail(&logs()))?;
        let artifact = git_repository
            .first(sent, HOP_LIMIT, "the commit's artifact", |r| {
                r.status.as_ref().and_then(|s| s.artifact.as_ref()).is_some_and(|a| a.revision.ends_with(&sha))
            })
            .await
            .with_context(|| tail(&logs()))?;
        let applied = service
            .first(sent, HOP_LIMIT, "the commit's annotation", |s| {
                let value = s.metadata.annotations.as_ref().and_then(|a| a.get(COMMIT_ANNOTATION));
                value.is_some_and(|v| *v == commit.to_string())
            })
            .await
            .with_context(|| tail(&logs()))?;
        let ready = kustomization
            .first(sent, HOP_LIMIT, "Ready at the commit", |k| ready_at(k, &sha))
            .await
            .with_context(|| tail(&logs()))?;
        let hops = Hops {
            answered,
            requested: since(requested),
            artifact: since(artifact),
            applied: since(applied),
            ready: since(ready),
        };
        eprintln!("[webhook] commit {commit}: {hops:?}");
        run.commits.push(hops);
    }
    drop(server);
    Ok(run)
}

/// The Receiver's URL once the notification-controller has given it a path and listens.
async fn webhook_url(
    receivers: &Api<Receiver>,
    hooks: std::net::SocketAddr,
    logs: &dyn Fn() -> String,
) -> anyhow::Result<String> {
    let deadline = Instant::now() + HOP_LIMIT;
    loop {
        let receiver = receivers.get("push").await?;
        let path = receiver.status.as_ref().and_then(|s| s.webhook_path.clone());
        let ready = receiver
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_deref())
            .and_then(|c| conditions::find(c, types::READY))
            .is_some_and(|c| c.status == ConditionStatus::True);
        if let Some(path) = path.filter(|_| ready)
            && tokio::net::TcpStream::connect(hooks).await.is_ok()
        {
            return Ok(format!("http://{hooks}{path}"));
        }
        if Instant::now() > deadline {
            bail!("the Receiver never became Ready with a webhook path on {hooks}:\n{}", tail(&logs()));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn requested_at(repository: &GitRepository) -> Option<String> {
    repository.metadata.annotations.as_ref().and_then(|a| a.get(RECONCILE_REQUESTED_AT)).cloned()
}

fn ready_at(kustomization: &Kustomization, sha: &str) -> bool {
    let Some(status) = kustomization.status.as_ref() else { return false };
    let revision_ok = status.last_applied_revision.as_deref().is_some_and(|r| r.ends_with(sha));
    let ready = status.conditions.as_deref().and_then(|c| conditions::find(c, types::READY));
    revision_ok && ready.is_some_and(|c| c.status == ConditionStatus::True)
}

/// The median and the largest of `values` (zero when empty).
pub fn median_max(values: &[Duration]) -> (Duration, Duration) {
    let mut sorted = values.to_vec();
    sorted.sort();
    let median = match sorted.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2,
    };
    (median, sorted.last().copied().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        let ms = |v: &[u64]| v.iter().map(|&m| Duration::from_millis(m)).collect::<Vec<_>>();
        assert_eq!(median_max(&ms(&[300, 100, 200])), (Duration::from_millis(200), Duration::from_millis(300)));
        assert_eq!(median_max(&ms(&[400, 100, 200, 300])), (Duration::from_millis(250), Duration::from_millis(400)));
        assert_eq!(median_max(&[]), (Duration::ZERO, Duration::ZERO));
    }
}
