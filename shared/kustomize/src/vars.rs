//! `vars` (deprecated in kustomize, still met in Flux repositories): `$(NAME)` in the fields
//! kustomize's built-in varReference configuration lists (api/konfig/builtinpluginconsts/
//! varreference.go, kustomize v5.5, restated as data) is replaced by a field of a resource, read
//! after every rename. `$$` escapes a dollar; unknown variables are left as they are.

use serde::Deserialize;
use serde_json::Value;

use crate::fieldspec::{split_path, visit_parents};
use crate::nameref_table::pod_spec_root;
use crate::resid::{split_api_version, str_at};
use crate::resource::Resource;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Var {
    pub name: String,
    pub objref: ObjRef,
    pub fieldref: Option<FieldRef>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ObjRef {
    pub kind: String,
    pub name: String,
    pub api_version: Option<String>,
    pub namespace: Option<String>,
    pub group: Option<String>,
    pub version: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FieldRef {
    pub fieldpath: Option<String>,
}

const POD_KINDS: &[&str] = &["CronJob", "DaemonSet", "Deployment", "Job", "Pod", "ReplicaSet", "StatefulSet"];
const CONTAINER_FIELDS: &[&str] = &["args", "command", "env/value", "volumeMounts/mountPath"];
const OTHER_FIELDS: &[(&str, &str)] = &[
    ("Ingress", "spec/rules/host"),
    ("Ingress", "spec/tls/hosts"),
    ("Ingress", "spec/tls/secretName"),
    ("Service", "spec/ports/port"),
    ("Service", "spec/ports/targetPort"),
    ("", "metadata/labels"),
];

/// The paths in objects of `kind` where variables are expanded.
fn paths_for(kind: &str) -> Vec<String> {
    let mut out = Vec::new();
    if POD_KINDS.contains(&kind)
        && let Some(root) = pod_spec_root(kind)
    {
        for list in ["containers", "initContainers"] {
            out.extend(CONTAINER_FIELDS.iter().map(|f| format!("{root}/{list}/{f}")));
        }
    }
    out.extend(OTHER_FIELDS.iter().filter(|(k, _)| k.is_empty() || *k == kind).map(|(_, p)| (*p).to_string()));
    out
}

/// Resolves every variable and expands them in `resources`.
pub fn resolve(vars: &[Var], resources: &mut [Resource]) -> Result<(), String> {
    let mut values = Vec::new();
    for var in vars {
        let (group, version) = match var.objref.api_version.as_deref() {
            Some(av) => split_api_version(av),
            None => (var.objref.group.as_deref().unwrap_or(""), var.objref.version.as_deref().unwrap_or("")),
        };
        let found: Vec<&Resource> = resources
            .iter()
            .filter(|r| {
                let id = r.id();
                id.kind == var.objref.kind
                    && (var.objref.api_version.is_none() && var.objref.group.is_none() || id.group == group)
                    && (version.is_empty() || id.version == version)
                    && r.all_names().any(|n| n == var.objref.name)
                    && var.objref.namespace.as_deref().is_none_or(|ns| r.all_namespaces().any(|n| n == ns))
            })
            .collect();
        let target = match found.as_slice() {
            [one] => *one,
            [] => {
                return Err(format!(
                    "var {:?} refers to {} {:?}, which is not in the build",
                    var.name, var.objref.kind, var.objref.name
                ));
            }
            _ => {
                return Err(format!(
                    "var {:?} matches more than one {} {:?}",
                    var.name, var.objref.kind, var.objref.name
                ));
            }
        };
        let path = var.fieldref.as_ref().and_then(|f| f.fieldpath.as_deref()).unwrap_or("metadata.name");
        let value = field(&target.obj, path)
            .ok_or_else(|| format!("var {:?}: field {path:?} not found in {}", var.name, target.id()))?;
        values.push((var.name.clone(), value.clone()));
    }
    for r in resources.iter_mut() {
        let kind = str_at(&r.obj, &["kind"]).to_string();
        for path in paths_for(&kind) {
            visit_parents(&mut r.obj, &split_path(&path), false, &mut |parent, key| match parent.get_mut(key) {
                Some(Value::Array(items)) => items.iter_mut().for_each(|i| expand_value(i, &values)),
                Some(Value::Object(map)) => map.values_mut().for_each(|v| expand_value(v, &values)),
                Some(v) => expand_value(v, &values),
                None => {}
            });
        }
    }
    Ok(())
}

/// A field by kustomize's var field path: dots, with `[n]` indices.
fn field<'a>(obj: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = obj;
    for part in path.split('.') {
        let (key, indices) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            cur = cur.get(key)?;
        }
        for index in indices.split('[').filter(|s| !s.is_empty()) {
            let index: usize = index.trim_end_matches(']').parse().ok()?;
            cur = cur.get(index)?;
        }
    }
    Some(cur)
}

fn expand_value(value: &mut Value, vars: &[(String, Value)]) {
    if let Value::String(s) = value
        && let Some(new) = expand(s, vars)
    {
        *value = new;
    }
}

/// The expansion of `s`, when it changes: the typed value when `s` is exactly one variable.
fn expand(s: &str, vars: &[(String, Value)]) -> Option<Value> {
    if !s.contains('$') {
        return None;
    }
    if let Some(name) = s.strip_prefix("$(").and_then(|r| r.strip_suffix(')'))
        && let Some((_, v)) = vars.iter().find(|(n, _)| n == name)
    {
        return Some(v.clone());
    }
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("$$") {
            out.push('$');
            rest = after;
        } else if let Some(body) = tail.strip_prefix("$(")
            && let Some(end) = body.find(')')
            && let Some((_, v)) = vars.iter().find(|(n, _)| *n == body[..end])
        {
            match v {
                Value::String(text) => out.push_str(text),
                other => out.push_str(&other.to_string()),
            }
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    (out != s).then_some(Value::String(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expands() {
        let vars = vec![("H".to_string(), json!("db")), ("P".to_string(), json!(5432))];
        assert_eq!(expand("--db=$(H):$(P)", &vars), Some(json!("--db=db:5432")));
        assert_eq!(expand("$(P)", &vars), Some(json!(5432)));
        assert_eq!(expand("$$(H)", &vars), Some(json!("$(H)")));
        assert_eq!(expand("$(X)", &vars), None);
        assert_eq!(expand("plain", &vars), None);
    }

    #[test]
    fn field_paths() {
        let obj = json!({"spec": {"ports": [{"port": 1}, {"port": 2}]}});
        assert_eq!(field(&obj, "spec.ports[1].port"), Some(&json!(2)));
    }
}
