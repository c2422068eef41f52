//! `configMapGenerator` and `secretGenerator`: build ConfigMaps and Secrets from literals, files
//! and env files, then create, merge into or replace what earlier layers generated.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value, json};

use crate::error::BuildError;
use crate::fs::{Fs, normalize};
use crate::kustomization::{GeneratorArgs, GeneratorOptions};
use crate::resource::{Resource, metadata_mut};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenKind {
    ConfigMap,
    Secret,
}

impl GenKind {
    fn name(self) -> &'static str {
        match self {
            GenKind::ConfigMap => "ConfigMap",
            GenKind::Secret => "Secret",
        }
    }
}

/// Runs one kustomization's generators against the resources accumulated so far.
pub fn run(
    fs: &dyn Fs,
    dir: &Path,
    file: &Path,
    kind: GenKind,
    generators: &[GeneratorArgs],
    global: Option<&GeneratorOptions>,
    acc: &mut Vec<Resource>,
) -> Result<(), BuildError> {
    for args in generators {
        let generated = generate(fs, dir, file, kind, args, global)?;
        let behavior = args.behavior.as_deref().unwrap_or("create");
        match behavior {
            "create" | "" => crate::resource::add_unique(acc, generated)?,
            "merge" | "replace" => {
                let name = args.name.as_deref().unwrap_or("");
                let target = acc.iter_mut().find(|r| {
                    r.kind() == kind.name()
                        && r.all_names().any(|n| n == name)
                        && args.namespace.as_deref().is_none_or(|ns| r.all_namespaces().any(|n| n == ns))
                });
                let Some(target) = target else {
                    return Err(BuildError::invalid(
                        file,
                        format!(
                            "{} {name:?} has behavior {behavior} but no earlier {} of that name exists",
                            kind.name(),
                            kind.name()
                        ),
                    ));
                };
                combine(target, generated, behavior == "merge");
            }
            other => return Err(BuildError::invalid(file, format!("unknown generator behavior {other:?}"))),
        }
    }
    Ok(())
}

/// Merges (or replaces) the data of `target` with `new`; labels and annotations are merged.
fn combine(target: &mut Resource, new: Resource, merge: bool) {
    for key in ["data", "binaryData"] {
        let incoming = new.obj.get(key).and_then(Value::as_object).cloned().unwrap_or_default();
        let Some(obj) = target.obj.as_object_mut() else { return };
        if merge {
            let slot = obj.entry(key).or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(existing) = slot {
                existing.extend(incoming);
            }
        } else {
            obj.remove(key);
            if !incoming.is_empty() {
                obj.insert(key.to_string(), Value::Object(incoming));
            }
        }
        if obj.get(key).and_then(Value::as_object).is_some_and(Map::is_empty) && key == "binaryData" {
            obj.remove(key);
        }
    }
    for key in ["labels", "annotations"] {
        if let Some(incoming) = new.obj.get("metadata").and_then(|m| m.get(key)).and_then(Value::as_object) {
            let meta = metadata_mut(&mut target.obj);
            let slot = meta.entry(key).or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(existing) = slot {
                existing.extend(incoming.clone());
            }
        }
    }
    if let Some(immutable) = new.obj.get("immutable")
        && let Some(obj) = target.obj.as_object_mut()
    {
        obj.insert("immutable".into(), immutable.clone());
    }
    target.needs_hash = new.needs_hash;
    target.generated = true;
}

