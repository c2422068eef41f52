//! What a new revision does end to end, on a real API server with the source-controller and
//! kustomize-controller binaries: a monorepo commit re-applies only the Kustomization whose set
//! changed, strict postBuild substitution, and the origin revision of an artifact.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams, PostParams};
use weir_api::conditions::ConditionStatus;
use weir_api::kustomize::Kustomization;
use weir_api::source::ExternalArtifact;
use weir_testenv::TestEnv;

use common::support::{GitHttpServer, Repo, ServerAuth};
use common::{
    Controllers, config_map, create_git_source, create_kustomization, eventually, ready_with, request_reconcile,
};

fn value(cm: &ConfigMap) -> Option<String> {
    cm.data.as_ref()?.get("value").cloned()
}

#[tokio::test]
async fn a_monorepo_commit_reapplies_only_the_kustomization_whose_set_changed() {
    let env = TestEnv::shared().await;
    let namespace = env.namespace("ks-monorepo").await;
    let client = env.client();
    let repo = Repo::new("app");
    repo.commit(&[("a/cm.yaml", &config_map("a", "1")), ("b/cm.yaml", &config_map("b", "1"))], "first");
    repo.push("main");
    let server = GitHttpServer::start(&repo.root, ServerAuth::None);
    let controllers = Controllers::start(env, &namespace);
    let sources = create_git_source(&client, &namespace, "app", &server.url("app")).await;
    let kustomizations: Api<Kustomization> = Api::namespaced(client.clone(), &namespace);
    // Intervals far beyond the test: only a new revision or a request reconciles them.
    for name in ["a", "b"] {
        create_kustomization(
            &kustomizations,
            name,
            serde_json::json!({"path": format!("./{name}"), "interval": "30m"}),
        )
        .await;
    }
    for name in ["a", "b"] {
        ready_with(&controllers, &kustomizations, name, ConditionStatus::True, "ReconciliationSucceeded").await;
    }

    // Drift on b's object, which a full apply of b would revert.
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    let manual = serde_json::json!({"data": {"value": "manual"}});
    let kubectl = PatchParams { field_manager: Some("kubectl".into()), ..Default::default() };
    config_maps.patch("b", &kubectl, &Patch::Merge(&manual)).await.unwrap();
    let b_before = kustomizations.get("b").await.unwrap().status.unwrap();

    // A commit under a/ only: a applies it, b only records the revision.
    let second = repo.commit(&[("a/cm.yaml", &config_map("a", "2"))], "a changes");
    repo.push("main");
    request_reconcile(&sources, "app", "second").await;
    let revision = format!("main@sha1:{second}");
    eventually(&controllers, "both Kustomizations report the new revision", || async {
        let applied = |ks: Kustomization| ks.status?.last_applied_revision;
        let a = applied(kustomizations.get("a").await.ok()?)?;
        let b = applied(kustomizations.get("b").await.ok()?)?;
        (a == revision && b == revision).then_some(())
    })
    .await;
    assert_eq!(value(&config_maps.get("a").await.unwrap()).as_deref(), Some("2"));
    assert_eq!(
        value(&config_maps.get("b").await.unwrap()).as_deref(),
        Some("manual"),
        "b's set did not change: it must not have been re-applied"
    );
    let b = kustomizations.get("b").await.unwrap();
    let message =
        ready_with(&controllers, &kustomizations, "b", ConditionStatus::True, "ReconciliationSucceeded").await;
    assert_eq!(message, format!("Applied revision: {revision}"));
    let b_status = b.status.unwrap();
    assert_eq!(b_status.last_attempted_revision.as_deref(), Some(revision.as_str()));
    assert_eq!(b_status.inventory, b_before.inventory);
    let (history, history_before) = (b_status.history.unwrap(), b_before.history.unwrap());
    assert_eq!(history.len(), 1, "the same set: one snapshot {history:?}");
    assert_eq!(history[0].digest, history_before[0].digest);
    assert_eq!(history[0].total_reconciliations, history_before[0].total_reconciliations + 1);
    assert_eq!(history[0].metadata.as_ref().unwrap()["revision"], revision);
    println!(
        "b: first apply took {}, the skipped revision {}",
        history_before[0].last_reconciled_duration, history[0].last_reconciled_duration
    );
    assert!(controllers.logs().contains("skipping the apply"), "the skip is logged at debug level");

    // A requested reconcile never skips: the drift is reverted.
    request_reconcile(&kustomizations, "b", "revert").await;
    eventually(&controllers, "the requested reconcile reverts b's drift", || async {
        let handled = kustomizations.get("b").await.ok()?.status?.last_handled_reconcile_at? == "revert";
        let reverted = value(&config_maps.get("b").await.ok()?)? == "1";
        (handled && reverted).then_some(())
    })
    .await;
}

