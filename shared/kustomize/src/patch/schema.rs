//! Merge keys and list strategies of the built-in Kubernetes kinds, as data.
//!
//! Source: the `patchStrategy` / `patchMergeKey` struct tags of `k8s.io/api` (published in the
//! OpenAPI document as `x-kubernetes-patch-strategy` / `x-kubernetes-patch-merge-key`, with
//! `x-kubernetes-list-map-keys` for the lists keyed by more than one field), restricted to the
//! fields that kustomize's embedded schema (Kubernetes 1.21) makes it merge: fields added to
//! Kubernetes later are replaced by kustomize v5.5 even when they have a merge strategy. `k8s-openapi` does not carry these
//! extensions, hence this table. A kind that is not listed here (a custom resource, for one) has
//! no schema: kustomize replaces its lists wholesale, and so do we.
//!
//! A kustomization's `openapi: {path: …}` replaces this table for the whole build (kustomize
//! keeps one schema, global to the build): see [`CustomSchema`].

use std::collections::HashMap;

use serde_json::Value;

/// How a list field is merged by a strategic merge patch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListStrategy<'s> {
    /// The patch's list replaces the resource's list (no patch strategy).
    Replace,
    /// A list of mappings merged element by element, matched on these keys (the first one is
    /// the patch merge key, the others the remaining list-map keys).
    MergeByKeys(Keys<'s>),
    /// A list of scalars merged as a set.
    MergePrimitive,
}

/// The merge keys of a list: from the built-in table, or a custom schema's merge key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keys<'s> {
    Static(&'static [&'static str]),
    One(&'s str),
}

impl<'s> Keys<'s> {
    pub(crate) fn to_vec(self) -> Vec<&'s str> {
        match self {
            Keys::Static(keys) => keys.to_vec(),
            Keys::One(key) => vec![key],
        }
    }
}

/// A schema type: one of the built-in table's, or a definition of a custom schema.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TypeRef<'s> {
    Builtin(&'static str),
    Custom(&'s CustomSchema, &'s str),
}

/// A field of a schema type: the type of its value (or of its elements, for a list) and how a
/// list is merged.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FieldSchema<'s> {
    pub(crate) child: Option<TypeRef<'s>>,
    pub(crate) list: ListStrategy<'s>,
}

/// An OpenAPI v2 document given by `openapi: {path: …}` (the `definitions` of
/// `kubectl get --raw /openapi/v2`, or of `kustomize openapi fetch`), reduced to what strategic
/// merge reads: which definition a group and kind has (`x-kubernetes-group-version-kind`), the
/// type of each property (`$ref`, `items.$ref`, inline objects) and how its lists merge
/// (`x-kubernetes-patch-strategy: merge` with `x-kubernetes-patch-merge-key`).
#[derive(Debug, Clone, Default)]
pub struct CustomSchema {
    roots: HashMap<(String, String), String>,
    fields: HashMap<(String, String), CustomField>,
}

#[derive(Debug, Clone)]
struct CustomField {
    child: Option<String>,
    list: CustomList,
}

#[derive(Debug, Clone)]
enum CustomList {
    Replace,
    Primitive,
    ByKey(String),
}

impl CustomSchema {
    /// Reads the document; an error says what is missing.
    pub fn from_document(doc: &Value) -> Result<Self, String> {
        let definitions = doc
            .get("definitions")
            .and_then(Value::as_object)
            .ok_or("the OpenAPI document has no `definitions` mapping")?;
        let mut schema = CustomSchema::default();
        for (name, definition) in definitions {
            for gvk in definition.get("x-kubernetes-group-version-kind").and_then(Value::as_array).into_iter().flatten()
            {
                let text = |f: &str| gvk.get(f).and_then(Value::as_str).unwrap_or("").to_string();
                schema.roots.insert((text("group"), text("kind")), name.clone());
            }
            schema.add_properties(name, definition);
        }
        Ok(schema)
    }

