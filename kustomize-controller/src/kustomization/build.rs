//! What the controller adds to the build: the owner labels that prune and `weir trace` rely on,
//! the build options its feature gates choose, and Flux's wording of substitution errors. The
//! build itself is `weir_kustomize::flux::build_with_options`, the same code as `weir build
//! kustomization`.

use std::collections::BTreeMap;

use serde_json::Value;
use weir_api::annotations::{KUSTOMIZE_NAME_LABEL, KUSTOMIZE_NAMESPACE_LABEL};
use weir_kustomize::flux::{FluxBuildError, FluxBuildOptions, SubstituteError};

use crate::features::{FeatureGates, STRICT_POST_BUILD_SUBSTITUTIONS};

/// The build options of `--feature-gates`.
pub fn options(gates: &FeatureGates) -> FluxBuildOptions {
    FluxBuildOptions { strict_substitution: gates.enabled(STRICT_POST_BUILD_SUBSTITUTIONS) }
}

/// The Ready message of a failed build; a failed substitution reads as Flux writes it
/// (`post build failed for '<object>': envsubst error: variable substitution failed: …`), so that
/// alerts matching it keep working.
pub fn error_message(error: &FluxBuildError) -> String {
    match error {
        FluxBuildError::Substitute(SubstituteError::Expand { object, source }) => {
            format!("post build failed for '{object}': envsubst error: variable substitution failed: {source}")
        }
        other => other.to_string(),
    }
}

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
    fn strict_substitution_follows_the_gate_and_fails_with_fluxs_message() {
        assert!(options(&FeatureGates::default()).strict_substitution, "on by default, as in Flux 2.9");
        let off = crate::features::parse_settings("StrictPostBuildSubstitutions=false").unwrap();
        assert!(!options(&FeatureGates::from_settings([&off])).strict_substitution);

        let root = tempfile::tempdir().unwrap();
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  namespace: apps\ndata:\n  \
                  a: \"${defined}\"\n  b: \"${missing}\"\n";
        std::fs::write(root.path().join("cm.yaml"), cm).unwrap();
        let spec: weir_api::kustomize::KustomizationSpec = serde_json::from_value(json!({
            "interval": "1m", "prune": true, "sourceRef": {"kind": "GitRepository", "name": "repo"},
            "postBuild": {"substitute": {"defined": "yes"}}}))
        .unwrap();
        let vars = BTreeMap::from([("defined".to_string(), "yes".to_string())]);
        let strict = FluxBuildOptions { strict_substitution: true };
        let error = weir_kustomize::flux::build_with_options(root.path(), &spec, &vars, strict).unwrap_err();
        assert_eq!(
            error_message(&error),
            "post build failed for 'ConfigMap/apps/app': envsubst error: variable substitution failed: \
             variable not set (strict mode): \"missing\""
        );
        let lenient = weir_kustomize::flux::build_with_options(root.path(), &spec, &vars, Default::default()).unwrap();
        assert_eq!(lenient[0]["data"], json!({"a": "yes", "b": ""}));
    }

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
