//! `patchesStrategicMerge`, `patches` and `patchesJson6902`: find the patch text, find the
//! targets, and hand each (target, patch) pair to the patch engine.

use std::path::Path;

use serde_json::Value;

use crate::error::BuildError;
use crate::fs::{Fs, normalize};
use crate::kustomization::{PatchSpec, Selector};
use crate::patch::CustomSchema;
use crate::patch_engine as engine;
use crate::resid::{ResId, str_at};
use crate::resource::{Resource, metadata_mut};
use crate::selector::Matcher;

fn patch_err(file: &Path, e: impl std::fmt::Display) -> BuildError {
    BuildError::Patch { path: file.to_path_buf(), message: e.to_string() }
}

fn read_text(fs: &dyn Fs, dir: &Path, rel: &str) -> Result<String, BuildError> {
    let path = normalize(dir, Path::new(rel))?;
    String::from_utf8(fs.read(&path)?).map_err(|_| BuildError::invalid(&path, "patch is not UTF-8 text"))
}

/// A `patchesStrategicMerge` entry is a file path, or the patch itself when no such file exists.
fn entry_text(fs: &dyn Fs, dir: &Path, entry: &str) -> Result<String, BuildError> {
    let looks_inline = entry.contains('\n') || entry.contains(": ");
    if !looks_inline {
        return read_text(fs, dir, entry);
    }
    Ok(entry.to_string())
}

pub fn strategic_merge_list(
    fs: &dyn Fs,
    dir: &Path,
    file: &Path,
    entries: &[String],
    schema: Option<&CustomSchema>,
    acc: &mut Vec<Resource>,
) -> Result<(), BuildError> {
    for entry in entries {
        let text = entry_text(fs, dir, entry)?;
        match engine::parse_patch(&text).map_err(|e| patch_err(file, e))? {
            engine::Patch::StrategicMerge(docs) => {
                for doc in docs {
                    apply_by_id(file, &doc, Allow::default(), schema, acc)?;
                }
            }
            engine::Patch::Json6902(_) => {
                return Err(patch_err(
                    file,
                    "patchesStrategicMerge entry is a JSON 6902 patch; use patches with a target",
                ));
            }
        }
    }
    Ok(())
}

/// What kustomize lets a strategic-merge patch change about its target's identity.
#[derive(Debug, Clone, Copy, Default)]
struct Allow {
    name_change: bool,
    kind_change: bool,
}

impl Allow {
    fn of(spec: &PatchSpec) -> Self {
        let get = |k: &str| spec.options.get(k).copied().unwrap_or(false);
        Allow { name_change: get("allowNameChange"), kind_change: get("allowKindChange") }
    }
}

/// A strategic-merge patch without a target applies to the resource its own id names (any name
/// the resource has had).
fn apply_by_id(
    file: &Path,
    doc: &Value,
    allow: Allow,
    schema: Option<&CustomSchema>,
    acc: &mut Vec<Resource>,
) -> Result<(), BuildError> {
    let want = ResId::of(doc);
    let index = acc.iter().position(|r| {
        let id = r.id();
        id.kind == want.kind
            && id.group == want.group
            && r.all_names().any(|n| n == want.name)
            && (want.namespace.is_empty() || r.all_namespaces().any(|n| n == want.namespace))
    });
    let Some(index) = index else {
        return Err(patch_err(file, format!("no resource matches the patch for {want}")));
    };
    apply_smp(file, &mut acc[index], doc, allow, schema)?;
    if acc[index].obj.is_null() {
        acc.remove(index);
    }
    Ok(())
}

