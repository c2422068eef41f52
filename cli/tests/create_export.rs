#![allow(clippy::expect_used, clippy::unwrap_used)]
//! `weir create … [--export]` and `weir export`: the YAML validates with weir-api, the applied
//! object exports back to the same spec without what the server added.

mod common;

use common::*;
use serde_json::Value;
use weir_testenv::TestEnv;

fn documents(yaml: &str) -> Vec<Value> {
    assert!(yaml.starts_with("---\n"), "Flux's format starts every document with ---:\n{yaml}");
    serde_saphyr::from_multiple(yaml).expect("YAML documents")
}

fn assert_valid(yaml: &str) -> Value {
    let mut docs = documents(yaml);
    assert_eq!(docs.len(), 1, "{yaml}");
    let object = docs.remove(0);
    weir_api::dynamic::validate_value(&object).unwrap_or_else(|e| panic!("invalid export: {e}\n{yaml}"));
    // Nothing the kind does not know: what weir-api would write back is what was exported.
    assert_eq!(weir_api::dynamic::round_trip(&object).unwrap(), object, "{yaml}");
    object
}

/// `weir create … --export` command lines (words split on spaces) and a field of the exported
/// object, as a JSON pointer, that shows the flags were used.
const CREATE_EXPORT_CASES: &[(&str, &str, &str)] = &[
    (
        "create source git podinfo --url https://example.invalid/podinfo.git --branch main --secret-ref git-auth \
         --ignore-paths docs/,*.md --interval 5m -n flux-system",
        "/spec/ignore",
        "docs/\n*.md",
    ),
    (
        "create source git x --url https://example.invalid/x --branch main --ignore-paths docs/,*.md",
        "/spec/ignore",
        "docs/\n*.md",
    ),
    ("create source oci manifests --url oci://registry.invalid/manifests --tag 1.0.0", "/spec/ref/tag", "1.0.0"),
    (
        "create kustomization apps --source GitRepository/podinfo.flux-system --path ./apps --prune \
         --target-namespace apps --depends-on infra --wait --health-check Deployment/podinfo.apps --interval 10m",
        "/spec/targetNamespace",
        "apps",
    ),
    ("create kustomization k --source OCIRepository/m", "/spec/sourceRef/kind", "OCIRepository"),
    (
        "create alert-provider slack --type slack --channel general --secret-ref slack-url -n flux-system",
        "/spec/channel",
        "general",
    ),
    (
        "create alert on-call --provider-ref slack --event-source Kustomization/*,GitRepository/podinfo \
         --event-severity error",
        "/spec/eventSeverity",
        "error",
    ),
    (
        "create receiver github --type github --event push --resource GitRepository/podinfo \
         --secret-ref webhook-token",
        "/spec/type",
        "github",
    ),
];

#[tokio::test]
async fn create_export_prints_valid_objects_for_every_kind() {
    let env = TestEnv::shared().await;
    for (command, pointer, expected) in CREATE_EXPORT_CASES {
        let mut args: Vec<&str> = command.split_whitespace().collect();
        args.push("--export");
        let run = weir(env, &args).await.success();
        let object = assert_valid(&run.stdout);
        assert_eq!(object["metadata"]["namespace"], "flux-system", "{command}");
        assert!(object.get("status").is_none(), "{command}");
        assert_eq!(object.pointer(pointer), Some(&Value::from(*expected)), "{command}:\n{}", run.stdout);
    }
}

#[tokio::test]
async fn create_rejects_invalid_objects_before_sending() {
    let env = TestEnv::shared().await;
    let ns = env.namespace("cli-create-bad").await;
    let run = weir(
        env,
        &[
            "create",
            "source",
            "git",
            "bad",
            "--url",
            "ftp://example.invalid/x",
            "--branch",
            "main",
            "--interval",
            "1d",
            "-n",
            &ns,
        ],
    )
    .await
    .failure();
    assert!(run.stderr.starts_with("Error: invalid GitRepository"), "{}", run.stderr);
    assert!(run.stderr.contains("spec.interval"), "{}", run.stderr);
    let list = api(env, &ns, &git_repositories()).list(&Default::default()).await.unwrap();
    assert!(list.items.is_empty(), "nothing reached the server");
    let run = weir(env, &["create", "source", "git", "bad", "--url", "https://example.invalid/x"]).await.failure();
    assert!(run.stderr.contains("--branch"), "{}", run.stderr);
}

#[tokio::test]
async fn created_objects_export_back_without_server_fields() {
    let env = TestEnv::shared().await;
    let ns = env.namespace("cli-export").await;
    let create = "create source git podinfo --url https://example.invalid/podinfo.git --tag 6.0.0 --label team=web";
    let create: Vec<&str> = create.split_whitespace().chain(["-n", &ns]).collect();
    let export = weir(env, &[&create[..], &["--export"]].concat()).await.success().stdout;
    weir(env, &create).await.success();
    let live = api(env, &ns, &git_repositories()).get("podinfo").await.unwrap();
    let managers: Vec<_> = live.metadata.managed_fields.unwrap().iter().filter_map(|m| m.manager.clone()).collect();
    assert!(managers.contains(&"weir".to_string()), "field manager weir: {managers:?}");
    set_status(env, &ns, &git_repositories(), "podinfo", "True", "ok", serde_json::json!({})).await;

    let exported = weir(env, &["export", "source", "git", "podinfo", "-n", &ns]).await.success().stdout;
    for field in ["status", "uid", "resourceVersion", "managedFields", "generation", "creationTimestamp"] {
        assert!(!exported.contains(field), "{field} in export:\n{exported}");
    }
    // The CRD defaults spec.timeout on the server; everything else is what was created.
    let mut exported = documents(&exported);
    assert_eq!(exported[0]["spec"]["timeout"], "60s");
    exported[0]["spec"].as_object_mut().unwrap().remove("timeout");
    assert_eq!(exported, documents(&export), "the export is what was created");

    weir(env, &["create", "kustomization", "apps", "--source", "podinfo", "-n", &ns]).await.success();
    weir(env, &["create", "kustomization", "infra", "--source", "podinfo", "-n", &ns]).await.success();
    let all = weir(env, &["export", "ks", "--all", "-n", &ns]).await.success().stdout;
    let docs = documents(&all);
    assert_eq!(docs.len(), 2, "{all}");
    assert_eq!(docs[0]["metadata"]["name"], "apps");
    docs.iter().for_each(|d| weir_api::dynamic::validate_value(d).unwrap());
}
