//! Types shared by several kinds: artifacts, references, inventories.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The pattern an artifact digest must match: `<algorithm>:<encoded>`, e.g. `sha256:<hex>`.
pub const DIGEST_PATTERN: &str = r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$";

/// A tarball published by a source: where to download it and how to verify it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Artifact {
    /// Digest of the file, `<algorithm>:<checksum>`; consumers refuse a download that does not match.
    #[schemars(regex(pattern = r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$"))]
    pub digest: String,
    /// When the artifact was last written.
    #[schemars(schema_with = "crate::schema::date_time")]
    pub last_update_time: Time,
    /// Extra data about the artifact, such as OCI annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
    /// Path of the file relative to the root of the controller's storage.
    pub path: String,
    /// The source revision the artifact was built from, e.g. `main@sha1:<sha>` or `v1@sha256:<digest>`.
    pub revision: String,
    /// Size of the file in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    /// HTTP address to download the artifact from.
    pub url: String,
}

/// A reference to an object in the same namespace, by name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LocalObjectReference {
    /// Name of the referent.
    pub name: String,
}

/// A reference to a key of a Secret in the same namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SecretKeyReference {
    /// Name of the Secret.
    pub name: String,
    /// Key in the Secret; when empty, a default key is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// A reference to an object of a given kind, optionally in another namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NamespacedObjectKindReference {
    /// API version of the referent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Kind of the referent.
    pub kind: String,
    /// Name of the referent.
    pub name: String,
    /// Namespace of the referent; defaults to the namespace of the object that refers to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// The objects a reconciler applied, so that it can prune them when they leave the source.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ResourceInventory {
    /// One entry per applied object.
    pub entries: Vec<ResourceRef>,
}

/// One object in an inventory.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct ResourceRef {
    /// Flux's object id: `<namespace>_<name>_<group>_<kind>` (namespace and group may be empty).
    pub id: String,
    /// The API version the object was applied with.
    pub v: String,
}

impl ResourceRef {
    /// Builds an entry with Flux's id format, e.g. `default_podinfo_apps_Deployment`.
    pub fn new(namespace: &str, name: &str, group: &str, kind: &str, version: &str) -> Self {
        ResourceRef { id: format!("{namespace}_{name}_{group}_{kind}"), v: version.to_string() }
    }

    /// Splits the id back into namespace, name, group and kind. Names cannot contain `_`, so
    /// splitting from both ends is unambiguous.
    pub fn parse_id(&self) -> Option<ObjectId<'_>> {
        let (namespace, rest) = self.id.split_once('_')?;
        let (rest, kind) = rest.rsplit_once('_')?;
        let (name, group) = rest.rsplit_once('_')?;
        Some(ObjectId { namespace, name, group, kind })
    }
}

/// The parts of an inventory id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObjectId<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    pub group: &'a str,
    pub kind: &'a str,
}

/// Labels and annotations that a reconciler sets on every object it applies, replacing values
/// under the same keys.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CommonMetadata {
    /// Annotations set on every applied object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Labels set on every applied object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
}

/// An object of the same kind that must be ready before this one is reconciled.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DependencyReference {
    /// Name of the dependency.
    pub name: String,
    /// Namespace of the dependency; defaults to the namespace of the dependent object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// A CEL expression over `dep` (the dependency) and `self` that decides whether the dependency
    /// counts as ready, in place of the Ready condition check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_expr: Option<String>,
}

impl DependencyReference {
    /// The dependency's namespace, or `default` (the dependent object's namespace) when unset.
    pub fn namespace_or<'a>(&'a self, default: &'a str) -> &'a str {
        self.namespace.as_deref().filter(|n| !n.is_empty()).unwrap_or(default)
    }
}

/// CEL expressions that compute the health of objects of one custom kind, used instead of kstatus.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomHealthCheck {
    /// API version (`group/version`) of the kind the expressions apply to.
    pub api_version: String,
    /// True when the object has reached its desired state.
    pub current: String,
    /// True when the object has failed to reach its desired state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
    /// True while the object is still progressing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_progress: Option<String>,
    /// Kind the expressions apply to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// The message of both CEL rules on [`KubeConfigReference`].
