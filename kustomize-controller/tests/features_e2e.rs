//! Kustomization features end to end on a real API server, with the source-controller and
//! kustomize-controller binaries: postBuild variables, dependsOn wake-ups and cycles, CEL health
//! checks cancelled by a new revision, service account impersonation, kubeconfig Secrets and
//! remote clusters reached with a ServiceAccount token (`kubeConfig.configMapRef`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use futures::StreamExt;
use k8s_openapi::api::authentication::v1::TokenRequest;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::RoleBinding;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::runtime::{WatchStreamExt, watcher};
use weir_api::conditions::{self, ConditionStatus, types};
use weir_api::kustomize::Kustomization;
use weir_api::source::ExternalArtifact;
use weir_testenv::TestEnv;

use common::support::{GitHttpServer, Repo, ServerAuth};
use common::{
    Controllers, config_map, create_git_source, create_kustomization, eventually, ready_with, request_reconcile,
};

fn data(cm: &ConfigMap) -> BTreeMap<String, String> {
    cm.data.clone().unwrap_or_default()
}

async fn create<K>(api: &Api<K>, value: serde_json::Value)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    api.create(&PostParams::default(), &serde_json::from_value(value).unwrap()).await.unwrap();
}

#[tokio::test]
async fn post_build_variables_come_from_config_maps_secrets_and_the_spec() {
    let env = TestEnv::shared().await;
    let namespace = env.namespace("ks-vars").await;
    let client = env.client();
    let repo = Repo::new("app");
    let template = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: rendered\ndata:\n  greeting: \"${greeting}\"\n  \
                    name: \"${name}\"\n  inline: \"${inline}\"\n  fallback: \"${unset:=default}\"\n";
    repo.commit(&[("vars/rendered.yaml", template), ("plain/cm.yaml", &config_map("plain", "x"))], "first");
    repo.push("main");
    let server = GitHttpServer::start(&repo.root, ServerAuth::None);
    let controllers = Controllers::start(env, &namespace);
    create_git_source(&client, &namespace, "app", &server.url("app")).await;

    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &namespace);
    create(
        &config_maps,
        serde_json::json!({"metadata": {"name": "vars"}, "data": {"greeting": "hello", "name": "from-configmap"}}),
    )
    .await;
    create(&secrets, serde_json::json!({"metadata": {"name": "vars"}, "stringData": {"name": "from-secret"}})).await;

    let kustomizations: Api<Kustomization> = Api::namespaced(client.clone(), &namespace);
    create_kustomization(
        &kustomizations,
        "vars",
        serde_json::json!({"path": "./vars", "postBuild": {
        "substitute": {"greeting": "hi", "inline": "inline-value"},
        "substituteFrom": [
            {"kind": "ConfigMap", "name": "vars"},
            {"kind": "Secret", "name": "vars"},
            {"kind": "ConfigMap", "name": "absent", "optional": true}
        ]}}),
    )
    .await;
    create_kustomization(
        &kustomizations,
        "missing",
        serde_json::json!({"path": "./plain", "postBuild": {"substituteFrom": [{"kind": "ConfigMap", "name": "absent"}]}}),
    )
    .await;

    ready_with(&controllers, &kustomizations, "vars", ConditionStatus::True, "ReconciliationSucceeded").await;
    let rendered = data(&config_maps.get("rendered").await.unwrap());
    let expected: BTreeMap<String, String> = [
        ("greeting", "hi"),      // substitute wins over substituteFrom
        ("name", "from-secret"), // a later substituteFrom entry overrides an earlier one
        ("inline", "inline-value"),
        ("fallback", "default"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(rendered, expected);

    let message = ready_with(&controllers, &kustomizations, "missing", ConditionStatus::False, "BuildFailed").await;
    assert!(message.contains("ConfigMap/absent") && message.contains("not found"), "{message}");
    assert!(config_maps.get_opt("plain").await.unwrap().is_none(), "nothing is applied without the variables");

    // A changed variable is a new build, even with the same artifact and spec.
    let patch = serde_json::json!({"stringData": {"name": "changed"}});
    secrets.patch("vars", &PatchParams::default(), &Patch::Merge(&patch)).await.unwrap();
    request_reconcile(&kustomizations, "vars", "variables-changed").await;
    eventually(&controllers, "the changed variable is applied", || async {
        let cm = config_maps.get("rendered").await.ok()?;
        (data(&cm).get("name")? == "changed").then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_dependency_becoming_ready_wakes_its_dependents_and_cycles_stall() {
    let env = TestEnv::shared().await;
    let namespace = env.namespace("ks-deps").await;
    let client = env.client();
    let repo = Repo::new("app");
    repo.commit(
        &[
            ("a/cm.yaml", &config_map("a", "1")),
            ("b/cm.yaml", &config_map("b", "1")),
            ("c/cm.yaml", &config_map("c", "1")),
        ],
        "first",
    );
    repo.push("main");
    let server = GitHttpServer::start(&repo.root, ServerAuth::None);
    // Polling alone would take 10 minutes per link of the chain.
    let controllers = Controllers::start_with(env, &namespace, &["--requeue-dependency=10m"]);
    let kustomizations: Api<Kustomization> = Api::namespaced(client.clone(), &namespace);

    // The dependents first, so that they find their dependencies missing, then not ready.
    create_git_source(&client, &namespace, "app", &server.url("app")).await;
    let started = Instant::now();
    create_kustomization(&kustomizations, "c", serde_json::json!({"path": "./c", "dependsOn": [{"name": "b"}]})).await;
    create_kustomization(
        &kustomizations,
        "b",
        serde_json::json!({"path": "./b", "dependsOn": [{"name": "a", "namespace": namespace}]}),
    )
    .await;
    ready_with(&controllers, &kustomizations, "c", ConditionStatus::False, "DependencyNotReady").await;
    create_kustomization(&kustomizations, "a", serde_json::json!({"path": "./a"})).await;
    ready_with(&controllers, &kustomizations, "c", ConditionStatus::True, "ReconciliationSucceeded").await;
    let took = started.elapsed();
    println!("a chain of 3 Kustomizations was Ready {took:?} after creation (--requeue-dependency=10m)");
    assert!(took < common::WAIT);
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    assert!(config_maps.get_opt("c").await.unwrap().is_some());

    create_kustomization(&kustomizations, "x", serde_json::json!({"path": "./a", "dependsOn": [{"name": "y"}]})).await;
    create_kustomization(&kustomizations, "y", serde_json::json!({"path": "./b", "dependsOn": [{"name": "x"}]})).await;
    create_kustomization(&kustomizations, "self", serde_json::json!({"path": "./c", "dependsOn": [{"name": "self"}]}))
        .await;
    for (name, cycle) in [
        ("x", format!("{namespace}/x -> {namespace}/y -> {namespace}/x")),
        ("y", format!("{namespace}/y -> {namespace}/x -> {namespace}/y")),
        ("self", format!("{namespace}/self -> {namespace}/self")),
    ] {
        let message = eventually(&controllers, &format!("{name} is Stalled by the cycle"), || async {
            let ks = kustomizations.get(name).await.ok()?;
            let list = ks.status?.conditions?;
            let stalled = conditions::find(&list, types::STALLED)?;
            (stalled.status == ConditionStatus::True).then(|| stalled.message.clone())
        })
        .await;
        assert_eq!(message, format!("dependency cycle: {cycle}"));
    }
}

const WIDGET_CRD: &str = "widgets.health.weir.test";

async fn install_widget_crd(client: &kube::Client, controllers: &Controllers) {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let crd: CustomResourceDefinition = serde_json::from_value(serde_json::json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": WIDGET_CRD},
        "spec": {"group": "health.weir.test", "scope": "Namespaced",
                 "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                 // No status subresource: the manifests set `status`, as a stand-in for a controller.
                 "versions": [{"name": "v1", "served": true, "storage": true,
                               "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}
    }))
    .unwrap();
    match crds.create(&PostParams::default(), &crd).await {
        Ok(_) => {}
        Err(kube::Error::Api(e)) if e.code == 409 => {}
        Err(e) => panic!("creating the Widget CRD: {e}"),
    }
    eventually(controllers, "the Widget CRD is established", || async {
        let crd = crds.get(WIDGET_CRD).await.ok()?;
        let established = crd.status?.conditions?.iter().any(|c| c.type_ == "Established" && c.status == "True");
        established.then_some(())
    })
    .await;
}

fn widget(size: u32) -> String {
    format!("apiVersion: health.weir.test/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  size: {size}\n")
}

#[tokio::test]
async fn health_expressions_judge_custom_resources_and_a_new_revision_cancels_the_wait() {
    let env = TestEnv::shared().await;
    let namespace = env.namespace("ks-health").await;
    let client = env.client();
    let repo = Repo::new("app");
    repo.commit(&[("deploy/widget.yaml", &widget(1))], "one");
    repo.push("main");
    let server = GitHttpServer::start(&repo.root, ServerAuth::None);
    let controllers = Controllers::start(env, &namespace);
    install_widget_crd(&client, &controllers).await;
    let sources = create_git_source(&client, &namespace, "app", &server.url("app")).await;
    let kustomizations: Api<Kustomization> = Api::namespaced(client.clone(), &namespace);
    // A timeout far beyond the test's patience: only the expressions and the cancellation can end
    // a health wait in time.
    create_kustomization(
        &kustomizations,
        "widgets",
        serde_json::json!({"path": "./deploy", "wait": true, "timeout": "10m", "healthCheckExprs": [{
            "apiVersion": "health.weir.test/v1", "kind": "Widget",
            "current": "status.phase == 'Ready'", "failed": "status.phase == 'Failed'"}]}),
    )
    .await;
    let widgets: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        &namespace,
        &ApiResource::from_gvk(&GroupVersionKind::gvk("health.weir.test", "v1", "Widget")),
    );
    let size = |w: &DynamicObject| w.data.pointer("/spec/size").and_then(serde_json::Value::as_u64);
    // Every status the Kustomization goes through, to check that the cancellation is no failure.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let watch = tokio::spawn({
        let (api, seen) = (kustomizations.clone(), seen.clone());
        async move {
            let mut updates =
                watcher(api, watcher::Config::default().fields("metadata.name=widgets")).applied_objects().boxed();
            while let Some(Ok(ks)) = updates.next().await {
                let list = ks.status.and_then(|s| s.conditions).unwrap_or_default();
                let state = |t: &str| conditions::find(&list, t).map(|c| (c.status, c.message.clone()));
                seen.lock().unwrap().push((state(types::READY), state(types::RECONCILING)));
            }
        }
    });
    eventually(&controllers, "the first Widget is applied", || async {
        let w = widgets.get_opt("w").await.ok()??;
        (size(&w) == Some(1)).then_some(())
    })
    .await;

    // The Widget has no status, so the health wait for the first revision would last 10 minutes.
    let second = repo.commit(&[("deploy/widget.yaml", &widget(2))], "two");
    repo.push("main");
    let started = Instant::now();
    request_reconcile(&sources, "app", "two").await;
    eventually(&controllers, "the second revision is applied", || async {
        let w = widgets.get_opt("w").await.ok()??;
        (size(&w) == Some(2)).then_some(())
    })
    .await;
    println!("a new revision was applied {:?} after it was requested, cancelling a 10m health wait", started.elapsed());
    eventually(&controllers, "the cancellation shows in Reconciling", || async {
        let seen = seen.lock().unwrap();
        let cancelled = |(_, reconciling): &(_, Option<(ConditionStatus, String)>)| {
            reconciling.as_ref().is_some_and(|(_, message)| message.contains("cancelled: reconciling a new revision"))
        };
        seen.iter().any(cancelled).then_some(())
    })
    .await;
    watch.abort();
    let seen = seen.lock().unwrap().clone();
    let health_failure = |(ready, _): &(Option<(ConditionStatus, String)>, _)| {
        ready
            .as_ref()
            .is_some_and(|(status, message)| *status == ConditionStatus::False && message.contains("health check"))
    };
    assert!(!seen.iter().any(health_failure), "a cancelled health check is no failure: {seen:?}");

    // The test plays the Widget's controller: the expressions see its status.
    let status = |phase: &str| serde_json::json!({"status": {"phase": phase}});
    let params = PatchParams { field_manager: Some("widget-controller".into()), ..Default::default() };
    widgets.patch("w", &params, &Patch::Merge(&status("Ready"))).await.unwrap();
    ready_with(&controllers, &kustomizations, "widgets", ConditionStatus::True, "ReconciliationSucceeded").await;
    let ks_status = kustomizations.get("widgets").await.unwrap().status.unwrap();
    assert_eq!(ks_status.last_applied_revision, Some(format!("main@sha1:{second}")));
    let healthy = conditions::find(ks_status.conditions.as_deref().unwrap(), types::HEALTHY).unwrap();
    assert_eq!(healthy.status, ConditionStatus::True);

    widgets.patch("w", &params, &Patch::Merge(&status("Failed"))).await.unwrap();
    request_reconcile(&kustomizations, "widgets", "failed").await;
    let message =
        ready_with(&controllers, &kustomizations, "widgets", ConditionStatus::False, "HealthCheckFailed").await;
    assert!(message.contains("Widget") && message.contains("status.phase == 'Failed'"), "{message}");
}

#[tokio::test]
async fn service_accounts_and_kubeconfig_secrets_decide_who_applies() {
    let env = TestEnv::shared().await;
    let namespace = env.namespace("ks-sa").await;
    let client = env.client();
    let repo = Repo::new("app");
    repo.commit(
        &[
            ("denied/cm.yaml", &config_map("denied", "1")),
            ("allowed/cm.yaml", &config_map("allowed", "1")),
            ("remote/cm.yaml", &config_map("remote", "1")),
            ("suspended/cm.yaml", &config_map("suspended", "1")),
        ],
        "first",
    );
    repo.push("main");
    let server = GitHttpServer::start(&repo.root, ServerAuth::None);
    let controllers = Controllers::start(env, &namespace);
    create_git_source(&client, &namespace, "app", &server.url("app")).await;

    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), &namespace);
    create(&accounts, serde_json::json!({"metadata": {"name": "deployer"}})).await;
    let bindings: Api<RoleBinding> = Api::namespaced(client.clone(), &namespace);
    create(
        &bindings,
        serde_json::json!({"metadata": {"name": "deployer-edit"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
            "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": namespace}]}),
    )
    .await;
    let kubeconfig = std::fs::read_to_string(env.kubeconfig_path()).unwrap();
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &namespace);
    create(&secrets, serde_json::json!({"metadata": {"name": "remote"}, "stringData": {"value": kubeconfig}})).await;

    let kustomizations: Api<Kustomization> = Api::namespaced(client.clone(), &namespace);
    create_kustomization(&kustomizations, "suspended", serde_json::json!({"path": "./suspended", "suspend": true}))
        .await;
    create_kustomization(
        &kustomizations,
        "denied",
        serde_json::json!({"path": "./denied", "serviceAccountName": "nobody"}),
    )
    .await;
    create_kustomization(
        &kustomizations,
        "allowed",
        serde_json::json!({"path": "./allowed", "serviceAccountName": "deployer"}),
    )
    .await;
    create_kustomization(
        &kustomizations,
        "remote",
        serde_json::json!({"path": "./remote", "kubeConfig": {"secretRef": {"name": "remote"}}}),
    )
    .await;

    let message =
        ready_with(&controllers, &kustomizations, "denied", ConditionStatus::False, "ReconciliationFailed").await;
    assert!(message.contains(&format!("system:serviceaccount:{namespace}:nobody")), "{message}");
    ready_with(&controllers, &kustomizations, "allowed", ConditionStatus::True, "ReconciliationSucceeded").await;
    ready_with(&controllers, &kustomizations, "remote", ConditionStatus::True, "ReconciliationSucceeded").await;
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    assert!(config_maps.get_opt("denied").await.unwrap().is_none(), "the service account may not create it");
    assert!(config_maps.get_opt("allowed").await.unwrap().is_some());
    assert!(config_maps.get_opt("remote").await.unwrap().is_some());

    let status = kustomizations.get("remote").await.unwrap().status.unwrap();
    let history = status.history.unwrap();
    assert_eq!(history.len(), 1, "{history:?}");
    assert!(history[0].digest.starts_with("sha256:"), "{history:?}");
    assert_eq!(history[0].last_reconciled_status, "ReconciliationSucceeded");
    assert_eq!(history[0].metadata.as_ref().unwrap()["revision"], status.last_applied_revision.unwrap());

    // Suspended from the start: the others were reconciled after it, and it applied nothing.
    assert!(config_maps.get_opt("suspended").await.unwrap().is_none());
    let suspended = kustomizations.get("suspended").await.unwrap();
    assert!(suspended.status.and_then(|s| s.last_applied_revision).is_none());
}

