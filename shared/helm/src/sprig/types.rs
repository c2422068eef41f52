//! Types and conversions: `typeOf`, `typeIs`, `typeIsLike`, `kindOf`, `kindIs`,
//! `deepEqual`, `toString`, `toStrings`, `int`, `int64`, `float64`, `atoi`, `toDecimal`.

use super::{reg, str_arg, str_list, strslice, strval, to_f64, to_i64};
use crate::template::{Arity, FuncMap, Value, sprint};

/// `reflect.Value.Kind().String()` of a value as sprig's `kindOf` reports it.
fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Nil => "invalid",
        Value::Object(o) => {
            if o.type_name().starts_with('*') {
                "ptr"
            } else {
                "struct"
            }
        }
        v => super::kind_name(v),
    }
}

pub(super) fn register(m: &mut FuncMap) {
    reg(m, "typeOf", Arity::Exact(1), |a| Ok(Value::String(a[0].type_name())));
    reg(m, "typeIs", Arity::Exact(2), |a| Ok(Value::Bool(str_arg(a, 0)? == a[1].type_name())));
    reg(m, "typeIsLike", Arity::Exact(2), |a| {
        let (target, t) = (str_arg(a, 0)?, a[1].type_name());
        Ok(Value::Bool(target == t || format!("*{target}") == t))
    });
    reg(m, "kindOf", Arity::Exact(1), |a| Ok(Value::from(kind_of(&a[0]))));
    reg(m, "kindIs", Arity::Exact(2), |a| Ok(Value::Bool(str_arg(a, 0)? == kind_of(&a[1]))));
    reg(m, "deepEqual", Arity::Exact(2), |a| Ok(Value::Bool(a[0] == a[1])));
    reg(m, "toString", Arity::Exact(1), |a| Ok(Value::String(strval(&a[0]))));
    reg(m, "toStrings", Arity::Exact(1), |a| Ok(str_list(strslice(&a[0]))));
    reg(m, "int", Arity::Exact(1), |a| Ok(Value::Int(to_i64(&a[0]))));
    reg(m, "int64", Arity::Exact(1), |a| Ok(Value::Int(to_i64(&a[0]))));
    reg(m, "float64", Arity::Exact(1), |a| Ok(Value::Float(to_f64(&a[0]))));
    reg(m, "atoi", Arity::Exact(1), |a| {
        let s = str_arg(a, 0)?;
        let ok = !s.is_empty() && s.trim_start_matches(['+', '-']).bytes().all(|b| b.is_ascii_digit());
        Ok(Value::Int(if ok { s.parse::<i64>().unwrap_or(0) } else { 0 }))
    });
    reg(m, "toDecimal", Arity::Exact(1), |a| {
        let s = sprint(std::slice::from_ref(&a[0]));
        let digits = s.strip_prefix(['+', '-']).unwrap_or(&s);
        let ok = !digits.is_empty() && digits.bytes().all(|b| (b'0'..=b'7').contains(&b));
        let n = if ok { i64::from_str_radix(&s, 8).unwrap_or(0) } else { 0 };
        Ok(Value::Int(n))
    });
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{check, render_with};

    #[test]
    fn conversions() {
        check(
            r#"{{ int "12" }} {{ int64 3.9 }} {{ float64 "1.5" }} {{ atoi "x" }} {{ toDecimal "0777" }}"#,
            "12 3 1.5 0 511",
        );
        check(
            r#"{{ typeOf 1 }} {{ kindOf "a" }} {{ kindIs "slice" (list) }} {{ toStrings (list 1 "a") }}"#,
            "int string true [1 a]",
        );
        assert_eq!(render_with("{{ typeOf .n }}", serde_json::json!({"n": 1})).as_deref(), Ok("float64"));
    }
}
