//! Defaults the API server would set, filled in before applying. Server-side apply on
//! Kubernetes before 1.21 refuses a port without `protocol` in lists keyed by
//! (port, protocol): "associative list with keys has an element that omits key field". Flux's
//! apply engine sets the same defaults for the same reason.

use serde_json::{Value, json};

/// Where a kind keeps its pod spec.
fn pod_spec_pointer(api_version: &str, kind: &str) -> Option<&'static str> {
    let group = api_version.split_once('/').map_or("", |(group, _)| group);
    match (group, kind) {
        ("", "Pod") => Some("/spec"),
        ("", "ReplicationController") | ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet") => {
            Some("/spec/template/spec")
        }
        ("batch", "Job") => Some("/spec/template/spec"),
        ("batch", "CronJob") => Some("/spec/jobTemplate/spec/template/spec"),
        _ => None,
    }
}

/// Sets `protocol: TCP` on Service ports and container ports that have none.
pub fn set_native_defaults(object: &mut Value) {
    let api_version = object.get("apiVersion").and_then(Value::as_str).unwrap_or_default().to_string();
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or_default().to_string();
    if api_version == "v1" && kind == "Service" {
        default_protocols(object.pointer_mut("/spec/ports"));
    }
    let Some(pointer) = pod_spec_pointer(&api_version, &kind) else { return };
    let Some(pod) = object.pointer_mut(pointer) else { return };
    for list in ["initContainers", "containers"] {
        if let Some(Value::Array(containers)) = pod.get_mut(list) {
            for container in containers {
                default_protocols(container.get_mut("ports"));
            }
        }
    }
}

fn default_protocols(ports: Option<&mut Value>) {
    let Some(Value::Array(ports)) = ports else { return };
    for port in ports.iter_mut().filter_map(Value::as_object_mut) {
        port.entry("protocol").or_insert_with(|| json!("TCP"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_missing_protocols_only() {
        let mut service = json!({"apiVersion": "v1", "kind": "Service",
            "spec": {"ports": [{"port": 80}, {"port": 53, "protocol": "UDP"}]}});
        set_native_defaults(&mut service);
        assert_eq!(service["spec"]["ports"][0]["protocol"], "TCP");
        assert_eq!(service["spec"]["ports"][1]["protocol"], "UDP");

        let mut cron = json!({"apiVersion": "batch/v1", "kind": "CronJob", "spec": {"jobTemplate": {"spec":
            {"template": {"spec": {"containers": [{"name": "c", "ports": [{"containerPort": 8080}]}]}}}}}});
        set_native_defaults(&mut cron);
        assert_eq!(
            cron.pointer("/spec/jobTemplate/spec/template/spec/containers/0/ports/0/protocol"),
            Some(&json!("TCP"))
        );

        let mut deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"template": {"spec":
            {"initContainers": [{"name": "i", "ports": [{"containerPort": 1}]}], "containers": [{"name": "c"}]}}}});
        set_native_defaults(&mut deployment);
        assert_eq!(deployment.pointer("/spec/template/spec/initContainers/0/ports/0/protocol"), Some(&json!("TCP")));

        // Other kinds, and custom resources with the same shape, are left alone.
        let mut custom = json!({"apiVersion": "example.com/v1", "kind": "Service", "spec": {"ports": [{"port": 80}]}});
        let before = custom.clone();
        set_native_defaults(&mut custom);
        assert_eq!(custom, before);
    }
}