    fn add_properties(&mut self, type_name: &str, definition: &Value) {
        let Some(properties) = definition.get("properties").and_then(Value::as_object) else { return };
        for (field, property) in properties {
            let element = property.get("items").unwrap_or(property);
            let child = match element.get("$ref").and_then(Value::as_str) {
                Some(reference) => Some(reference.trim_start_matches("#/definitions/").to_string()),
                None if element.get("properties").is_some() => {
                    // An inline object: described under a name of its own.
                    let inline = format!("{type_name}.{field}");
                    self.add_properties(&inline, element);
                    Some(inline)
                }
                None => None,
            };
            let merges = property
                .get("x-kubernetes-patch-strategy")
                .and_then(Value::as_str)
                .is_some_and(|s| s.split(',').any(|s| s.trim() == "merge"));
            let list = match property.get("x-kubernetes-patch-merge-key").and_then(Value::as_str) {
                Some(key) if merges => CustomList::ByKey(key.to_string()),
                None if merges => CustomList::Primitive,
                _ => CustomList::Replace,
            };
            self.fields.insert((type_name.to_string(), field.clone()), CustomField { child, list });
        }
    }
}

const NAME: &[&str] = &["name"];

/// (API group, kind, schema type). The core group is "".
const ROOTS: &[(&str, &str, &str)] = &[
    ("apps", "Deployment", "Workload"),
    ("apps", "StatefulSet", "Workload"),
    ("apps", "DaemonSet", "Workload"),
    ("apps", "ReplicaSet", "Workload"),
    ("extensions", "Deployment", "Workload"),
    ("extensions", "DaemonSet", "Workload"),
    ("extensions", "ReplicaSet", "Workload"),
    ("", "ReplicationController", "Workload"),
    ("batch", "Job", "Workload"),
    ("batch", "CronJob", "CronJob"),
    ("", "Pod", "Pod"),
    ("", "PodTemplate", "PodTemplate"),
    ("", "Service", "Service"),
    ("", "ServiceAccount", "ServiceAccount"),
    ("", "Node", "Node"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration", "WebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration", "WebhookConfiguration"),
    // Built-in kinds without list strategies of their own: only their metadata is typed.
    ("", "ConfigMap", "Object"),
    ("", "Secret", "Object"),
    ("", "Namespace", "Object"),
    ("", "Endpoints", "Object"),
    ("", "LimitRange", "Object"),
    ("", "ResourceQuota", "Object"),
    ("", "PersistentVolume", "Object"),
    ("", "PersistentVolumeClaim", "Object"),
    ("", "Event", "Object"),
    ("rbac.authorization.k8s.io", "Role", "Object"),
    ("rbac.authorization.k8s.io", "ClusterRole", "Object"),
    ("rbac.authorization.k8s.io", "RoleBinding", "Object"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding", "Object"),
    ("networking.k8s.io", "Ingress", "Object"),
    ("networking.k8s.io", "IngressClass", "Object"),
    ("networking.k8s.io", "NetworkPolicy", "Object"),
    ("autoscaling", "HorizontalPodAutoscaler", "Object"),
    ("policy", "PodDisruptionBudget", "Object"),
    ("storage.k8s.io", "StorageClass", "Object"),
    ("storage.k8s.io", "CSIDriver", "Object"),
    ("scheduling.k8s.io", "PriorityClass", "Object"),
    ("coordination.k8s.io", "Lease", "Object"),
    ("apiextensions.k8s.io", "CustomResourceDefinition", "Object"),
    ("apiregistration.k8s.io", "APIService", "Object"),
    ("discovery.k8s.io", "EndpointSlice", "Object"),
];

/// (schema type, field, type of the value or of the list's elements, list strategy).
/// How the built-in table says a list merges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StaticList {
    Replace,
    MergeByKeys(&'static [&'static str]),
    MergePrimitive,
}

