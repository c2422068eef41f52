//! Patches: strategic merge (with Kubernetes' merge keys and strategies) and JSON 6902, applied
//! as kustomize v5.5 applies them.
//!
//! - [`parse_patch`] reads the text of an inline or file patch and tells the two kinds apart the
//!   way kustomize does: a list of operations is a JSON 6902 patch, one or more mappings (a
//!   multi-document file) are strategic merge patches.
//! - [`strategic_merge`] applies one strategic merge patch to one resource. The merge keys come
//!   from the resource's `apiVersion`/`kind` (see `schema.rs`); kinds without a known schema
//!   (custom resources) have their lists replaced. A patch whose top level is `$patch: delete`
//!   deletes the resource: the target is set to `Value::Null`, and the caller drops it.
//! - [`json6902`] applies a list of RFC 6902 operations to one resource.
//!
//! What stays with the caller (kustomize's patch transformer): choosing the target resources
//! (by the patch's own id, or by `target` selector, in which case the patch's `metadata.name`
//! is ignored), restoring the target's `metadata.name`, `metadata.namespace` and `kind` after a
//! strategic merge (unless `options.allowNameChange`/`allowKindChange`), and dropping an
//! `metadata.annotations` mapping left empty (kustomize never prints an empty one).

mod error;
mod json6902;
mod schema;
mod strategic;

use serde_json::Value;

pub use error::PatchError;
pub use schema::CustomSchema;

/// A parsed patch, with its kind as kustomize detects it.
#[derive(Debug, Clone, PartialEq)]
pub enum Patch {
    /// One or more strategic merge patches (a multi-document file gives several), each a
    /// mapping naming the resource it patches.
    StrategicMerge(Vec<Value>),
    /// A JSON 6902 patch: the list of operations.
    Json6902(Value),
}

/// Applies a strategic merge patch to one resource (apiVersion/kind of the target decide merge
/// keys). A patch whose top level carries `$patch: delete` deletes the resource: `target` is
/// then `Value::Null` and the caller must drop the resource.
pub fn strategic_merge(target: &mut Value, patch: &Value) -> Result<(), PatchError> {
    strategic::apply(target, patch, None)
}

/// [`strategic_merge`] with the merge keys of a custom schema (`openapi: {path: …}`), which
/// replaces the built-in one.
pub fn strategic_merge_with_schema(
    target: &mut Value,
    patch: &Value,
    schema: Option<&CustomSchema>,
) -> Result<(), PatchError> {
    strategic::apply(target, patch, schema)
}

/// Applies JSON 6902 operations (add, remove, replace, move, copy, test) to one resource. On
/// error the target may be partly patched (operations before the failing one are applied).
pub fn json6902(target: &mut Value, operations: &Value) -> Result<(), PatchError> {
    json6902::apply(target, operations)
}

/// The YAML options a strategic merge patch is read with: those of resources (kustomize reads
/// both with yaml.v3), so `on: yes` stays a string while `0755` is 493 and `1_000` is 1000.
fn smp_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        strict_booleans: true,
        legacy_octal_numbers: true,
    }
}

/// The options a JSON 6902 patch is read with: kustomize converts it to JSON with Go's yaml.v2,
/// a YAML 1.1 parser, so `yes`, `on` and `y` are booleans there and `0644` is octal.
fn json6902_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        strict_booleans: false,
        legacy_octal_numbers: true,
    }
}

/// Parses the text of an inline or file patch and says which kind it is, as kustomize detects
/// it: a YAML/JSON list of operations is JSON 6902, one mapping or several YAML documents of
/// mappings are strategic merge patches. A `List` document stands for its items.
pub fn parse_patch(text: &str) -> Result<Patch, PatchError> {
    let docs: Vec<Value> =
        serde_saphyr::from_multiple_with_options(text, smp_options()).map_err(|e| PatchError::Parse(e.to_string()))?;
    let docs: Vec<Value> = docs.into_iter().filter(|d| !d.is_null()).collect();
    let Some(first) = docs.first() else {
        return Err(PatchError::Empty);
    };
    if first.is_array() {
        if docs.len() > 1 {
            return Err(PatchError::Invalid(
                "a JSON 6902 patch must be a single list of operations, not several documents".to_owned(),
            ));
        }
        return parse_json6902(text).map(Patch::Json6902);
    }
    let mut patches = Vec::with_capacity(docs.len());
    for (i, doc) in docs.into_iter().enumerate() {
        if !doc.is_object() {
            return Err(PatchError::Invalid(format!(
                "document {} of the patch is neither a mapping (strategic merge) nor a list of operations (JSON 6902)",
                i + 1
            )));
        }
        match list_items(doc) {
            Ok(items) => patches.extend(items.into_iter().filter(Value::is_object)),
            Err(doc) => patches.push(doc),
        }
    }
    Ok(Patch::StrategicMerge(patches))
}

