//! The benchmark's app, as Flux's benchmark defines it: a Deployment scaled to 0, a
//! ServiceAccount, a Service and an Ingress, in the app's own namespace.

use serde_json::{Value, json};

/// The app's objects for `name` in `namespace` (None: left to the Kustomization's
/// targetNamespace).
pub fn app_objects(name: &str, namespace: Option<&str>) -> Vec<Value> {
    let meta = |kind_name: &str| {
        let mut meta = json!({ "name": kind_name, "labels": { "app.kubernetes.io/name": name } });
        if let Some(ns) = namespace {
            meta["namespace"] = json!(ns);
        }
        meta
    };
    vec![
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(name)}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(name), "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": name}},
                "spec": {"serviceAccountName": name, "containers": [{
                    "name": "app", "image": "ghcr.io/stefanprodan/podinfo:6.7.0",
                    "ports": [{"name": "http", "containerPort": 9898, "protocol": "TCP"}],
                    "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}
                }]}
            }
        }}),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": meta(name), "spec": {
            "selector": {"app.kubernetes.io/name": name},
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]
        }}),
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta(name), "spec": {
            "rules": [{"host": format!("{name}.bench.invalid"), "http": {"paths": [{
                "path": "/", "pathType": "Prefix",
                "backend": {"service": {"name": name, "port": {"name": "http"}}}
            }]}}]
        }}),
    ]
}

/// The objects as one YAML stream (JSON is YAML; kustomize reads it).
pub fn to_yaml_stream(objects: &[Value]) -> String {
    objects.iter().map(|o| format!("---\n{o}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_objects_in_the_namespace() {
        let objects = app_objects("app-1", Some("ns"));
        let kinds: Vec<&str> = objects.iter().map(|o| o["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["ServiceAccount", "Deployment", "Service", "Ingress"]);
        assert!(objects.iter().all(|o| o["metadata"]["namespace"] == "ns"));
        assert!(app_objects("a", None)[0]["metadata"].get("namespace").is_none());
        assert_eq!(to_yaml_stream(&objects).matches("---\n").count(), 4);
    }
}
