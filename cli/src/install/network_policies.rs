//! The NetworkPolicies `weir install` adds, as Flux's install does: the controllers talk to each
//! other and to anything outside; from other namespaces only Prometheus scraping and the
//! notification-controller's webhook receiver get in.

use serde_json::{Value, json};

use super::manifests::InstallOptions;

/// The controllers' metrics port, which `allow-scraping` opens.
const METRICS_PORT: u16 = 8080;

pub fn generate(opts: &InstallOptions, labels: &Value) -> Vec<Value> {
    let policy = |name: &str, spec: Value| {
        json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": opts.namespace, "labels": labels},
            "spec": spec,
        })
    };
    vec![
        // Within the namespace anything goes; egress is open (Git hosts, registries, chat).
        policy(
            "allow-egress",
            json!({
                "podSelector": {},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"from": [{"podSelector": {}}]}],
                "egress": [{}],
            }),
        ),
        policy(
            "allow-scraping",
            json!({
                "podSelector": {},
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"namespaceSelector": {}}], "ports": [{"port": METRICS_PORT, "protocol": "TCP"}]}],
            }),
        ),
        policy(
            "allow-webhooks",
            json!({
                "podSelector": {"matchLabels": {"app": "notification-controller"}},
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"namespaceSelector": {}}]}],
            }),
        ),
    ]
}