/// Parses a JSON 6902 patch (a list of operations) with yaml.v2's scalar rules; numbers that
/// are whole become integers, as they do on the way through JSON in Go.
pub fn parse_json6902(text: &str) -> Result<Value, PatchError> {
    let mut ops: Value =
        serde_saphyr::from_str_with_options(text, json6902_options()).map_err(|e| PatchError::Parse(e.to_string()))?;
    whole_floats_to_integers(&mut ops);
    validate_operations(&ops)?;
    Ok(ops)
}

/// The items of a `List` document (`kind: List` or `…List` with an `items` list), or the document.
fn list_items(doc: Value) -> Result<Vec<Value>, Value> {
    let is_list = doc.get("kind").and_then(Value::as_str).is_some_and(|k| k.ends_with("List"))
        && doc.get("items").is_some_and(Value::is_array);
    match doc {
        Value::Object(mut map) if is_list => match map.remove("items") {
            Some(Value::Array(items)) => Ok(items),
            _ => Err(Value::Object(map)),
        },
        other => Err(other),
    }
}

fn whole_floats_to_integers(value: &mut Value) {
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && f.abs() < 9.0e15
            {
                *value = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_floats_to_integers),
        Value::Object(map) => map.values_mut().for_each(whole_floats_to_integers),
        _ => {}
    }
}

/// Checks that every element of a JSON 6902 patch is a mapping with an `op` and a `path`, so
/// that a malformed patch is reported when it is read rather than when it is applied.
fn validate_operations(ops: &Value) -> Result<(), PatchError> {
    let Value::Array(items) = ops else {
        return Err(PatchError::Invalid("a JSON 6902 patch must be a list of operations".to_owned()));
    };
    for (index, op) in items.iter().enumerate() {
        let Value::Object(map) = op else {
            return Err(PatchError::InvalidOperation { index, reason: "an operation must be a mapping".to_owned() });
        };
        for key in ["op", "path"] {
            if !map.get(key).is_some_and(Value::is_string) {
                return Err(PatchError::InvalidOperation { index, reason: format!("missing or non-string `{key}`") });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn detects_json6902_in_yaml_and_json() {
        let p = parse_patch("- op: add\n  path: /a\n  value: 1\n").unwrap();
        assert_eq!(p, Patch::Json6902(json!([{"op": "add", "path": "/a", "value": 1}])));
        let p = parse_patch(r#"[{"op": "remove", "path": "/a"}]"#).unwrap();
        assert!(matches!(p, Patch::Json6902(_)));
    }

    #[test]
    fn detects_multi_document_smp() {
        let p = parse_patch("kind: A\nmetadata: {name: a}\n---\nkind: B\nmetadata: {name: b}\n").unwrap();
        let Patch::StrategicMerge(docs) = p else { panic!("not SMP") };
        assert_eq!(docs.len(), 2);
    }

    #[test]
    fn smp_scalars_follow_yaml_v3() {
        let Patch::StrategicMerge(docs) =
            parse_patch("data:\n  on: yes\n  mode: 0755\n  n: 1_000\n  t: true\n  q: \"0755\"\n").unwrap()
        else {
            panic!("not SMP")
        };
        assert_eq!(docs[0]["data"], json!({"on": "yes", "mode": 493, "n": 1000, "t": true, "q": "0755"}));
    }

    #[test]
    fn json6902_scalars_follow_yaml_v2() {
        let text = "- {op: add, path: /a, value: yes}\n- {op: add, path: /b, value: 0644}\n- {op: add, path: /c, value: 1e3}\n";
        let Patch::Json6902(ops) = parse_patch(text).unwrap() else { panic!("not 6902") };
        let values: Vec<&Value> = ops.as_array().unwrap().iter().map(|o| &o["value"]).collect();
        assert_eq!(values, [&json!(true), &json!(420), &json!(1000)]);
    }

    #[test]
    fn list_documents_stand_for_their_items() {
        let text =
            "apiVersion: v1\nkind: List\nitems:\n- kind: A\n  metadata: {name: a}\n- kind: B\n  metadata: {name: b}\n";
        let Patch::StrategicMerge(docs) = parse_patch(text).unwrap() else { panic!("not SMP") };
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1]["kind"], "B");
    }

    #[test]
    fn rejects_empty_and_scalars() {
        assert_eq!(parse_patch("").unwrap_err(), PatchError::Empty);
        assert!(matches!(parse_patch("just a string").unwrap_err(), PatchError::Invalid(_)));
        assert!(matches!(parse_patch("- 1\n").unwrap_err(), PatchError::InvalidOperation { .. }));
        assert!(matches!(parse_patch("a: [").unwrap_err(), PatchError::Parse(_)));
    }
}