/// Applies one strategic-merge patch, then restores what the patch may not change (name,
/// namespace, kind) and drops an annotations mapping the patch left empty, as kustomize does.
fn apply_smp(
    file: &Path,
    r: &mut Resource,
    doc: &Value,
    allow: Allow,
    schema: Option<&CustomSchema>,
) -> Result<(), BuildError> {
    let name = r.name().to_string();
    let namespace = r.namespace().to_string();
    let kind = str_at(&r.obj, &["kind"]).to_string();
    let api_version = str_at(&r.obj, &["apiVersion"]).to_string();
    engine::strategic_merge_with_schema(&mut r.obj, doc, schema).map_err(|e| patch_err(file, e))?;
    if r.obj.is_null() {
        return Ok(());
    }
    let new_name = r.name().to_string();
    let meta = metadata_mut(&mut r.obj);
    if allow.name_change && !new_name.is_empty() && new_name != name {
        r.previous_names.push(name);
    } else {
        meta.insert("name".into(), Value::String(name));
    }
    if namespace.is_empty() {
        meta.remove("namespace");
    } else {
        meta.insert("namespace".into(), Value::String(namespace));
    }
    if meta.get("annotations").and_then(Value::as_object).is_some_and(|m| m.is_empty()) {
        meta.remove("annotations");
    }
    if !allow.kind_change
        && let Value::Object(o) = &mut r.obj
    {
        o.insert("kind".into(), Value::String(kind));
        o.insert("apiVersion".into(), Value::String(api_version));
    }
    Ok(())
}

pub fn patches(
    fs: &dyn Fs,
    dir: &Path,
    file: &Path,
    specs: &[PatchSpec],
    schema: Option<&CustomSchema>,
    acc: &mut Vec<Resource>,
) -> Result<(), BuildError> {
    for spec in specs {
        let text = match (spec.path.as_deref(), spec.patch.as_deref()) {
            (Some(path), None) => read_text(fs, dir, path)?,
            (None, Some(inline)) => inline.to_string(),
            (Some(_), Some(_)) => return Err(patch_err(file, "a patch has both path and patch")),
            (None, None) => return Err(patch_err(file, "a patch has neither path nor patch")),
        };
        let parsed = engine::parse_patch(&text).map_err(|e| patch_err(file, e))?;
        match (&spec.target, parsed) {
            (None, engine::Patch::StrategicMerge(docs)) => {
                for doc in docs {
                    apply_by_id(file, &doc, Allow::of(spec), schema, acc)?;
                }
            }
            (None, engine::Patch::Json6902(_)) => {
                return Err(patch_err(file, "a JSON 6902 patch needs a target"));
            }
            (Some(target), parsed) => apply_to_targets(file, target, &parsed, Allow::of(spec), schema, acc)?,
        }
    }
    Ok(())
}

fn apply_to_targets(
    file: &Path,
    target: &Selector,
    parsed: &engine::Patch,
    allow: Allow,
    schema: Option<&CustomSchema>,
    acc: &mut Vec<Resource>,
) -> Result<(), BuildError> {
    let matcher = Matcher::new(target).map_err(|e| patch_err(file, e))?;
    for r in acc.iter_mut().filter(|r| matcher.matches(r)) {
        match parsed {
            engine::Patch::StrategicMerge(docs) => {
                for doc in docs {
                    apply_smp(file, r, doc, allow, schema)?;
                    if r.obj.is_null() {
                        break;
                    }
                }
            }
            engine::Patch::Json6902(ops) => {
                let name = r.name().to_string();
                engine::json6902(&mut r.obj, ops).map_err(|e| patch_err(file, e))?;
                if r.name() != name {
                    r.previous_names.push(name);
                }
            }
        }
    }
    acc.retain(|r| !r.obj.is_null());
    Ok(())
}

pub fn json6902_list(
    fs: &dyn Fs,
    dir: &Path,
    file: &Path,
    specs: &[PatchSpec],
    schema: Option<&CustomSchema>,
    acc: &mut Vec<Resource>,
) -> Result<(), BuildError> {
    for spec in specs {
        let target = spec.target.as_ref().ok_or_else(|| patch_err(file, "a patchesJson6902 entry has no target"))?;
        let text = match (spec.path.as_deref(), spec.patch.as_deref()) {
            (Some(path), _) => read_text(fs, dir, path)?,
            (None, Some(inline)) => inline.to_string(),
            (None, None) => return Err(patch_err(file, "a patchesJson6902 entry has neither path nor patch")),
        };
        let ops = engine::parse_json6902(&text).map_err(|e| patch_err(file, e))?;
        apply_to_targets(file, target, &engine::Patch::Json6902(ops), Allow::default(), schema, acc)?;
    }
    Ok(())
}
