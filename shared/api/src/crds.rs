//! The CustomResourceDefinitions of every kind, as Weir publishes them.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;
use serde_json::Value;

use crate::source;

/// Every CRD, in a stable order (by file name as Flux names them).
pub fn all() -> Vec<CustomResourceDefinition> {
    let mut crds = vec![
        source::ExternalArtifact::crd(),
        source::GitRepository::crd(),
        source::OCIRepository::crd(),
        source::Bucket::crd(),
        source::HelmChart::crd(),
        source::HelmRepository::crd(),
        crate::kustomize::Kustomization::crd(),
        crate::notification::Provider::crd(),
        crate::notification::Alert::crd(),
        crate::notification::Receiver::crd(),
        crate::helm::HelmRelease::crd(),
        // Each kind adds its line here.
    ];
    for crd in &mut crds {
        normalize(crd);
    }
    crds.sort_by_key(file_name);
    crds
}

/// The file name Flux uses for a CRD: `<group>_<plural>.yaml`.
pub fn file_name(crd: &CustomResourceDefinition) -> String {
    format!("{}_{}.yaml", crd.spec.group, crd.spec.names.plural)
}

/// Makes the derived CRD match what Flux publishes:
/// - no `nullable` markers: Flux's types never accept null, and the server prunes nulls;
/// - `apiVersion`, `kind` and `metadata` declared at the root, and `spec` optional, as in Flux;
/// - the annotation that keeps kustomize-controller from substituting variables in the schema.
fn normalize(crd: &mut CustomResourceDefinition) {
    crd.metadata
        .annotations
        .get_or_insert_with(Default::default)
        .insert(crate::annotations::KUSTOMIZE_SUBSTITUTE.to_string(), "disabled".to_string());
    for version in &mut crd.spec.versions {
        // Flux's CRDs always carry `subresources`, empty for kinds without status (Provider, Alert).
        version.subresources.get_or_insert_with(Default::default);
        if let Some(schema) = version.schema.as_mut().and_then(|s| s.open_api_v3_schema.as_mut()) {
            let Ok(mut value) = serde_json::to_value(&*schema) else { continue };
            strip_nullable(&mut value);
            declare_root_fields(&mut value);
            if let Ok(props) = serde_json::from_value(value) {
                *schema = props;
            }
        }
    }
}

/// Adapts a CRD to the server it is installed on. Servers before 1.25 know no CEL rules: kubectl's
/// validation rejects a CRD that carries them and the server drops them, so they are removed there
/// (the controllers check the same rules in `validate()`).
pub fn adapt_for_server(crd: &mut CustomResourceDefinition, major: u32, minor: u32) {
    if (major, minor) >= (1, 25) {
        return;
    }
    for version in &mut crd.spec.versions {
        if let Some(schema) = version.schema.as_mut().and_then(|s| s.open_api_v3_schema.as_mut()) {
            let Ok(mut value) = serde_json::to_value(&*schema) else { continue };
            strip_key(&mut value, "x-kubernetes-validations");
            if let Ok(props) = serde_json::from_value(value) {
                *schema = props;
            }
        }
    }
}

fn strip_nullable(value: &mut Value) {
    strip_key(value, "nullable");
}

/// Removes a schema keyword everywhere. Only schema keywords are removed, never a property that
/// happens to share the name: property names sit one level down, under `properties`.
fn strip_key(value: &mut Value, key: &str) {
    match value {
        Value::Object(map) => {
            map.remove(key);
            for (name, child) in map.iter_mut() {
                if name == "properties" {
                    if let Some(props) = child.as_object_mut() {
                        props.values_mut().for_each(|p| strip_key(p, key));
                    }
                } else {
                    strip_key(child, key);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| strip_key(i, key)),
        _ => {}
    }
}

fn declare_root_fields(root: &mut Value) {
    if let Some(props) = root.get_mut("properties").and_then(Value::as_object_mut) {
        props.insert(
            "apiVersion".into(),
            serde_json::json!({
                "description": "The versioned schema of this representation of an object.",
                "type": "string"
            }),
        );
        props.insert(
            "kind".into(),
            serde_json::json!({
                "description": "The REST resource this object represents.",
                "type": "string"
            }),
        );
        props.insert("metadata".into(), serde_json::json!({ "type": "object" }));
    }
    if let Some(map) = root.as_object_mut() {
        let required = map.get_mut("required").and_then(Value::as_array_mut);
        if let Some(required) = required {
            required.retain(|r| r != "spec");
            if required.is_empty() {
                map.remove("required");
            }
        }
    }
}
