//! What the controller adds to the build: the owner labels that prune and `weir trace` rely on.
//! The build itself is `weir_kustomize::flux::build`, the same code as `weir build kustomization`.

use std::collections::BTreeMap;

use serde_json::Value;
use weir_api::annotations::{KUSTOMIZE_NAME_LABEL, KUSTOMIZE_NAMESPACE_LABEL};

/// The labels that mark an object as applied by the Kustomization `namespace/name`.
pub fn owner_labels(name: &str, namespace: &str) -> BTreeMap<String, String> {
    [
        (KUSTOMIZE_NAME_LABEL.to_string(), name.to_string()),
        (KUSTOMIZE_NAMESPACE_LABEL.to_string(), namespace.to_string()),
    ]
    .into()
}

/// Sets `labels` on every object, over any value the manifests gave them.
pub fn add_labels(objects: &mut [Value], labels: &BTreeMap<String, String>) {
    for object in objects {
        let Some(map) = object.as_object_mut() else { continue };
        let metadata = map.entry("metadata").or_insert_with(|| Value::Object(Default::default()));
        let Some(metadata) = metadata.as_object_mut() else { continue };
        let existing = metadata.entry("labels").or_insert_with(|| Value::Object(Default::default()));
        if !existing.is_object() {
            *existing = Value::Object(Default::default());
        }
        if let Some(existing) = existing.as_object_mut() {
            for (k, v) in labels {
                existing.insert(k.clone(), Value::String(v.clone()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn owner_labels_are_added() {
        let mut objects = vec![json!({"kind": "ConfigMap", "metadata": {"name": "a", "labels": {"x": "y"}}})];
        add_labels(&mut objects, &owner_labels("apps", "flux-system"));
        assert_eq!(
            objects[0]["metadata"]["labels"],
            json!({"x": "y", "kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"})
        );
    }
}
