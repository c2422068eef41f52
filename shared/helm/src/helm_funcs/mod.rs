//! Helm's own template functions, added on top of sprig as Helm's engine does (`funcMap`
//! plus the per-render `include`, `tpl`, `required` and `lookup`).
//!
//! ```
//! use weir_helm::{helm_funcs::helm_funcs, template::{Template, Value}};
//! let mut t = Template::new("t").funcs(helm_funcs());
//! t.parse(r#"{{ dict "b" 1 "a" (list "x") | toYaml }}"#).unwrap();
//! assert_eq!(t.execute(&Value::Nil).unwrap(), "a:\n- x\nb: 1");
//! ```
//!
//! # Not supported (yet)
//! - `fromYaml`/`fromJson` put serde-saphyr's or serde_json's error text in `Error`
//!   (Helm: go-yaml's and encoding/json's wording); type-mismatch errors are Go's wording.
//! - `toToml` writes maps, scalars and inline arrays only (no arrays of tables; dates are
//!   strings); nil values are left out as BurntSushi/toml does.
//! - `lookup` is offline unless a [`Lookup`] is given ([`helm_funcs_with_lookup`]).
//! - `include` stops at the engine's template depth rather than Helm's per-name count of
//!   1000 nested references, with Helm's message.

mod json;
mod lookup;
mod toml;
mod yaml;

use std::sync::Arc;

pub use json::to_json;
pub use lookup::{Lookup, Offline};
pub use toml::to_toml;
pub use yaml::to_yaml;

use crate::sprig::sprig_funcs;
use crate::template::{Arity, FuncError, FuncMap, Function, Map, Param, Value};

/// Where `required` puts its message so the renderer can report it as Helm does
/// (`execution error at (chart/templates/x.yaml:3:4): message`).
pub const WARN_START: &str = "HELM_ERR_START";
pub const WARN_END: &str = "HELM_ERR_END";

/// How many times one template may include itself (Helm's `recursionMaxNums`).
const MAX_INCLUDE_DEPTH: usize = 1000;

/// sprig and Helm's functions, with `lookup` offline.
pub fn helm_funcs() -> FuncMap {
    helm_funcs_with_lookup(Arc::new(Offline))
}

/// sprig and Helm's functions, `lookup` answered by `lookup`.
pub fn helm_funcs_with_lookup(lookup: Arc<dyn Lookup>) -> FuncMap {
    let mut m = sprig_funcs();
    m.remove("env");
    m.remove("expandenv");
    let mut add = |name: &str, arity: Arity, f: fn(&[Value]) -> Result<Value, FuncError>| {
        m.insert(name.to_string(), Function::new(arity, f));
    };
    add("toYaml", Arity::Exact(1), |a| Ok(Value::String(helm_to_yaml(&a[0]))));
    add("fromYaml", Arity::Exact(1), |a| Ok(from_yaml(&text(&a[0]))));
    add("fromYamlArray", Arity::Exact(1), |a| Ok(from_yaml_array(&text(&a[0]))));
    add("toJson", Arity::Exact(1), |a| Ok(Value::String(to_json(&a[0]))));
    add("fromJson", Arity::Exact(1), |a| Ok(from_json(&text(&a[0]), false)));
    add("fromJsonArray", Arity::Exact(1), |a| Ok(from_json(&text(&a[0]), true)));
    add("toToml", Arity::Exact(1), |a| Ok(Value::String(to_toml(&a[0]).unwrap_or_else(|e| e))));
    m.insert("required".into(), Function::new(Arity::Exact(2), required).with_params(&[Param::String, Param::Any]));
    m.insert(
        "include".into(),
        Function::with_context(Arity::Exact(2), include).with_params(&[Param::String, Param::Any]),
    );
    m.insert("tpl".into(), Function::with_context(Arity::Exact(2), tpl).with_params(&[Param::String, Param::Any]));
    m.insert(
        "lookup".into(),
        Function::new(Arity::Exact(4), move |a| {
            let s: Vec<String> = a.iter().map(text).collect();
            lookup.lookup(&s[0], &s[1], &s[2], &s[3]).map_err(FuncError::call)
        })
        .with_params(&[Param::String, Param::String, Param::String, Param::String]),
    );
    m
}

/// Helm's `toYaml`: the YAML with one trailing newline removed.
pub fn helm_to_yaml(v: &Value) -> String {
    let y = to_yaml(v);
    y.strip_suffix('\n').map(str::to_string).unwrap_or(y)
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Nil => String::new(),
        v => v.to_string(),
    }
}

fn required(a: &[Value]) -> Result<Value, FuncError> {
    match &a[1] {
        Value::Nil => Err(FuncError::call(format!("{WARN_START}{}{WARN_END}", text(&a[0])))),
        Value::String(s) if s.is_empty() => Err(FuncError::call(format!("{WARN_START}{}{WARN_END}", text(&a[0])))),
        v => Ok(v.clone()),
    }
}

fn include(ctx: &mut crate::template::Context<'_>, a: &[Value]) -> Result<Value, FuncError> {
    let name = text(&a[0]);
    if ctx.depth() > MAX_INCLUDE_DEPTH {
        return Err(FuncError::call(format!(
            "rendering template has a nested reference name: {name}: unable to execute template"
        )));
    }
    ctx.execute_template(&name, &a[1]).map(Value::String).map_err(FuncError::from)
}

