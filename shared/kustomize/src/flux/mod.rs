//! Flux's Kustomization build, shared by kustomize-controller and `weir build kustomization`:
//!
//! ```text
//! spec.path confined to the artifact ─► kustomization file: the artifact's, or generated
//!   ─► spec written into it (targetNamespace, namePrefix/Suffix, patches, components, images,
//!      buildMetadata; see `overlay`) ─► kustomize build ─► postBuild substitution
//!   ─► commonMetadata labels and annotations on every object
//! ```
//!
//! The artifact is only read: generated and rewritten files live in memory over it. Owner labels
//! (`kustomize.toolkit.fluxcd.io/name`, `…/namespace`) are the caller's business.

mod envsubst;
mod layered_fs;
mod layout;
mod overlay;
mod substitute;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use weir_api::kustomize::{KustomizationSpec, SubstituteStrategy};

use crate::error::BuildError;
use crate::fs::{DiskFs, Fs, MemFs};
use crate::kustomization::FILE_NAMES;
use layered_fs::LayeredFs;

pub use envsubst::EnvsubstError;
pub use substitute::SubstituteError;

/// Why a Flux build failed; every message names the path, object or variable at fault.
#[derive(Debug, thiserror::Error)]
pub enum FluxBuildError {
    #[error("path '{0}' points outside the artifact")]
    OutsideRoot(String),
    #[error("kustomization path not found: '{0}'")]
    NotFound(String),
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("component path '{0}' must be local and relative")]
    Component(String),
    #[error("{path}: {message}")]
    Kustomization { path: String, message: String },
    #[error("kustomize build failed: {0}")]
    Kustomize(#[from] BuildError),
    #[error("the build produced an object without a kind: {0}")]
    NoKind(String),
    #[error("postBuild substitution failed: {0}")]
    Substitute(#[from] SubstituteError),
    /// The caller's step before substitution failed (kustomize-controller's SOPS decryption).
    #[error("{0}")]
    BeforeSubstitution(String),
}

/// How to build, beyond the spec.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FluxBuildOptions {
    /// Fail on a variable that is neither defined nor given a default, as kustomize-controller
    /// does with `--feature-gates=StrictPostBuildSubstitutions=true`.
    pub strict_substitution: bool,
}

/// Builds `spec.path` of the artifact extracted at `root` as kustomize-controller does, with
/// `variables` (the caller's merge of `postBuild.substitute` over `postBuild.substituteFrom`)
/// substituted when `spec.postBuild` is set.
pub fn build(
    root: &Path,
    spec: &KustomizationSpec,
    variables: &BTreeMap<String, String>,
) -> Result<Vec<Value>, FluxBuildError> {
    build_with_options(root, spec, variables, FluxBuildOptions::default())
}

/// [`build`] with options.
pub fn build_with_options(
    root: &Path,
    spec: &KustomizationSpec,
    variables: &BTreeMap<String, String>,
    options: FluxBuildOptions,
) -> Result<Vec<Value>, FluxBuildError> {
    build_with_step(root, spec, variables, options, &|_| Ok(()))
}

/// [`build_with_options`] with `before_substitution` run on the kustomize output before postBuild
/// substitution and commonMetadata, where Flux decrypts SOPS objects.
pub fn build_with_step(
    root: &Path,
    spec: &KustomizationSpec,
    variables: &BTreeMap<String, String>,
    options: FluxBuildOptions,
    before_substitution: &dyn Fn(&mut [Value]) -> Result<(), String>,
) -> Result<Vec<Value>, FluxBuildError> {
    let Prepared { mut fs, dir, file, doc } = prepare(root, spec)?;
    fs.extra.insert(&file, Value::Object(doc).to_string());

    let mut objects = crate::build(&fs, &dir)?;
    if let Some(object) = objects.iter().find(|o| o.get("kind").and_then(Value::as_str).is_none_or(str::is_empty)) {
        return Err(FluxBuildError::NoKind(object.to_string()));
    }
    before_substitution(&mut objects).map_err(FluxBuildError::BeforeSubstitution)?;
    if let Some(post_build) = &spec.post_build {
        let always = post_build.substitute_strategy == Some(SubstituteStrategy::Always);
        if always || !variables.is_empty() {
            let non_plain = fs.non_plain_scalars();
            substitute::substitute_all(&mut objects, variables, options.strict_substitution, &non_plain)?;
        }
    }
    if let Some(metadata) = &spec.common_metadata {
        set_common_metadata(&mut objects, metadata.labels.as_ref(), metadata.annotations.as_ref());
    }
    Ok(objects)
}

