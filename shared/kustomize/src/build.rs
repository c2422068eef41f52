//! The public entry point: build a kustomization directory into objects, as `kustomize build`.

use std::path::Path;

use serde_json::Value;

use crate::error::BuildError;
use crate::fs::{Fs, normalize};
use crate::kustomization::Kustomization;
use crate::load::Loader;
use crate::resource::Resource;

/// The label kustomize's `buildMetadata: [managedByLabel]` adds. Its value carries the kustomize
/// module version, which is `(devel)` when kustomize is linked as a library (kubectl, Flux's
/// kustomize-controller): that is the value Flux users see, so it is the one written here.
const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
const MANAGED_BY_VALUE: &str = "kustomize-(devel)";

/// Builds the kustomization in `dir` (relative to the root of `fs`): resources in output order.
pub fn build(fs: &dyn Fs, dir: &Path) -> Result<Vec<Value>, BuildError> {
    let dir = normalize(Path::new(""), dir)?;
    let mut loader = Loader::new(fs);
    let (mut resources, top) = loader.build_dir(&dir)?;
    add_hash_suffixes(&mut resources);
    crate::namerefs::fix(&mut resources, &loader.config.name_refs);
    crate::vars::resolve(&loader.vars, &mut resources)
        .map_err(|e| BuildError::invalid(dir.join("kustomization.yaml"), format!("vars: {e}")))?;
    build_metadata(&dir, &top, &mut resources)?;
    crate::sort::sort(&mut resources, top.sort_options.as_ref())
        .map_err(|e| BuildError::invalid(dir.join("kustomization.yaml"), e))?;
    Ok(resources.into_iter().map(|r| r.obj).collect())
}

/// Generated ConfigMaps and Secrets get their content hash appended, once, at the top.
fn add_hash_suffixes(resources: &mut [Resource]) {
    for r in resources.iter_mut().filter(|r| r.needs_hash) {
        if let Some(suffix) = crate::hash::suffix(&r.obj) {
            let name = format!("{}-{suffix}", r.name());
            r.set_name(name);
        }
    }
}

const ORIGIN_ANNOTATION: &str = "config.kubernetes.io/origin";

/// `path: …` for a resource read from a file, `configuredIn: …` plus the generator for a
/// generated one, as kustomize writes them.
fn origin_annotation(origin: &str, r: &Resource) -> String {
    if r.generated {
        let generator = if r.kind() == "Secret" { "SecretGenerator" } else { "ConfigMapGenerator" };
        format!("configuredIn: {origin}\nconfiguredBy:\n  apiVersion: builtin\n  kind: {generator}\n")
    } else {
        format!("path: {origin}\n")
    }
}

/// `path` relative to the build directory `dir` (both relative to the filesystem root).
fn dir_relative(dir: &Path, path: &Path) -> String {
    let d: Vec<_> = dir.components().collect();
    let p: Vec<_> = path.components().collect();
    let common = d.iter().zip(&p).take_while(|(a, b)| a == b).count();
    let mut out = std::path::PathBuf::new();
    for _ in common..d.len() {
        out.push("..");
    }
    for c in &p[common..] {
        out.push(c);
    }
    out.display().to_string()
}

fn build_metadata(dir: &Path, top: &Kustomization, resources: &mut [Resource]) -> Result<(), BuildError> {
    for option in &top.build_metadata {
        match option.as_str() {
            "managedByLabel" => {
                for r in resources.iter_mut() {
                    let meta = crate::resource::metadata_mut(&mut r.obj);
                    let labels = meta.entry("labels").or_insert_with(|| Value::Object(serde_json::Map::new()));
                    if let Value::Object(labels) = labels {
                        labels.insert(MANAGED_BY_LABEL.into(), Value::String(MANAGED_BY_VALUE.into()));
                    }
                }
            }
            "originAnnotations" => {
                for r in resources.iter_mut() {
                    let origin = origin_annotation(&dir_relative(dir, Path::new(&r.origin)), r);
                    let meta = crate::resource::metadata_mut(&mut r.obj);
                    let annotations =
                        meta.entry("annotations").or_insert_with(|| Value::Object(serde_json::Map::new()));
                    if let Value::Object(annotations) = annotations {
                        annotations.insert(ORIGIN_ANNOTATION.into(), Value::String(origin));
                    }
                }
            }
            other => {
                return Err(BuildError::Unsupported {
                    path: dir.join("kustomization.yaml"),
                    field: format!("buildMetadata option {other:?}"),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::MemFs;

    #[test]
    fn relative_origins() {
        assert_eq!(dir_relative(Path::new("a/overlay"), Path::new("a/base/x.yaml")), "../base/x.yaml");
        assert_eq!(dir_relative(Path::new(""), Path::new("base/x.yaml")), "base/x.yaml");
    }

    #[test]
    fn builds_from_memory() {
        let fs = MemFs::new()
            .with("app/kustomization.yaml", "resources: [cm.yaml]\nnamePrefix: p-\n")
            .with("app/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n");
        let out = build(&fs, Path::new("app")).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0]["metadata"]["name"], "p-c");
        assert!(crate::to_yaml(&out).contains("name: p-c"));
    }

    #[test]
    fn errors_name_the_problem() {
        let fs = MemFs::new()
            .with("a/kustomization.yaml", "resources: [../b]\n")
            .with("b/kustomization.yaml", "resources: [../a]\n");
        let err = build(&fs, Path::new("a")).unwrap_err().to_string();
        assert!(err.contains("cycle") && err.contains("a -> b -> a"), "{err}");
        let fs = MemFs::new().with("k/kustomization.yaml", "resources: [git@github.com:x/y.git]\n");
        let err = build(&fs, Path::new("k")).unwrap_err().to_string();
        assert!(err.contains("k/kustomization.yaml") && err.contains("remote"), "{err}");
    }
}
