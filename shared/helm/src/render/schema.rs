//! `values.schema.json` validation as Helm does it (`chartutil.ValidateAgainstSchema`): each
//! chart's schema checks that chart's coalesced values (a subchart's: its section, globals
//! included), errors listed per chart in gojsonschema's wording, under Helm's heading.
//! Schemas without `$schema` are read as JSON Schema draft 7; remote `$ref`s are not
//! fetched.

use crate::chart::Chart;
use crate::template::{Map, Value};

/// Helm's heading for schema errors.
pub const SCHEMA_ERROR_HEADING: &str =
    "values don't meet the specifications of the schema(s) in the following chart(s)";

/// Checks `values` (the chart's coalesced values) against the chart's schema and its
/// subcharts' schemas; the error is Helm's full message.
pub fn validate(chart: &Chart, values: &Map) -> Result<(), String> {
    let mut report = String::new();
    validate_chart(chart, values, &mut report);
    if report.is_empty() { Ok(()) } else { Err(format!("{SCHEMA_ERROR_HEADING}:\n{report}")) }
}

fn validate_chart(chart: &Chart, values: &Map, report: &mut String) {
    if let Some(schema) = &chart.schema {
        let errors = validate_single(schema, values);
        if !errors.is_empty() {
            report.push_str(&format!("{}:\n", chart.name()));
            for e in errors {
                report.push_str(&format!("- {e}\n"));
            }
        }
    }
    for sub in &chart.dependencies {
        let sub_values = match values.get(sub.name()) {
            Some(Value::Map(m)) => m.snapshot(),
            _ => Map::new(),
        };
        validate_chart(sub, &sub_values, report);
    }
}

/// The errors of one schema, one line each, as gojsonschema words them.
fn validate_single(schema: &[u8], values: &Map) -> Vec<String> {
    match serde_json::from_slice::<serde_json::Value>(schema) {
        Ok(s) => errors_of(&s, values),
        Err(e) => vec![format!("(root): values.schema.json is not valid JSON: {e}")],
    }
}

fn errors_of(schema: &serde_json::Value, values: &Map) -> Vec<String> {
    let validator = match jsonschema::options().with_draft(draft_of(schema)).build(schema) {
        Ok(v) => v,
        Err(e) => return vec![format!("(root): values.schema.json is not a usable schema: {e}")],
    };
    let instance = serde_json::to_value(Value::map(values.clone())).unwrap_or(serde_json::Value::Null);
    validator.iter_errors(&instance).map(|e| describe(&e)).collect()
}

/// The draft a schema declares; draft 7 when it declares none (gojsonschema's default is
/// to accept draft 4 to 7 keywords alike).
fn draft_of(schema: &serde_json::Value) -> jsonschema::Draft {
    let declared = schema.get("$schema").and_then(serde_json::Value::as_str).unwrap_or("");
    if declared.contains("draft-04") {
        jsonschema::Draft::Draft4
    } else if declared.contains("draft-06") {
        jsonschema::Draft::Draft6
    } else if declared.contains("2019-09") {
        jsonschema::Draft::Draft201909
    } else if declared.contains("2020-12") {
        jsonschema::Draft::Draft202012
    } else {
        jsonschema::Draft::Draft7
    }
}

/// gojsonschema's field name for a JSON pointer: `a.0.b`, or `(root)`.
fn field(pointer: &str) -> String {
    let parts: Vec<String> = pointer.split('/').skip(1).map(|p| p.replace("~1", "/").replace("~0", "~")).collect();
    if parts.is_empty() { "(root)".into() } else { parts.join(".") }
}

/// gojsonschema's name for a JSON value's type.
fn given(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(n) if n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0) => {
            "integer"
        }
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

fn describe(e: &jsonschema::ValidationError<'_>) -> String {
    use jsonschema::error::{TypeKind, ValidationErrorKind as K};
    let at = field(e.instance_path().as_str());
    let msg = match e.kind() {
        K::Type { kind } => {
            let expected = match kind {
                TypeKind::Single(t) => t.to_string(),
                TypeKind::Multiple(set) => set.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", "),
            };
            format!("Invalid type. Expected: {expected}, given: {}", given(e.instance()))
        }
        K::Required { property } => format!("{} is required", property.as_str().unwrap_or_default()),
        K::Enum { options } => {
            let allowed: Vec<String> =
                options.as_array().map(|a| a.iter().map(|o| o.to_string()).collect()).unwrap_or_default();
            format!("{} must be one of the following: {}", at, allowed.join(", "))
        }
        K::Minimum { limit } => format!("Must be greater than or equal to {limit}"),
        K::Maximum { limit } => format!("Must be less than or equal to {limit}"),
        K::ExclusiveMinimum { limit } => format!("Must be greater than {limit}"),
        K::ExclusiveMaximum { limit } => format!("Must be less than {limit}"),
        K::MinLength { limit } => format!("String length must be greater than or equal to {limit}"),
        K::MaxLength { limit } => format!("String length must be less than or equal to {limit}"),
        K::MinItems { limit } => format!("Array must have at least {limit} items"),
        K::MaxItems { limit } => format!("Array must have at most {limit} items"),
        K::Pattern { pattern } => format!("Does not match pattern '{pattern}'"),
        K::Format { format } => format!("Does not match format '{format}'"),
        K::AdditionalProperties { unexpected } => {
            return unexpected
                .iter()
                .map(|p| format!("{at}: Additional property {p} is not allowed"))
                .collect::<Vec<_>>()
                .join("\n- ");
        }
        K::Constant { expected_value } => format!("{at} does not match: {expected_value}"),
        K::FalseSchema => "False always fails validation".into(),
        K::OneOfNotValid { .. } | K::OneOfMultipleValid { .. } => {
            "Must validate one and only one schema (oneOf)".into()
        }
        K::AnyOf { .. } => "Must validate at least one schema (anyOf)".into(),
        K::Not { .. } => "Must not validate the schema (not)".into(),
        K::UniqueItems => "array items must be unique".into(),
        _ => e.to_string(),
    };
    format!("{at}: {msg}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(schema: &str, values: serde_json::Value) -> Vec<String> {
        let Value::Map(m) = Value::from_json(&values) else { panic!("map") };
        validate_single(schema.as_bytes(), &m.snapshot())
    }

    #[test]
    fn messages_follow_gojsonschema() {
        let schema = r#"{"type": "object", "required": ["image"], "properties": {
            "replicas": {"type": "integer", "minimum": 1},
            "mode": {"enum": ["a", "b"]},
            "svc": {"type": "object", "additionalProperties": false, "properties": {"port": {"type": "integer"}}}
        }}"#;
        let errs = check(schema, serde_json::json!({"replicas": 0, "mode": "c", "svc": {"port": "80", "x": 1}}));
        assert!(errs.contains(&"(root): image is required".to_string()), "{errs:?}");
        assert!(errs.contains(&"replicas: Must be greater than or equal to 1".to_string()), "{errs:?}");
        assert!(errs.contains(&r#"mode: mode must be one of the following: "a", "b""#.to_string()), "{errs:?}");
        assert!(errs.contains(&"svc.port: Invalid type. Expected: integer, given: string".to_string()), "{errs:?}");
        assert!(errs.contains(&"svc: Additional property x is not allowed".to_string()), "{errs:?}");
        assert!(check(schema, serde_json::json!({"image": "x", "replicas": 2.0})).is_empty());
    }
}
