#![allow(clippy::expect_used, clippy::unwrap_used)]
//! `weir get`: tables, -o json/yaml, --status-selector, -A and `get all` against a real API server.

mod common;

use common::*;
use serde_json::{Value, json};
use tokio::io::AsyncBufReadExt;
use weir_testenv::TestEnv;

#[tokio::test]
async fn get_sources_and_kustomizations_show_status_columns() {
    let env = TestEnv::shared().await;
    let ns = env.namespace("cli-get").await;
    apply(env, &ns, &git_repositories(), git_repository("podinfo", "main")).await;
    apply(env, &ns, &git_repositories(), git_repository("broken", "dev")).await;
    set_status(
        env,
        &ns,
        &git_repositories(),
        "podinfo",
        "True",
        "stored artifact for revision 'main@sha1:abc'",
        json!({"artifact": artifact("main@sha1:abc")}),
    )
    .await;
    set_status(env, &ns, &git_repositories(), "broken", "False", "authentication required", json!({})).await;
    apply(env, &ns, &kustomizations(), kustomization("apps", "podinfo")).await;

    let run = weir(env, &["get", "sources", "git", "-n", &ns]).await.success();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(header, ["NAME", "REVISION", "SUSPENDED", "READY", "MESSAGE", "AGE"]);
    // Sorted by name, and the columns line up.
    assert!(lines[1].starts_with("broken "), "{}", run.stdout);
    let ready_col = lines[0].find("READY").unwrap();
    assert_eq!(&lines[1][ready_col..ready_col + 5], "False", "{}", run.stdout);
    assert_eq!(&lines[2][ready_col..ready_col + 4], "True", "{}", run.stdout);
    assert!(lines[2].contains("main@sha1:abc") && lines[2].contains("stored artifact"), "{}", run.stdout);

    let run = weir(env, &["get", "ks", "-n", &ns]).await.success();
    let row = line_with(&run.stdout, "apps");
    assert!(row.contains("Unknown") && row.contains("False"), "a new Kustomization is Unknown, not suspended: {row}");

    let run = weir(env, &["get", "sources", "all", "-n", &ns, "--status-selector", "ready=false"]).await.success();
    assert!(run.stdout.contains("broken") && !run.stdout.contains("podinfo"), "{}", run.stdout);

    let run = weir(env, &["get", "all", "-n", &ns]).await.success();
    assert!(run.stdout.contains("gitrepositories/podinfo"), "{}", run.stdout);
    assert!(run.stdout.contains("kustomizations/apps"), "{}", run.stdout);

    let run = weir(env, &["get", "sources", "git", "-A"]).await.success();
    let row = line_with(&run.stdout, "podinfo");
    assert!(row.starts_with(&ns), "-A puts the namespace first: {row}");
}

#[tokio::test]
async fn get_prints_json_and_yaml() {
    let env = TestEnv::shared().await;
    let ns = env.namespace("cli-get-o").await;
    apply(env, &ns, &git_repositories(), git_repository("one", "main")).await;
    apply(env, &ns, &git_repositories(), git_repository("two", "main")).await;

    let run = weir(env, &["get", "sources", "git", "one", "-n", &ns, "-o", "json"]).await.success();
    let object: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(object["kind"], "GitRepository");
    assert_eq!(object["spec"]["ref"]["branch"], "main");

    let run = weir(env, &["get", "sources", "git", "-n", &ns, "-o", "yaml"]).await.success();
    let list: Value = serde_saphyr::from_str(&run.stdout).expect("YAML");
    assert_eq!(list["kind"], "List");
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn get_explains_what_is_missing() {
    let env = TestEnv::shared().await;
    let ns = env.namespace("cli-get-none").await;
    let run = weir(env, &["get", "hr", "-n", &ns]).await.success();
    assert!(run.stdout.contains("No HelmRelease found"), "{}", run.stdout);
    let run = weir(env, &["get", "sources", "git", "nothing", "-n", &ns]).await.failure();
    assert!(run.stderr.starts_with("Error: GitRepository nothing not found"), "{}", run.stderr);
    assert!(run.stderr.contains("weir get sources git"), "{}", run.stderr);
}

#[tokio::test]
async fn get_watch_prints_changes() {
    let env = TestEnv::shared().await;
    let ns = env.namespace("cli-get-watch").await;
    apply(env, &ns, &git_repositories(), git_repository("watched", "main")).await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_weir"))
        .arg("--kubeconfig")
        .arg(env.kubeconfig_path())
        .args(["get", "sources", "git", "-n", &ns, "--watch"])
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    assert!(next_line(&mut lines).await.starts_with("NAME"));
    assert!(next_line(&mut lines).await.contains("Unknown"));
    set_status(
        env,
        &ns,
        &git_repositories(),
        "watched",
        "True",
        "stored artifact",
        json!({"artifact": artifact("main@sha1:def")}),
    )
    .await;
    let changed: String = next_line(&mut lines).await;
    assert!(changed.contains("main@sha1:def") && changed.contains("True"), "{changed}");
    child.kill().await.unwrap();
}

type StdoutLines = tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>;

async fn next_line(lines: &mut StdoutLines) -> String {
    let line = tokio::time::timeout(std::time::Duration::from_secs(30), lines.next_line()).await;
    line.expect("a line within 30 s").expect("reading stdout").expect("stdout still open")
}
