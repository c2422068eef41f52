//! Invalid variants of a valid object, derived from its CRD schema: for every field the object
//! sets, a wrong type, a value outside the enum, a string that breaks the pattern or a length or
//! numeric bound, and the removal of each required field.

use serde_json::{Value, json};

/// One invalid variant of an object.
pub struct Mutation {
    /// What was broken, e.g. `spec.interval: breaks pattern`.
    pub description: String,
    pub object: Value,
}

/// Every invalid variant of `object` that its schema makes checkable, walking from `root_path`
/// (such as `spec`) down. `schema` is the schema of the object's root.
pub fn generate(schema: &Value, object: &Value, root_path: &str) -> Vec<Mutation> {
    let mut out = Vec::new();
    let pointer = format!("/{root_path}");
    if let (Some(sub_schema), Some(value)) = (schema["properties"].get(root_path), object.pointer(&pointer)) {
        walk(&mut out, object, sub_schema, value, root_path, &pointer);
    }
    out
}

fn walk(out: &mut Vec<Mutation>, root: &Value, schema: &Value, value: &Value, path: &str, pointer: &str) {
    if schema["x-kubernetes-preserve-unknown-fields"] == json!(true)
        || schema["x-kubernetes-int-or-string"] == json!(true)
    {
        return;
    }
    let mut push = |what: &str, replacement: Option<Value>| {
        let mut object = root.clone();
        let applied = match replacement {
            Some(new) => object.pointer_mut(pointer).map(|slot| *slot = new).is_some(),
            None => remove(&mut object, pointer),
        };
        if applied {
            out.push(Mutation { description: format!("{path}: {what}"), object });
        }
    };

    if let Some(wrong) = wrong_type(schema["type"].as_str()) {
        push("wrong type", Some(wrong));
    }
    if schema["enum"].is_array() {
        push("value outside the enum", Some(json!("NotAnAllowedValue")));
    }
    if let (Some(pattern), Some(_)) = (schema["pattern"].as_str(), value.as_str())
        && let Some(bad) = string_breaking(pattern)
    {
        push("breaks the pattern", Some(json!(bad)));
    }
    if let Some(max) = schema["maxLength"].as_u64() {
        push("longer than maxLength", Some(json!("a".repeat(max as usize + 1))));
    }
    if schema["minLength"].as_u64().is_some_and(|m| m > 0) {
        push("shorter than minLength", Some(json!("")));
    }
    if let Some(min) = schema["minimum"].as_f64() {
        push("below minimum", Some(json!(min as i64 - 1)));
    }
    if let Some(max) = schema["maximum"].as_f64() {
        push("above maximum", Some(json!(max as i64 + 1)));
    }
    if let Some(min) = schema["minItems"].as_u64().filter(|m| *m > 0) {
        let _ = min;
        push("fewer items than minItems", Some(json!([])));
    }
    for required in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        // The server fills in a default before it checks required fields: removing such a field
        // leaves a valid object.
        let has_default = !schema["properties"][required]["default"].is_null();
        if value.get(required).is_some() && !has_default {
            let mut object = root.clone();
            if remove(&mut object, &format!("{pointer}/{}", escape(required))) {
                out.push(Mutation { description: format!("{path}.{required}: required field removed"), object });
            }
        }
    }

    if let (Some(props), Some(fields)) = (schema["properties"].as_object(), value.as_object()) {
        for (name, child_schema) in props {
            if let Some(child) = fields.get(name) {
                walk(out, root, child_schema, child, &format!("{path}.{name}"), &format!("{pointer}/{}", escape(name)));
            }
        }
    }
    if let (Some(first), true) = (value.as_array().and_then(|a| a.first()), schema["items"].is_object()) {
        walk(out, root, &schema["items"], first, &format!("{path}[0]"), &format!("{pointer}/0"));
    }
    if let (Some((key, child)), true) =
        (value.as_object().and_then(|m| m.iter().next()), schema["additionalProperties"].is_object())
    {
        walk(
            out,
            root,
            &schema["additionalProperties"],
            child,
            &format!("{path}.{key}"),
            &format!("{pointer}/{}", escape(key)),
        );
    }
}

fn wrong_type(ty: Option<&str>) -> Option<Value> {
    match ty? {
        "string" => Some(json!(7)),
        "integer" | "number" => Some(json!("seven")),
        "boolean" => Some(json!("maybe")),
        "array" => Some(json!("not-a-list")),
        "object" => Some(json!("not-an-object")),
        _ => None,
    }
}

/// A string the pattern rejects, so the mutation tests the pattern and nothing else about it.
fn string_breaking(pattern: &str) -> Option<&'static str> {
    let re = regex::Regex::new(pattern).ok()?;
    ["", " ", "!", "not valid!", "-x-", "UPPER_case", "0", "/", "a b", "::"].into_iter().find(|c| !re.is_match(c))
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn remove(object: &mut Value, pointer: &str) -> bool {
    let Some((parent, last)) = pointer.rsplit_once('/') else { return false };
    let key = last.replace("~1", "/").replace("~0", "~");
    match object.pointer_mut(parent) {
        Some(Value::Object(map)) => map.remove(&key).is_some(),
        Some(Value::Array(items)) => {
            key.parse::<usize>().ok().filter(|i| *i < items.len()).map(|i| items.remove(i)).is_some()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_one_mutation_per_checkable_rule() {
        let schema = json!({"properties": {"spec": {"type": "object", "required": ["url"], "properties": {
            "url": {"type": "string", "pattern": "^https?://"},
            "mode": {"type": "string", "enum": ["A", "B"]},
            "n": {"type": "integer", "minimum": 0},
            "free": {"x-kubernetes-preserve-unknown-fields": true}
        }}}});
        let object = json!({"spec": {"url": "https://x", "mode": "A", "n": 1, "free": {"a": 1}}});
        let descriptions: Vec<String> = generate(&schema, &object, "spec").into_iter().map(|m| m.description).collect();
        assert_eq!(
            descriptions,
            [
                "spec: wrong type",
                "spec.url: required field removed",
                "spec.mode: wrong type",
                "spec.mode: value outside the enum",
                "spec.n: wrong type",
                "spec.n: below minimum",
                "spec.url: wrong type",
                "spec.url: breaks the pattern",
            ]
        );
    }

    #[test]
    fn removal_and_replacement_touch_only_their_field() {
        let schema = json!({"properties": {"spec": {"type": "object", "required": ["a"], "properties": {
            "a": {"type": "string"}, "b": {"type": "string"}}}}});
        let object = json!({"spec": {"a": "x", "b": "y"}});
        let m = generate(&schema, &object, "spec");
        let removed = m.iter().find(|m| m.description == "spec.a: required field removed").unwrap();
        assert_eq!(removed.object, json!({"spec": {"b": "y"}}));
    }

    #[test]
    fn required_fields_the_server_defaults_are_not_removed() {
        let schema = json!({"properties": {"spec": {"type": "object", "required": ["p", "q"], "properties": {
            "p": {"type": "string", "default": "cosign"}, "q": {"type": "string"}}}}});
        let object = json!({"spec": {"p": "cosign", "q": "x"}});
        let removed: Vec<String> = generate(&schema, &object, "spec")
            .into_iter()
            .map(|m| m.description)
            .filter(|d| d.ends_with("required field removed"))
            .collect();
        assert_eq!(removed, ["spec.q: required field removed"]);
    }
}
