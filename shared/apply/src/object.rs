//! One object to apply: its identity (group, version, kind, namespace, name) and its JSON.

use std::fmt;

use kube::api::GroupVersionKind;
use serde_json::Value;

use crate::error::ApplyError;

/// The identity of an object, as Flux prints and stores it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjMeta {
    pub group: String,
    pub version: String,
    pub kind: String,
    /// Empty for cluster-scoped objects.
    pub namespace: String,
    pub name: String,
}

impl ObjMeta {
    /// `group/version`, or just `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() { self.version.clone() } else { format!("{}/{}", self.group, self.version) }
    }

    pub fn gvk(&self) -> GroupVersionKind {
        GroupVersionKind::gvk(&self.group, &self.version, &self.kind)
    }

    /// Flux's subject: `Kind/namespace/name`, or `Kind/name` for cluster-scoped objects.
    pub fn subject(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for ObjMeta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{}/{}", self.kind, self.name)
        } else {
            write!(f, "{}/{}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// An object of any kind, validated to have `apiVersion`, `kind` and `metadata.name`.
#[derive(Clone, Debug, PartialEq)]
pub struct Object {
    pub meta: ObjMeta,
    pub value: Value,
}

impl Object {
    /// Checks that `value` is an object with `apiVersion`, `kind` and `metadata.name`, and fills
    /// in the defaults server-side apply needs on older servers (ports' `protocol`).
    pub fn new(mut value: Value) -> Result<Object, ApplyError> {
        crate::defaults::set_native_defaults(&mut value);
        let kind = value.pointer("/kind").and_then(Value::as_str).unwrap_or_default().to_string();
        let name = value.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_string();
        let namespace = value.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or_default().to_string();
        let api_version = value.pointer("/apiVersion").and_then(Value::as_str).unwrap_or_default();
        let subject = format!("{}/{}", if kind.is_empty() { "<no kind>" } else { &kind }, name);
        let invalid = |reason: &str| ApplyError::InvalidObject { subject: subject.clone(), reason: reason.to_string() };
        if !value.is_object() {
            return Err(invalid("not a JSON object"));
        }
        if api_version.is_empty() {
            return Err(invalid("apiVersion is not set"));
        }
        if kind.is_empty() {
            return Err(invalid("kind is not set"));
        }
        if name.is_empty() {
            return Err(invalid("metadata.name is not set"));
        }
        let (group, version) = match api_version.split_once('/') {
            Some((g, v)) => (g.to_string(), v.to_string()),
            None => (String::new(), api_version.to_string()),
        };
        if version.is_empty() || version.contains('/') {
            return Err(invalid(&format!("apiVersion {api_version:?} is not `group/version` or `version`")));
        }
        Ok(Object { meta: ObjMeta { group, version, kind, namespace, name }, value })
    }

    /// Builds many objects, failing on the first invalid one.
    pub fn from_values(values: impl IntoIterator<Item = Value>) -> Result<Vec<Object>, ApplyError> {
        values.into_iter().map(Object::new).collect()
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.value.pointer("/metadata/annotations").and_then(|a| a.get(key)).and_then(Value::as_str)
    }

    pub fn label(&self, key: &str) -> Option<&str> {
        self.value.pointer("/metadata/labels").and_then(|a| a.get(key)).and_then(Value::as_str)
    }

    /// Sets the namespace (for namespaced kinds) or clears it (for cluster-scoped ones).
    pub(crate) fn set_namespace(&mut self, namespace: Option<&str>) {
        self.meta.namespace = namespace.unwrap_or_default().to_string();
        if let Some(meta) = self.value.get_mut("metadata").and_then(Value::as_object_mut) {
            match namespace {
                Some(ns) => {
                    meta.insert("namespace".into(), Value::String(ns.to_string()));
                }
                None => {
                    meta.remove("namespace");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn validates_identity() {
        let o = Object::new(json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "podinfo", "namespace": "default"}}))
        .unwrap();
        assert_eq!(o.meta.subject(), "Deployment/default/podinfo");
        assert_eq!(o.meta.api_version(), "apps/v1");
        let ns = Object::new(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}})).unwrap();
        assert_eq!(ns.meta.subject(), "Namespace/x");
        assert_eq!(ns.meta.group, "");

        let err = Object::new(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}})).unwrap_err();
        assert!(err.to_string().contains("metadata.name is not set"), "{err}");
        let err = Object::new(json!({"kind": "ConfigMap", "metadata": {"name": "a"}})).unwrap_err();
        assert!(err.to_string().contains("ConfigMap/a: apiVersion is not set"), "{err}");
        assert!(Object::new(json!({"apiVersion": "v1", "metadata": {"name": "a"}})).is_err());
        assert!(Object::new(json!({"apiVersion": "a/b/c", "kind": "X", "metadata": {"name": "a"}})).is_err());
    }
}
