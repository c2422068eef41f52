//! Field specs: "this path, in objects of this group/kind", kustomize's way of saying where a
//! transformer writes. Arrays on the way are walked element by element.

use serde_json::{Map, Value};

use crate::resid::ResId;

/// A place in objects of a given kind (empty group/kind match anything).
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec<'a> {
    pub group: &'a str,
    pub kind: &'a str,
    /// Slash-separated keys; `[]` suffixes are allowed and ignored.
    pub path: &'a str,
    /// Create missing mappings on the way (and the leaf, for mapping leaves).
    pub create: bool,
}

pub const fn fs<'a>(group: &'a str, kind: &'a str, path: &'a str, create: bool) -> FieldSpec<'a> {
    FieldSpec { group, kind, path, create }
}

impl FieldSpec<'_> {
    pub fn applies_to(&self, id: &ResId) -> bool {
        (self.kind.is_empty() || self.kind == id.kind) && (self.group.is_empty() || self.group == id.group)
    }

    pub fn segments(&self) -> Vec<String> {
        split_path(self.path)
    }
}

/// Splits a slash-separated path; `\/` is a slash inside a key (annotation names), `[]` suffixes
/// (kustomize's list markers) are dropped.
pub fn split_path(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'/') => {
                cur.push('/');
                chars.next();
            }
            '/' => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter().filter(|s| !s.is_empty()).map(|s| s.strip_suffix("[]").map(str::to_string).unwrap_or(s)).collect()
}

/// Calls `f(parent, last_key)` for every mapping that holds (or, with `create`, should hold) the
/// last key of `path` under `value`.
pub fn visit_parents(
    value: &mut Value,
    path: &[String],
    create: bool,
    f: &mut dyn FnMut(&mut Map<String, Value>, &str),
) {
    match value {
        Value::Array(items) => {
            for item in items {
                visit_parents(item, path, create, f);
            }
        }
        Value::Object(map) => match path {
            [] => {}
            [last] => f(map, last),
            [first, rest @ ..] => {
                if !map.contains_key(first.as_str()) {
                    if !create {
                        return;
                    }
                    map.insert(first.clone(), Value::Object(Map::new()));
                }
                if let Some(child) = map.get_mut(first.as_str()) {
                    if child.is_null() && create {
                        *child = Value::Object(Map::new());
                    }
                    visit_parents(child, rest, create, f);
                }
            }
        },
        _ => {}
    }
}

/// Adds `pairs` to the mapping at `spec` (labels, annotations, selectors), creating it when the
/// spec says so.
pub fn merge_map_at(obj: &mut Value, spec: &FieldSpec<'_>, pairs: &[(String, String)]) {
    let segments = spec.segments();
    visit_parents(obj, &segments, spec.create, &mut |parent, key| {
        let present = parent.get(key).is_some_and(|v| !v.is_null());
        if !present {
            if !spec.create {
                return;
            }
            parent.insert(key.to_string(), Value::Object(Map::new()));
        }
        if let Some(Value::Object(m)) = parent.get_mut(key) {
            for (k, v) in pairs {
                m.insert(k.clone(), Value::String(v.clone()));
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn walks_arrays_and_creates() {
        let mut obj = json!({"spec": {"containers": [{"image": "a"}, {"image": "b"}]}});
        let mut seen = Vec::new();
        visit_parents(&mut obj, &split_path("spec/containers[]/image"), false, &mut |p, k| {
            seen.push(p[k].as_str().unwrap_or("").to_string())
        });
        assert_eq!(seen, vec!["a", "b"]);
        let spec = fs("", "", "spec/template/metadata/labels", true);
        merge_map_at(&mut obj, &spec, &[("k".into(), "v".into())]);
        assert_eq!(obj["spec"]["template"]["metadata"]["labels"], json!({"k": "v"}));
        let spec = fs("", "", "spec/selector/matchLabels", false);
        merge_map_at(&mut obj, &spec, &[("k".into(), "v".into())]);
        assert!(obj["spec"].get("selector").is_none());
        assert_eq!(split_path("metadata/annotations/a.io\\/b"), vec!["metadata", "annotations", "a.io/b"]);
    }
}
