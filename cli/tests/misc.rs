#![allow(clippy::expect_used, clippy::unwrap_used)]
//! `weir check`, `weir version` and `weir completion`.

mod common;

use common::*;
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;
use weir_testenv::TestEnv;

#[tokio::test]
async fn check_finds_crds_and_reports_missing_controllers() {
    let env = TestEnv::shared().await;
    let ns = env.namespace("cli-check").await;
    let run = weir(env, &["check", "--pre"]).await.success();
    assert!(run.stdout.contains("✔ Kubernetes 1."), "{}", run.stdout);

    // A controller Deployment with no replicas is Available as soon as kube-controller-manager sees it.
    let deployment: Deployment = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "source-controller", "labels": {"app.kubernetes.io/part-of": "flux", "app.kubernetes.io/version": "9.9.9"}},
        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "sc"}},
                 "template": {"metadata": {"labels": {"app": "sc"}},
                              "spec": {"containers": [{"name": "manager", "image": "ghcr.io/weir-gitops/source-controller:v9.9.9"}]}}}
    })).unwrap();
    let api: Api<Deployment> = Api::namespaced(env.client(), &ns);
    api.patch("source-controller", &PatchParams::apply("weir-test"), &Patch::Apply(&deployment)).await.unwrap();
    let available = kube::runtime::wait::await_condition(api, "source-controller", |d: Option<&Deployment>| {
        let v = serde_json::to_value(d).unwrap();
        v.pointer("/status/conditions")
            .and_then(|c| c.as_array())
            .is_some_and(|cs| cs.iter().any(|c| c["type"] == "Available" && c["status"] == "True"))
    });
    tokio::time::timeout(std::time::Duration::from_secs(60), available).await.expect("Deployment Available").unwrap();

    let run = weir(env, &["check", "-n", &ns, "--components", "source-controller"]).await.success();
    assert!(run.stdout.contains("✔ source-controller: deployment ready"), "{}", run.stdout);
    assert!(run.stdout.contains("✔ gitrepositories.source.toolkit.fluxcd.io: v1"), "{}", run.stdout);

    let run = weir(env, &["check", "-n", &ns]).await.failure();
    assert!(run.stdout.contains("✗ kustomize-controller: Deployment not found"), "{}", run.stdout);
    assert!(run.stderr.contains("weir install"), "{}", run.stderr);

    let run = weir(env, &["version", "-n", &ns]).await.success();
    assert!(run.stdout.starts_with(&format!("weir: v{}", env!("CARGO_PKG_VERSION"))), "{}", run.stdout);
    assert!(
        run.stdout.contains("source-controller: 9.9.9 (ghcr.io/weir-gitops/source-controller:v9.9.9)"),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn version_without_a_cluster_prints_the_client() {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["version", "--kubeconfig", "/nonexistent/kubeconfig"])
        .output()
        .await
        .unwrap();
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("weir: v"));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cluster not reachable"));
}

#[tokio::test]
async fn completion_scripts_name_the_commands() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_weir"))
            .args(["completion", shell])
            .output()
            .await
            .unwrap();
        assert!(output.status.success(), "{shell}");
        let script = String::from_utf8(output.stdout).unwrap();
        for word in ["reconcile", "kustomization", "with-source"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
}
