//! Flux's apply order: definitions first, then `*Class` kinds, then the rest sorted by kind.

use std::cmp::Ordering;

use crate::object::{ObjMeta, Object};

/// The stages of a staged apply; each is applied (and, for definitions, waited for) before the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// CustomResourceDefinitions, Namespaces and ClusterRoles: other objects need them to exist.
    Definitions,
    /// `*Class` kinds (StorageClass, IngressClass, …), which objects of the last stage refer to.
    Classes,
    Rest,
}

pub fn stage_of(meta: &ObjMeta) -> Stage {
    match (meta.group.as_str(), meta.kind.as_str()) {
        ("apiextensions.k8s.io", "CustomResourceDefinition") | ("", "Namespace") => Stage::Definitions,
        ("rbac.authorization.k8s.io", "ClusterRole") => Stage::Definitions,
        (_, kind) if kind.ends_with("Class") => Stage::Classes,
        _ => Stage::Rest,
    }
}

/// Kinds that go first, in this order, so that what is referred to exists before what refers to it.
const ORDER_FIRST: &[&str] = &[
    "CustomResourceDefinition",
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Service",
    "LimitRange",
    "PriorityClass",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];

/// Kinds that go last: webhooks could reject the other objects before their backends exist.
const ORDER_LAST: &[&str] = &["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"];

/// Kinds not listed sort between the two lists (rank 0).
fn kind_rank(kind: &str) -> i64 {
    if let Some(i) = ORDER_FIRST.iter().position(|k| *k == kind) {
        return i as i64 - ORDER_FIRST.len() as i64;
    }
    if let Some(i) = ORDER_LAST.iter().position(|k| *k == kind) {
        return i as i64 + 1;
    }
    0
}

/// Flux's comparison: kind rank, then group, kind, namespace and name so the order does not
/// depend on the input order.
pub fn compare(a: &ObjMeta, b: &ObjMeta) -> Ordering {
    kind_rank(&a.kind)
        .cmp(&kind_rank(&b.kind))
        .then_with(|| a.group.cmp(&b.group))
        .then_with(|| a.kind.cmp(&b.kind))
        .then_with(|| a.namespace.cmp(&b.namespace))
        .then_with(|| a.name.cmp(&b.name))
}

/// Sorts objects in apply order.
pub fn sort_objects(objects: &mut [Object]) {
    objects.sort_by(|a, b| compare(&a.meta, &b.meta));
}

/// Splits sorted objects into their stages, keeping the order inside each.
pub(crate) fn split_stages(objects: Vec<Object>) -> [Vec<Object>; 3] {
    let mut stages: [Vec<Object>; 3] = Default::default();
    for o in objects {
        let i = match stage_of(&o.meta) {
            Stage::Definitions => 0,
            Stage::Classes => 1,
            Stage::Rest => 2,
        };
        stages[i].push(o);
    }
    stages
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(api_version: &str, kind: &str, ns: &str, name: &str) -> Object {
        Object::new(json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "namespace": ns}}))
            .unwrap()
    }

    #[test]
    fn sorts_like_flux() {
        let mut objects = vec![
            obj("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", "", "hook"),
            obj("apps/v1", "Deployment", "b", "app"),
            obj("example.com/v1", "Widget", "a", "w"),
            obj("apps/v1", "Deployment", "a", "app"),
            obj("v1", "Service", "a", "svc"),
            obj("v1", "ConfigMap", "a", "cm"),
            obj("rbac.authorization.k8s.io/v1", "ClusterRole", "", "cr"),
            obj("v1", "Namespace", "", "a"),
            obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", "widgets.example.com"),
            obj("v1", "ServiceAccount", "a", "sa"),
            obj("apps/v1", "Deployment", "a", "aaa"),
        ];
        sort_objects(&mut objects);
        let order: Vec<String> = objects.iter().map(|o| o.meta.subject()).collect();
        assert_eq!(
            order,
            [
                "CustomResourceDefinition/widgets.example.com",
                "Namespace/a",
                "ServiceAccount/a/sa",
                "ClusterRole/cr",
                "ConfigMap/a/cm",
                "Service/a/svc",
                "Deployment/a/aaa",
                "Deployment/a/app",
                "Deployment/b/app",
                "Widget/a/w",
                "ValidatingWebhookConfiguration/hook",
            ]
        );
    }

    #[test]
    fn stages() {
        let [defs, classes, rest] = split_stages(vec![
            obj("v1", "ConfigMap", "a", "cm"),
            obj("storage.k8s.io/v1", "StorageClass", "", "fast"),
            obj("networking.k8s.io/v1", "IngressClass", "", "nginx"),
            obj("v1", "Namespace", "", "a"),
            obj("rbac.authorization.k8s.io/v1", "ClusterRole", "", "cr"),
            obj("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "", "crb"),
        ]);
        assert_eq!(defs.len(), 2);
        assert_eq!(classes.len(), 2);
        assert_eq!(rest.len(), 2);
    }
}
