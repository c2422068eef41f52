//! Merge keys and list strategies of the built-in Kubernetes kinds, as data.
//!
//! Source: the `patchStrategy` / `patchMergeKey` struct tags of `k8s.io/api` (published in the
//! OpenAPI document as `x-kubernetes-patch-strategy` / `x-kubernetes-patch-merge-key`, with
//! `x-kubernetes-list-map-keys` for the lists keyed by more than one field), restricted to the
//! fields that kustomize's embedded schema (Kubernetes 1.21) makes it merge: fields added to
//! Kubernetes later are replaced by kustomize v5.5 even when they have a merge strategy. `k8s-openapi` does not carry these
//! extensions, hence this table. A kind that is not listed here (a custom resource, for one) has
//! no schema: kustomize replaces its lists wholesale, and so do we.

/// How a list field is merged by a strategic merge patch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListStrategy {
    /// The patch's list replaces the resource's list (no patch strategy).
    Replace,
    /// A list of mappings merged element by element, matched on these keys (the first one is
    /// the patch merge key, the others the remaining list-map keys).
    MergeByKeys(&'static [&'static str]),
    /// A list of scalars merged as a set.
    MergePrimitive,
}

/// A field of a schema type: the type of its value (or of its elements, for a list) and how a
/// list is merged.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FieldSchema {
    pub(crate) child: Option<&'static str>,
    pub(crate) list: ListStrategy,
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
const FIELDS: &[(&str, &str, Option<&str>, ListStrategy)] = &[
    // ObjectMeta
    ("ObjectMeta", "finalizers", None, ListStrategy::MergePrimitive),
    ("ObjectMeta", "ownerReferences", None, ListStrategy::MergeByKeys(&["uid"])),
    // Typed roots
    ("Object", "metadata", Some("ObjectMeta"), ListStrategy::Replace),
    ("Workload", "metadata", Some("ObjectMeta"), ListStrategy::Replace),
    ("Workload", "spec", Some("WorkloadSpec"), ListStrategy::Replace),
    ("WorkloadSpec", "template", Some("PodTemplateSpec"), ListStrategy::Replace),
    ("CronJob", "metadata", Some("ObjectMeta"), ListStrategy::Replace),
    ("CronJob", "spec", Some("CronJobSpec"), ListStrategy::Replace),
    ("CronJobSpec", "jobTemplate", Some("JobTemplateSpec"), ListStrategy::Replace),
    ("JobTemplateSpec", "metadata", Some("ObjectMeta"), ListStrategy::Replace),
    ("JobTemplateSpec", "spec", Some("WorkloadSpec"), ListStrategy::Replace),
    ("Pod", "metadata", Some("ObjectMeta"), ListStrategy::Replace),
    ("Pod", "spec", Some("PodSpec"), ListStrategy::Replace),
    ("PodTemplate", "metadata", Some("ObjectMeta"), ListStrategy::Replace),
    ("PodTemplate", "template", Some("PodTemplateSpec"), ListStrategy::Replace),
    ("PodTemplateSpec", "metadata", Some("ObjectMeta"), ListStrategy::Replace),
    ("PodTemplateSpec", "spec", Some("PodSpec"), ListStrategy::Replace),
    // PodSpec
    ("PodSpec", "containers", Some("Container"), ListStrategy::MergeByKeys(NAME)),
    ("PodSpec", "initContainers", Some("Container"), ListStrategy::MergeByKeys(NAME)),
    ("PodSpec", "ephemeralContainers", Some("Container"), ListStrategy::MergeByKeys(NAME)),
    ("PodSpec", "volumes", None, ListStrategy::MergeByKeys(NAME)),
    ("PodSpec", "imagePullSecrets", None, ListStrategy::MergeByKeys(NAME)),
    ("PodSpec", "hostAliases", None, ListStrategy::MergeByKeys(&["ip"])),
    ("PodSpec", "topologySpreadConstraints", None, ListStrategy::MergeByKeys(&["topologyKey", "whenUnsatisfiable"])),
    // `resourceClaims` and `schedulingGates` (merged by name in Kubernetes ≥ 1.26) are newer
    // than the schema kustomize v5.5 embeds (Kubernetes 1.21): kustomize replaces them.
    // Container (and EphemeralContainer)
    ("Container", "ports", None, ListStrategy::MergeByKeys(&["containerPort", "protocol"])),
    ("Container", "env", None, ListStrategy::MergeByKeys(NAME)),
    ("Container", "volumeMounts", None, ListStrategy::MergeByKeys(&["mountPath"])),
    ("Container", "volumeDevices", None, ListStrategy::MergeByKeys(&["devicePath"])),
    // Service
    ("Service", "metadata", Some("ObjectMeta"), ListStrategy::Replace),
    ("Service", "spec", Some("ServiceSpec"), ListStrategy::Replace),
    ("ServiceSpec", "ports", None, ListStrategy::MergeByKeys(&["port", "protocol"])),
    // ServiceAccount
    ("ServiceAccount", "metadata", Some("ObjectMeta"), ListStrategy::Replace),
    ("ServiceAccount", "secrets", None, ListStrategy::MergeByKeys(NAME)),
    // Node
    ("Node", "metadata", Some("ObjectMeta"), ListStrategy::Replace),
    ("Node", "spec", Some("NodeSpec"), ListStrategy::Replace),
    ("NodeSpec", "podCIDRs", None, ListStrategy::MergePrimitive),
    // Admission webhooks
    ("WebhookConfiguration", "metadata", Some("ObjectMeta"), ListStrategy::Replace),
    ("WebhookConfiguration", "webhooks", None, ListStrategy::MergeByKeys(NAME)),
];

/// The schema type of a resource, from its `apiVersion` and `kind`; `None` for kinds without
/// a known schema (custom resources).
pub(crate) fn root_type(api_version: &str, kind: &str) -> Option<&'static str> {
    let group = match api_version.split_once('/') {
        Some((group, _version)) => group,
        None => "",
    };
    ROOTS.iter().find(|(g, k, _)| *g == group && *k == kind).map(|(_, _, ty)| *ty)
}

/// The schema of field `name` of schema type `ty`; `None` when the field is not described
/// (its lists are then replaced, its maps merged).
pub(crate) fn field(ty: &str, name: &str) -> Option<FieldSchema> {
    FIELDS
        .iter()
        .find(|(t, f, _, _)| *t == ty && *f == name)
        .map(|(_, _, child, list)| FieldSchema { child: *child, list: *list })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_by_group_and_kind() {
        assert_eq!(root_type("apps/v1", "Deployment"), Some("Workload"));
        assert_eq!(root_type("v1", "Service"), Some("Service"));
        assert_eq!(root_type("batch/v1", "CronJob"), Some("CronJob"));
        assert_eq!(root_type("example.com/v1", "Deployment"), None);
        assert_eq!(root_type("v1", "Widget"), None);
    }

    #[test]
    fn container_fields() {
        let ports = field("Container", "ports").map(|f| f.list);
        assert_eq!(ports, Some(ListStrategy::MergeByKeys(&["containerPort", "protocol"])));
        assert!(field("Container", "args").is_none());
        let containers = field("PodSpec", "containers");
        assert_eq!(containers.and_then(|f| f.child), Some("Container"));
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
}
