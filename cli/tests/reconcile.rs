#![allow(clippy::expect_used, clippy::unwrap_used)]
//! `weir reconcile`, `suspend` and `resume`, with the test playing the controller: it answers
//! each `requestedAt` by writing `lastHandledReconcileAt` and Ready through the status subresource.

mod common;

use std::time::Duration;

use common::*;
use futures::TryStreamExt;
use kube::core::ApiResource;
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::json;
use tokio::task::JoinHandle;
use weir_testenv::TestEnv;

/// A stand-in controller: answers every new request on `name` with `ready` and `revision`.
fn play_controller(
    env: &'static TestEnv,
    ns: &str,
    resource: ApiResource,
    name: &str,
    ready: &'static str,
    revision: &'static str,
) -> JoinHandle<()> {
    let (ns, name) = (ns.to_string(), name.to_string());
    tokio::spawn(async move {
        let api = api(env, &ns, &resource);
        let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
        let mut objects = std::pin::pin!(watcher(api, config).applied_objects());
        while let Some(object) = objects.try_next().await.unwrap() {
            let requested = object.metadata.annotations.as_ref().and_then(|a| a.get("reconcile.fluxcd.io/requestedAt"));
            let handled = object.data.pointer("/status/lastHandledReconcileAt").and_then(|v| v.as_str());
            if let Some(requested) = requested.filter(|r| Some(r.as_str()) != handled) {
                let message = if ready == "True" {
                    format!("Applied revision: {revision}")
                } else {
                    "kustomize build failed: no kustomization.yaml".to_string()
                };
                let extra = match (resource.kind.as_str(), revision) {
                    (_, "") => json!({"lastHandledReconcileAt": requested}),
                    ("GitRepository", _) => {
                        json!({"lastHandledReconcileAt": requested, "artifact": artifact(revision)})
                    }
                    _ => json!({"lastHandledReconcileAt": requested, "lastAppliedRevision": revision}),
                };
                set_status(env, &ns, &resource, &name, ready, &message, extra).await;
            }
        }
    })
}

#[tokio::test]
async fn reconcile_waits_for_the_controller_and_prints_the_revision() {
    let env = TestEnv::shared().await;
    let ns = env.namespace("cli-reconcile").await;
    apply(env, &ns, &git_repositories(), git_repository("repo", "main")).await;
    apply(env, &ns, &kustomizations(), kustomization("apps", "repo")).await;
    let source = play_controller(env, &ns, git_repositories(), "repo", "True", "main@sha1:1111");
    let ks = play_controller(env, &ns, kustomizations(), "apps", "True", "main@sha1:1111");

    let run = weir(env, &["reconcile", "ks", "apps", "--with-source", "-n", &ns, "--timeout", "30s"]).await.success();
    assert!(
        run.stderr.contains("GitRepository") && run.stderr.contains("fetched revision main@sha1:1111"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("applied revision main@sha1:1111"), "{}", run.stderr);
    // Not a terminal: plain progress lines, no spinner control codes.
    assert!(run.stderr.contains("◎ waiting for Kustomization"), "{}", run.stderr);
    assert!(!run.stderr.contains('\x1b'), "{}", run.stderr);

    let object = api(env, &ns, &kustomizations()).get("apps").await.unwrap();
    let requested = &object.metadata.annotations.unwrap()["reconcile.fluxcd.io/requestedAt"];
    assert_eq!(object.data["status"]["lastHandledReconcileAt"].as_str(), Some(requested.as_str()));
    source.abort();
    ks.abort();
}

#[tokio::test]
async fn reconcile_reports_a_failed_reconciliation() {
    let env = TestEnv::shared().await;
    let ns = env.namespace("cli-reconcile-fail").await;
    apply(env, &ns, &kustomizations(), kustomization("bad", "repo")).await;
    let controller = play_controller(env, &ns, kustomizations(), "bad", "False", "");
    let run = weir(env, &["reconcile", "kustomization", "bad", "-n", &ns, "--timeout", "30s"]).await.failure();
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("Error: Kustomization"), "{}", run.stderr);
    assert!(run.stderr.contains("kustomize build failed"), "{}", run.stderr);
    assert!(run.stderr.contains("weir events --for Kustomization/bad"), "{}", run.stderr);
    controller.abort();
}

#[tokio::test]
async fn reconcile_times_out_without_a_controller() {
    let env = TestEnv::shared().await;
    let ns = env.namespace("cli-reconcile-timeout").await;
    apply(env, &ns, &git_repositories(), git_repository("lonely", "main")).await;
    let started = std::time::Instant::now();
    let run = weir(env, &["reconcile", "source", "git", "lonely", "-n", &ns, "--timeout", "2s"]).await.failure();
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(run.stderr.contains("timed out") && run.stderr.contains("weir check"), "{}", run.stderr);
}

#[tokio::test]
async fn suspend_blocks_reconcile_and_resume_waits_for_ready() {
    let env = TestEnv::shared().await;
    let ns = env.namespace("cli-suspend").await;
    apply(env, &ns, &kustomizations(), kustomization("one", "repo")).await;
    apply(env, &ns, &kustomizations(), kustomization("two", "repo")).await;

    weir(env, &["suspend", "kustomization", "--all", "-n", &ns]).await.success();
    for name in ["one", "two"] {
        let object = api(env, &ns, &kustomizations()).get(name).await.unwrap();
        assert_eq!(object.data["spec"]["suspend"], true, "{name} is suspended");
        let managers: Vec<String> =
            object.metadata.managed_fields.unwrap_or_default().into_iter().filter_map(|m| m.manager).collect();
        assert!(managers.contains(&"weir".to_string()), "the CLI writes as field manager weir: {managers:?}");
    }
    let run = weir(env, &["reconcile", "ks", "one", "-n", &ns]).await.failure();
    assert!(run.stderr.contains(&format!("weir resume kustomization one -n {ns}")), "{}", run.stderr);

    let controller = play_controller(env, &ns, kustomizations(), "one", "True", "main@sha1:2222");
    let run = weir(env, &["resume", "ks", "one", "-n", &ns, "--timeout", "30s"]).await.success();
    assert!(run.stderr.contains("applied revision main@sha1:2222"), "{}", run.stderr);
    let object = api(env, &ns, &kustomizations()).get("one").await.unwrap();
    assert_eq!(object.data["spec"]["suspend"], false);
    controller.abort();

    let run = weir(env, &["suspend", "kustomization", "-n", &ns]).await.failure();
    assert!(run.stderr.contains("--all"), "{}", run.stderr);
}
