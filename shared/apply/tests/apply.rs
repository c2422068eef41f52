//! The apply engine against a real API server: staged apply, drift, takeover of kubectl edits,
//! per-object annotations, immutable fields and prune. Each test has its own namespace.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams};
use kube::discovery::ApiResource;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use weir_apply::{
    Action, ApplyError, ApplyOptions, ChangeSet, DeleteOptions, Object, ResourceManager, WaitOptions, inventory_diff,
    inventory_from,
};
use weir_testenv::TestEnv;

fn objects(values: Vec<Value>) -> Vec<Object> {
    Object::from_values(values).unwrap()
}

fn config_map(ns: &str, name: &str, data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}, "data": data})
}

fn actions(cs: &ChangeSet) -> Vec<(String, Action)> {
    cs.entries.iter().map(|e| (e.subject.clone(), e.action)).collect()
}

async fn get(client: &kube::Client, ar: &ApiResource, ns: &str, name: &str) -> Option<Value> {
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, ar);
    api.get_opt(name).await.unwrap().map(|o| serde_json::to_value(o).unwrap())
}

fn cm_resource() -> ApiResource {
    ApiResource::erase::<k8s_openapi::api::core::v1::ConfigMap>(&())
}

#[tokio::test]
async fn staged_apply_detects_drift() {
    let env = TestEnv::shared().await;
    let ns = env.namespace("apply-staged").await;
    let client = env.client();
    let group = format!("{ns}.weir.test");
    let crd_name = format!("widgets.{group}");
    let set = |greeting: &str| {
        objects(vec![
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "app", "namespace": ns},
                "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "app"}},
                    "template": {"metadata": {"labels": {"app": "app"}},
                        "spec": {"containers": [{"name": "app", "image": "nginx:1.25"}]}}}}),
            json!({"apiVersion": format!("{group}/v1"), "kind": "Widget", "metadata": {"name": "w", "namespace": ns},
                "spec": {"size": 3}}),
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc", "namespace": ns},
                "spec": {"selector": {"app": "app"}, "ports": [{"port": 80, "protocol": "TCP"}]}}),
            config_map(&ns, "settings", json!({"greeting": greeting})),
            json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                "metadata": {"name": crd_name},
                "spec": {"group": group, "scope": "Namespaced",
                    "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
                    "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {
                        "type": "object", "properties": {"spec": {"type": "object",
                            "x-kubernetes-preserve-unknown-fields": true}}}}}]}}),
        ])
    };
    let manager = ResourceManager::new(client.clone());
    let opts = ApplyOptions::default();

    let first = manager.apply_all_staged(set("hello"), &opts).await.unwrap();
    let crd = format!("CustomResourceDefinition/{crd_name}");
    assert_eq!(
        actions(&first),
        vec![
            (crd.clone(), Action::Created),
            (format!("ConfigMap/{ns}/settings"), Action::Created),
            (format!("Service/{ns}/svc"), Action::Created),
            (format!("Deployment/{ns}/app"), Action::Created),
            (format!("Widget/{ns}/w"), Action::Created),
        ],
        "{first}"
    );

    let second = manager.apply_all_staged(set("hello"), &opts).await.unwrap();
    assert!(second.entries.iter().all(|e| e.action == Action::Unchanged), "{second}");

    let third = manager.apply_all_staged(set("changed"), &opts).await.unwrap();
    let changed: Vec<String> = third.changes().map(ToString::to_string).collect();
    assert_eq!(changed, vec![format!("ConfigMap/{ns}/settings configured")], "{third}");

    // Deployments with no replicas become healthy once kube-controller-manager has seen them.
    let metas: Vec<_> = third.entries.iter().map(|e| e.object.clone()).collect();
    let wait = WaitOptions { timeout: Duration::from_secs(60), ..Default::default() };
    manager.wait_for(&metas, &wait, &CancellationToken::new()).await.unwrap();

    // diff tells what an apply would do without doing it.
    let mut changed = set("again");
    let cm = changed.iter().position(|o| o.meta.kind == "ConfigMap").unwrap();
    let (entry, live, dry_run) = manager.diff(changed.swap_remove(cm), &opts).await.unwrap();
    assert_eq!(entry.action, Action::Configured);
    assert_eq!(live.unwrap()["data"]["greeting"], "changed");
    assert_eq!(dry_run["data"]["greeting"], "again");

    let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        Api::all(client);
    let _ = crds.delete(&crd_name, &DeleteParams::default()).await;
}