#[tokio::test]
async fn strict_substitution_fails_the_build_on_a_variable_without_value_or_default() {
    let env = TestEnv::shared().await;
    let namespace = env.namespace("ks-strict").await;
    let client = env.client();
    let repo = Repo::new("app");
    let template = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: strict\ndata:\n  set: \"${set}\"\n  \
                    defaulted: \"${unset:=fallback}\"\n  missing: \"${missing}\"\n";
    repo.commit(&[("vars/cm.yaml", template)], "first");
    repo.push("main");
    let server = GitHttpServer::start(&repo.root, ServerAuth::None);
    // The gate's default, as in Flux 2.9.
    let controllers = Controllers::start(env, &namespace);
    create_git_source(&client, &namespace, "app", &server.url("app")).await;
    let kustomizations: Api<Kustomization> = Api::namespaced(client.clone(), &namespace);
    create_kustomization(
        &kustomizations,
        "strict",
        serde_json::json!({"path": "./vars", "postBuild": {"substitute": {"set": "value"}}}),
    )
    .await;
    let message = ready_with(&controllers, &kustomizations, "strict", ConditionStatus::False, "BuildFailed").await;
    assert!(
        message.starts_with("post build failed for 'ConfigMap/strict'")
            && message
                .ends_with("envsubst error: variable substitution failed: variable not set (strict mode): \"missing\""),
        "{message}"
    );
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    assert!(config_maps.get_opt("strict").await.unwrap().is_none(), "a failed build applies nothing");
}

#[tokio::test]
async fn the_origin_revision_of_an_artifact_is_recorded() {
    let env = TestEnv::shared().await;
    let namespace = env.namespace("ks-origin").await;
    let client = env.client();
    let repo = Repo::new("app");
    repo.commit(&[("deploy/cm.yaml", &config_map("origin", "1"))], "first");
    repo.push("main");
    let server = GitHttpServer::start(&repo.root, ServerAuth::None);
    let controllers = Controllers::start(env, &namespace);
    let sources = create_git_source(&client, &namespace, "app", &server.url("app")).await;
    // The GitRepository's artifact, as an OCI artifact pushed from a commit would carry it.
    let mut artifact = eventually(&controllers, "the GitRepository has an artifact", || async {
        sources.get("app").await.ok()?.status?.artifact
    })
    .await;
    let origin = "main@sha1:0123456789abcdef0123456789abcdef01234567";
    artifact.metadata = Some([("org.opencontainers.image.revision".to_string(), origin.to_string())].into());
    let externals: Api<ExternalArtifact> = Api::namespaced(client.clone(), &namespace);
    let external: ExternalArtifact =
        serde_json::from_value(serde_json::json!({"metadata": {"name": "oci"}, "spec": {}})).unwrap();
    externals.create(&PostParams::default(), &external).await.unwrap();
    let status = serde_json::json!({"status": {"artifact": artifact}});
    externals.patch_status("oci", &PatchParams::default(), &Patch::Merge(&status)).await.unwrap();

    let kustomizations: Api<Kustomization> = Api::namespaced(client.clone(), &namespace);
    create_kustomization(
        &kustomizations,
        "origin",
        serde_json::json!({"path": "./deploy", "sourceRef": {"kind": "ExternalArtifact", "name": "oci"}}),
    )
    .await;
    ready_with(&controllers, &kustomizations, "origin", ConditionStatus::True, "ReconciliationSucceeded").await;
    let status = kustomizations.get("origin").await.unwrap().status.unwrap();
    assert_eq!(status.last_applied_origin_revision.as_deref(), Some(origin));
    assert_eq!(status.last_applied_revision, Some(artifact.revision.clone()));
    let metadata = status.history.unwrap()[0].metadata.clone().unwrap();
    assert_eq!(metadata["originRevision"], origin);
    assert_eq!(metadata["revision"], artifact.revision);
}
