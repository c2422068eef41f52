//! The GitOps loop end to end on a real API server: a Git repository served over smart HTTP,
//! the source-controller and kustomize-controller binaries, and a Kustomization that applies,
//! updates, prunes, reverts drift and refuses a broken build.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use weir_api::conditions::{self, ConditionStatus, types};
use weir_api::kustomize::Kustomization;
use weir_api::source::GitRepository;
use weir_testenv::TestEnv;

use common::support::{GitHttpServer, Repo, ServerAuth};
use common::{Controllers, config_map, eventually, ready, request_reconcile};

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 0
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
";

const SERVICE: &str = "apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
    protocol: TCP
    targetPort: 8080
";

fn owned_by(labels: &BTreeMap<String, String>, namespace: &str) -> bool {
    labels.get("kustomize.toolkit.fluxcd.io/name").map(String::as_str) == Some("apps")
        && labels.get("kustomize.toolkit.fluxcd.io/namespace").map(String::as_str) == Some(namespace)
}

#[tokio::test]
async fn the_gitops_loop() {
    let env = TestEnv::shared().await;
    let namespace = env.namespace("ks").await;
    let client = env.client();

    let repo = Repo::new("app");
    repo.commit(
        &[
            ("deploy/config.yaml", &config_map("config", "1")),
            ("deploy/extra.yaml", &config_map("extra", "x")),
            ("deploy/deployment.yaml", DEPLOYMENT),
            ("deploy/service.yaml", SERVICE),
            ("README.md", "not a manifest\n"),
        ],
        "first",
    );
    repo.push("main");
    let server = GitHttpServer::start(&repo.root, ServerAuth::None);
    let controllers = Controllers::start(env, &namespace);

    let sources: Api<GitRepository> = Api::namespaced(client.clone(), &namespace);
    let source: GitRepository = serde_json::from_value(serde_json::json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
        "metadata": {"name": "app"},
        "spec": {"url": server.url("app"), "interval": "10m", "ref": {"branch": "main"}}
    }))
    .unwrap();
    sources.create(&PostParams::default(), &source).await.unwrap();
    let kustomizations: Api<Kustomization> = Api::namespaced(client.clone(), &namespace);
    let ks: Kustomization = serde_json::from_value(serde_json::json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": "apps"},
        "spec": {"interval": "1m", "prune": true, "wait": true, "timeout": "1m", "path": "./deploy",
                 "sourceRef": {"kind": "GitRepository", "name": "app"}}
    }))
    .unwrap();
    kustomizations.create(&PostParams::default(), &ks).await.unwrap();

    // Applied, with the owner labels.
    let message = eventually(&controllers, "the Kustomization is Ready", || async {
        let ks = kustomizations.get("apps").await.ok()?;
        let (status, _, message) = ready(&ks)?;
        (status == ConditionStatus::True).then_some(message)
    })
    .await;
    assert!(message.starts_with("Applied revision: main@sha1:"), "{message}");
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &namespace);
    let services: Api<Service> = Api::namespaced(client.clone(), &namespace);
    let config = config_maps.get("config").await.unwrap();
    assert!(owned_by(config.labels(), &namespace), "{:?}", config.labels());
    assert_eq!(config.data.unwrap()["value"], "1");
    assert!(config_maps.get_opt("extra").await.unwrap().is_some());
    let deployment = deployments.get("web").await.unwrap();
    assert!(owned_by(deployment.labels(), &namespace));
    assert_eq!(deployment.spec.replicas, Some(0));
    let service = services.get("web").await.unwrap();
    assert!(owned_by(service.labels(), &namespace));
    assert_eq!(service.spec.unwrap().ports.unwrap()[0].protocol.as_deref(), Some("TCP"));
    let ks = kustomizations.get("apps").await.unwrap();
    let status = ks.status.unwrap();
    let ids: Vec<String> = status.inventory.unwrap().entries.into_iter().map(|e| e.id).collect();
    assert!(ids.contains(&format!("{namespace}_web_apps_Deployment")), "{ids:?}");
    assert!(ids.contains(&format!("{namespace}_extra__ConfigMap")), "{ids:?}");
    assert_eq!(status.last_applied_revision, status.last_attempted_revision);
    let healthy = conditions::find(status.conditions.as_deref().unwrap(), types::HEALTHY).unwrap();
    assert_eq!(healthy.status, ConditionStatus::True, "a Deployment with 0 replicas is healthy");

    // Flux's per-object metrics: the reconcile duration, Ready on its True series, not suspended.
    let object = format!(r#"kind="Kustomization",name="apps",namespace="{namespace}""#);
    let wanted = [
        format!("gotk_reconcile_duration_seconds_count{{{object}}}"),
        format!(r#"gotk_reconcile_condition{{{object},type="Ready",status="True"}} 1"#),
        format!("gotk_suspend_status{{{object}}} 0"),
    ];
    eventually(&controllers, "the Kustomization's metrics are exported", || async {
        let text = controllers.kustomize_metrics().await?;
        wanted.iter().all(|series| text.contains(series.as_str())).then_some(())
    })
    .await;

    // A new commit: the change is applied and the removed object pruned.
    std::fs::remove_file(repo.work.join("deploy/extra.yaml")).unwrap();
    let second = repo.commit(&[("deploy/config.yaml", &config_map("config", "2"))], "second");
    repo.push("main");
    request_reconcile(&sources, "app", "first").await;
    eventually(&controllers, "the change is applied and extra pruned", || async {
        let config = config_maps.get("config").await.ok()?;
        let pruned = config_maps.get_opt("extra").await.ok()?.is_none();
        (config.data?.get("value")? == "2" && pruned).then_some(())
    })
    .await;
    eventually(&controllers, "the new revision is reported", || async {
        let ks = kustomizations.get("apps").await.ok()?;
        (ks.status?.last_applied_revision? == format!("main@sha1:{second}")).then_some(())
    })
    .await;

    // A manual change is reverted.
    let manual = serde_json::json!({"data": {"value": "manual"}});
    let params = PatchParams { field_manager: Some("kubectl".into()), ..Default::default() };
    config_maps.patch("config", &params, &Patch::Merge(&manual)).await.unwrap();
    assert_eq!(config_maps.get("config").await.unwrap().data.unwrap()["value"], "manual");
    request_reconcile(&kustomizations, "apps", "drift").await;
    eventually(&controllers, "the manual change is reverted", || async {
        let ks = kustomizations.get("apps").await.ok()?;
        let handled = ks.status?.last_handled_reconcile_at? == "drift";
        let config = config_maps.get("config").await.ok()?;
        (handled && config.data?.get("value")? == "2").then_some(())
    })
    .await;

    // Invalid YAML: BuildFailed, nothing applied and nothing pruned.
    repo.commit(
        &[("deploy/config.yaml", &config_map("config", "3")), ("deploy/broken.yaml", "kind: ConfigMap\nmetadata: [\n")],
        "broken",
    );
    std::fs::remove_file(repo.work.join("deploy/service.yaml")).unwrap();
    repo.commit(&[], "broken, and the service removed");
    repo.push("main");
    request_reconcile(&sources, "app", "broken").await;
    let message = eventually(&controllers, "the build fails", || async {
        let ks = kustomizations.get("apps").await.ok()?;
        let (status, reason, message) = ready(&ks)?;
        (status == ConditionStatus::False && reason == "BuildFailed").then_some(message)
    })
    .await;
    assert!(message.contains("broken.yaml"), "{message}");
    assert_eq!(config_maps.get("config").await.unwrap().data.unwrap()["value"], "2");
    assert!(services.get_opt("web").await.unwrap().is_some(), "a failed build must not prune");
    let status = kustomizations.get("apps").await.unwrap().status.unwrap();
    assert_eq!(status.last_applied_revision, Some(format!("main@sha1:{second}")));
    assert_ne!(status.last_attempted_revision, status.last_applied_revision);

    // Deleted with prune: the inventory goes with it, then the finalizer.
    kustomizations.delete("apps", &DeleteParams::default()).await.unwrap();
    eventually(&controllers, "the Kustomization and its objects are gone", || async {
        let gone = kustomizations.get_opt("apps").await.ok()?.is_none();
        let config = config_maps.get_opt("config").await.ok()?;
        let deployment = deployments.get_opt("web").await.ok()?;
        (gone && config.is_none() && deployment.is_none()).then_some(())
    })
    .await;
}