#[tokio::test]
async fn kubectl_edits_are_reverted() {
    let env = TestEnv::shared().await;
    let ns = env.namespace("apply-takeover").await;
    let client = env.client();
    let manager = ResourceManager::new(client.clone());
    let opts = ApplyOptions::default();
    let desired = || objects(vec![config_map(&ns, "cm", json!({"a": "1"}))]);
    manager.apply_all_staged(desired(), &opts).await.unwrap();

    // What `kubectl edit` does: an Update by a kubectl manager, here changing one key and adding one.
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &cm_resource());
    let edit = json!({"metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}},
        "data": {"a": "2", "extra": "x"}});
    let params = PatchParams { field_manager: Some("kubectl".into()), ..Default::default() };
    api.patch("cm", &params, &Patch::Merge(&edit)).await.unwrap();

    let cs = manager.apply_all_staged(desired(), &opts).await.unwrap();
    assert_eq!(actions(&cs), vec![(format!("ConfigMap/{ns}/cm"), Action::Configured)]);
    let live = get(&client, &cm_resource(), &ns, "cm").await.unwrap();
    assert_eq!(live["data"], json!({"a": "1"}), "the edit is reverted and the added key removed");
    assert!(live.pointer("/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration").is_none());
    let managers: Vec<&str> =
        live["metadata"]["managedFields"].as_array().unwrap().iter().filter_map(|e| e["manager"].as_str()).collect();
    assert!(!managers.iter().any(|m| m.starts_with("kubectl")), "{managers:?}");

    let again = manager.apply_all_staged(desired(), &opts).await.unwrap();
    assert_eq!(actions(&again), vec![(format!("ConfigMap/{ns}/cm"), Action::Unchanged)]);
}

#[tokio::test]
async fn ssa_annotations_skip_or_create_only() {
    let env = TestEnv::shared().await;
    let ns = env.namespace("apply-annotations").await;
    let client = env.client();
    let manager = ResourceManager::new(client.clone());
    let opts = ApplyOptions::default();
    let annotated = |name: &str, key: &str, value: &str, data: &str| {
        let mut o = config_map(&ns, name, json!({"k": data}));
        o["metadata"]["annotations"] = json!({ key: value });
        o
    };
    let set = |data: &str| {
        objects(vec![
            annotated("once", "kustomize.toolkit.fluxcd.io/ssa", "IfNotPresent", data),
            annotated("ignored", "kustomize.toolkit.fluxcd.io/ssa", "Ignore", data),
            annotated("disabled", "kustomize.toolkit.fluxcd.io/reconcile", "disabled", data),
        ])
    };
    let cs = manager.apply_all_staged(set("v1"), &opts).await.unwrap();
    assert_eq!(cs.action_of(&format!("ConfigMap/{ns}/once")), Some(Action::Created), "{cs}");
    assert_eq!(cs.action_of(&format!("ConfigMap/{ns}/ignored")), Some(Action::Skipped), "{cs}");
    assert_eq!(cs.action_of(&format!("ConfigMap/{ns}/disabled")), Some(Action::Skipped), "{cs}");
    assert!(get(&client, &cm_resource(), &ns, "ignored").await.is_none());
    assert!(get(&client, &cm_resource(), &ns, "disabled").await.is_none());

    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &cm_resource());
    let params = PatchParams { field_manager: Some("kubectl".into()), ..Default::default() };
    api.patch("once", &params, &Patch::Merge(json!({"data": {"k": "edited"}}))).await.unwrap();
    let cs = manager.apply_all_staged(set("v2"), &opts).await.unwrap();
    assert_eq!(cs.action_of(&format!("ConfigMap/{ns}/once")), Some(Action::Skipped), "{cs}");
    let live = get(&client, &cm_resource(), &ns, "once").await.unwrap();
    assert_eq!(live["data"]["k"], "edited", "IfNotPresent never updates");

    // Merge: our fields are applied, fields added by kubectl are left alone.
    let merged = || objects(vec![annotated("merged", "kustomize.toolkit.fluxcd.io/ssa", "Merge", "v1")]);
    manager.apply_all_staged(merged(), &opts).await.unwrap();
    api.patch("merged", &params, &Patch::Merge(json!({"data": {"k": "edited", "extra": "x"}}))).await.unwrap();
    let cs = manager.apply_all_staged(merged(), &opts).await.unwrap();
    assert_eq!(cs.action_of(&format!("ConfigMap/{ns}/merged")), Some(Action::Configured), "{cs}");
    let live = get(&client, &cm_resource(), &ns, "merged").await.unwrap();
    assert_eq!(live["data"], json!({"k": "v1", "extra": "x"}));
}

