//! The objects `weir install` creates, as plain JSON values in apply order.

use serde_json::{Value, json};
use weir_api::annotations::install as labels;

use super::components::{COMPONENTS, Component};

/// What to generate.
pub struct InstallOptions {
    pub namespace: String,
    pub registry: String,
    pub version: String,
    pub components: Vec<String>,
    pub log_level: String,
    pub watch_all_namespaces: bool,
    /// Add the NetworkPolicies that confine traffic into the namespace.
    pub network_policy: bool,
    /// `(major, minor)` of the target server, when known: CRDs are adapted to it.
    pub server_version: Option<(u32, u32)>,
}

/// Every object, in the order they must be applied: namespace, CRDs, RBAC, workloads, services.
pub fn generate(opts: &InstallOptions) -> Vec<Value> {
    let mut objects = vec![namespace(opts)];
    objects.extend(crds(opts));
    let selected: Vec<&Component> =
        COMPONENTS.iter().filter(|c| opts.components.iter().any(|name| name == c.name)).collect();
    for c in &selected {
        objects.push(service_account(opts, c));
        objects.push(cluster_role(opts, c));
        objects.push(cluster_role_binding(opts, c, &role_name(opts, c)));
        if c.cluster_admin {
            objects.push(cluster_role_binding(opts, c, "cluster-admin"));
        }
    }
    for c in &selected {
        objects.extend(c.services.iter().map(|s| service(opts, c, s.name, s.target_port)));
        objects.push(deployment(opts, c));
    }
    if opts.network_policy {
        objects.extend(super::network_policies::generate(opts, &common_labels(opts)));
    }
    objects
}

fn common_labels(opts: &InstallOptions) -> Value {
    json!({
        labels::PART_OF_LABEL: labels::PART_OF_VALUE,
        labels::INSTANCE_LABEL: opts.namespace,
        labels::VERSION_LABEL: opts.version,
    })
}

fn component_labels(opts: &InstallOptions, c: &Component) -> Value {
    let mut l = common_labels(opts);
    l[labels::COMPONENT_LABEL] = json!(c.name);
    l
}

fn namespace(opts: &InstallOptions) -> Value {
    let mut l = common_labels(opts);
    // The controllers need no privileges; pods in this namespace are held to the restricted profile.
    l["pod-security.kubernetes.io/warn"] = json!("restricted");
    l["pod-security.kubernetes.io/warn-version"] = json!("latest");
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": opts.namespace, "labels": l}})
}

fn crds(opts: &InstallOptions) -> Vec<Value> {
    weir_api::crds::all()
        .into_iter()
        .filter_map(|mut crd| {
            if let Some((major, minor)) = opts.server_version {
                weir_api::crds::adapt_for_server(&mut crd, major, minor);
            }
            let mut value = serde_json::to_value(&crd).ok()?;
            value["apiVersion"] = json!("apiextensions.k8s.io/v1");
            value["kind"] = json!("CustomResourceDefinition");
            value["metadata"]["labels"] = common_labels(opts);
            Some(value)
        })
        .collect()
}

fn role_name(opts: &InstallOptions, c: &Component) -> String {
    format!("weir-{}-{}", c.name, opts.namespace)
}

fn service_account(opts: &InstallOptions, c: &Component) -> Value {
    json!({
        "apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": c.name, "namespace": opts.namespace, "labels": component_labels(opts, c)}
    })
}

fn cluster_role(opts: &InstallOptions, c: &Component) -> Value {
    let rules: Vec<Value> =
        c.rules.iter().map(|r| json!({"apiGroups": r.groups, "resources": r.resources, "verbs": r.verbs})).collect();
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": role_name(opts, c), "labels": component_labels(opts, c)},
        "rules": rules
    })
}

fn cluster_role_binding(opts: &InstallOptions, c: &Component, role: &str) -> Value {
    let name = if role == "cluster-admin" {
        format!("weir-{}-cluster-admin-{}", c.name, opts.namespace)
    } else {
        role.to_string()
    };
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": name, "labels": component_labels(opts, c)},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"kind": "ServiceAccount", "name": c.name, "namespace": opts.namespace}]
    })
}

