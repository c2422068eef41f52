//! The Kustomization spec written into the kustomization file of `spec.path`, as Flux's
//! generator rewrites that file before building (so these are not an overlay on top of it):
//! `targetNamespace`, `namePrefix` and `nameSuffix` replace the file's `namespace`, `namePrefix`
//! and `nameSuffix`; `patches` and `components` are appended to the file's own; an `images`
//! entry replaces the file's entry for the same name or is appended; `buildMetadata` replaces
//! the file's. An existing file without `resources` gets `buildMetadata: [originAnnotations]`
//! first, a quirk of Flux's generator that keeps such a file from being "empty" to kustomize.

use std::path::Path;

use serde_json::{Map, Value, json};
use weir_api::kustomize::{BuildMetadataOption, KustomizationSpec};
use weir_api::meta::Selector;

use super::FluxBuildError;

/// Applies `spec` to the kustomization document `doc`. `existing` says whether the file was in
/// the artifact (rather than generated); `exists` tells whether a path relative to the
/// kustomization's directory exists, for `ignoreMissingComponents`.
pub fn apply_spec(
    doc: &mut Map<String, Value>,
    spec: &KustomizationSpec,
    existing: bool,
    exists: impl Fn(&Path) -> bool,
) -> Result<(), FluxBuildError> {
    let no_resources = doc.get("resources").and_then(Value::as_array).is_none_or(Vec::is_empty);
    if existing && no_resources {
        doc.insert("buildMetadata".into(), json!(["originAnnotations"]));
    }
    if let Some(namespace) = spec.target_namespace.as_deref().filter(|s| !s.is_empty()) {
        doc.insert("namespace".into(), namespace.into());
    }
    if let Some(prefix) = spec.name_prefix.as_deref().filter(|s| !s.is_empty()) {
        doc.insert("namePrefix".into(), prefix.into());
    }
    if let Some(suffix) = spec.name_suffix.as_deref().filter(|s| !s.is_empty()) {
        doc.insert("nameSuffix".into(), suffix.into());
    }
    let patches = spec.patches.iter().flatten().map(|patch| {
        let mut entry = json!({ "patch": patch.patch });
        if let Some(target) = &patch.target {
            entry["target"] = selector(target);
        }
        entry
    });
    append(doc, "patches", patches.collect());
    let mut components = Vec::new();
    for component in spec.components.iter().flatten() {
        if !is_local_relative(component) {
            return Err(FluxBuildError::Component(component.clone()));
        }
        if spec.ignore_missing_components == Some(true) && !exists(Path::new(component)) {
            continue;
        }
        components.push(Value::from(component.as_str()));
    }
    append(doc, "components", components);
    for image in spec.images.iter().flatten() {
        let mut entry = json!({ "name": image.name });
        for (field, value) in [("newName", &image.new_name), ("newTag", &image.new_tag), ("digest", &image.digest)] {
            if let Some(value) = value.as_deref().filter(|s| !s.is_empty()) {
                entry[field] = value.into();
            }
        }
        let same_name = |i: &Value| i.get("name").and_then(Value::as_str) == Some(image.name.as_str());
        match doc.get_mut("images").and_then(Value::as_array_mut).and_then(|l| l.iter_mut().find(|i| same_name(i))) {
            Some(existing) => *existing = entry,
            None => append(doc, "images", vec![entry]),
        }
    }
    if let Some(options) = spec.build_metadata.as_ref().filter(|o| !o.is_empty()) {
        let names: Vec<&str> = options
            .iter()
            .map(|o| match o {
                BuildMetadataOption::OriginAnnotations => "originAnnotations",
                BuildMetadataOption::TransformerAnnotations => "transformerAnnotations",
            })
            .collect();
        doc.insert("buildMetadata".into(), json!(names));
    }
    Ok(())
}

/// Appends `items` to the list at `field` (a value there that is not a list is replaced).
fn append(doc: &mut Map<String, Value>, field: &str, items: Vec<Value>) {
    if items.is_empty() {
        return;
    }
    let mut list = match doc.remove(field) {
        Some(Value::Array(list)) => list,
        _ => Vec::new(),
    };
    list.extend(items);
    doc.insert(field.into(), Value::Array(list));
}

