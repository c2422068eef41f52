#![allow(clippy::expect_used, clippy::unwrap_used)]
//! `weir tree`, `weir trace` and `weir events` against objects written as the controllers would.

mod common;

use common::*;
use k8s_openapi::api::core::v1::{ConfigMap, Event, ObjectReference};
use kube::api::{Api, ObjectMeta, PostParams};
use serde_json::{Value, json};
use tokio::io::AsyncBufReadExt;
use weir_testenv::TestEnv;

fn inventory(entries: &[(&str, &str, &str, &str)]) -> Value {
    let entries: Vec<Value> = entries
        .iter()
        .map(|(ns, name, group, kind)| json!({"id": format!("{ns}_{name}_{group}_{kind}"), "v": "v1"}))
        .collect();
    json!({"inventory": {"entries": entries}})
}

#[tokio::test]
async fn tree_follows_nested_kustomizations() {
    let env = TestEnv::shared().await;
    let ns = env.namespace("cli-tree").await;
    apply(env, &ns, &kustomizations(), kustomization("root", "repo")).await;
    apply(env, &ns, &kustomizations(), kustomization("apps", "repo")).await;
    set_status(
        env,
        &ns,
        &kustomizations(),
        "root",
        "True",
        "ok",
        inventory(&[(&ns, "apps", "kustomize.toolkit.fluxcd.io", "Kustomization"), ("", "team", "", "Namespace")]),
    )
    .await;
    set_status(
        env,
        &ns,
        &kustomizations(),
        "apps",
        "True",
        "ok",
        inventory(&[("team", "web", "apps", "Deployment"), ("team", "web", "", "Service")]),
    )
    .await;

    let run = weir(env, &["tree", "kustomization", "root", "-n", &ns]).await.success();
    let expected = format!(
        "Kustomization/{ns}/root\n├── Kustomization/{ns}/apps\n│   ├── Deployment/team/web\n│   └── Service/team/web\n└── Namespace/team\n"
    );
    assert_eq!(run.stdout, expected);

    let run = weir(env, &["tree", "ks", "root", "-n", &ns, "-o", "json"]).await.success();
    let tree: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(tree["resources"][0]["resources"][0]["kind"], "Deployment");
    assert_eq!(tree["resources"][0]["resources"][0]["group"], "apps");
}

#[tokio::test]
async fn trace_walks_from_an_object_to_its_source() {
    let env = TestEnv::shared().await;
    let ns = env.namespace("cli-trace").await;
    apply(env, &ns, &git_repositories(), git_repository("repo", "main")).await;
    set_status(
        env,
        &ns,
        &git_repositories(),
        "repo",
        "True",
        "stored artifact",
        json!({"artifact": artifact("main@sha1:feed")}),
    )
    .await;
    apply(env, &ns, &kustomizations(), kustomization("apps", "repo")).await;
    set_status(
        env,
        &ns,
        &kustomizations(),
        "apps",
        "True",
        "Applied revision: main@sha1:feed",
        json!({"lastAppliedRevision": "main@sha1:feed"}),
    )
    .await;
    let cm = ConfigMap {
        metadata: ObjectMeta {
            name: Some("settings".into()),
            labels: Some(
                [
                    ("kustomize.toolkit.fluxcd.io/name".to_string(), "apps".to_string()),
                    ("kustomize.toolkit.fluxcd.io/namespace".to_string(), ns.clone()),
                ]
                .into(),
            ),
            ..Default::default()
        },
        ..Default::default()
    };
    Api::<ConfigMap>::namespaced(env.client(), &ns).create(&PostParams::default(), &cm).await.unwrap();

    let run = weir(env, &["trace", "configmap/settings", "-n", &ns]).await.success();
    let out = &run.stdout;
    assert!(line_with(out, "Object:").contains("ConfigMap/settings"), "{out}");
    assert!(out.contains("Managed by Weir"), "{out}");
    assert!(line_with(out, "Kustomization:").contains("apps"), "{out}");
    assert!(line_with(out, "GitRepository:").contains("repo"), "{out}");
    assert!(line_with(out, "Branch:").contains("main"), "{out}");
    let revisions = out.lines().filter(|l| l.starts_with("Revision:") && l.ends_with("main@sha1:feed")).count();
    assert_eq!(revisions, 2, "the revision of the Kustomization and the source: {out}");

    let run = weir(env, &["trace", "ks/apps", "-n", &ns]).await.success();
    assert!(run.stdout.starts_with("---\nKustomization:"), "{}", run.stdout);

    let run = weir(env, &["trace", "configmap/missing", "-n", &ns]).await.failure();
    assert!(run.stderr.contains("not found"), "{}", run.stderr);
}