#[tokio::test]
async fn prune_deletes_only_owned_objects() {
    let env = TestEnv::shared().await;
    let ns = env.namespace("apply-prune").await;
    let client = env.client();
    let manager = ResourceManager::new(client.clone());
    let opts = ApplyOptions::default();
    let owner: BTreeMap<String, String> = [
        ("kustomize.toolkit.fluxcd.io/name".to_string(), "app".to_string()),
        ("kustomize.toolkit.fluxcd.io/namespace".to_string(), ns.clone()),
    ]
    .into();
    let owned = |name: &str| {
        let mut o = config_map(&ns, name, json!({}));
        o["metadata"]["labels"] = serde_json::to_value(&owner).unwrap();
        o
    };
    let mut kept = owned("kept");
    kept["metadata"]["annotations"] = json!({"kustomize.toolkit.fluxcd.io/prune": "disabled"});
    let first = objects(vec![owned("stays"), owned("dropped"), config_map(&ns, "foreign", json!({})), kept]);
    let old = inventory_from(&manager.apply_all_staged(first, &opts).await.unwrap());
    assert_eq!(old.entries.len(), 4);
    assert!(old.entries.iter().any(|e| e.id == format!("{ns}_dropped__ConfigMap") && e.v == "v1"));

    let new = inventory_from(&manager.apply_all_staged(objects(vec![owned("stays")]), &opts).await.unwrap());
    let stale = inventory_diff(&old, &new);
    assert_eq!(stale.len(), 3);
    let result = manager.delete_all(&stale, &DeleteOptions { owner_labels: owner.clone() }).await;
    assert!(result.failed.is_empty(), "{:?}", result.failed);
    assert_eq!(result.change_set.action_of(&format!("ConfigMap/{ns}/dropped")), Some(Action::Deleted));
    assert_eq!(result.change_set.action_of(&format!("ConfigMap/{ns}/foreign")), Some(Action::Skipped));
    assert_eq!(result.change_set.action_of(&format!("ConfigMap/{ns}/kept")), Some(Action::Skipped));
    for (name, exists) in [("stays", true), ("foreign", true), ("kept", true)] {
        assert_eq!(get(&client, &cm_resource(), &ns, name).await.is_some(), exists, "{name}");
    }
    // Background deletion of a ConfigMap is immediate; it must be gone.
    let dropped = get(&client, &cm_resource(), &ns, "dropped").await;
    assert!(dropped.is_none_or(|d| d.pointer("/metadata/deletionTimestamp").is_some()));

    // Nothing owned is left to delete: a second prune does nothing.
    let again = manager.delete_all(&stale, &DeleteOptions { owner_labels: owner }).await;
    assert!(again.change_set.changes().next().is_none());
}

#[tokio::test]
async fn immutable_fields_need_force() {
    let env = TestEnv::shared().await;
    let ns = env.namespace("apply-immutable").await;
    let client = env.client();
    let manager = ResourceManager::new(client.clone());
    let opts = ApplyOptions::default();
    let job = |image: &str, force: bool| {
        let mut o = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate", "namespace": ns},
            "spec": {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never",
                "containers": [{"name": "m", "image": image}]}}}});
        if force {
            o["metadata"]["annotations"] = json!({"kustomize.toolkit.fluxcd.io/force": "Enabled"});
        }
        objects(vec![o])
    };
    let cs = manager.apply_all_staged(job("busybox:1", false), &opts).await.unwrap();
    assert_eq!(actions(&cs), vec![(format!("Job/{ns}/migrate"), Action::Created)]);
    let cs = manager.apply_all_staged(job("busybox:1", false), &opts).await.unwrap();
    assert_eq!(actions(&cs), vec![(format!("Job/{ns}/migrate"), Action::Unchanged)]);

    let err = manager.apply_all_staged(job("busybox:2", false), &opts).await.unwrap_err();
    let message = err.to_string();
    assert!(message.contains(&format!("Job/{ns}/migrate")), "{message}");
    assert!(message.contains("immutable field spec.template changed") && message.contains("force"), "{message}");
    assert!(message.len() < 400, "short enough to read in a condition: {message}");
    let ApplyError::Set(set) = err else { panic!("expected a set error: {message}") };
    assert!(set.failures.iter().all(|f| matches!(f, ApplyError::Immutable { .. })));

    let cs = manager.apply_all_staged(job("busybox:2", true), &opts).await.unwrap();
    assert_eq!(actions(&cs), vec![(format!("Job/{ns}/migrate"), Action::Created)]);
    let jobs = ApiResource::erase::<k8s_openapi::api::batch::v1::Job>(&());
    let live = get(&client, &jobs, &ns, "migrate").await.unwrap();
    assert_eq!(live.pointer("/spec/template/spec/containers/0/image").unwrap(), "busybox:2");

    // Force for the whole run works without the annotation too.
    let forced = ApplyOptions { force: true, ..Default::default() };
    let cs = manager.apply_all_staged(job("busybox:3", false), &forced).await.unwrap();
    assert_eq!(actions(&cs), vec![(format!("Job/{ns}/migrate"), Action::Created)]);
}