#[tokio::test]
async fn external_artifacts_wake_their_kustomizations_and_ready_exprs_gate_dependents() {
    let env = TestEnv::shared().await;
    let namespace = env.namespace("ks-external").await;
    let client = env.client();
    let repo = Repo::new("app");
    repo.commit(
        &[("deploy/cm.yaml", &config_map("external", "1")), ("gated/cm.yaml", &config_map("gated", "1"))],
        "first",
    );
    repo.push("main");
    let server = GitHttpServer::start(&repo.root, ServerAuth::None);
    let controllers = Controllers::start_with(env, &namespace, &["--requeue-dependency=10m"]);
    let sources = create_git_source(&client, &namespace, "app", &server.url("app")).await;
    // The GitRepository's artifact stands in for one a third-party controller would produce.
    let artifact = eventually(&controllers, "the GitRepository has an artifact", || async {
        sources.get("app").await.ok()?.status?.artifact
    })
    .await;
    let externals: Api<ExternalArtifact> = Api::namespaced(client.clone(), &namespace);
    create(&externals, serde_json::json!({"metadata": {"name": "ext"}, "spec": {}})).await;

    let kustomizations: Api<Kustomization> = Api::namespaced(client.clone(), &namespace);
    let external_ref = serde_json::json!({"kind": "ExternalArtifact", "name": "ext"});
    create_kustomization(
        &kustomizations,
        "external",
        serde_json::json!({"path": "./deploy", "sourceRef": external_ref}),
    )
    .await;
    create_kustomization(
        &kustomizations,
        "gated",
        serde_json::json!({"path": "./gated", "dependsOn": [
            {"name": "external", "readyExpr": "has(dep.status.lastAppliedRevision) && self.metadata.name == 'gated'"}]}),
    )
    .await;
    create_kustomization(
        &kustomizations,
        "blocked",
        serde_json::json!({"path": "./gated", "dependsOn": [{"name": "external", "readyExpr": "dep.metadata.name == 'other'"}]}),
    )
    .await;
    let message = ready_with(&controllers, &kustomizations, "external", ConditionStatus::False, "ArtifactFailed").await;
    assert!(message.contains("ExternalArtifact"), "{message}");

    let status = serde_json::json!({"status": {"artifact": artifact}});
    externals.patch_status("ext", &PatchParams::default(), &Patch::Merge(&status)).await.unwrap();
    ready_with(&controllers, &kustomizations, "external", ConditionStatus::True, "ReconciliationSucceeded").await;
    ready_with(&controllers, &kustomizations, "gated", ConditionStatus::True, "ReconciliationSucceeded").await;
    let message =
        ready_with(&controllers, &kustomizations, "blocked", ConditionStatus::False, "DependencyNotReady").await;
    assert_eq!(message, format!("dependency '{namespace}/external' is not ready according to readyExpr eval"));
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    assert!(config_maps.get_opt("external").await.unwrap().is_some());
    assert!(config_maps.get_opt("gated").await.unwrap().is_some());
}

