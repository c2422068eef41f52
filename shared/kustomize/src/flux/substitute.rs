//! postBuild variable substitution over built objects, as kustomize-controller runs it.
//!
//! Flux expands the YAML text of each object and parses the result again, so a substituted
//! value written as a plain scalar (`replicas: ${REPLICAS}`) takes the type its new text has in
//! YAML (the number 3), while a quoted or block one (`value: "${PORT}"`) stays a string. Objects
//! here are values, not text: every string (keys included) is expanded in place, and a value is
//! re-typed unless the source files wrote that exact text quoted or as a block, which
//! [`super::layered_fs`] records while the build reads them. The re-typing follows the YAML 1.1
//! rules of the parser Flux uses there (`yes`/`on` are booleans, `0755` is octal).

use std::collections::{BTreeMap, HashSet};

use serde_json::{Map, Number, Value};
use weir_api::annotations::KUSTOMIZE_SUBSTITUTE;

use super::envsubst::{EnvsubstError, expand};

/// The value of the label or annotation that turns substitution off for one object.
const DISABLED: &str = "disabled";

#[derive(Debug, thiserror::Error)]
pub enum SubstituteError {
    #[error("'{0}' var name is invalid, must match '^[_[:alpha:]][_[:alpha:][:digit:]]*$'")]
    InvalidName(String),
    #[error("{object}: variable substitution failed: {source}")]
    Expand { object: String, source: EnvsubstError },
}

/// Substitutes `vars` into every object not opted out with the `substitute: disabled` label or
/// annotation. Values have their line breaks removed first, as Flux does.
pub fn substitute_all(
    objects: &mut [Value],
    vars: &BTreeMap<String, String>,
    strict: bool,
    non_plain: &HashSet<String>,
) -> Result<(), SubstituteError> {
    if let Some(bad) = vars.keys().find(|k| !valid_name(k)) {
        return Err(SubstituteError::InvalidName(bad.clone()));
    }
    let vars: BTreeMap<String, String> = vars.iter().map(|(k, v)| (k.clone(), v.replace('\n', ""))).collect();
    for object in objects.iter_mut().filter(|o| !disabled(o)) {
        let described = describe(object);
        substitute_value(object, &vars, strict, non_plain)
            .map_err(|source| SubstituteError::Expand { object: described, source })?;
    }
    Ok(())
}

/// `^[_[:alpha:]][_[:alpha:][:digit:]]*$` with ASCII classes, as Go's regexp reads it.
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

fn disabled(object: &Value) -> bool {
    ["labels", "annotations"].iter().any(|field| {
        object.pointer(&format!("/metadata/{field}/{}", KUSTOMIZE_SUBSTITUTE.replace('/', "~1")))
            == Some(&Value::String(DISABLED.into()))
    })
}

fn describe(object: &Value) -> String {
    let field = |p: &str| object.pointer(p).and_then(Value::as_str).unwrap_or("");
    let (kind, namespace, name) = (field("/kind"), field("/metadata/namespace"), field("/metadata/name"));
    if namespace.is_empty() { format!("{kind}/{name}") } else { format!("{kind}/{namespace}/{name}") }
}

fn substitute_value(
    value: &mut Value,
    vars: &BTreeMap<String, String>,
    strict: bool,
    non_plain: &HashSet<String>,
) -> Result<(), EnvsubstError> {
    match value {
        Value::String(text) if text.contains('$') => {
            let expanded = expand(text, vars, strict)?;
            if expanded != *text {
                *value =
                    if non_plain.contains(text.as_str()) { Value::String(expanded) } else { resolve_plain(expanded) };
            }
        }
        Value::Array(items) => {
            for item in items {
                substitute_value(item, vars, strict, non_plain)?;
            }
        }
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, mut item) in std::mem::take(map) {
                substitute_value(&mut item, vars, strict, non_plain)?;
                let key = if key.contains('$') { expand(&key, vars, strict)? } else { key };
                out.insert(key, item);
            }
            *map = out;
        }
        _ => {}
    }
    Ok(())
}

/// The value a plain YAML 1.1 scalar with this text has: null, boolean, integer (decimal, `0x`,
/// `0b`, leading-zero octal, `_` separators), float, or else the string itself.
fn resolve_plain(text: String) -> Value {
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => return Value::Bool(true),
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Value::Bool(false);
        }
        _ => {}
    }
    if let Some(n) = parse_int(&text) {
        return Value::Number(n.into());
    }
    if is_float(&text)
        && let Ok(f) = text.replace('_', "").parse::<f64>()
        && let Some(n) = Number::from_f64(f)
    {
        return Value::Number(n);
    }
    Value::String(text)
}