#[tokio::test]
async fn clear_errors_for_bad_objects() {
    let env = TestEnv::shared().await;
    let ns = env.namespace("apply-errors").await;
    let manager = ResourceManager::new(env.client());
    let opts = ApplyOptions::default();

    let unknown = objects(vec![json!({"apiVersion": "nope.weir.test/v1", "kind": "Gadget",
        "metadata": {"name": "g", "namespace": ns}})]);
    let message = manager.apply_all_staged(unknown, &opts).await.unwrap_err().to_string();
    assert!(message.contains(&format!("Gadget/{ns}/g")) && message.contains("does not serve kind Gadget"), "{message}");

    let no_ns = objects(vec![config_map("", "x", json!({}))]);
    let message = manager.apply_all_staged(no_ns, &opts).await.unwrap_err().to_string();
    assert!(message.contains("namespace not specified"), "{message}");
    let defaulted = ApplyOptions { default_namespace: Some(ns.clone()), ..Default::default() };
    let cs = manager.apply_all_staged(objects(vec![config_map("", "x", json!({}))]), &defaulted).await.unwrap();
    assert_eq!(actions(&cs), vec![(format!("ConfigMap/{ns}/x"), Action::Created)]);

    let service =
        objects(vec![json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc", "namespace": ns},
        "spec": {"ports": [{"port": 80}]}})]);
    // Servers before 1.21 refuse such a port under server-side apply; the engine sets the
    // protocol the server would default to, so it applies everywhere.
    let cs = manager.apply_all_staged(service, &opts).await.unwrap();
    assert_eq!(actions(&cs), vec![(format!("Service/{ns}/svc"), Action::Created)]);
    let applied = Api::<k8s_openapi::api::core::v1::Service>::namespaced(env.client(), &ns).get("svc").await.unwrap();
    assert_eq!(applied.spec.unwrap().ports.unwrap()[0].protocol.as_deref(), Some("TCP"));

    // One object the API server refuses stops its whole stage before anything is written.
    let half_bad = objects(vec![
        config_map(&ns, "good", json!({"k": "v"})),
        config_map(&ns, "changed", json!({})),
        config_map(&ns, "Not_A_Valid_Name", json!({})),
    ]);
    manager.apply_all_staged(objects(vec![config_map(&ns, "changed", json!({"k": "old"}))]), &opts).await.unwrap();
    let message = manager.apply_all_staged(half_bad, &opts).await.unwrap_err().to_string();
    assert!(message.contains("Not_A_Valid_Name"), "{message}");
    assert!(get(&env.client(), &cm_resource(), &ns, "good").await.is_none(), "a new object was written");
    let untouched = get(&env.client(), &cm_resource(), &ns, "changed").await.unwrap();
    assert_eq!(untouched["data"], json!({"k": "old"}), "a drifted object was written");
}

#[tokio::test]
async fn waiting_ends_on_timeout_or_cancel() {
    let env = TestEnv::shared().await;
    let ns = env.namespace("apply-wait").await;
    let manager = ResourceManager::new(env.client());
    // No kubelet runs pods here, so this Job never completes.
    let job = objects(vec![
        json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "never", "namespace": ns},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "m", "image": "busybox"}]}}}}),
    ]);
    let cs = manager.apply_all_staged(job, &ApplyOptions::default()).await.unwrap();
    let metas: Vec<_> = cs.entries.iter().map(|e| e.object.clone()).collect();

    let short = WaitOptions { timeout: Duration::from_millis(700), interval: Duration::from_millis(100) };
    let err = manager.wait_for(&metas, &short, &CancellationToken::new()).await.unwrap_err();
    assert!(matches!(err, ApplyError::Timeout { .. }), "{err}");
    assert!(err.to_string().contains(&format!("Job/{ns}/never")), "{err}");

    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        trigger.cancel();
    });
    let long = WaitOptions { timeout: Duration::from_secs(60), ..Default::default() };
    let started = std::time::Instant::now();
    let err = manager.wait_for(&metas, &long, &cancel).await.unwrap_err();
    assert!(matches!(err, ApplyError::Cancelled { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
}
