//! Compares a generated CRD with Flux's reference CRD, field path by field path.
//!
//! Every keyword that changes what the server accepts or how it stores an object is compared:
//! type, format, enum, pattern, default, bounds, required fields, and the `x-kubernetes-*`
//! extensions (CEL rules included). Descriptions are Weir's own words and are not compared.
//! Beyond the schema, the names, scope, versions, printer columns and subresources must match.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// Keywords compared at every path of the schema.
const COMPARED_KEYWORDS: &[&str] = &[
    "type",
    "format",
    "enum",
    "pattern",
    "default",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "uniqueItems",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-int-or-string",
    "x-kubernetes-embedded-resource",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-map-type",
    "x-kubernetes-validations",
];

/// Field paths Weir adds on purpose beyond Flux's schema, each with the reason.
/// Keep this list short: every entry is a place where Weir's API is a superset of Flux's.
pub const DOCUMENTED_EXTRAS: &[(&str, &str)] = &[(
    "status",
    "Alert and Provider: Flux's v1beta3 has no status; Weir reports Ready (missing Secret, bad address, \
     missing Provider) instead of dropping events silently",
)];

/// The subresources with the documented `status` extra taken out, for kinds Flux gives no status.
fn documented(reference: &Value, subresources: &Value) -> Value {
    let mut out = subresources.clone();
    if let Some(map) = out.as_object_mut()
        && reference.get("status").is_none()
        && DOCUMENTED_EXTRAS.iter().any(|(p, _)| *p == "status")
        && map.get("status").is_some_and(|s| s.as_object().is_some_and(|o| o.is_empty()))
        && map.len() == 1
    {
        map.clear();
    }
    out
}

/// Every difference between the two CRDs that matters to a client or the server, one line each.
pub fn compare(reference: &Value, generated: &Value) -> Vec<String> {
    let mut diffs = Vec::new();
    compare_at(&mut diffs, "metadata.name", &reference["metadata"]["name"], &generated["metadata"]["name"]);
    for key in ["group", "scope"] {
        compare_at(&mut diffs, &format!("spec.{key}"), &reference["spec"][key], &generated["spec"][key]);
    }
    for key in ["kind", "plural", "singular"] {
        let (r, g) = (&reference["spec"]["names"][key], &generated["spec"]["names"][key]);
        compare_at(&mut diffs, &format!("spec.names.{key}"), r, g);
    }
    for key in ["shortNames", "categories"] {
        let (r, g) = (&reference["spec"]["names"][key], &generated["spec"]["names"][key]);
        compare_at(&mut diffs, &format!("spec.names.{key}"), &sorted(r), &sorted(g));
    }

    let versions = |crd: &Value| -> BTreeMap<String, Value> {
        crd["spec"]["versions"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| (v["name"].as_str().unwrap_or_default().to_string(), v.clone()))
            .collect()
    };
    let (ref_versions, gen_versions) = (versions(reference), versions(generated));
    for (name, rv) in &ref_versions {
        let Some(gv) = gen_versions.get(name) else {
            diffs.push(format!("version {name}: missing"));
            continue;
        };
        for key in ["served", "storage", "deprecated", "deprecationWarning"] {
            compare_at(&mut diffs, &format!("version {name}: {key}"), &rv[key], &gv[key]);
        }
        compare_at(
            &mut diffs,
            &format!("version {name}: additionalPrinterColumns"),
            &printer_columns(&rv["additionalPrinterColumns"]),
            &printer_columns(&gv["additionalPrinterColumns"]),
        );
        compare_at(
            &mut diffs,
            &format!("version {name}: subresources"),
            &rv["subresources"],
            &documented(&rv["subresources"], &gv["subresources"]),
        );
        let (rs, gs) = (&rv["schema"]["openAPIV3Schema"], &gv["schema"]["openAPIV3Schema"]);
        compare_schema(&mut diffs, name, "", rs, gs);
    }
    for name in gen_versions.keys().filter(|n| !ref_versions.contains_key(*n)) {
        diffs.push(format!("version {name}: not in the reference"));
    }
    diffs
}

/// Every schema path of a CRD version, as `a.b[].c{}` strings, for coverage reports.
pub fn schema_paths(schema: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    collect_paths(&mut out, "", schema);
    out
}

fn collect_paths(out: &mut BTreeSet<String>, path: &str, schema: &Value) {
    out.insert(path.to_string());
    for (child_path, child) in children(path, schema) {
        collect_paths(out, &child_path, child);
    }
}

fn children<'a>(path: &str, schema: &'a Value) -> Vec<(String, &'a Value)> {
    let mut out = Vec::new();
    if let Some(props) = schema["properties"].as_object() {
        for (name, child) in props {
            let p = if path.is_empty() { name.clone() } else { format!("{path}.{name}") };
            out.push((p, child));
        }
    }
    if schema["items"].is_object() {
        out.push((format!("{path}[]"), &schema["items"]));
    }
    if schema["additionalProperties"].is_object() {
        out.push((format!("{path}{{}}"), &schema["additionalProperties"]));
    }
    out
}