fn tpl(ctx: &mut crate::template::Context<'_>, a: &[Value]) -> Result<Value, FuncError> {
    let source = text(&a[0]);
    let mut set = ctx.template().clone();
    let name = set.name().to_string();
    set.parse_named(&name, &source).map_err(|e| {
        FuncError::call(format!("cannot parse template {}: {e}", crate::template::quote(&source, false)))
    })?;
    let out = ctx.execute_in(&set, &name, &a[1]).map_err(|e| {
        FuncError::call(format!(
            "error during tpl function execution for {}: {e}",
            crate::template::quote(&source, false)
        ))
    })?;
    Ok(Value::String(out.replace("<no value>", "")))
}

/// Helm's `fromYaml`: a map, or a map with the key `Error` when the text is not one.
pub fn from_yaml(s: &str) -> Value {
    match parse_yaml(s) {
        Ok(Value::Map(m)) => Value::Map(m),
        Ok(Value::Nil) => Value::map(Map::new()),
        Ok(v) => error_map(format!(
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            json_kind(&v)
        )),
        Err(e) => error_map(e),
    }
}

fn from_yaml_array(s: &str) -> Value {
    match parse_yaml(s) {
        Ok(Value::List(l)) => Value::List(l),
        Ok(Value::Nil) => Value::list(vec![]),
        Ok(v) => Value::list(vec![Value::String(format!(
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type []interface {{}}",
            json_kind(&v)
        ))]),
        Err(e) => Value::list(vec![Value::String(e)]),
    }
}

fn from_json(s: &str, array: bool) -> Value {
    let parsed: Result<serde_json::Value, _> = serde_json::from_str(s);
    match (parsed, array) {
        (Ok(v @ serde_json::Value::Array(_)), true) | (Ok(v @ serde_json::Value::Object(_)), false) => {
            Value::from_json(&v)
        }
        (Ok(serde_json::Value::Null), true) => Value::list(vec![]),
        (Ok(serde_json::Value::Null), false) => Value::map(Map::new()),
        (Ok(v), true) => Value::list(vec![Value::String(format!(
            "json: cannot unmarshal {} into Go value of type []interface {{}}",
            json_kind(&Value::from_json(&v))
        ))]),
        (Ok(v), false) => error_map(format!(
            "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            json_kind(&Value::from_json(&v))
        )),
        (Err(e), true) => Value::list(vec![Value::String(e.to_string())]),
        (Err(e), false) => error_map(e.to_string()),
    }
}

fn error_map(msg: String) -> Value {
    let mut m = Map::new();
    m.insert("Error".into(), Value::String(msg));
    Value::map(m)
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "bool",
        Value::Int(_) | Value::Float(_) => "number",
        Value::String(_) => "string",
        Value::List(_) => "array",
        Value::Map(_) => "object",
        _ => "null",
    }
}

/// Parses one YAML document into a value as Helm reads values (numbers are float64).
pub fn parse_yaml(s: &str) -> Result<Value, String> {
    if s.trim().is_empty() || s.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#')) {
        return Ok(Value::Nil);
    }
    let options = serde_saphyr::options! { strict_booleans: true };
    serde_saphyr::from_str_with_options::<Value>(s, options).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::Template;

    fn run(text: &str, data: serde_json::Value) -> Result<String, String> {
        let mut t = Template::new("t").funcs(helm_funcs());
        t.parse(text).map_err(|e| e.to_string())?;
        t.execute(&Value::from_json(&data)).map_err(|e| e.to_string())
    }

    #[test]
    fn include_and_tpl() {
        let out = run(
            r#"{{define "n"}}x{{.}}{{end}}{{ include "n" 1 | upper }} {{ tpl "{{ .a }}-{{ .b }}" . }}"#,
            serde_json::json!({"a": 2}),
        )
        .unwrap();
        assert_eq!(out, "X1 2-");
    }

    #[test]
    fn required_message() {
        let e = run(r#"{{ required "a is required" .a }}"#, serde_json::json!({})).unwrap_err();
        assert!(
            e.contains("HELM_ERR_STARTa is required HELM_ERR_END")
                || e.contains("HELM_ERR_STARTa is requiredHELM_ERR_END"),
            "{e}"
        );
        assert_eq!(run(r#"{{ required "x" .a }}"#, serde_json::json!({"a": 0})).unwrap(), "0");
    }

    #[test]
    fn yaml_and_json_round_trips() {
        assert_eq!(run(r#"{{ (fromYaml "a: 1\nb: [x]").b | toJson }}"#, serde_json::json!({})).unwrap(), r#"["x"]"#);
        assert_eq!(
            run(r#"{{ (fromYaml "- 1").Error }}"#, serde_json::json!({})).unwrap(),
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go value of type map[string]interface {}"
        );
        assert_eq!(run(r#"{{ fromJsonArray "[1,2]" | len }}"#, serde_json::json!({})).unwrap(), "2");
        assert_eq!(run(r#"{{ lookup "v1" "Pod" "ns" "x" | len }}"#, serde_json::json!({})).unwrap(), "0");
        assert_eq!(run(r#"{{ "x" | toYaml }}"#, serde_json::json!({})).unwrap(), "x");
        assert_eq!(run(r#"{{ "a\n\n" | toYaml }}"#, serde_json::json!({})).unwrap(), "|+\n  a\n");
        assert_eq!(run(r#"{{ toToml (dict "a" 1) }}"#, serde_json::json!({})).unwrap(), "a = 1\n");
    }

    #[test]
    fn env_is_removed() {
        assert!(run(r#"{{ env "HOME" }}"#, serde_json::json!({})).is_err());
    }
}