/// The kustomization file Flux builds for `spec` (the artifact's, or a generated one, with the
/// spec written into it): its path relative to `root`, and its content. `weir build` can show it,
/// and a test can hand it to `kubectl kustomize`.
pub fn kustomization_file(
    root: &Path,
    spec: &KustomizationSpec,
) -> Result<(PathBuf, serde_json::Map<String, Value>), FluxBuildError> {
    let prepared = prepare(root, spec)?;
    Ok((prepared.file, prepared.doc))
}

struct Prepared {
    fs: LayeredFs,
    /// The build directory and its kustomization file, relative to the root.
    dir: PathBuf,
    file: PathBuf,
    doc: serde_json::Map<String, Value>,
}

fn prepare(root: &Path, spec: &KustomizationSpec) -> Result<Prepared, FluxBuildError> {
    let raw_path = spec.path.clone().unwrap_or_default();
    let rel = layout::confine(spec.path.as_deref())?;
    let dir = layout::build_dir(root, &rel, &raw_path)?;
    let fs = LayeredFs::new(DiskFs::new(root)?, MemFs::new());
    let (file, existing) = match layout::kustomization_file(&dir) {
        Some(name) => (rel.join(name), true),
        None => (rel.join(FILE_NAMES[0]), false),
    };
    let mut doc = if existing {
        let text = fs.read(&file)?;
        match crate::yaml::parse_one(&String::from_utf8_lossy(&text)) {
            Ok(Value::Object(map)) => map,
            Ok(_) => return Err(kustomization_error(&file, "not a mapping".into())),
            Err(e) => return Err(kustomization_error(&file, e)),
        }
    } else {
        generated(&layout::generated_resources(&dir)?)
    };
    overlay::apply_spec(&mut doc, spec, existing, |p| crate::fs::normalize(&rel, p).is_ok_and(|p| fs.exists(&p)))?;
    Ok(Prepared { fs, dir: rel, file, doc })
}

fn kustomization_error(file: &Path, message: String) -> FluxBuildError {
    FluxBuildError::Kustomization { path: file.display().to_string(), message }
}

/// The kustomization Flux generates for a directory without one.
fn generated(resources: &[String]) -> serde_json::Map<String, Value> {
    let mut doc = serde_json::Map::new();
    doc.insert("apiVersion".into(), "kustomize.config.k8s.io/v1beta1".into());
    doc.insert("kind".into(), "Kustomization".into());
    doc.insert("resources".into(), resources.iter().map(|r| Value::from(r.as_str())).collect());
    doc
}

/// Sets labels and annotations on every object's metadata, over the values it had (Flux's
/// `SetCommonMetadata`: metadata only, not selectors or templates).
fn set_common_metadata(
    objects: &mut [Value],
    labels: Option<&BTreeMap<String, String>>,
    annotations: Option<&BTreeMap<String, String>>,
) {
    for object in objects {
        let meta = crate::resource::metadata_mut(object);
        for (field, pairs) in [("labels", labels), ("annotations", annotations)] {
            let Some(pairs) = pairs.filter(|p| !p.is_empty()) else { continue };
            let slot = meta.entry(field).or_insert_with(|| Value::Object(Default::default()));
            if !slot.is_object() {
                *slot = Value::Object(Default::default());
            }
            if let Value::Object(map) = slot {
                map.extend(pairs.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))));
            }
        }
    }
}
