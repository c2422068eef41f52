//! `replacements`: copy a value from one resource's field into fields of other resources.
//! Field paths are kustomize's: dot-separated keys, `[key=value]` to pick a list element by a
//! field, a number to pick a list element by index, `*` for every element.

use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::BuildError;
use crate::fs::{Fs, normalize};
use crate::kustomization::Selector;
use crate::resource::Resource;
use crate::selector::Matcher;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Replacement {
    path: Option<String>,
    source: Option<Source>,
    #[serde(default)]
    targets: Vec<Target>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Source {
    group: Option<String>,
    version: Option<String>,
    kind: Option<String>,
    name: Option<String>,
    namespace: Option<String>,
    field_path: Option<String>,
    options: Option<Options>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Target {
    select: Option<Selector>,
    #[serde(default)]
    reject: Vec<Selector>,
    #[serde(default)]
    field_paths: Vec<String>,
    options: Option<Options>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Options {
    delimiter: Option<String>,
    #[serde(default)]
    index: i64,
    #[serde(default)]
    create: bool,
}

/// Runs a kustomization's replacements (inline or from files) over `acc`.
pub fn apply(fs: &dyn Fs, dir: &Path, file: &Path, entries: &[Value], acc: &mut [Resource]) -> Result<(), BuildError> {
    let err = |m: String| BuildError::invalid(file, format!("replacements: {m}"));
    for entry in entries {
        let replacement: Replacement = serde_json::from_value(entry.clone()).map_err(|e| err(e.to_string()))?;
        let list = match &replacement.path {
            Some(rel) => {
                let path = normalize(dir, Path::new(rel))?;
                let text = String::from_utf8(fs.read(&path)?).map_err(|_| BuildError::invalid(&path, "not UTF-8"))?;
                let docs = crate::yaml::parse_value(&text).map_err(|e| BuildError::invalid(&path, e))?;
                let items = match docs {
                    Value::Array(items) => items,
                    other => vec![other],
                };
                items
                    .into_iter()
                    .map(|v| {
                        serde_json::from_value::<Replacement>(v).map_err(|e| BuildError::invalid(&path, e.to_string()))
                    })
                    .collect::<Result<Vec<_>, _>>()?
            }
            None => vec![replacement],
        };
        for r in list {
            apply_one(&r, acc).map_err(err)?;
        }
    }
    Ok(())
}

fn apply_one(r: &Replacement, acc: &mut [Resource]) -> Result<(), String> {
    let source = r.source.as_ref().ok_or("a replacement has no source")?;
    let selector = Selector {
        group: source.group.clone(),
        version: source.version.clone(),
        kind: source.kind.clone(),
        name: source.name.clone(),
        namespace: source.namespace.clone(),
        ..Selector::default()
    };
    let matcher = Matcher::exact(&selector)?;
    let found: Vec<&Resource> = acc.iter().filter(|res| matcher.matches(res)).collect();
    let src = match found.as_slice() {
        [one] => *one,
        [] => return Err(format!("no source resource matches {selector:?}")),
        _ => return Err(format!("more than one source resource matches {selector:?}")),
    };
    let field_path = source.field_path.as_deref().unwrap_or("metadata.name");
    let mut value = get(&src.obj, &split(field_path))
        .ok_or_else(|| format!("source field {field_path:?} not found in {}", src.id()))?
        .clone();
    if let Some(opts) = &source.options
        && let Some(delim) = opts.delimiter.as_deref().filter(|d| !d.is_empty())
    {
        let text = value.as_str().ok_or("a delimiter needs a string source")?;
        let parts: Vec<&str> = text.split(delim).collect();
        let part = usize::try_from(opts.index).ok().and_then(|i| parts.get(i)).ok_or("source index out of range")?;
        value = Value::String((*part).to_string());
    }
    for target in &r.targets {
        let select = target.select.as_ref().map(Matcher::exact).transpose()?;
        let rejects = target.reject.iter().map(Matcher::exact).collect::<Result<Vec<_>, _>>()?;
        let opts = target.options.clone().unwrap_or_default();
        for res in acc.iter_mut() {
            if select.as_ref().is_some_and(|m| !m.matches(res)) || rejects.iter().any(|m| m.matches(res)) {
                continue;
            }
            for path in &target.field_paths {
                set(&mut res.obj, &split(path), &value, &opts)
                    .map_err(|e| format!("target {} field {path:?}: {e}", res.id()))?;
            }
        }
    }
    Ok(())
}

/// Splits a field path on dots outside brackets.
fn split(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0usize;
    for c in path.chars() {
        match c {
            '[' => {
                depth += 1;
                cur.push(c);
            }
            ']' => {
                depth = depth.saturating_sub(1);
                cur.push(c);
            }
            '.' if depth == 0 => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter().filter(|s| !s.is_empty()).collect()
}

/// `[key=value]` → (key, value).
fn list_selector(segment: &str) -> Option<(&str, &str)> {
    segment.strip_prefix('[')?.strip_suffix(']')?.split_once('=')
}

fn element_matches(item: &Value, key: &str, want: &str) -> bool {
    if key.is_empty() {
        return item.as_str() == Some(want);
    }
    match item.get(key) {
        Some(Value::String(s)) => s == want,
        Some(Value::Number(n)) => n.to_string() == want,
        Some(Value::Bool(b)) => (if *b { "true" } else { "false" }) == want,
        Some(_) => false,
        None => false,
    }
}

fn get<'a>(value: &'a Value, path: &[String]) -> Option<&'a Value> {
    let Some((first, rest)) = path.split_first() else { return Some(value) };
    let next = match (value, list_selector(first)) {
        (Value::Array(items), Some((k, v))) => items.iter().find(|i| element_matches(i, k, v))?,
        (Value::Array(items), None) => items.get(first.parse::<usize>().ok()?)?,
        (Value::Object(map), None) => map.get(first.as_str())?,
        _ => return None,
    };
    get(next, rest)
}

fn set(value: &mut Value, path: &[String], new: &Value, opts: &Options) -> Result<(), String> {
    let Some((first, rest)) = path.split_first() else {
        *value = delimited(value, new, opts)?;
        return Ok(());
    };
    match value {
        Value::Array(items) => {
            if first == "*" {
                for item in items.iter_mut() {
                    set(item, rest, new, opts)?;
                }
                return Ok(());
            }
            if let Some((k, v)) = list_selector(first) {
                let mut any = false;
                for item in items.iter_mut().filter(|i| element_matches(i, k, v)) {
                    any = true;
                    set(item, rest, new, opts)?;
                }
                if !any && opts.create {
                    let mut item = Map::new();
                    item.insert(k.to_string(), Value::String(v.to_string()));
                    items.push(Value::Object(item));
                    if let Some(last) = items.last_mut() {
                        set(last, rest, new, opts)?;
                    }
                }
                return Ok(());
            }
            match first.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                Some(item) => set(item, rest, new, opts),
                None if opts.create => Err("cannot create a list element by index".into()),
                None => Ok(()),
            }
        }
        Value::Object(map) => {
            if !map.contains_key(first.as_str()) {
                if !opts.create {
                    return Ok(());
                }
                let child = if rest.first().is_some_and(|s| s.starts_with('[')) {
                    Value::Array(Vec::new())
                } else {
                    Value::Object(Map::new())
                };
                map.insert(first.clone(), child);
            }
            match map.get_mut(first.as_str()) {
                Some(child) => set(child, rest, new, opts),
                None => Ok(()),
            }
        }
        Value::Null if opts.create => {
            *value = Value::Object(Map::new());
            set(value, path, new, opts)
        }
        _ => Err(format!("{first:?} is not under a mapping or a list")),
    }
}

/// The value to write: `new`, or with a delimiter, the old string with one part replaced.
fn delimited(old: &Value, new: &Value, opts: &Options) -> Result<Value, String> {
    let Some(delim) = opts.delimiter.as_deref().filter(|d| !d.is_empty()) else {
        return Ok(new.clone());
    };
    let old = old.as_str().unwrap_or("");
    let new = match new {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut parts: Vec<String> = old.split(delim).map(str::to_string).collect();
    match usize::try_from(opts.index) {
        Ok(i) if i < parts.len() => parts[i] = new,
        Ok(_) => parts.push(new),
        Err(_) => parts.insert(0, new),
    }
    Ok(Value::String(parts.join(delim)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths() {
        assert_eq!(split("spec.containers.[name=a.b].image"), vec!["spec", "containers", "[name=a.b]", "image"]);
        let obj = json!({"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}});
        assert_eq!(get(&obj, &split("spec.containers.[name=b].image")), Some(&json!("y")));
        assert_eq!(get(&obj, &split("spec.containers.0.name")), Some(&json!("a")));
    }

    #[test]
    fn set_with_delimiter_and_create() {
        let mut obj = json!({"image": "repo/app:1.0"});
        let opts = Options { delimiter: Some(":".into()), index: 1, create: false };
        set(&mut obj, &split("image"), &json!("2.0"), &opts).unwrap();
        assert_eq!(obj["image"], "repo/app:2.0");
        let opts = Options { create: true, ..Options::default() };
        set(&mut obj, &split("spec.env.[name=X].value"), &json!("v"), &opts).unwrap();
        assert_eq!(obj["spec"]["env"], json!([{"name": "X", "value": "v"}]));
    }
}
