//! Taking over fields that people changed by hand, so that the next apply reverts them.
//!
//! Fields set with `kubectl edit`, `kubectl apply` or `kubectl patch` belong to a `kubectl*`
//! manager; a forced apply only reverts the values we set ourselves, and fields they added stay.
//! Moving their entries to our manager (operation Apply) makes the next apply own them, so
//! it removes the fields it no longer sets. The kubectl last-applied annotation goes too.

use serde_json::{Map, Value, json};
use weir_api::annotations::KUBECTL_LAST_APPLIED;

/// The JSON patch that moves the managed fields of `takeover` managers (matched by prefix, as
/// Flux does) and `manager`'s own Update entries to `manager`'s Apply entry, and drops the
/// last-applied annotation; `None` when there is nothing to do.
pub(crate) fn takeover_patch(live: &Value, manager: &str, takeover: &[String]) -> Option<Value> {
    let entries = live.pointer("/metadata/managedFields").and_then(Value::as_array)?;
    let is_taken_over = |e: &Value| {
        let name = e.get("manager").and_then(Value::as_str).unwrap_or_default();
        let operation = e.get("operation").and_then(Value::as_str).unwrap_or_default();
        let subresource = e.get("subresource").and_then(Value::as_str).unwrap_or_default();
        subresource.is_empty()
            && match operation {
                "Update" => name == manager || takeover.iter().any(|t| name.starts_with(t.as_str())),
                "Apply" => name != manager && takeover.iter().any(|t| name.starts_with(t.as_str())),
                _ => false,
            }
    };
    let is_ours = |e: &Value| {
        e.get("manager").and_then(Value::as_str) == Some(manager)
            && e.get("operation").and_then(Value::as_str) == Some("Apply")
            && e.get("subresource").and_then(Value::as_str).unwrap_or_default().is_empty()
    };
    let mut taken: Vec<&Value> = entries.iter().filter(|e| is_taken_over(e)).collect();
    let has_annotation = live.pointer("/metadata/annotations").and_then(|a| a.get(KUBECTL_LAST_APPLIED)).is_some();
    if taken.is_empty() && !has_annotation {
        return None;
    }
    let mut ops = Vec::new();
    if let Some(rv) = live.pointer("/metadata/resourceVersion") {
        ops.push(json!({"op": "test", "path": "/metadata/resourceVersion", "value": rv}));
    }
    if !taken.is_empty() {
        let mut fields = Value::Object(Map::new());
        let ours = entries.iter().find(|e| is_ours(e));
        if let Some(ours) = ours {
            taken.insert(0, ours);
        }
        for e in &taken {
            if let Some(f) = e.get("fieldsV1") {
                merge_fields(&mut fields, f);
            }
        }
        forget_last_applied(&mut fields);
        let api_version = ours.or(taken.first().copied()).and_then(|e| e.get("apiVersion")).cloned();
        let mut merged = Map::new();
        if let Some(v) = api_version {
            merged.insert("apiVersion".into(), v);
        }
        merged.insert("fieldsType".into(), "FieldsV1".into());
        merged.insert("fieldsV1".into(), fields);
        merged.insert("manager".into(), manager.into());
        merged.insert("operation".into(), "Apply".into());
        if let Some(time) = taken.iter().filter_map(|e| e.get("time")).max_by_key(|t| t.as_str().unwrap_or_default()) {
            merged.insert("time".into(), time.clone());
        }
        let mut new_entries: Vec<Value> =
            entries.iter().filter(|e| !is_taken_over(e) && !is_ours(e)).cloned().collect();
        new_entries.push(Value::Object(merged));
        ops.push(json!({"op": "replace", "path": "/metadata/managedFields", "value": new_entries}));
    }
    if has_annotation {
        let path = format!("/metadata/annotations/{}", KUBECTL_LAST_APPLIED.replace('~', "~0").replace('/', "~1"));
        ops.push(json!({"op": "remove", "path": path}));
    }
    Some(Value::Array(ops))
}

/// Union of two `FieldsV1` trees.
fn merge_fields(into: &mut Value, from: &Value) {
    match (into, from) {
        (Value::Object(into), Value::Object(from)) => {
            for (k, v) in from {
                match into.get_mut(k) {
                    Some(existing) => merge_fields(existing, v),
                    None => {
                        into.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (into, from) => *into = from.clone(),
    }
}

fn forget_last_applied(fields: &mut Value) {
    let Some(meta) = fields.get_mut("f:metadata").and_then(Value::as_object_mut) else { return };
    if let Some(a) = meta.get_mut("f:annotations").and_then(Value::as_object_mut) {
        a.remove(&format!("f:{KUBECTL_LAST_APPLIED}"));
        if a.is_empty() {
            meta.remove("f:annotations");
        }
    }
    if meta.is_empty()
        && let Some(f) = fields.as_object_mut()
    {
        f.remove("f:metadata");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn takeover() -> Vec<String> {
        vec!["kubectl".into(), "before-first-apply".into()]
    }

    #[test]
    fn nothing_to_take_over() {
        let live = json!({"metadata": {"managedFields": [
            {"manager": "kustomize-controller", "operation": "Apply", "fieldsV1": {"f:data": {"f:a": {}}}},
            {"manager": "kube-controller-manager", "operation": "Update", "subresource": "status", "fieldsV1": {}}
        ]}});
        assert_eq!(takeover_patch(&live, "kustomize-controller", &takeover()), None);
    }

    #[test]
    fn merges_kubectl_entries_into_ours() {
        let live = json!({"metadata": {"resourceVersion": "7",
        "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
        "managedFields": [
            {"manager": "kustomize-controller", "operation": "Apply", "apiVersion": "v1",
             "fieldsV1": {"f:data": {"f:a": {}}}},
            {"manager": "kubectl-edit", "operation": "Update", "apiVersion": "v1",
             "fieldsV1": {"f:data": {"f:b": {}}}},
            {"manager": "kubectl-client-side-apply", "operation": "Update", "apiVersion": "v1",
             "fieldsV1": {"f:metadata": {"f:annotations": {"f:kubectl.kubernetes.io/last-applied-configuration": {}}}}},
            {"manager": "other", "operation": "Update", "apiVersion": "v1", "fieldsV1": {"f:data": {"f:c": {}}}}
        ]}});
        let patch = takeover_patch(&live, "kustomize-controller", &takeover()).unwrap();
        assert_eq!(
            patch,
            json!([
                {"op": "test", "path": "/metadata/resourceVersion", "value": "7"},
                {"op": "replace", "path": "/metadata/managedFields", "value": [
                    {"manager": "other", "operation": "Update", "apiVersion": "v1", "fieldsV1": {"f:data": {"f:c": {}}}},
                    {"manager": "kustomize-controller", "operation": "Apply", "apiVersion": "v1", "fieldsType": "FieldsV1",
                     "fieldsV1": {"f:data": {"f:a": {}, "f:b": {}}}}
                ]},
                {"op": "remove", "path": "/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration"}
            ])
        );
    }
}
