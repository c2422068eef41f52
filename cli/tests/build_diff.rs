#![allow(clippy::expect_used, clippy::unwrap_used)]
//! `weir build` and `weir diff` of a local directory: the controller's render, the server's
//! dry-run, exit codes 0 (no change), 1 (changes) and 2 (error), Secrets masked, prunes listed.

mod common;

use std::path::Path;

use common::*;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::GroupVersionKind;
use serde_json::{Value, json};
use weir_testenv::TestEnv;

fn write(dir: &Path, file: &str, text: &str) {
    let path = dir.join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn documents(yaml: &str) -> Vec<Value> {
    serde_saphyr::from_multiple(yaml).expect("YAML documents")
}

#[tokio::test]
async fn build_renders_overlays_and_substitutes_without_a_cluster() {
    let env = TestEnv::shared().await;
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir(repo.path().join(".git")).unwrap();
    write(repo.path(), "apps/base/kustomization.yaml", "resources: [config.yaml]\n");
    write(
        repo.path(),
        "apps/base/config.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  env: ${cluster_env}\n  region: ${region:=eu}\n",
    );
    write(repo.path(), "apps/staging/kustomization.yaml", "resources: [../base]\nnamePrefix: staging-\n");
    write(
        repo.path(),
        "ks.yaml",
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  interval: 5m\n  path: ./apps/staging\n  prune: true\n  targetNamespace: staging\n  sourceRef:\n    kind: GitRepository\n    name: repo\n  postBuild:\n    substitute:\n      cluster_env: staging\n",
    );

    let path = repo.path().join("apps/staging");
    let file = repo.path().join("ks.yaml");
    let run = weir(
        env,
        &[
            "build",
            "kustomization",
            "apps",
            "--path",
            path.to_str().unwrap(),
            "--kustomization-file",
            file.to_str().unwrap(),
            "--dry-run",
        ],
    )
    .await
    .success();
    let docs = documents(&run.stdout);
    assert_eq!(docs.len(), 1, "{}", run.stdout);
    let cm = &docs[0];
    assert_eq!(cm["metadata"]["name"], "staging-settings");
    assert_eq!(cm["metadata"]["namespace"], "staging");
    assert_eq!(cm["data"], json!({"env": "staging", "region": "eu"}));
    assert_eq!(cm["metadata"]["labels"]["kustomize.toolkit.fluxcd.io/name"], "apps");
    assert_eq!(cm["metadata"]["labels"]["kustomize.toolkit.fluxcd.io/namespace"], "flux-system");

    let run = weir(env, &["build", "ks", "apps", "--path", "/nonexistent/dir", "--dry-run"]).await.failure();
    assert!(run.stderr.contains("--path /nonexistent/dir"), "{}", run.stderr);
}

/// Applies the build's objects as kustomize-controller would (its field manager).
async fn apply_as_controller(env: &TestEnv, ns: &str, yaml: &str) {
    for doc in documents(yaml) {
        let (group, version) = match doc["apiVersion"].as_str().unwrap().split_once('/') {
            Some((g, v)) => (g.to_string(), v.to_string()),
            None => (String::new(), doc["apiVersion"].as_str().unwrap().to_string()),
        };
        let gvk = GroupVersionKind::gvk(&group, &version, doc["kind"].as_str().unwrap());
        let plural = format!("{}s", doc["kind"].as_str().unwrap().to_ascii_lowercase());
        let resource = kube::core::ApiResource::from_gvk_with_plural(&gvk, &plural);
        let api: Api<DynamicObject> = Api::namespaced_with(env.client(), ns, &resource);
        let object: DynamicObject = serde_json::from_value(doc.clone()).unwrap();
        api.patch(
            doc["metadata"]["name"].as_str().unwrap(),
            &PatchParams::apply("kustomize-controller").force(),
            &Patch::Apply(&object),
        )
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn diff_exit_codes_masked_secrets_and_prunes() {
    let env = TestEnv::shared().await;
    let ns = env.namespace("cli-diff").await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "kustomization.yaml", "resources: [config.yaml, secret.yaml]\n");
    write(
        dir.path(),
        "config.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  color: blue\n",
    );
    write(
        dir.path(),
        "secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: token\nstringData:\n  token: first-secret-value\n",
    );
    apply(env, &ns, &kustomizations(), kustomization("apps", "repo")).await;
    let path = dir.path().to_str().unwrap();
    let diff_args = ["diff", "kustomization", "apps", "--path", path, "-n", &ns];

    let run = weir(env, &diff_args).await;
    assert_eq!(run.code, 1, "new objects are a diff: {}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains(&format!("► ConfigMap/{ns}/settings created")), "{}", run.stdout);
    assert!(run.stdout.contains(&format!("► Secret/{ns}/token created")), "{}", run.stdout);

    let built = weir(env, &["build", "kustomization", "apps", "--path", path, "-n", &ns]).await.success().stdout;
    apply_as_controller(env, &ns, &built).await;
    let run = weir(env, &diff_args).await;
    assert_eq!(run.code, 0, "applied objects are no diff: {}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "");

    write(
        dir.path(),
        "config.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  color: green\n",
    );
    write(
        dir.path(),
        "secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: token\nstringData:\n  token: second-secret-value\n",
    );
    let run = weir(env, &diff_args).await;
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains(&format!("► ConfigMap/{ns}/settings drifted")), "{}", run.stdout);
    assert!(run.stdout.contains("-  color: blue") && run.stdout.contains("+  color: green"), "{}", run.stdout);
    assert!(run.stdout.contains(&format!("► Secret/{ns}/token drifted")), "{}", run.stdout);
    assert!(run.stdout.contains("*** (before)") && run.stdout.contains("*** (after)"), "{}", run.stdout);
    for secret in
        ["first-secret-value", "second-secret-value", "Zmlyc3Qtc2VjcmV0LXZhbHVl", "c2Vjb25kLXNlY3JldC12YWx1ZQ=="]
    {
        assert!(!run.stdout.contains(secret), "secret value {secret} shown:\n{}", run.stdout);
    }

    // Objects the controller would leave alone are no change, however they differ.
    write(
        dir.path(),
        "config.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  annotations:\n    kustomize.toolkit.fluxcd.io/ssa: IfNotPresent\ndata:\n  color: green\n",
    );
    write(
        dir.path(),
        "secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: token\n  annotations:\n    kustomize.toolkit.fluxcd.io/reconcile: disabled\nstringData:\n  token: second-secret-value\n",
    );
    let run = weir(env, &diff_args).await;
    assert_eq!(run.code, 0, "IfNotPresent and reconcile: disabled are no diff: {}{}", run.stdout, run.stderr);

    set_status(
        env,
        &ns,
        &kustomizations(),
        "apps",
        "True",
        "ok",
        json!({"inventory": {"entries": [
            {"id": format!("{ns}_settings__ConfigMap"), "v": "v1"},
            {"id": format!("{ns}_old-config__ConfigMap"), "v": "v1"},
        ]}}),
    )
    .await;
    let run = weir(env, &diff_args).await;
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains(&format!("► ConfigMap/{ns}/old-config deleted")), "{}", run.stdout);
    assert!(!run.stdout.contains("settings deleted"), "{}", run.stdout);

    let run = weir(env, &["diff", "kustomization", "missing", "--path", path, "-n", &ns]).await;
    assert_eq!(run.code, 2, "errors exit with 2: {}", run.stderr);
    assert!(run.stderr.starts_with("Error: Kustomization"), "{}", run.stderr);
}
