//! Schema fragments that serde types cannot express by themselves, used with
//! `#[schemars(schema_with = "...")]` so the generated CRDs match Flux's schemas field by field.

use schemars::{Schema, SchemaGenerator, json_schema};

/// An RFC 3339 timestamp (`metav1.Time`).
pub fn date_time(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "string", "format": "date-time" })
}

/// Arbitrary JSON kept as is (`apiextensionsv1.JSON`), such as HelmRelease values.
pub fn preserve_unknown_fields(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "x-kubernetes-preserve-unknown-fields": true })
}

/// An integer without a `format`, as Go's `int` renders (`maxHistory`, `retries`); Rust's `i64`
/// would add `format: int64`.
pub fn integer(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "integer" })
}

/// A map of string to string (labels, annotations, metadata).
pub fn string_map(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "object", "additionalProperties": { "type": "string" } })
}

/// A schema transform that lists `field` as required even though serde fills it in when absent:
/// for fields the server defaults before it checks required fields.
pub fn require(field: &'static str) -> impl Fn(&mut Schema) {
    move |schema: &mut Schema| {
        if let Some(obj) = schema.as_object_mut() {
            let required = obj.entry("required").or_insert_with(|| serde_json::Value::Array(Vec::new()));
            if let Some(list) = required.as_array_mut()
                && !list.iter().any(|r| r == field)
            {
                list.push(field.into());
            }
        }
    }
}
