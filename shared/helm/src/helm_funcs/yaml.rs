//! YAML out as Helm's `toYaml` writes it (sigs.k8s.io/yaml: JSON first, then go-yaml v2's
//! emitter): keys sorted, block style, sequences not indented under their key, strings
//! quoted only when YAML 1.1 would read them as something else, multi-line strings as
//! literal blocks, numbers as they come back from JSON (integral floats as integers).

use crate::template::{Value, sprint};

/// The YAML text of `v`, with the trailing newline the emitter writes.
pub fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    for line in node(v) {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The lines of one node at indentation zero.
fn node(v: &Value) -> Vec<String> {
    match v {
        Value::Map(m) => {
            let m = m.snapshot();
            if m.is_empty() {
                return vec!["{}".into()];
            }
            let mut lines = Vec::new();
            for (k, v) in &m {
                let key = scalar_string(k);
                match v {
                    Value::Map(inner) if !inner.read().is_empty() => {
                        lines.push(format!("{key}:"));
                        lines.extend(node(v).into_iter().map(|l| indent(&l, "  ")));
                    }
                    Value::List(items) if !items.is_empty() => {
                        lines.push(format!("{key}:"));
                        lines.extend(node(v));
                    }
                    Value::String(s) if s.contains('\n') => {
                        let (header, body) = literal(s);
                        lines.push(format!("{key}: {header}"));
                        lines.extend(body.iter().map(|l| indent(l, "  ")));
                    }
                    _ => lines.push(format!("{key}: {}", scalar(v))),
                }
            }
            lines
        }
        Value::List(items) => {
            if items.is_empty() {
                return vec!["[]".into()];
            }
            let mut lines = Vec::new();
            for item in items.iter() {
                let inner = match item {
                    Value::String(s) if s.contains('\n') => {
                        let (header, body) = literal(s);
                        lines.push(format!("- {header}"));
                        lines.extend(body.iter().map(|l| indent(l, "  ")));
                        continue;
                    }
                    _ => node(item),
                };
                for (i, l) in inner.iter().enumerate() {
                    lines.push(if i == 0 { format!("- {l}") } else { indent(l, "  ") });
                }
            }
            lines
        }
        Value::String(s) if s.contains('\n') => {
            let (header, body) = literal(s);
            let mut lines = vec![header];
            lines.extend(body.iter().map(|l| indent(l, "  ")));
            lines
        }
        _ => vec![scalar(v)],
    }
}

fn indent(line: &str, by: &str) -> String {
    if line.is_empty() { String::new() } else { format!("{by}{line}") }
}

/// A literal block scalar: its header (`|`, `|-`, `|+`, with an indentation indicator when
/// the text starts with a space) and its lines.
fn literal(s: &str) -> (String, Vec<String>) {
    let chomp = if !s.ends_with('\n') {
        "-"
    } else if s.ends_with("\n\n") {
        "+"
    } else {
        ""
    };
    let ind = if s.starts_with([' ', '\n']) { "2" } else { "" };
    let body = s.strip_suffix('\n').unwrap_or(s);
    (format!("|{ind}{chomp}"), body.split('\n').map(str::to_string).collect())
}

/// A scalar value on one line.
pub(crate) fn scalar(v: &Value) -> String {
    match v {
        Value::Nil | Value::Func(_) => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => float(*f),
        Value::String(s) => scalar_string(s),
        Value::Object(o) => scalar_string(&o.format()),
        Value::Map(_) | Value::List(_) => node(v).join("\n"),
    }
}

/// A float64 after a trip through JSON and YAML: integral values that fit an int64 come
/// back as integers, the others print as Go's `%v` does.
fn float(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.2e18 {
        (f as i64).to_string()
    } else {
        sprint(&[Value::Float(f)])
    }
}

fn scalar_string(s: &str) -> String {
    if s.chars().any(|c| c.is_control() || c == '\u{feff}') || resolves_to_non_string(s) {
        return double_quoted(s);
    }
    if plain_allowed(s) { s.to_string() } else { format!("'{}'", s.replace('\'', "''")) }
}

fn double_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() || c == '\u{feff}' => {
                let n = c as u32;
                if n <= 0xff {
                    out.push_str(&format!("\\x{n:02X}"));
                } else {
                    out.push_str(&format!("\\u{n:04X}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether YAML 1.1 (go-yaml v2's resolver) reads the plain scalar as a non-string.
fn resolves_to_non_string(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "", "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE", "y", "Y", "yes", "Yes",
        "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", ".inf", ".Inf", ".INF", "+.inf",
        "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN", "<<",
    ];
    if WORDS.contains(&s) {
        return true;
    }
    let plain = s.replace('_', "");
    let digits = plain.strip_prefix(['+', '-']).unwrap_or(&plain);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    if let Some(hex) = digits.strip_prefix("0x")
        && !hex.is_empty()
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return true;
    }
    if let Some(oct) = digits.strip_prefix("0o")
        && !oct.is_empty()
        && oct.bytes().all(|b| (b'0'..=b'7').contains(&b))
    {
        return true;
    }
    if let Some(bin) = digits.strip_prefix("0b")
        && !bin.is_empty()
        && bin.bytes().all(|b| b == b'0' || b == b'1')
    {
        return true;
    }
    if digits.bytes().any(|b| b.is_ascii_digit())
        && digits.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        && plain.parse::<f64>().is_ok()
    {
        return true;
    }
    // Base 60 numbers (`1:20`) and dates (`2001-12-14`).
    let sexagesimal = digits.contains(':')
        && digits.split(':').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit() || b == b'.'));
    let b = s.as_bytes();
    let date = b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit);
    sexagesimal || date
}