const FIELDS: &[(&str, &str, Option<&str>, StaticList)] = &[
    // ObjectMeta
    ("ObjectMeta", "finalizers", None, StaticList::MergePrimitive),
    ("ObjectMeta", "ownerReferences", None, StaticList::MergeByKeys(&["uid"])),
    // Typed roots
    ("Object", "metadata", Some("ObjectMeta"), StaticList::Replace),
    ("Workload", "metadata", Some("ObjectMeta"), StaticList::Replace),
    ("Workload", "spec", Some("WorkloadSpec"), StaticList::Replace),
    ("WorkloadSpec", "template", Some("PodTemplateSpec"), StaticList::Replace),
    ("CronJob", "metadata", Some("ObjectMeta"), StaticList::Replace),
    ("CronJob", "spec", Some("CronJobSpec"), StaticList::Replace),
    ("CronJobSpec", "jobTemplate", Some("JobTemplateSpec"), StaticList::Replace),
    ("JobTemplateSpec", "metadata", Some("ObjectMeta"), StaticList::Replace),
    ("JobTemplateSpec", "spec", Some("WorkloadSpec"), StaticList::Replace),
    ("Pod", "metadata", Some("ObjectMeta"), StaticList::Replace),
    ("Pod", "spec", Some("PodSpec"), StaticList::Replace),
    ("PodTemplate", "metadata", Some("ObjectMeta"), StaticList::Replace),
    ("PodTemplate", "template", Some("PodTemplateSpec"), StaticList::Replace),
    ("PodTemplateSpec", "metadata", Some("ObjectMeta"), StaticList::Replace),
    ("PodTemplateSpec", "spec", Some("PodSpec"), StaticList::Replace),
    // PodSpec
    ("PodSpec", "containers", Some("Container"), StaticList::MergeByKeys(NAME)),
    ("PodSpec", "initContainers", Some("Container"), StaticList::MergeByKeys(NAME)),
    ("PodSpec", "ephemeralContainers", Some("Container"), StaticList::MergeByKeys(NAME)),
    ("PodSpec", "volumes", None, StaticList::MergeByKeys(NAME)),
    ("PodSpec", "imagePullSecrets", None, StaticList::MergeByKeys(NAME)),
    ("PodSpec", "hostAliases", None, StaticList::MergeByKeys(&["ip"])),
    ("PodSpec", "topologySpreadConstraints", None, StaticList::MergeByKeys(&["topologyKey", "whenUnsatisfiable"])),
    // `resourceClaims` and `schedulingGates` (merged by name in Kubernetes ≥ 1.26) are newer
    // than the schema kustomize v5.5 embeds (Kubernetes 1.21): kustomize replaces them.
    // Container (and EphemeralContainer)
    ("Container", "ports", None, StaticList::MergeByKeys(&["containerPort", "protocol"])),
    ("Container", "env", None, StaticList::MergeByKeys(NAME)),
    ("Container", "volumeMounts", None, StaticList::MergeByKeys(&["mountPath"])),
    ("Container", "volumeDevices", None, StaticList::MergeByKeys(&["devicePath"])),
    // Service
    ("Service", "metadata", Some("ObjectMeta"), StaticList::Replace),
    ("Service", "spec", Some("ServiceSpec"), StaticList::Replace),
    ("ServiceSpec", "ports", None, StaticList::MergeByKeys(&["port", "protocol"])),
    // ServiceAccount
    ("ServiceAccount", "metadata", Some("ObjectMeta"), StaticList::Replace),
    ("ServiceAccount", "secrets", None, StaticList::MergeByKeys(NAME)),
    // Node
    ("Node", "metadata", Some("ObjectMeta"), StaticList::Replace),
    ("Node", "spec", Some("NodeSpec"), StaticList::Replace),
    ("NodeSpec", "podCIDRs", None, StaticList::MergePrimitive),
    // Admission webhooks
    ("WebhookConfiguration", "metadata", Some("ObjectMeta"), StaticList::Replace),
    ("WebhookConfiguration", "webhooks", None, StaticList::MergeByKeys(NAME)),
];

/// The schema type of a resource, from its `apiVersion` and `kind`, in the custom schema when
/// there is one and in the built-in table otherwise; `None` for kinds without a known schema.
pub(crate) fn root_type<'s>(api_version: &str, kind: &str, custom: Option<&'s CustomSchema>) -> Option<TypeRef<'s>> {
    let group = match api_version.split_once('/') {
        Some((group, _version)) => group,
        None => "",
    };
    match custom {
        Some(schema) => {
            schema.roots.get(&(group.to_string(), kind.to_string())).map(|name| TypeRef::Custom(schema, name.as_str()))
        }
        None => ROOTS.iter().find(|(g, k, _)| *g == group && *k == kind).map(|(_, _, ty)| TypeRef::Builtin(ty)),
    }
}

