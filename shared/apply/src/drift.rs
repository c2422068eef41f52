//! Drift: does the result of a server-side dry-run apply differ from the live object?

use serde_json::Value;

/// Metadata the server changes on every write or that says nothing about the desired state.
const VOLATILE_METADATA: &[&str] =
    &["resourceVersion", "managedFields", "generation", "uid", "creationTimestamp", "selfLink"];

/// The object without status and volatile metadata.
pub(crate) fn normalized(object: &Value) -> Value {
    let mut object = object.clone();
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
        if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            for key in VOLATILE_METADATA {
                meta.remove(*key);
            }
        }
    }
    object
}

/// True when applying would change the live object: the dry-run result differs from it in
/// anything but status and volatile metadata.
pub fn has_drifted(live: &Value, dry_run: &Value) -> bool {
    normalized(live) != normalized(dry_run)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ignores_metadata_noise_and_status() {
        let live = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "resourceVersion": "1", "uid": "u", "generation": 1,
                         "creationTimestamp": "2026-01-01T00:00:00Z", "managedFields": [{"manager": "kubectl"}]},
            "data": {"k": "v"}, "status": {"x": 1}});
        let same = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "resourceVersion": "2", "uid": "u", "generation": 2,
                         "managedFields": [{"manager": "kustomize-controller"}]},
            "data": {"k": "v"}});
        assert!(!has_drifted(&live, &same));
        let changed = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "w"}});
        assert!(has_drifted(&live, &changed));
        let labelled = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "labels": {"x": "y"}}, "data": {"k": "v"}});
        assert!(has_drifted(&live, &labelled));
    }
}