fn selector(target: &Selector) -> Value {
    let mut out = Map::new();
    let fields = [
        ("group", &target.group),
        ("version", &target.version),
        ("kind", &target.kind),
        ("name", &target.name),
        ("namespace", &target.namespace),
        ("labelSelector", &target.label_selector),
        ("annotationSelector", &target.annotation_selector),
    ];
    for (field, value) in fields {
        if let Some(value) = value.as_deref().filter(|s| !s.is_empty()) {
            out.insert(field.into(), value.into());
        }
    }
    Value::Object(out)
}

/// A component path Flux accepts: relative, and not a remote reference.
fn is_local_relative(path: &str) -> bool {
    !(path.starts_with('/')
        || path.contains("://")
        || path.starts_with("git@")
        || path.starts_with("github.com/")
        || path.starts_with("gitlab.com/")
        || path.starts_with("bitbucket.org/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(extra: Value) -> KustomizationSpec {
        let mut base = json!({"interval": "1m", "prune": true, "sourceRef": {"kind": "GitRepository", "name": "r"}});
        if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        serde_json::from_value(base).unwrap()
    }

    fn apply(doc: Value, spec_fields: Value, existing: bool) -> Result<Value, FluxBuildError> {
        let mut doc = doc.as_object().cloned().unwrap();
        apply_spec(&mut doc, &spec(spec_fields), existing, |p| p == Path::new("present"))?;
        Ok(Value::Object(doc))
    }

    #[test]
    fn scalar_fields_replace_and_lists_append() {
        let doc = json!({
            "resources": ["a.yaml"], "namespace": "old", "namePrefix": "old-",
            "patches": [{"path": "p.yaml"}], "components": ["../c1"],
            "images": [{"name": "nginx", "newTag": "1"}, {"name": "redis", "newTag": "6"}],
        });
        let out = apply(
            doc,
            json!({
                "targetNamespace": "prod", "namePrefix": "new-", "nameSuffix": "-x",
                "patches": [{"patch": "- op: remove\n  path: /x", "target": {"kind": "Deployment", "labelSelector": "a=b"}}],
                "components": ["../c2"],
                "images": [{"name": "nginx", "newName": "mirror/nginx"}, {"name": "busybox", "digest": "sha256:0"}],
            }),
            true,
        )
        .unwrap();
        assert_eq!(out["namespace"], "prod");
        assert_eq!(out["namePrefix"], "new-");
        assert_eq!(out["nameSuffix"], "-x");
        assert_eq!(
            out["patches"],
            json!([{"path": "p.yaml"}, {"patch": "- op: remove\n  path: /x", "target": {"kind": "Deployment", "labelSelector": "a=b"}}])
        );
        assert_eq!(out["components"], json!(["../c1", "../c2"]));
        // The spec's entry replaces the file's whole entry for the name: newTag "1" is gone.
        assert_eq!(
            out["images"],
            json!([{"name": "nginx", "newName": "mirror/nginx"}, {"name": "redis", "newTag": "6"}, {"name": "busybox", "digest": "sha256:0"}])
        );
        assert!(out.get("buildMetadata").is_none());
    }

    #[test]
    fn components_must_be_local_and_may_be_skipped_when_missing() {
        let doc = json!({"resources": ["a.yaml"]});
        let err = apply(doc.clone(), json!({"components": ["https://github.com/x/y"]}), true).unwrap_err();
        assert!(err.to_string().contains("must be local and relative"), "{err}");
        let out =
            apply(doc.clone(), json!({"components": ["present", "absent"], "ignoreMissingComponents": true}), true)
                .unwrap();
        assert_eq!(out["components"], json!(["present"]));
        let out = apply(doc, json!({"components": ["present", "absent"]}), true).unwrap();
        assert_eq!(out["components"], json!(["present", "absent"]));
    }

    #[test]
    fn build_metadata_and_the_empty_file_quirk() {
        let out = apply(json!({"configMapGenerator": []}), json!({}), true).unwrap();
        assert_eq!(out["buildMetadata"], json!(["originAnnotations"]));
        let out = apply(json!({}), json!({}), false).unwrap();
        assert!(out.get("buildMetadata").is_none());
        let out = apply(json!({"resources": ["a.yaml"]}), json!({"buildMetadata": ["transformerAnnotations"]}), true)
            .unwrap();
        assert_eq!(out["buildMetadata"], json!(["transformerAnnotations"]));
    }
}
