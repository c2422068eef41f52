//! The kustomization file: lookup and the typed `Kustomization`/`Component` document. Unknown
//! fields are an error naming the file and the field, as kustomize does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::error::BuildError;
use crate::fs::Fs;

/// The file names kustomize recognises, in its order of preference.
pub const FILE_NAMES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// The kustomization file of `dir`; more than one is an error, as in kustomize.
pub fn find_file(fs: &dyn Fs, dir: &Path) -> Result<PathBuf, BuildError> {
    let found: Vec<PathBuf> =
        FILE_NAMES.iter().map(|n| dir.join(n)).filter(|p| fs.exists(p) && !fs.is_dir(p)).collect();
    match found.len() {
        0 => Err(BuildError::NoKustomization { path: dir.to_path_buf() }),
        1 => Ok(found.into_iter().next().unwrap_or_default()),
        _ => Err(BuildError::MultipleKustomizations {
            path: dir.to_path_buf(),
            found: found.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
        }),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Kustomization,
    Component,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Kustomization {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    pub metadata: Option<Value>,
    #[serde(default)]
    pub resources: Vec<String>,
    #[serde(default)]
    pub bases: Vec<String>,
    #[serde(default)]
    pub components: Vec<String>,
    #[serde(default)]
    pub crds: Vec<String>,
    pub namespace: Option<String>,
    pub name_prefix: Option<String>,
    pub name_suffix: Option<String>,
    #[serde(default)]
    pub common_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub labels: Vec<Label>,
    #[serde(default)]
    pub common_annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub images: Vec<Image>,
    #[serde(default)]
    pub replicas: Vec<Replica>,
    #[serde(default)]
    pub config_map_generator: Vec<GeneratorArgs>,
    #[serde(default)]
    pub secret_generator: Vec<GeneratorArgs>,
    pub generator_options: Option<GeneratorOptions>,
    #[serde(default)]
    pub patches: Vec<PatchSpec>,
    #[serde(default)]
    pub patches_strategic_merge: Vec<String>,
    #[serde(default)]
    pub patches_json6902: Vec<PatchSpec>,
    #[serde(default)]
    pub replacements: Vec<Value>,
    pub sort_options: Option<SortOptions>,
    #[serde(default)]
    pub build_metadata: Vec<String>,
    // Accepted by kustomize but outside this renderer: refused with a clear message in `check`.
    #[serde(default)]
    pub vars: Vec<crate::vars::Var>,
    #[serde(default)]
    pub configurations: Vec<String>,
    #[serde(default)]
    pub generators: Vec<String>,
    #[serde(default)]
    pub transformers: Vec<String>,
    #[serde(default)]
    pub validators: Vec<String>,
    #[serde(default)]
    pub helm_charts: Vec<Value>,
    pub helm_globals: Option<Value>,
    pub openapi: Option<Value>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Label {
    #[serde(default)]
    pub pairs: BTreeMap<String, String>,
    #[serde(default)]
    pub include_selectors: bool,
    #[serde(default)]
    pub include_templates: bool,
    #[serde(default)]
    pub fields: Vec<FieldSpecArg>,
}

/// A user-given field spec (`labels[].fields`).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FieldSpecArg {
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    pub path: String,
    #[serde(default)]
    pub create: bool,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Image {
    pub name: String,
    pub new_name: Option<String>,
    pub new_tag: Option<String>,
    pub digest: Option<String>,
    pub tag_suffix: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Replica {
    pub name: String,
    pub count: i64,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GeneratorArgs {
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub behavior: Option<String>,
    #[serde(default)]
    pub files: Vec<String>,
    #[serde(default)]
    pub literals: Vec<String>,
    #[serde(default)]
    pub envs: Vec<String>,
    pub env: Option<String>,
    pub options: Option<GeneratorOptions>,
    #[serde(rename = "type")]
    pub type_: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GeneratorOptions {
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    pub disable_name_suffix_hash: Option<bool>,
    pub immutable: Option<bool>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatchSpec {
    pub path: Option<String>,
    pub patch: Option<String>,
    pub target: Option<Selector>,
    #[serde(default)]
    pub options: BTreeMap<String, bool>,
}

/// Which resources a patch applies to.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Selector {
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub label_selector: Option<String>,
    pub annotation_selector: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SortOptions {
    pub order: Option<String>,
    pub legacy_sort_options: Option<LegacySortOptions>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LegacySortOptions {
    #[serde(default)]
    pub order_first: Vec<String>,
    #[serde(default)]
    pub order_last: Vec<String>,
}

/// Reads and checks the kustomization file at `path`.
pub fn load(fs: &dyn Fs, path: &Path) -> Result<(Kustomization, Kind), BuildError> {
    let bytes = fs.read(path)?;
    let text = String::from_utf8(bytes).map_err(|_| BuildError::invalid(path, "not UTF-8 text"))?;
    let value = crate::yaml::parse_one(&text).map_err(|e| BuildError::invalid(path, e))?;
    let k: Kustomization = serde_json::from_value(value).map_err(|e| BuildError::invalid(path, e.to_string()))?;
    let kind = match k.kind.as_deref() {
        None | Some("") | Some("Kustomization") => Kind::Kustomization,
        Some("Component") => Kind::Component,
        Some(other) => return Err(BuildError::invalid(path, format!("unknown kind {other:?}"))),
    };
    k.check(path)?;
    Ok((k, kind))
}

impl Kustomization {
    /// Refuses what this renderer deliberately does not do (plugins, remote content) or does not do yet.
    fn check(&self, path: &Path) -> Result<(), BuildError> {
        let refused = |what: &str, reason: &str| BuildError::Refused {
            path: path.to_path_buf(),
            what: what.into(),
            reason: reason.into(),
        };
        if !self.generators.is_empty() || !self.transformers.is_empty() || !self.validators.is_empty() {
            return Err(refused(
                "generators/transformers/validators",
                "plugins (exec, KRM functions, built-in plugin configs) are not run",
            ));
        }
        if !self.helm_charts.is_empty() || self.helm_globals.is_some() {
            return Err(refused("helmCharts", "kustomize's Helm inflation is not run; use a HelmRelease"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::MemFs;

    #[test]
    fn unknown_field_names_file_and_field() {
        let fs = MemFs::new().with("k/kustomization.yaml", "resources: []\nnamePrefx: a-\n");
        let err = load(&fs, Path::new("k/kustomization.yaml")).unwrap_err().to_string();
        assert!(err.contains("k/kustomization.yaml") && err.contains("namePrefx"), "{err}");
    }

    #[test]
    fn finds_each_file_name_and_refuses_two() {
        for name in FILE_NAMES {
            let fs = MemFs::new().with(format!("d/{name}"), "");
            assert_eq!(find_file(&fs, Path::new("d")).unwrap(), Path::new("d").join(name));
        }
        let fs = MemFs::new().with("d/kustomization.yaml", "").with("d/kustomization.yml", "");
        assert!(find_file(&fs, Path::new("d")).is_err());
        assert!(find_file(&MemFs::new().with("d/x.yaml", ""), Path::new("d")).is_err());
    }

    #[test]
    fn component_kind_and_plugins_refused() {
        let fs = MemFs::new()
            .with("c/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n")
            .with("p/kustomization.yaml", "transformers: [t.yaml]\n");
        assert_eq!(load(&fs, Path::new("c/kustomization.yaml")).unwrap().1, Kind::Component);
        let err = load(&fs, Path::new("p/kustomization.yaml")).unwrap_err().to_string();
        assert!(err.contains("refused"), "{err}");
    }
}
