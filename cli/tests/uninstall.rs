#![allow(clippy::expect_used, clippy::unwrap_used)]
//! `weir install` then `weir uninstall`: finalizers removed, Flux objects and CRDs deleted,
//! components and namespace gone, and the workloads Weir applied left in place.
//! In a test binary of its own: it deletes the CRDs, which would pull the rug from under others.

mod common;

use std::time::Duration;

use common::*;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::api::rbac::v1::ClusterRole;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ListParams, ObjectMeta, PostParams};
use serde_json::json;
use weir_testenv::TestEnv;

#[tokio::test]
async fn uninstall_removes_weir_and_orphans_workloads() {
    if std::env::var_os("WEIR_TEST_KUBECONFIG").is_some() || std::env::var_os("WEIR_USE_EXISTING_CLUSTER").is_some() {
        eprintln!(
            "SKIPPED uninstall_removes_weir_and_orphans_workloads: it deletes Weir's CRDs, so it runs only on a control plane of its own (unset WEIR_TEST_KUBECONFIG / WEIR_USE_EXISTING_CLUSTER)"
        );
        return;
    }
    let env = TestEnv::shared().await;
    let system = "weir-system";
    weir(env, &["install", "-n", system, "--timeout", "60s"]).await.success();
    let apps = env.namespace("cli-uninstall-apps").await;

    let mut repo = git_repository("repo", "main");
    repo["metadata"]["finalizers"] = json!(["finalizers.fluxcd.io"]);
    apply(env, system, &git_repositories(), repo).await;
    apply(env, system, &kustomizations(), kustomization("apps", "repo")).await;
    let workload = ConfigMap {
        metadata: ObjectMeta {
            name: Some("app-config".into()),
            labels: Some([("kustomize.toolkit.fluxcd.io/name".to_string(), "apps".to_string())].into()),
            ..Default::default()
        },
        ..Default::default()
    };
    Api::<ConfigMap>::namespaced(env.client(), &apps).create(&PostParams::default(), &workload).await.unwrap();

    let run = weir_with_input(env, &["uninstall", "-n", system], Some("n\n")).await.success();
    assert!(run.stderr.contains("Are you sure") && run.stderr.contains("cancelled"), "{}", run.stderr);
    assert!(api(env, system, &git_repositories()).get_opt("repo").await.unwrap().is_some(), "a no keeps everything");

    let run = weir(env, &["uninstall", "-n", system, "--silent"]).await.success();
    assert!(run.stderr.contains(&format!("GitRepository {system}/repo deleted")), "{}", run.stderr);
    assert!(run.stderr.contains("Deployment/source-controller deleted"), "{}", run.stderr);

    let crds: Api<CustomResourceDefinition> = Api::all(env.client());
    let left = crds.list(&ListParams::default().labels("app.kubernetes.io/part-of=flux")).await.unwrap();
    assert!(left.items.iter().all(|c| c.metadata.deletion_timestamp.is_some()), "CRDs are deleted");
    let deployments: Api<Deployment> = Api::namespaced(env.client(), system);
    let left = deployments.list(&ListParams::default()).await.unwrap();
    assert!(left.items.iter().all(|d| d.metadata.deletion_timestamp.is_some()), "controllers are deleted");
    let roles: Api<ClusterRole> = Api::all(env.client());
    let left =
        roles.list(&ListParams::default().labels(&format!("app.kubernetes.io/instance={system}"))).await.unwrap();
    assert!(left.items.is_empty(), "cluster roles are deleted");

    // The namespace goes last, and goes: kube-controller-manager finishes its deletion.
    let namespaces: Api<Namespace> = Api::all(env.client());
    if let Some(namespace) = namespaces.get_opt(system).await.unwrap() {
        assert!(namespace.metadata.deletion_timestamp.is_some(), "the namespace is being deleted");
        let uid = namespace.metadata.uid.unwrap();
        let gone =
            kube::runtime::wait::await_condition(namespaces, system, kube::runtime::wait::conditions::is_deleted(&uid));
        tokio::time::timeout(Duration::from_secs(90), gone).await.expect("namespace deleted within 90 s").unwrap();
    }

    let kept = Api::<ConfigMap>::namespaced(env.client(), &apps).get_opt("app-config").await.unwrap();
    assert!(kept.is_some_and(|c| c.metadata.deletion_timestamp.is_none()), "workloads are orphaned, not deleted");
}
