//! YAML in and out. Reading uses serde-saphyr set up to resolve plain scalars the way kustomize
//! (Go's yaml.v3) does, checked against `kubectl kustomize` in the corpus (`scalars`): only
//! `true`/`false` are booleans (`yes`, `on` stay strings), while `0755` is the octal number 493 and
//! `1_000` is 1000, because yaml.v3 parses integers with Go's base-prefix rules.
//!
//! Documents are `serde_json::Value`s with sorted keys (serde_json without `preserve_order`):
//! kustomize keeps the input key order, but key order carries no meaning in Kubernetes objects,
//! the rest of the workspace shares one serde_json build, and the corpus compares parsed documents.

use serde_json::Value;

/// Parser options. The budget is raised above serde-saphyr's defaults (1024 documents, 250k
/// nodes) because one rendered manifest file can hold thousands of objects; alias-bomb limits
/// stay as they are.
fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        strict_booleans: true,
        legacy_octal_numbers: true,
        budget: serde_saphyr::budget! {
            max_documents: 1_000_000,
            max_nodes: 50_000_000,
            max_events: 200_000_000,
            max_total_scalar_bytes: 1024 * 1024 * 1024,
        },
    }
}

/// Parses every non-empty document of a YAML stream; `List` documents are expanded to their items
/// the way kustomize reads them.
pub fn parse_documents(text: &str) -> Result<Vec<Value>, String> {
    let docs: Vec<Value> = serde_saphyr::from_multiple_with_options(text, options()).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for doc in docs {
        match doc {
            Value::Null => {}
            Value::Object(ref map) if is_list(map) => {
                if let Some(Value::Array(items)) = map.get("items") {
                    out.extend(items.iter().filter(|i| !i.is_null()).cloned());
                }
            }
            Value::Object(_) => out.push(doc),
            other => return Err(format!("a document is not a mapping: {other}")),
        }
    }
    Ok(out)
}

/// Parses a single mapping document (a kustomization file, a generator env source).
pub fn parse_one(text: &str) -> Result<Value, String> {
    let mut docs = parse_documents(text)?;
    match docs.len() {
        0 => Ok(Value::Object(serde_json::Map::new())),
        1 => Ok(docs.remove(0)),
        n => Err(format!("expected one document, found {n}")),
    }
}

fn is_list(map: &serde_json::Map<String, Value>) -> bool {
    map.get("kind").and_then(Value::as_str).is_some_and(|k| k == "List" || k.ends_with("List"))
        && map.get("items").is_some_and(Value::is_array)
}

/// Writes objects as a multi-document YAML stream, separated by `---` like `kustomize build`.
pub fn to_yaml(objects: &[Value]) -> String {
    let mut out = String::new();
    for (i, obj) in objects.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        match serde_saphyr::to_string(obj) {
            Ok(text) => out.push_str(&text),
            // A serde_json::Value always serialises; keep the stream well formed regardless.
            Err(e) => out.push_str(&format!("# unserialisable object: {e}\n")),
        }
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// Parses one document of any shape (a JSON 6902 operation list, for instance).
pub fn parse_value(text: &str) -> Result<Value, String> {
    let options = serde_saphyr::options! {
        strict_booleans: true,
        legacy_octal_numbers: true,
    };
    serde_saphyr::from_str_with_options(text, options).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars_follow_kubernetes_rules() {
        let docs = parse_documents("a: yes\nb: 0755\nc: 1_000\nd: true\ne: 12\ng: \"0755\"\n---\n---\nf: 1\n").unwrap();
        assert_eq!(
            docs,
            vec![json!({"a": "yes", "b": 493, "c": 1000, "d": true, "e": 12, "g": "0755"}), json!({"f": 1})]
        );
    }

    #[test]
    fn lists_are_expanded() {
        let docs = parse_documents("apiVersion: v1\nkind: List\nitems:\n- kind: A\n- kind: B\n").unwrap();
        assert_eq!(docs.len(), 2);
    }

    #[test]
    fn round_trip() {
        let objs = vec![json!({"kind": "A", "data": {"x": "multi\nline\n"}}), json!({"kind": "B"})];
        let text = to_yaml(&objs);
        assert_eq!(parse_documents(&text).unwrap(), objs);
    }
}
