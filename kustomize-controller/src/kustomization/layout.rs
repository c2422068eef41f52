//! Where a build reads from: `spec.path` confined to the artifact, the `kustomization.yaml`
//! generated as Flux does when the path has none, and the overlay that carries the spec's
//! `targetNamespace`, `namePrefix`, `nameSuffix` and `commonMetadata`.

use std::path::{Component, Path, PathBuf};

use weir_api::kustomize::KustomizationSpec;

/// The file names kustomize looks for, in its order.
pub const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    #[error("path '{0}' points outside the artifact")]
    OutsideRoot(String),
    #[error("kustomization path not found: '{0}'")]
    NotFound(String),
    #[error("{path}: {message}")]
    Io { path: String, message: String },
}

fn io(path: &Path, error: std::io::Error) -> LayoutError {
    LayoutError::Io { path: path.display().to_string(), message: error.to_string() }
}

/// `spec.path` as a relative path inside the artifact, `..` resolved lexically; a path that
/// climbs above the root is refused. A leading `/` means the artifact's root, as in Flux.
pub fn confine(path: Option<&str>) -> Result<PathBuf, LayoutError> {
    let raw = path.unwrap_or("");
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for component in Path::new(raw).components() {
        match component {
            Component::Normal(p) => parts.push(p),
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
            Component::ParentDir => {
                if parts.pop().is_none() {
                    return Err(LayoutError::OutsideRoot(raw.to_string()));
                }
            }
        }
    }
    Ok(parts.iter().collect())
}

/// Whether `dir` has a kustomization file.
pub fn has_kustomization(dir: &Path) -> bool {
    KUSTOMIZATION_FILES.iter().any(|f| dir.join(f).is_file())
}

/// The `resources` of a generated kustomization for `dir`: every `.yaml`/`.yml` manifest below
/// it (relative paths, sorted), except that a subdirectory with its own kustomization file is
/// listed as a directory and not descended into. Files that do not look like Kubernetes objects
/// (no `kind:`) are left out, as Flux leaves out files that are not resources.
pub fn generated_resources(dir: &Path) -> Result<Vec<String>, LayoutError> {
    let mut out = Vec::new();
    walk(dir, Path::new(""), &mut out)?;
    Ok(out)
}

fn walk(root: &Path, rel: &Path, out: &mut Vec<String>) -> Result<(), LayoutError> {
    let dir = root.join(rel);
    let mut entries: Vec<_> =
        std::fs::read_dir(&dir).map_err(|e| io(&dir, e))?.filter_map(Result::ok).map(|e| e.file_name()).collect();
    entries.sort();
    for name in entries {
        let rel_path = rel.join(&name);
        let path = root.join(&rel_path);
        let Ok(kind) = std::fs::symlink_metadata(&path).map(|m| m.file_type()) else { continue };
        if kind.is_symlink() {
            continue;
        }
        if kind.is_dir() {
            if has_kustomization(&path) {
                out.push(rel_path.display().to_string());
            } else {
                walk(root, &rel_path, out)?;
            }
        } else if kind.is_file() {
            let is_yaml = rel_path.extension().is_some_and(|e| e == "yaml" || e == "yml");
            if is_yaml && looks_like_manifest(&path)? {
                out.push(rel_path.display().to_string());
            }
        }
    }
    Ok(())
}

fn looks_like_manifest(path: &Path) -> Result<bool, LayoutError> {
    let content = std::fs::read(path).map_err(|e| io(path, e))?;
    Ok(String::from_utf8_lossy(&content).lines().any(|l| l.trim_start().starts_with("kind:")))
}

/// The YAML of a kustomization listing `resources`.
pub fn kustomization_yaml(resources: &[String]) -> String {
    let mut yaml = String::from("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:");
    if resources.is_empty() {
        yaml.push_str(" []\n");
    } else {
        yaml.push('\n');
        for r in resources {
            yaml.push_str(&format!("- {}\n", quote(r)));
        }
    }
    yaml
}

