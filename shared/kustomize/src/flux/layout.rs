//! Where a Flux build reads from: `spec.path` confined to the artifact, and the
//! `kustomization.yaml` Flux generates when that directory has none.

use std::path::{Component, Path, PathBuf};

use super::FluxBuildError;
use crate::kustomization::FILE_NAMES;

fn io(path: &Path, error: std::io::Error) -> FluxBuildError {
    FluxBuildError::Io { path: path.display().to_string(), message: error.to_string() }
}

/// `spec.path` as a relative path inside the artifact, `..` resolved lexically; a path that
/// climbs above the root is refused. A leading `/` means the artifact's root, as in Flux.
pub fn confine(path: Option<&str>) -> Result<PathBuf, FluxBuildError> {
    let raw = path.unwrap_or("");
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for component in Path::new(raw).components() {
        match component {
            Component::Normal(p) => parts.push(p),
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
            Component::ParentDir => {
                if parts.pop().is_none() {
                    return Err(FluxBuildError::OutsideRoot(raw.to_string()));
                }
            }
        }
    }
    Ok(parts.iter().collect())
}

/// `root/rel` when it is a directory whose real path (symlinks resolved) stays in the root.
pub fn build_dir(root: &Path, rel: &Path, raw: &str) -> Result<PathBuf, FluxBuildError> {
    let dir = root.join(rel);
    let not_found = || FluxBuildError::NotFound(raw.to_string());
    let real = std::fs::canonicalize(&dir).map_err(|_| not_found())?;
    let real_root = std::fs::canonicalize(root).map_err(|e| io(root, e))?;
    if !real.starts_with(&real_root) {
        return Err(FluxBuildError::OutsideRoot(raw.to_string()));
    }
    if !real.is_dir() {
        return Err(not_found());
    }
    Ok(dir)
}

/// The kustomization file of `dir`, if it has one (first of kustomize's names).
pub fn kustomization_file(dir: &Path) -> Option<&'static str> {
    FILE_NAMES.iter().copied().find(|f| dir.join(f).is_file())
}

/// The `resources` of a generated kustomization for `dir`: every `.yaml`/`.yml` manifest below
/// it (relative paths, sorted), except that a subdirectory with its own kustomization file is
/// listed as a directory and not descended into. As in Flux, every such file must hold
/// Kubernetes objects: a file that does not parse, or holds a document without `kind`, fails
/// the build with its path (silently leaving it out would apply less than Git says).
pub fn generated_resources(dir: &Path) -> Result<Vec<String>, FluxBuildError> {
    let mut out = Vec::new();
    walk(dir, Path::new(""), &mut out)?;
    Ok(out)
}

fn walk(root: &Path, rel: &Path, out: &mut Vec<String>) -> Result<(), FluxBuildError> {
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
            if kustomization_file(&path).is_some() {
                out.push(rel_path.display().to_string());
            } else {
                walk(root, &rel_path, out)?;
            }
        } else if kind.is_file() {
            let is_yaml = rel_path.extension().is_some_and(|e| e == "yaml" || e == "yml");
            if is_yaml {
                check_manifest(&path)?;
                out.push(rel_path.display().to_string());
            }
        }
    }
    Ok(())
}

/// Parses the file as the renderer will (block or flow/JSON YAML, several documents).
fn check_manifest(path: &Path) -> Result<(), FluxBuildError> {
    let content = std::fs::read(path).map_err(|e| io(path, e))?;
    let decode_error = |message: String| FluxBuildError::Io {
        path: path.display().to_string(),
        message: format!("failed to decode Kubernetes YAML: {message}"),
    };
    let documents = crate::parse_documents(&String::from_utf8_lossy(&content)).map_err(decode_error)?;
    match documents.iter().find(|d| d.get("kind").and_then(serde_json::Value::as_str).is_none()) {
        Some(_) => Err(decode_error("a document has no 'kind'".to_string())),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_artifact() {
        assert_eq!(confine(None).unwrap(), PathBuf::new());
        assert_eq!(confine(Some("./apps/../apps/prod")).unwrap(), PathBuf::from("apps/prod"));
        assert_eq!(confine(Some("/clusters/dev")).unwrap(), PathBuf::from("clusters/dev"));
        assert!(matches!(confine(Some("../etc")), Err(FluxBuildError::OutsideRoot(_))));
        assert!(matches!(confine(Some("apps/../../x")), Err(FluxBuildError::OutsideRoot(_))));
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_path_cannot_leave_the_artifact() {
        let outside = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("out")).unwrap();
        std::fs::create_dir(root.path().join("in")).unwrap();
        assert!(matches!(build_dir(root.path(), Path::new("out"), "out"), Err(FluxBuildError::OutsideRoot(_))));
        assert!(build_dir(root.path(), Path::new("in"), "in").is_ok());
        assert!(matches!(build_dir(root.path(), Path::new("nope"), "nope"), Err(FluxBuildError::NotFound(_))));
    }

    #[test]
    fn generates_resources_like_flux() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("b/nested")).unwrap();
        std::fs::create_dir_all(root.join("kz")).unwrap();
        std::fs::write(root.join("a.yaml"), "kind: ConfigMap\n").unwrap();
        std::fs::write(root.join("b/nested/c.yml"), "apiVersion: v1\nkind: Service\n").unwrap();
        std::fs::write(root.join("b/json.yaml"), "---\n{\"apiVersion\": \"v1\", \"kind\": \"Secret\"}\n").unwrap();
        std::fs::write(root.join("README.md"), "kind: nope\n").unwrap();
        std::fs::write(root.join("kz/kustomization.yaml"), "resources: [x.yaml]\n").unwrap();
        std::fs::write(root.join("kz/x.yaml"), "kind: ConfigMap\n").unwrap();
        assert_eq!(generated_resources(root).unwrap(), ["a.yaml", "b/json.yaml", "b/nested/c.yml", "kz"]);
    }

    #[test]
    fn yaml_that_is_not_kubernetes_objects_fails_the_build() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("values.yaml"), "replicas: 2\n").unwrap();
        let error = generated_resources(dir.path()).unwrap_err().to_string();
        assert!(error.contains("values.yaml") && error.contains("failed to decode Kubernetes YAML"), "{error}");
        std::fs::write(dir.path().join("values.yaml"), "a: [unclosed\n").unwrap();
        assert!(generated_resources(dir.path()).is_err());
    }
}
