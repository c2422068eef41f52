//! Output order: kustomize's legacy order (its default: kinds that others depend on first,
//! webhooks last, then by group/version/kind, namespace and name), or `fifo` (input order).

use crate::kustomization::SortOptions;
use crate::resid::ResId;
use crate::resource::Resource;

/// Kinds that go first, in this order (kustomize's default `orderFirst`).
pub const ORDER_FIRST: &[&str] = &[
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];

/// Kinds that go last (kustomize's default `orderLast`).
pub const ORDER_LAST: &[&str] = &["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"];

pub fn sort(resources: &mut [Resource], options: Option<&SortOptions>) -> Result<(), String> {
    let order = options.and_then(|o| o.order.as_deref()).unwrap_or("legacy");
    match order {
        "fifo" => Ok(()),
        "legacy" => {
            let legacy = options.and_then(|o| o.legacy_sort_options.as_ref());
            let first: Vec<&str> = match legacy {
                Some(l) if !l.order_first.is_empty() || !l.order_last.is_empty() => {
                    l.order_first.iter().map(String::as_str).collect()
                }
                _ => ORDER_FIRST.to_vec(),
            };
            let last: Vec<&str> = match legacy {
                Some(l) if !l.order_first.is_empty() || !l.order_last.is_empty() => {
                    l.order_last.iter().map(String::as_str).collect()
                }
                _ => ORDER_LAST.to_vec(),
            };
            resources.sort_by_cached_key(|r| {
                let id = r.id();
                (rank(&id.kind, &first, &last), gvk_string(&id), id_string(&id))
            });
            Ok(())
        }
        other => Err(format!("unknown sortOptions.order {other:?}: expected legacy or fifo")),
    }
}

fn rank(kind: &str, first: &[&str], last: &[&str]) -> i64 {
    if let Some(i) = first.iter().position(|k| *k == kind) {
        return i as i64 - first.len() as i64;
    }
    if let Some(i) = last.iter().position(|k| *k == kind) {
        return 1 + i as i64;
    }
    0
}

fn or_marker<'a>(s: &'a str, marker: &'a str) -> &'a str {
    if s.is_empty() { marker } else { s }
}

/// `group_version_kind`, with kustomize's markers for missing parts.
fn gvk_string(id: &ResId) -> String {
    format!("{}_{}_{}", or_marker(&id.group, "~G"), or_marker(&id.version, "~V"), or_marker(&id.kind, "~K"))
}

fn id_string(id: &ResId) -> String {
    format!("{}|{}", or_marker(&id.namespace, "~X"), or_marker(&id.name, "~N"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn namespaces_first_webhooks_last() {
        let mk = |kind: &str, name: &str| {
            Resource::new(json!({"apiVersion": "v1", "kind": kind, "metadata": {"name": name}}), "f".into())
        };
        let mut rs =
            vec![mk("ValidatingWebhookConfiguration", "w"), mk("Foo", "b"), mk("Foo", "a"), mk("Namespace", "n")];
        sort(&mut rs, None).unwrap();
        let names: Vec<&str> = rs.iter().map(|r| r.name()).collect();
        assert_eq!(names, vec!["n", "a", "b", "w"]);
    }
}
