//! Defaults and flow: `default`, `empty`, `coalesce`, `all`, `any`, `compact`, `ternary`,
//! `fail`, `deepCopy`.

use super::{bool_arg, call_err, is_empty, kind_name, reg, reg_must, str_arg};
use crate::template::{Arity, FuncMap, Value};

/// A copy sharing nothing with the original (maps are references).
fn deep_copy(v: &Value) -> Value {
    match v {
        Value::Map(m) => Value::map(m.read().iter().map(|(k, v)| (k.clone(), deep_copy(v))).collect()),
        Value::List(l) => Value::list(l.iter().map(deep_copy).collect()),
        v => v.clone(),
    }
}

pub(super) fn register(m: &mut FuncMap) {
    reg(m, "default", Arity::AtLeast(1), |a| {
        Ok(match a.get(1) {
            Some(given) if !is_empty(given) => given.clone(),
            _ => a[0].clone(),
        })
    });
    reg(m, "empty", Arity::Exact(1), |a| Ok(Value::Bool(is_empty(&a[0]))));
    reg(m, "coalesce", Arity::AtLeast(0), |a| Ok(a.iter().find(|v| !is_empty(v)).cloned().unwrap_or(Value::Nil)));
    reg(m, "all", Arity::AtLeast(0), |a| Ok(Value::Bool(a.iter().all(|v| !is_empty(v)))));
    reg(m, "any", Arity::AtLeast(0), |a| Ok(Value::Bool(a.iter().any(|v| !is_empty(v)))));
    reg_must(m, "compact", Arity::Exact(1), |a| match &a[0] {
        Value::List(l) => Ok(Value::list(l.iter().filter(|v| !is_empty(v)).cloned().collect())),
        v => Err(call_err(format!("Cannot compact on type {}", kind_name(v)))),
    });
    reg(m, "ternary", Arity::Exact(3), |a| Ok(if bool_arg(a, 2)? { a[0].clone() } else { a[1].clone() }));
    reg(m, "fail", Arity::Exact(1), |a| Err(call_err(str_arg(a, 0)?)));
    reg_must(m, "deepCopy", Arity::Exact(1), |a| Ok(deep_copy(&a[0])));
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{check, render};

    #[test]
    fn defaults() {
        check(r#"{{ default "d" "" }} {{ default "d" "x" }} {{ default "d" }} {{ 0 | default 5 }}"#, "d x d 5");
        check(r#"{{ coalesce 0 "" "a" }} {{ ternary "y" "n" true }} {{ empty (list) }}"#, "a y true");
        assert!(render(r#"{{ fail "no" }}"#).unwrap_err().ends_with("error calling fail: no"));
    }
}