fn compare_schema(diffs: &mut Vec<String>, version: &str, path: &str, reference: &Value, generated: &Value) {
    let at = if path.is_empty() { "<root>" } else { path };
    for key in COMPARED_KEYWORDS {
        let (r, g) = (&reference[*key], &generated[*key]);
        let equal = match *key {
            "enum" => sorted(r) == sorted(g),
            _ => same_value(r, g),
        };
        if !equal {
            diffs.push(format!("{version} {at}: {key} is {} in Weir, {} in Flux", show(g), show(r)));
        }
    }
    if sorted(&reference["required"]) != sorted(&generated["required"]) {
        diffs.push(format!(
            "{version} {at}: required is {} in Weir, {} in Flux",
            show(&sorted(&generated["required"])),
            show(&sorted(&reference["required"]))
        ));
    }
    let ref_children: BTreeMap<String, &Value> = children(path, reference).into_iter().collect();
    let gen_children: BTreeMap<String, &Value> = children(path, generated).into_iter().collect();
    for (child_path, r) in &ref_children {
        match gen_children.get(child_path) {
            Some(g) => compare_schema(diffs, version, child_path, r, g),
            None => diffs.push(format!("{version} {child_path}: missing in Weir")),
        }
    }
    for child_path in gen_children.keys().filter(|p| !ref_children.contains_key(*p)) {
        if !DOCUMENTED_EXTRAS.iter().any(|(p, _)| p == child_path) {
            diffs.push(format!("{version} {child_path}: not in Flux's schema"));
        }
    }
}

fn compare_at(diffs: &mut Vec<String>, at: &str, reference: &Value, generated: &Value) {
    if !same_value(reference, generated) {
        diffs.push(format!("{at} is {} in Weir, {} in Flux", show(generated), show(reference)));
    }
}

/// Numbers compare by value, so that `0` and `0.0` are the same bound.
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_value(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_value(v, w)))
        }
        _ => a == b,
    }
}

fn sorted(v: &Value) -> Value {
    match v.as_array() {
        Some(items) => {
            let mut items = items.clone();
            items.sort_by_key(|i| i.to_string());
            Value::Array(items)
        }
        None => Value::Null,
    }
}

/// Printer columns without their descriptions, which are free text.
fn printer_columns(v: &Value) -> Value {
    let cols = v.as_array().into_iter().flatten().map(|c| {
        let mut c = c.clone();
        if let Some(o) = c.as_object_mut() {
            o.remove("description");
        }
        c
    });
    Value::Array(cols.collect())
}

fn show(v: &Value) -> String {
    if v.is_null() { "absent".to_string() } else { v.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn crd(schema: Value) -> Value {
        json!({
            "metadata": {"name": "things.example.io"},
            "spec": {"group": "example.io", "scope": "Namespaced",
                     "names": {"kind": "Thing", "plural": "things", "singular": "thing"},
                     "versions": [{"name": "v1", "served": true, "storage": true,
                                   "schema": {"openAPIV3Schema": schema}}]}
        })
    }

    #[test]
    fn identical_schemas_have_no_differences() {
        let s = json!({"type": "object", "properties": {"spec": {"type": "object", "required": ["a"],
            "properties": {"a": {"type": "string", "enum": ["x", "y"]}, "n": {"type": "integer", "minimum": 0}}}}});
        let mut other = s.clone();
        other["properties"]["spec"]["properties"]["n"]["minimum"] = json!(0.0);
        other["properties"]["spec"]["properties"]["a"]["enum"] = json!(["y", "x"]);
        other["properties"]["spec"]["description"] = json!("ours");
        assert_eq!(compare(&crd(s), &crd(other)), Vec::<String>::new());
    }

    #[test]
    fn reports_missing_fields_types_enums_and_required() {
        let reference = json!({"type": "object", "properties": {"spec": {"type": "object", "required": ["a"],
            "properties": {"a": {"type": "string", "enum": ["x", "y"]}, "b": {"type": "integer"},
                           "c": {"type": "array", "items": {"type": "string", "pattern": "^a$"}}}}}});
        let generated = json!({"type": "object", "properties": {"spec": {"type": "object",
            "properties": {"a": {"type": "string", "enum": ["x"]}, "c": {"type": "array", "items": {"type": "string"}},
                           "d": {"type": "boolean"}}}}});
        let diffs = compare(&crd(reference), &crd(generated));
        let text = diffs.join("\n");
        assert!(text.contains("v1 spec: required is absent in Weir, [\"a\"] in Flux"), "{text}");
        assert!(text.contains("v1 spec.a: enum"), "{text}");
        assert!(text.contains("v1 spec.b: missing in Weir"), "{text}");
        assert!(text.contains("v1 spec.c[]: pattern is absent in Weir"), "{text}");
        assert!(text.contains("v1 spec.d: not in Flux's schema"), "{text}");
        assert_eq!(diffs.len(), 5, "{text}");
    }

    #[test]
    fn lists_every_path() {
        let s = json!({"properties": {"spec": {"properties": {"l": {"items": {"properties": {"x": {}}}},
            "m": {"additionalProperties": {"type": "string"}}}}}});
        let paths: Vec<String> = schema_paths(&s).into_iter().collect();
        assert_eq!(paths, vec!["", "spec", "spec.l", "spec.l[]", "spec.l[].x", "spec.m", "spec.m{}"]);
    }
}