fn generate(
    fs: &dyn Fs,
    dir: &Path,
    file: &Path,
    kind: GenKind,
    args: &GeneratorArgs,
    global: Option<&GeneratorOptions>,
) -> Result<Resource, BuildError> {
    let name = args
        .name
        .as_deref()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| BuildError::invalid(file, format!("a {} generator has no name", kind.name())))?;
    let mut entries: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut add = |key: String, value: Vec<u8>| -> Result<(), BuildError> {
        if entries.insert(key.clone(), value).is_some() {
            return Err(BuildError::invalid(file, format!("{} {name:?}: key {key:?} is given twice", kind.name())));
        }
        Ok(())
    };
    let env_files = args.envs.iter().chain(args.env.iter());
    for env in env_files {
        let path = normalize(dir, Path::new(env))?;
        let text =
            String::from_utf8(fs.read(&path)?).map_err(|_| BuildError::invalid(&path, "env file is not UTF-8"))?;
        for (k, v) in parse_env(&text).map_err(|e| BuildError::invalid(&path, e))? {
            add(k, v.into_bytes())?;
        }
    }
    for literal in &args.literals {
        let (k, v) = literal
            .split_once('=')
            .ok_or_else(|| BuildError::invalid(file, format!("literal {literal:?} is not key=value")))?;
        add(k.to_string(), unquote(v).as_bytes().to_vec())?;
    }
    for source in &args.files {
        let (key, rel) = match source.split_once('=') {
            Some((k, p)) => (k.to_string(), p),
            None => (
                Path::new(source).file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default(),
                source.as_str(),
            ),
        };
        let path = normalize(dir, Path::new(rel))?;
        add(key, fs.read(&path)?)?;
    }

    let mut obj = json!({"apiVersion": "v1", "kind": kind.name(), "metadata": {"name": name}});
    if let Some(ns) = args.namespace.as_deref().filter(|n| !n.is_empty()) {
        metadata_mut(&mut obj).insert("namespace".into(), Value::String(ns.to_string()));
    }
    let mut data = Map::new();
    let mut binary = Map::new();
    for (k, v) in entries {
        match (kind, String::from_utf8(v)) {
            (GenKind::ConfigMap, Ok(text)) => {
                data.insert(k, Value::String(text));
            }
            (GenKind::ConfigMap, Err(e)) => {
                binary.insert(k, Value::String(base64(e.as_bytes())));
            }
            (GenKind::Secret, Ok(text)) => {
                data.insert(k, Value::String(base64(text.as_bytes())));
            }
            (GenKind::Secret, Err(e)) => {
                data.insert(k, Value::String(base64(e.as_bytes())));
            }
        }
    }
    if let Value::Object(o) = &mut obj {
        // kustomize always writes `data` on a generated Secret, only when non-empty on a ConfigMap.
        if !data.is_empty() || kind == GenKind::Secret {
            o.insert("data".into(), Value::Object(data));
        }
        if !binary.is_empty() {
            o.insert("binaryData".into(), Value::Object(binary));
        }
        if kind == GenKind::Secret {
            o.insert("type".into(), Value::String(args.type_.clone().unwrap_or_else(|| "Opaque".into())));
        }
    }

    let local = args.options.as_ref();
    let mut labels = global.map(|g| g.labels.clone()).unwrap_or_default();
    labels.extend(local.map(|l| l.labels.clone()).unwrap_or_default());
    let mut annotations = global.map(|g| g.annotations.clone()).unwrap_or_default();
    annotations.extend(local.map(|l| l.annotations.clone()).unwrap_or_default());
    let to_map =
        |m: BTreeMap<String, String>| Value::Object(m.into_iter().map(|(k, v)| (k, Value::String(v))).collect());
    if !labels.is_empty() {
        metadata_mut(&mut obj).insert("labels".into(), to_map(labels));
    }
    if !annotations.is_empty() {
        metadata_mut(&mut obj).insert("annotations".into(), to_map(annotations));
    }
    let pick =
        |f: fn(&GeneratorOptions) -> Option<bool>| local.and_then(f).or_else(|| global.and_then(f)).unwrap_or(false);
    if pick(|o| o.immutable)
        && let Value::Object(o) = &mut obj
    {
        o.insert("immutable".into(), Value::Bool(true));
    }
    let mut resource = Resource::new(obj, file.display().to_string());
    resource.needs_hash = !pick(|o| o.disable_name_suffix_hash);
    resource.generated = true;
    Ok(resource)
}

/// `KEY=value` lines; blank lines and `#` comments skipped.
pub fn parse_env(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_start_matches('\u{feff}').trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_once('=') {
            Some((k, v)) if !k.is_empty() => out.push((k.to_string(), v.to_string())),
            _ => return Err(format!("line {}: {line:?} is not KEY=value", i + 1)),
        }
    }
    Ok(out)
}

/// A literal's value without one pair of matching surrounding quotes.
fn unquote(v: &str) -> &str {
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return &v[1..v.len() - 1];
        }
    }
    v
}

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648() {
        for (input, expected) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foobar", "Zm9vYmFy")] {
            assert_eq!(base64(input.as_bytes()), expected);
        }
    }

    #[test]
    fn env_files() {
        assert_eq!(
            parse_env("# c\n\nA=1\n  B=x=y\n").unwrap(),
            vec![("A".to_string(), "1".to_string()), ("B".to_string(), "x=y".to_string())]
        );
        assert!(parse_env("NOVALUE\n").is_err());
    }

    #[test]
    fn literals_unquoted() {
        assert_eq!(unquote("\"a b\""), "a b");
        assert_eq!(unquote("'x'"), "x");
        assert_eq!(unquote("\"x"), "\"x");
    }
}