/// go-yaml's emitter analysis for a plain scalar in block context.
fn plain_allowed(s: &str) -> bool {
    let first = s.chars().next().unwrap_or(' ');
    let second = s.chars().nth(1);
    if first == ' ' || s.ends_with(' ') || s.ends_with(':') {
        return false;
    }
    if "#,[]{}&*!|>'\"%@`".contains(first) {
        return false;
    }
    if matches!(first, '-' | '?' | ':') && second.is_none_or(|c| c == ' ') {
        return false;
    }
    if s.starts_with("---") || s.starts_with("...") {
        return false;
    }
    !(s.contains(": ") || s.contains(" #") || s.contains(":\t") || s.contains("\t#"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn y(j: serde_json::Value) -> String {
        to_yaml(&Value::from_json(&j))
    }

    #[test]
    fn maps_and_lists() {
        let v = serde_json::json!({"b": [1, {"x": "y", "z": [true]}], "a": {"c": null, "d": {}}, "e": []});
        assert_eq!(y(v), "a:\n  c: null\n  d: {}\nb:\n- 1\n- x: \"y\"\n  z:\n  - true\ne: []\n");
    }

    #[test]
    fn scalars() {
        assert_eq!(y(serde_json::json!(1e6)), "1000000\n");
        assert_eq!(y(serde_json::json!(1.5)), "1.5\n");
        assert_eq!(y(serde_json::json!("foo")), "foo\n");
        assert_eq!(y(serde_json::json!("")), "\"\"\n");
        assert_eq!(y(serde_json::json!("123")), "\"123\"\n");
        assert_eq!(y(serde_json::json!("on")), "\"on\"\n");
        assert_eq!(y(serde_json::json!("a: b")), "'a: b'\n");
        assert_eq!(y(serde_json::json!("*")), "'*'\n");
        assert_eq!(y(serde_json::json!("1.2.3")), "1.2.3\n");
        assert_eq!(y(serde_json::json!({"k": "a\nb"})), "k: |-\n  a\n  b\n");
        assert_eq!(y(serde_json::json!({"k": "a\nb\n"})), "k: |\n  a\n  b\n");
    }

    /// Outputs of Go's json.Marshal + gopkg.in/yaml.v2 Marshal (what sigs.k8s.io/yaml does),
    /// recorded with Debian's golang-gopkg-yaml.v2-dev.
    #[test]
    fn matches_go_yaml_v2() {
        let cases: &[(&str, &str)] = &[
            ("a\nb\n\n", "|+\n  a\n  b\n\n"),
            (" lead\nx", "|2-\n   lead\n  x\n"),
            ("-x", "-x\n"),
            ("- x", "'- x'\n"),
            ("#x", "'#x'\n"),
            ("x #y", "'x #y'\n"),
            ("x:", "'x:'\n"),
            ("2001-12-14", "\"2001-12-14\"\n"),
            ("1:20", "\"1:20\"\n"),
            ("1e3", "\"1e3\"\n"),
            ("0x1F", "\"0x1F\"\n"),
            ("tab\there", "\"tab\\there\"\n"),
            ("é", "é\n"),
            ("a,b", "a,b\n"),
            ("[x]", "'[x]'\n"),
            ("{x}", "'{x}'\n"),
            ("?x", "?x\n"),
            (": x", "': x'\n"),
            ("@x", "'@x'\n"),
            ("`x", "'`x'\n"),
            ("!x", "'!x'\n"),
            ("%x", "'%x'\n"),
            ("&x", "'&x'\n"),
            ("|x", "'|x'\n"),
            (">x", "'>x'\n"),
            ("'x", "'''x'\n"),
            ("\"x", "'\"x'\n"),
            ("x'y", "x'y\n"),
            ("~", "\"~\"\n"),
            ("null", "\"null\"\n"),
            ("NO", "\"NO\"\n"),
            (".5", "\".5\"\n"),
            ("+1", "\"+1\"\n"),
            ("1_000", "\"1_000\"\n"),
            ("0o17", "\"0o17\"\n"),
            ("017", "\"017\"\n"),
            ("a\n b", "|-\n  a\n   b\n"),
            ("a\n\nb", "|-\n  a\n\n  b\n"),
            ("\nlead", "|2-\n\n  lead\n"),
            ("trail ", "'trail '\n"),
        ];
        for (input, want) in cases {
            assert_eq!(y(serde_json::json!(input)), *want, "{input:?}");
        }
        assert_eq!(y(serde_json::json!(1e21)), "1e+21\n");
        assert_eq!(y(serde_json::json!(0.0000001)), "1e-07\n");
        assert_eq!(y(serde_json::json!(123456789.0)), "123456789\n");
        assert_eq!(
            y(serde_json::json!({"f": [[1, 2], "m\nl"], "on": 1, "k: x": 2})),
            "f:\n- - 1\n  - 2\n- |-\n  m\n  l\n'k: x': 2\n\"on\": 1\n"
        );
    }
}