pub const KUBECONFIG_ONE_OF_MESSAGE: &str =
    "exactly one of spec.kubeConfig.configMapRef or spec.kubeConfig.secretRef must be specified";

/// How to reach a remote cluster: a Secret holding a kubeconfig file, or a ConfigMap describing
/// a cloud provider's cluster for secret-less authentication. Exactly one must be set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {
        "message": "exactly one of spec.kubeConfig.configMapRef or spec.kubeConfig.secretRef must be specified",
        "rule": "has(self.configMapRef) || has(self.secretRef)"
    },
    {
        "message": "exactly one of spec.kubeConfig.configMapRef or spec.kubeConfig.secretRef must be specified",
        "rule": "!has(self.configMapRef) || !has(self.secretRef)"
    }
]))]
pub struct KubeConfigReference {
    /// A ConfigMap in the same namespace with the keys `provider` (aws, azure, gcp or generic),
    /// `cluster`, `address`, `ca.crt`, `audiences` and `serviceAccountName`, for authenticating
    /// to the cluster with workload identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_ref: Option<LocalObjectReference>,
    /// A Secret in the same namespace holding a self-contained kubeconfig file under `key`
    /// (default `value`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<SecretKeyReference>,
}

impl KubeConfigReference {
    /// Checks the CEL rules (exactly one reference set) and that the set reference has a name.
    pub fn validate_into(&self, v: &mut crate::validation::Validator, path: &str) {
        match (&self.config_map_ref, &self.secret_ref) {
            (Some(r), None) => v.required(&format!("{path}.configMapRef.name"), &r.name),
            (None, Some(r)) => v.required(&format!("{path}.secretRef.name"), &r.name),
            _ => v.error(path, KUBECONFIG_ONE_OF_MESSAGE),
        }
    }
}

/// Selects objects by group, version, kind, name, namespace, labels and annotations; every field
/// that is set must match.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Selector {
    /// A label selector expression (`app=web,tier!=db`) matched against annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotation_selector: Option<String>,
    /// API group of the objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Kind of the objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// A label selector expression matched against labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_selector: Option<String>,
    /// Name of the objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Namespace of the objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// API version of the objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// Fields to leave alone in drift detection and apply, on the objects a selector picks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IgnoreRule {
    /// JSON Pointers (RFC 6901) to the ignored fields, e.g. `/spec/replicas`.
    pub paths: Vec<String>,
    /// The objects the rule applies to; every object when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Selector>,
}

/// A strategic-merge or JSON 6902 patch, given inline, and the objects it applies to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Patch {
    /// The patch document: a partial object (strategic merge) or a list of JSON 6902 operations.
    pub patch: String,
    /// The objects to patch; when unset, a strategic-merge patch picks them by its own identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Selector>,
}

/// Rewrites the references to one container image: a new name, tag or digest.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Image {
    /// Digest to pin the image to; takes precedence over `newTag`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The image name to match, without a tag.
    pub name: String,
    /// Name to replace the image name with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_name: Option<String>,
    /// Tag to replace the image tag with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_tag: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inventory_ids_round_trip() {
        let r = ResourceRef::new("default", "podinfo", "apps", "Deployment", "v1");
        assert_eq!(r.id, "default_podinfo_apps_Deployment");
        let id = r.parse_id().unwrap();
        assert_eq!((id.namespace, id.name, id.group, id.kind), ("default", "podinfo", "apps", "Deployment"));

        let cluster = ResourceRef::new("", "podinfo", "", "Namespace", "v1");
        assert_eq!(cluster.id, "_podinfo__Namespace");
        let id = cluster.parse_id().unwrap();
        assert_eq!((id.namespace, id.name, id.group, id.kind), ("", "podinfo", "", "Namespace"));
    }

    #[test]
    fn digest_pattern_accepts_flux_digests() {
        let re = regex::Regex::new(DIGEST_PATTERN).unwrap();
        assert!(re.is_match("sha256:0123abcd"));
        assert!(!re.is_match("0123abcd"));
    }
}