fn parse_int(text: &str) -> Option<i64> {
    let plain = text.replace('_', "");
    let (negative, digits) = match plain.as_bytes().first() {
        Some(b'-') => (true, &plain[1..]),
        Some(b'+') => (false, &plain[1..]),
        _ => (false, plain.as_str()),
    };
    if digits.is_empty() || !digits.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
        return None;
    }
    let magnitude = if let Some(hex) = digits.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()?
    } else if let Some(bin) = digits.strip_prefix("0b") {
        i64::from_str_radix(bin, 2).ok()?
    } else if let Some(oct) = digits.strip_prefix("0o") {
        i64::from_str_radix(oct, 8).ok()?
    } else if digits.len() > 1 && digits.starts_with('0') {
        i64::from_str_radix(&digits[1..], 8).ok()?
    } else {
        digits.parse::<i64>().ok()?
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// YAML 1.1's float form: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
fn is_float(text: &str) -> bool {
    let s = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn plain_values_take_their_new_type_quoted_ones_stay_strings() {
        let mut objects = vec![json!({
            "kind": "Deployment",
            "metadata": {"name": "app-${env}", "labels": {"${key}": "x"}},
            "spec": {"replicas": "${replicas}", "paused": "${paused}", "env": [{"value": "${port}"}], "note": "${missing}"},
        })];
        let non_plain: HashSet<String> = ["${port}".to_string()].into();
        let v = vars(&[("env", "prod"), ("key", "team"), ("replicas", "3"), ("paused", "yes"), ("port", "8080")]);
        substitute_all(&mut objects, &v, false, &non_plain).unwrap();
        assert_eq!(
            objects[0],
            json!({
                "kind": "Deployment",
                "metadata": {"name": "app-prod", "labels": {"team": "x"}},
                "spec": {"replicas": 3, "paused": true, "env": [{"value": "8080"}], "note": null},
            })
        );
    }

    #[test]
    fn disabled_objects_are_left_alone() {
        let mut objects = vec![
            json!({"kind": "A", "metadata": {"name": "${x}", "labels": {"kustomize.toolkit.fluxcd.io/substitute": "disabled"}}}),
            json!({"kind": "B", "metadata": {"name": "${x}", "annotations": {"kustomize.toolkit.fluxcd.io/substitute": "disabled"}}}),
            json!({"kind": "C", "metadata": {"name": "${x}"}}),
        ];
        substitute_all(&mut objects, &vars(&[("x", "val")]), false, &HashSet::new()).unwrap();
        assert_eq!(objects[0]["metadata"]["name"], "${x}");
        assert_eq!(objects[1]["metadata"]["name"], "${x}");
        assert_eq!(objects[2]["metadata"]["name"], "val");
    }

    #[test]
    fn names_are_validated_and_strict_mode_names_the_object() {
        let mut objects =
            vec![json!({"kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n"}, "data": {"a": "${nope}"}})];
        let err = substitute_all(&mut objects, &vars(&[("1bad", "x")]), false, &HashSet::new()).unwrap_err();
        assert!(err.to_string().contains("'1bad' var name is invalid"), "{err}");
        let err = substitute_all(&mut objects, &vars(&[("ok", "x")]), true, &HashSet::new()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "ConfigMap/n/c: variable substitution failed: variable not set (strict mode): \"nope\""
        );
    }

    #[test]
    fn line_breaks_are_removed_from_values() {
        let mut objects = vec![json!({"kind": "A", "metadata": {"name": "${x}"}})];
        substitute_all(&mut objects, &vars(&[("x", "a\nb\n")]), false, &HashSet::new()).unwrap();
        assert_eq!(objects[0]["metadata"]["name"], "ab");
    }

    #[test]
    fn yaml_1_1_scalars() {
        assert_eq!(resolve_plain("0755".into()), json!(493));
        assert_eq!(resolve_plain("1_000".into()), json!(1000));
        assert_eq!(resolve_plain("0x1f".into()), json!(31));
        assert_eq!(resolve_plain("-12".into()), json!(-12));
        assert_eq!(resolve_plain("1.5".into()), json!(1.5));
        assert_eq!(resolve_plain("1e3".into()), json!(1000.0));
        assert_eq!(resolve_plain("off".into()), json!(false));
        assert_eq!(resolve_plain("500m".into()), json!("500m"));
        assert_eq!(resolve_plain("1.2.3".into()), json!("1.2.3"));
        assert_eq!(resolve_plain("".into()), Value::Null);
    }
}