fn service(opts: &InstallOptions, c: &Component, name: &str, target_port: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": opts.namespace, "labels": component_labels(opts, c)},
        "spec": {
            "type": "ClusterIP",
            "selector": {"app": c.name},
            "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": target_port}]
        }
    })
}

fn deployment(opts: &InstallOptions, c: &Component) -> Value {
    let mut args = vec![
        format!("--events-addr=http://notification-controller.{}.svc.cluster.local./", opts.namespace),
        format!("--watch-all-namespaces={}", opts.watch_all_namespaces),
        format!("--log-level={}", opts.log_level),
        "--log-encoding=json".to_string(),
        "--enable-leader-election".to_string(),
    ];
    args.extend(c.args.iter().map(ToString::to_string));
    let ports: Vec<Value> =
        c.ports.iter().map(|p| json!({"name": p.name, "containerPort": p.container_port, "protocol": "TCP"})).collect();
    let mut mounts = vec![json!({"name": "temp", "mountPath": "/tmp"})];
    let mut volumes = vec![json!({"name": "temp", "emptyDir": {}})];
    if c.data_volume {
        mounts.push(json!({"name": "data", "mountPath": "/data"}));
        volumes.push(json!({"name": "data", "emptyDir": {}}));
    }
    let mut pod_labels = component_labels(opts, c);
    pod_labels["app"] = json!(c.name);
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": c.name, "namespace": opts.namespace, "labels": component_labels(opts, c)},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": c.name}},
            "template": {
                "metadata": {
                    "labels": pod_labels,
                    "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "8080"}
                },
                "spec": {
                    "serviceAccountName": c.name,
                    "terminationGracePeriodSeconds": 10,
                    "securityContext": {"fsGroup": 1337, "runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [{
                        "name": "manager",
                        "image": format!("{}/{}:v{}", opts.registry, c.name, opts.version),
                        "imagePullPolicy": "IfNotPresent",
                        "args": args,
                        "env": [
                            {"name": "RUNTIME_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
                            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}
                        ],
                        "ports": ports,
                        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "healthz"}},
                        "readinessProbe": {"httpGet": {"path": "/readyz", "port": "healthz"}},
                        "resources": {
                            "requests": {"cpu": "50m", "memory": "32Mi"},
                            "limits": {"cpu": "1000m", "memory": "1Gi"}
                        },
                        "securityContext": {
                            "allowPrivilegeEscalation": false,
                            "readOnlyRootFilesystem": true,
                            "runAsNonRoot": true,
                            "capabilities": {"drop": ["ALL"]},
                            "seccompProfile": {"type": "RuntimeDefault"}
                        },
                        "volumeMounts": mounts
                    }],
                    "volumes": volumes
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::{Namespace, Service, ServiceAccount};
    use k8s_openapi::api::networking::v1::NetworkPolicy;
    use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;

    fn options(components: &[&str]) -> InstallOptions {
        InstallOptions {
            namespace: "flux-system".into(),
            registry: "registry.example/weir".into(),
            version: "0.1.0".into(),
            components: components.iter().map(ToString::to_string).collect(),
            log_level: "info".into(),
            watch_all_namespaces: true,
            network_policy: true,
            server_version: None,
        }
    }

    fn kinds(objects: &[Value]) -> Vec<String> {
        objects.iter().map(|o| o["kind"].as_str().unwrap_or_default().to_string()).collect()
    }

    #[test]
    fn every_object_is_a_valid_kubernetes_object() {
        let objects = generate(&options(&super::super::components::names()));
        for o in &objects {
            let kind = o["kind"].as_str().unwrap();
            let ok = match kind {
                "Namespace" => serde_json::from_value::<Namespace>(o.clone()).is_ok(),
                "CustomResourceDefinition" => serde_json::from_value::<CustomResourceDefinition>(o.clone()).is_ok(),
                "ServiceAccount" => serde_json::from_value::<ServiceAccount>(o.clone()).is_ok(),
                "ClusterRole" => serde_json::from_value::<ClusterRole>(o.clone()).is_ok(),
                "ClusterRoleBinding" => serde_json::from_value::<ClusterRoleBinding>(o.clone()).is_ok(),
                "Service" => serde_json::from_value::<Service>(o.clone()).is_ok(),
                "Deployment" => serde_json::from_value::<Deployment>(o.clone()).is_ok(),
                "NetworkPolicy" => serde_json::from_value::<NetworkPolicy>(o.clone()).is_ok(),
                other => panic!("unexpected kind {other}"),
            };
            assert!(ok, "{kind} {} does not parse as a typed object", o["metadata"]["name"]);
        }
    }

    #[test]
    fn namespace_and_crds_come_first_then_rbac_then_workloads() {
        let objects = generate(&options(&["source-controller"]));
        let k = kinds(&objects);
        assert_eq!(k[0], "Namespace");
        let last_crd = k.iter().rposition(|k| k == "CustomResourceDefinition").unwrap();
        let first_deploy = k.iter().position(|k| k == "Deployment").unwrap();
        let last_rbac = k.iter().rposition(|k| k.starts_with("ClusterRole") || k == "ServiceAccount").unwrap();
        assert!(last_crd < last_rbac && last_rbac < first_deploy, "{k:?}");
        assert_eq!(k.iter().filter(|k| *k == "Deployment").count(), 1);
    }

    #[test]
    fn only_the_selected_components_are_generated() {
        let objects = generate(&options(&["notification-controller"]));
        let services: Vec<&str> =
            objects.iter().filter(|o| o["kind"] == "Service").filter_map(|o| o["metadata"]["name"].as_str()).collect();
        assert_eq!(services, ["notification-controller", "webhook-receiver"]);
        assert!(!objects.iter().any(|o| o["metadata"]["name"] == "source-controller"));
    }

    #[test]
    fn appliers_are_bound_to_cluster_admin_and_the_rest_are_not() {
        let objects = generate(&options(&super::super::components::names()));
        let admins: Vec<&str> = objects
            .iter()
            .filter(|o| o["kind"] == "ClusterRoleBinding" && o["roleRef"]["name"] == "cluster-admin")
            .filter_map(|o| o["subjects"][0]["name"].as_str())
            .collect();
        assert_eq!(admins, ["kustomize-controller", "helm-controller"]);
    }

    #[test]
    fn deployments_run_locked_down_with_probes() {
        let objects = generate(&options(&["source-controller"]));
        let d = objects.iter().find(|o| o["kind"] == "Deployment").unwrap();
        let c = &d["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["image"], "registry.example/weir/source-controller:v0.1.0");
        assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
        assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
        let args: Vec<&str> = c["args"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
        assert!(args.contains(&"--storage-path=/data"), "{args:?}");
        assert!(args.contains(&"--events-addr=http://notification-controller.flux-system.svc.cluster.local./"));
    }

    #[test]
    fn crds_lose_cel_rules_on_old_servers_only() {
        let mut opts = options(&[]);
        let has_cel = |objects: &[Value]| serde_json::to_string(objects).unwrap().contains("x-kubernetes-validations");
        opts.server_version = Some((1, 20));
        let old = generate(&opts);
        opts.server_version = Some((1, 30));
        let new = generate(&opts);
        assert!(!has_cel(&old));
        assert!(has_cel(&new));
    }

    #[test]
    fn network_policies_are_optional_and_open_the_webhook_receiver() {
        let with = generate(&options(&["notification-controller"]));
        let policies: Vec<&Value> = with.iter().filter(|o| o["kind"] == "NetworkPolicy").collect();
        let names: Vec<&str> = policies.iter().map(|p| p["metadata"]["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["allow-egress", "allow-scraping", "allow-webhooks"]);
        assert_eq!(policies[2]["spec"]["podSelector"]["matchLabels"]["app"], "notification-controller");
        let mut opts = options(&["notification-controller"]);
        opts.network_policy = false;
        assert!(!kinds(&generate(&opts)).iter().any(|k| k == "NetworkPolicy"));
    }
}