/// The schema of field `name` of schema type `ty`; `None` when the field is not described
/// (its lists are then replaced, its maps merged).
pub(crate) fn field<'s>(ty: TypeRef<'s>, name: &str) -> Option<FieldSchema<'s>> {
    match ty {
        TypeRef::Builtin(ty) => {
            FIELDS.iter().find(|(t, f, _, _)| *t == ty && *f == name).map(|(_, _, child, list)| FieldSchema {
                child: child.map(TypeRef::Builtin),
                list: match list {
                    StaticList::Replace => ListStrategy::Replace,
                    StaticList::MergePrimitive => ListStrategy::MergePrimitive,
                    StaticList::MergeByKeys(keys) => ListStrategy::MergeByKeys(Keys::Static(keys)),
                },
            })
        }
        TypeRef::Custom(schema, ty) => {
            let field = schema.fields.get(&(ty.to_string(), name.to_string()))?;
            Some(FieldSchema {
                child: field.child.as_deref().map(|c| TypeRef::Custom(schema, c)),
                list: match &field.list {
                    CustomList::Replace => ListStrategy::Replace,
                    CustomList::Primitive => ListStrategy::MergePrimitive,
                    CustomList::ByKey(key) => ListStrategy::MergeByKeys(Keys::One(key)),
                },
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_by_group_and_kind() {
        let name = |api: &str, kind: &str| match root_type(api, kind, None) {
            Some(TypeRef::Builtin(ty)) => Some(ty),
            _ => None,
        };
        assert_eq!(name("apps/v1", "Deployment"), Some("Workload"));
        assert_eq!(name("v1", "Service"), Some("Service"));
        assert_eq!(name("batch/v1", "CronJob"), Some("CronJob"));
        assert_eq!(name("example.com/v1", "Deployment"), None);
        assert_eq!(name("v1", "Widget"), None);
    }

    #[test]
    fn container_fields() {
        let ports = field(TypeRef::Builtin("Container"), "ports").map(|f| f.list);
        assert_eq!(ports, Some(ListStrategy::MergeByKeys(Keys::Static(&["containerPort", "protocol"]))));
        assert!(field(TypeRef::Builtin("Container"), "args").is_none());
        let containers = field(TypeRef::Builtin("PodSpec"), "containers");
        assert!(matches!(containers.and_then(|f| f.child), Some(TypeRef::Builtin("Container"))));
    }

    #[test]
    fn every_child_type_is_described() {
        for (_, _, child, _) in FIELDS {
            if let Some(child) = child {
                assert!(FIELDS.iter().any(|(t, _, _, _)| t == child), "type {child} has no fields");
            }
        }
        for (_, _, ty) in ROOTS {
            assert!(FIELDS.iter().any(|(t, _, _, _)| t == ty), "root {ty}");
        }
    }

    #[test]
    fn custom_schema_replaces_the_table() {
        let doc = serde_json::json!({"definitions": {
            "w.Widget": {
                "x-kubernetes-group-version-kind": [{"group": "example.com", "kind": "Widget", "version": "v1"}],
                "properties": {"spec": {"$ref": "#/definitions/w.Spec"}},
            },
            "w.Spec": {"properties": {
                "items": {"type": "array", "items": {"$ref": "#/definitions/w.Item"},
                    "x-kubernetes-patch-merge-key": "name", "x-kubernetes-patch-strategy": "merge"},
                "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-patch-strategy": "merge"},
                "inline": {"type": "object", "properties": {"list": {"type": "array",
                    "x-kubernetes-patch-merge-key": "id", "x-kubernetes-patch-strategy": "merge,retainKeys"}}},
            }},
        }});
        let schema = CustomSchema::from_document(&doc).unwrap();
        let root = root_type("example.com/v1", "Widget", Some(&schema)).unwrap();
        let spec = field(root, "spec").and_then(|f| f.child).unwrap();
        assert_eq!(field(spec, "items").map(|f| f.list), Some(ListStrategy::MergeByKeys(Keys::One("name"))));
        assert_eq!(field(spec, "tags").map(|f| f.list), Some(ListStrategy::MergePrimitive));
        let inline = field(spec, "inline").and_then(|f| f.child).unwrap();
        assert_eq!(field(inline, "list").map(|f| f.list), Some(ListStrategy::MergeByKeys(Keys::One("id"))));
        assert!(root_type("apps/v1", "Deployment", Some(&schema)).is_none(), "the table is replaced");
        assert!(CustomSchema::from_document(&serde_json::json!({})).is_err());
    }
}