fn quote(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// The overlay kustomization for the spec's transformations, over `base` (a path relative to
/// the overlay's directory), or `None` when the spec asks for none.
pub fn overlay_yaml(spec: &KustomizationSpec, base: &str) -> Option<String> {
    let metadata = spec.common_metadata.as_ref();
    let labels = metadata.and_then(|m| m.labels.as_ref()).filter(|l| !l.is_empty());
    let annotations = metadata.and_then(|m| m.annotations.as_ref()).filter(|a| !a.is_empty());
    if spec.target_namespace.is_none()
        && spec.name_prefix.is_none()
        && spec.name_suffix.is_none()
        && labels.is_none()
        && annotations.is_none()
    {
        return None;
    }
    let mut doc = serde_json::json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [base],
    });
    if let Some(ns) = &spec.target_namespace {
        doc["namespace"] = ns.clone().into();
    }
    if let Some(prefix) = &spec.name_prefix {
        doc["namePrefix"] = prefix.clone().into();
    }
    if let Some(suffix) = &spec.name_suffix {
        doc["nameSuffix"] = suffix.clone().into();
    }
    if let Some(labels) = labels {
        doc["labels"] = serde_json::json!([{ "pairs": labels, "includeSelectors": false }]);
    }
    if let Some(annotations) = annotations {
        doc["commonAnnotations"] = serde_json::json!(annotations);
    }
    // JSON is YAML.
    Some(doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_artifact() {
        assert_eq!(confine(None).unwrap(), PathBuf::new());
        assert_eq!(confine(Some("./apps/../apps/prod")).unwrap(), PathBuf::from("apps/prod"));
        assert_eq!(confine(Some("/clusters/dev")).unwrap(), PathBuf::from("clusters/dev"));
        assert!(matches!(confine(Some("../etc")), Err(LayoutError::OutsideRoot(_))));
        assert!(matches!(confine(Some("apps/../../x")), Err(LayoutError::OutsideRoot(_))));
    }

    #[test]
    fn generates_a_kustomization_like_flux() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("b/nested")).unwrap();
        std::fs::create_dir_all(root.join("kz")).unwrap();
        std::fs::write(root.join("a.yaml"), "kind: ConfigMap\n").unwrap();
        std::fs::write(root.join("b/nested/c.yml"), "apiVersion: v1\nkind: Service\n").unwrap();
        std::fs::write(root.join("b/values.yaml"), "replicas: 2\n").unwrap();
        std::fs::write(root.join("README.md"), "kind: nope\n").unwrap();
        std::fs::write(root.join("kz/kustomization.yaml"), "resources: [x.yaml]\n").unwrap();
        std::fs::write(root.join("kz/x.yaml"), "kind: ConfigMap\n").unwrap();
        assert_eq!(generated_resources(root).unwrap(), ["a.yaml", "b/nested/c.yml", "kz"]);
        let yaml = kustomization_yaml(&generated_resources(root).unwrap());
        assert!(yaml.contains("- \"a.yaml\"\n- \"b/nested/c.yml\"\n- \"kz\"\n"), "{yaml}");
        assert_eq!(
            kustomization_yaml(&[]),
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n"
        );
    }

    #[test]
    fn an_overlay_only_when_the_spec_asks() {
        let mut spec: KustomizationSpec = serde_json::from_value(serde_json::json!({
            "interval": "1m", "prune": true, "sourceRef": {"kind": "GitRepository", "name": "repo"}
        }))
        .unwrap();
        assert!(overlay_yaml(&spec, "../src").is_none());
        spec.target_namespace = Some("apps".into());
        spec.name_prefix = Some("p-".into());
        let overlay: serde_json::Value = serde_json::from_str(&overlay_yaml(&spec, "../src").unwrap()).unwrap();
        assert_eq!(overlay["namespace"], "apps");
        assert_eq!(overlay["namePrefix"], "p-");
        assert_eq!(overlay["resources"][0], "../src");
    }
}