async fn event(env: &TestEnv, ns: &str, kind: &str, api_version: &str, name: &str, reason: &str, at: &str) {
    let event = Event {
        metadata: ObjectMeta { generate_name: Some(format!("{name}.")), ..Default::default() },
        involved_object: ObjectReference {
            kind: Some(kind.into()),
            api_version: Some(api_version.into()),
            name: Some(name.into()),
            namespace: Some(ns.into()),
            ..Default::default()
        },
        reason: Some(reason.into()),
        message: Some(format!("{reason} happened\nsecond line")),
        type_: Some("Normal".into()),
        last_timestamp: Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(at.parse().unwrap())),
        ..Default::default()
    };
    Api::<Event>::namespaced(env.client(), ns).create(&PostParams::default(), &event).await.unwrap();
}

#[tokio::test]
async fn events_lists_flux_events_oldest_first() {
    let env = TestEnv::shared().await;
    let ns = env.namespace("cli-events").await;
    event(
        env,
        &ns,
        "Kustomization",
        "kustomize.toolkit.fluxcd.io/v1",
        "apps",
        "ReconciliationSucceeded",
        "2024-01-01T00:02:00Z",
    )
    .await;
    event(env, &ns, "GitRepository", "source.toolkit.fluxcd.io/v1", "repo", "NewArtifact", "2024-01-01T00:01:00Z")
        .await;
    event(env, &ns, "Pod", "v1", "web-1", "Scheduled", "2024-01-01T00:00:00Z").await;

    let run = weir(env, &["events", "-n", &ns]).await.success();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "header and the two Flux events, not the Pod's:\n{}", run.stdout);
    assert!(lines[0].starts_with("LAST SEEN"), "{}", run.stdout);
    assert!(lines[1].contains("GitRepository/repo") && lines[1].contains("NewArtifact"), "{}", run.stdout);
    assert!(lines[2].contains("Kustomization/apps") && lines[2].ends_with("happened second line"), "{}", run.stdout);

    let run = weir(env, &["events", "--for", "ks/apps", "-n", &ns]).await.success();
    assert_eq!(run.stdout.lines().count(), 2, "{}", run.stdout);
    assert!(run.stdout.contains("Kustomization/apps"));

    // --watch prints the table, then events as they come.
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_weir"))
        .arg("--kubeconfig")
        .arg(env.kubeconfig_path())
        .args(["events", "--watch", "-n", &ns])
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    for _ in 0..3 {
        next_line(&mut lines).await;
    }
    event(env, &ns, "HelmRelease", "helm.toolkit.fluxcd.io/v2", "web", "InstallSucceeded", "2024-01-01T00:03:00Z")
        .await;
    let line = next_line(&mut lines).await;
    assert!(line.contains("HelmRelease/web") && line.contains("InstallSucceeded"), "{line}");
    child.kill().await.unwrap();

    let run = weir(env, &["events", "--for", "deployment/x", "-n", &ns]).await.failure();
    assert!(run.stderr.contains("not a Flux kind"), "{}", run.stderr);
}

type StdoutLines = tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>;

async fn next_line(lines: &mut StdoutLines) -> String {
    let line = tokio::time::timeout(std::time::Duration::from_secs(30), lines.next_line()).await;
    line.expect("a line within 30 s").expect("reading stdout").expect("stdout still open")
}