/// The audience the API server accepts: the one it gives a token requested without any.
async fn api_audience(accounts: &Api<ServiceAccount>, account: &str) -> String {
    let issued =
        accounts.create_token_request(account, &PostParams::default(), &TokenRequest::default()).await.unwrap();
    let token = issued.status.unwrap().token.unwrap();
    let claims = URL_SAFE_NO_PAD.decode(token.split('.').nth(1).unwrap().trim_end_matches('=')).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&claims).unwrap();
    claims["aud"][0].as_str().unwrap().to_string()
}

#[tokio::test]
async fn kubeconfig_config_maps_reach_a_cluster_with_a_service_account_token() {
    let env = TestEnv::shared().await;
    let namespace = env.namespace("ks-wi").await;
    let client = env.client();
    let repo = Repo::new("app");
    let role = "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: not-allowed\nrules: []\n";
    repo.commit(&[("allowed/cm.yaml", &config_map("through-token", "1")), ("denied/role.yaml", role)], "first");
    repo.push("main");
    let server = GitHttpServer::start(&repo.root, ServerAuth::None);
    let controllers = Controllers::start_with(env, &namespace, &["--feature-gates=ObjectLevelWorkloadIdentity=true"]);
    create_git_source(&client, &namespace, "app", &server.url("app")).await;

    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), &namespace);
    create(&accounts, serde_json::json!({"metadata": {"name": "remote-deployer"}})).await;
    let bindings: Api<RoleBinding> = Api::namespaced(client.clone(), &namespace);
    create(
        &bindings,
        serde_json::json!({"metadata": {"name": "remote-deployer-edit"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
            "subjects": [{"kind": "ServiceAccount", "name": "remote-deployer", "namespace": namespace}]}),
    )
    .await;
    // The "remote" cluster is the test's own: its address and CA, and the audience it accepts.
    let kubeconfig = kube::config::Kubeconfig::read_from(env.kubeconfig_path()).unwrap();
    let cluster = kubeconfig.clusters[0].cluster.clone().unwrap();
    let ca = STANDARD.decode(cluster.certificate_authority_data.unwrap()).unwrap();
    let audience = api_audience(&accounts, "remote-deployer").await;
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    create(
        &config_maps,
        serde_json::json!({"metadata": {"name": "remote"}, "data": {
            "provider": "generic", "address": cluster.server.unwrap(), "ca.crt": String::from_utf8(ca).unwrap(),
            "audiences": audience, "serviceAccountName": "remote-deployer"}}),
    )
    .await;
    create(
        &config_maps,
        serde_json::json!({"metadata": {"name": "eks"}, "data": {
            "provider": "aws", "cluster": "arn:aws:eks:eu-west-1:123456789012:cluster/prod"}}),
    )
    .await;

    let kustomizations: Api<Kustomization> = Api::namespaced(client.clone(), &namespace);
    let through = |config_map: &str, path: &str| serde_json::json!({"path": path, "kubeConfig": {"configMapRef": {"name": config_map}}});
    create_kustomization(&kustomizations, "generic", through("remote", "./allowed")).await;
    create_kustomization(&kustomizations, "forbidden", through("remote", "./denied")).await;
    create_kustomization(&kustomizations, "cloud", through("eks", "./allowed")).await;

    ready_with(&controllers, &kustomizations, "generic", ConditionStatus::True, "ReconciliationSucceeded").await;
    assert!(config_maps.get_opt("through-token").await.unwrap().is_some());
    // The token is the ServiceAccount's: what it may not do is refused.
    let message =
        ready_with(&controllers, &kustomizations, "forbidden", ConditionStatus::False, "ReconciliationFailed").await;
    assert!(message.contains(&format!("system:serviceaccount:{namespace}:remote-deployer")), "{message}");
    let message =
        ready_with(&controllers, &kustomizations, "cloud", ConditionStatus::False, "ReconciliationFailed").await;
    assert!(
        message.contains(&format!("kubeConfig.configMapRef '{namespace}/eks': provider 'aws' is not supported")),
        "{message}"
    );
}
