//! The build step: from an extracted artifact to the objects to apply, with the owner labels
//! that prune and `weir trace` rely on. Blocking (file IO); run it off the async runtime.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use weir_api::annotations::{KUSTOMIZE_NAME_LABEL, KUSTOMIZE_NAMESPACE_LABEL};
use weir_api::kustomize::KustomizationSpec;
use weir_kustomize::{DiskFs, Fs, MemFs};

use super::layout::{self, LayoutError};

/// Where the overlay lives, in memory, next to the artifact's files.
const OVERLAY_DIR: &str = ".weir-overlay";

#[derive(Debug, thiserror::Error)]
pub enum BuildFailure {
    #[error(transparent)]
    Layout(#[from] LayoutError),
    #[error("kustomize build failed: {0}")]
    Kustomize(#[from] weir_kustomize::BuildError),
    #[error("{0}")]
    Invalid(String),
}

/// Builds `spec.path` of the artifact extracted at `root`, which is only read: a missing
/// kustomization is generated and the spec's transformations are applied through an overlay,
/// both held in memory.
pub fn build(root: &Path, spec: &KustomizationSpec) -> Result<Vec<Value>, BuildFailure> {
    let rel = layout::confine(spec.path.as_deref())?;
    let dir = root.join(&rel);
    if !dir.is_dir() {
        return Err(LayoutError::NotFound(spec.path.clone().unwrap_or_default()).into());
    }
    let mut extra = MemFs::new();
    if !layout::has_kustomization(&dir) {
        let resources = layout::generated_resources(&dir)?;
        extra.insert(rel.join(layout::KUSTOMIZATION_FILES[0]), layout::kustomization_yaml(&resources));
    }
    let base = Path::new("..").join(&rel);
    let target = match layout::overlay_yaml(spec, &base.display().to_string()) {
        Some(yaml) => {
            extra.insert(Path::new(OVERLAY_DIR).join(layout::KUSTOMIZATION_FILES[0]), yaml);
            PathBuf::from(OVERLAY_DIR)
        }
        None => rel,
    };
    let fs = LayeredFs { disk: DiskFs::new(root)?, extra };
    let objects = weir_kustomize::build(&fs, &target)?;
    for object in &objects {
        if !object.is_object() || object.get("kind").and_then(Value::as_str).is_none() {
            return Err(BuildFailure::Invalid(format!("the build produced an object without a kind: {object}")));
        }
    }
    Ok(objects)
}

/// The artifact on disk with generated files laid over it in memory.
struct LayeredFs {
    disk: DiskFs,
    extra: MemFs,
}

impl Fs for LayeredFs {
    fn read(&self, path: &Path) -> Result<Vec<u8>, weir_kustomize::BuildError> {
        match self.extra.read(path) {
            Ok(content) => Ok(content),
            Err(_) => self.disk.read(path),
        }
    }

    fn list_dir(&self, path: &Path) -> Result<Vec<String>, weir_kustomize::BuildError> {
        let (on_disk, in_memory) = (self.disk.is_dir(path), self.extra.is_dir(path));
        if !in_memory {
            return self.disk.list_dir(path);
        }
        let mut names = self.extra.list_dir(path)?;
        if on_disk {
            names.extend(self.disk.list_dir(path)?);
        }
        names.sort();
        names.dedup();
        Ok(names)
    }

    fn is_dir(&self, path: &Path) -> bool {
        self.extra.is_dir(path) || self.disk.is_dir(path)
    }

    fn exists(&self, path: &Path) -> bool {
        self.extra.exists(path) || self.disk.exists(path)
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

    fn spec(extra: Value) -> KustomizationSpec {
        let mut base = json!({"interval": "1m", "prune": true, "sourceRef": {"kind": "GitRepository", "name": "r"}});
        if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        serde_json::from_value(base).unwrap()
    }

    fn work(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, content) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, content).unwrap();
        }
        dir
    }

    const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: b\n";

    #[test]
    fn owner_labels_are_added() {
        let mut objects = vec![json!({"kind": "ConfigMap", "metadata": {"name": "a", "labels": {"x": "y"}}})];
        add_labels(&mut objects, &owner_labels("apps", "flux-system"));
        assert_eq!(
            objects[0]["metadata"]["labels"],
            json!({"x": "y", "kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"})
        );
    }

    #[test]
    fn builds_a_plain_directory_with_the_spec_overlay() {
        let dir = work(&[("apps/cm.yaml", CM), ("apps/notes.txt", "hello")]);
        let objects = build(
            dir.path(),
            &spec(json!({"path": "./apps", "targetNamespace": "prod", "namePrefix": "p-",
                "commonMetadata": {"labels": {"team": "a"}}})),
        )
        .unwrap();
        assert_eq!(objects.len(), 1);
        assert_eq!(objects[0]["metadata"]["name"], "p-cm");
        assert_eq!(objects[0]["metadata"]["namespace"], "prod");
        assert_eq!(objects[0]["metadata"]["labels"]["team"], "a");
        // The artifact is only read.
        assert!(!dir.path().join("apps/kustomization.yaml").exists());
        assert!(!dir.path().join(OVERLAY_DIR).exists());
        let objects = build(dir.path(), &spec(json!({"targetNamespace": "prod"}))).unwrap();
        assert_eq!(objects[0]["metadata"]["namespace"], "prod");
    }

    #[test]
    fn refuses_escapes_missing_paths_and_bad_yaml() {
        let dir = work(&[("cm.yaml", CM)]);
        assert_eq!(build(dir.path(), &spec(json!({}))).unwrap().len(), 1);
        assert!(matches!(
            build(dir.path(), &spec(json!({"path": "../.."}))),
            Err(BuildFailure::Layout(LayoutError::OutsideRoot(_)))
        ));
        assert!(matches!(
            build(dir.path(), &spec(json!({"path": "nope"}))),
            Err(BuildFailure::Layout(LayoutError::NotFound(_)))
        ));
        let dir = work(&[("bad.yaml", "kind: ConfigMap\nmetadata: [\n")]);
        assert!(matches!(build(dir.path(), &spec(json!({}))), Err(BuildFailure::Kustomize(_))));
    }
}
