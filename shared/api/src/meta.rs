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
