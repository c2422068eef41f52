//! A basic TOML writer for Helm's `toToml` (BurntSushi/toml's layout: plain keys first,
//! then tables).

use crate::template::{Map, Value};

pub fn to_toml(v: &Value) -> Result<String, String> {
    let Value::Map(m) = v else {
        return Err("toml: top-level values must be Go maps or structs".into());
    };
    let mut out = String::new();
    table(&mut out, &[], &m.snapshot());
    Ok(out)
}

fn table(out: &mut String, path: &[String], m: &Map) {
    let indent = "  ".repeat(path.len());
    for (k, v) in m {
        if matches!(v, Value::Map(_) | Value::Nil) {
            continue;
        }
        out.push_str(&format!("{indent}{} = {}\n", key(k), inline(v)));
    }
    for (k, v) in m {
        if let Value::Map(sub) = v {
            let mut p = path.to_vec();
            p.push(key(k));
            let sub_indent = "  ".repeat(p.len() - 1);
            // BurntSushi/toml: a blank line before top-level tables, unless nothing precedes.
            if p.len() == 1 && !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&format!("{sub_indent}[{}]\n", p.join(".")));
            table(out, &p, &sub.snapshot());
        }
    }
}

fn key(k: &str) -> String {
    if !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        k.to_string()
    } else {
        quoted(k)
    }
}

fn quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn inline(v: &Value) -> String {
    match v {
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.1}"),
        Value::Float(f) => format!("{f}"),
        Value::String(s) => quoted(s),
        Value::List(items) => format!("[{}]", items.iter().map(inline).collect::<Vec<_>>().join(", ")),
        Value::Map(m) => format!(
            "{{{}}}",
            m.snapshot().iter().map(|(k, v)| format!("{} = {}", key(k), inline(v))).collect::<Vec<_>>().join(", ")
        ),
        Value::Nil | Value::Func(_) => "\"\"".into(),
        Value::Object(o) => quoted(&o.format()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic() {
        let v = Value::from_json(&serde_json::json!({"a": 1, "s": "x", "t": {"l": [1, 2]}}));
        assert_eq!(to_toml(&v).unwrap(), "a = 1.0\ns = \"x\"\n\n[t]\n  l = [1.0, 2.0]\n");
        let v = Value::from_json(&serde_json::json!({"t": {"u": {"x": true}}}));
        assert_eq!(to_toml(&v).unwrap(), "[t]\n  [t.u]\n    x = true\n");
    }
}
