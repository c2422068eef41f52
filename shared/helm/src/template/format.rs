//! Go's `fmt` for template values: `Sprint`, `Sprintln` and `Sprintf` with Go's verbs,
//! flags, widths and precisions, and Go's `%!verb(type=value)` markers for bad input.

use std::fmt::Write as _;

use super::value::Value;

/// `fmt.Sprint`: spaces between operands when neither side is a string.
pub fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    let mut prev_string = false;
    for (i, arg) in args.iter().enumerate() {
        let is_string = matches!(arg, Value::String(_));
        if i > 0 && !is_string && !prev_string {
            out.push(' ');
        }
        out.push_str(&format_value(arg, 'v', &Spec::default()));
        prev_string = is_string;
    }
    out
}

/// `fmt.Sprintln`: operands always separated by spaces, newline appended.
pub fn sprintln(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&format_value(arg, 'v', &Spec::default()));
    }
    out.push('\n');
    out
}

/// Flags, width and precision of one verb.
#[derive(Default, Clone, Debug)]
struct Spec {
    minus: bool,
    plus: bool,
    sharp: bool,
    /// `%#v`: Go syntax.
    sharp_v: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

/// `fmt.Sprintf`.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let chars: Vec<char> = format.chars().collect();
    let mut i = 0;
    let mut argn = 0;
    let mut reordered = false;
    while i < chars.len() {
        let c = chars[i];
        if c != '%' {
            out.push(c);
            i += 1;
            continue;
        }
        i += 1;
        let mut spec = Spec::default();
        while i < chars.len() {
            match chars[i] {
                '#' => spec.sharp = true,
                '0' => spec.zero = !spec.minus,
                '+' => spec.plus = true,
                '-' => {
                    spec.minus = true;
                    spec.zero = false;
                }
                ' ' => spec.space = true,
                _ => break,
            }
            i += 1;
        }
        let mut good_index = true;
        // Width: a number, `*`, optionally after an argument index.
        parse_index(&chars, &mut i, &mut argn, &mut reordered, &mut good_index, args.len());
        if i < chars.len() && chars[i] == '*' {
            i += 1;
            match args.get(argn).and_then(int_arg) {
                Some(w) => {
                    if w < 0 {
                        spec.minus = true;
                        spec.zero = false;
                    }
                    spec.width = Some(w.unsigned_abs() as usize);
                }
                None => out.push_str("%!(BADWIDTH)"),
            }
            argn += 1;
        } else {
            spec.width = parse_num(&chars, &mut i);
        }
        if i < chars.len() && chars[i] == '.' {
            i += 1;
            parse_index(&chars, &mut i, &mut argn, &mut reordered, &mut good_index, args.len());
            if i < chars.len() && chars[i] == '*' {
                i += 1;
                match args.get(argn).and_then(int_arg) {
                    Some(p) if p >= 0 => spec.prec = Some(p as usize),
                    _ => out.push_str("%!(BADPREC)"),
                }
                argn += 1;
            } else {
                spec.prec = Some(parse_num(&chars, &mut i).unwrap_or(0));
            }
        }
        parse_index(&chars, &mut i, &mut argn, &mut reordered, &mut good_index, args.len());
        let Some(&verb) = chars.get(i) else {
            out.push_str("%!(NOVERB)");
            break;
        };
        i += 1;
        if verb == '%' {
            out.push('%');
            continue;
        }
        if verb == 'v' {
            spec.sharp_v = spec.sharp;
            spec.sharp = false;
            spec.plus = false;
        }
        if !good_index {
            let _ = write!(out, "%!{verb}(BADINDEX)");
            continue;
        }
        let Some(arg) = args.get(argn) else {
            let _ = write!(out, "%!{verb}(MISSING)");
            continue;
        };
        argn += 1;
        out.push_str(&format_value(arg, verb, &spec));
    }
    if !reordered && argn < args.len() {
        out.push_str("%!(EXTRA ");
        for (k, arg) in args[argn..].iter().enumerate() {
            if k > 0 {
                out.push_str(", ");
            }
            match arg {
                Value::Nil => out.push_str("<nil>"),
                _ => {
                    let _ = write!(out, "{}={}", arg.type_name(), format_value(arg, 'v', &Spec::default()));
                }
            }
        }
        out.push(')');
    }
    out
}

fn int_arg(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) if i.unsigned_abs() <= 1_000_000 => Some(*i),
        _ => None,
    }
}

fn parse_num(chars: &[char], i: &mut usize) -> Option<usize> {
    let start = *i;
    let mut n: usize = 0;
    while *i < chars.len() && chars[*i].is_ascii_digit() {
        n = n.saturating_mul(10).saturating_add(chars[*i] as usize - '0' as usize).min(1_000_000);
        *i += 1;
    }
    (*i > start).then_some(n)
}

/// An explicit argument index `[n]` (1-based).
fn parse_index(chars: &[char], i: &mut usize, argn: &mut usize, reordered: &mut bool, good: &mut bool, nargs: usize) {
    if *i >= chars.len() || chars[*i] != '[' {
        return;
    }
    *reordered = true;
    let mut j = *i + 1;
    let n = parse_num(chars, &mut j);
    if j < chars.len() && chars[j] == ']' {
        match n {
            Some(n) if n >= 1 && n <= nargs => *argn = n - 1,
            _ => *good = false,
        }
        *i = j + 1;
    } else {
        *good = false;
        match chars[*i..].iter().position(|c| *c == ']') {
            // "[x]": skip past the bracket.
            Some(close) => *i += close + 1,
            // No closing bracket: only the '[' is skipped.
            None => *i += 1,
        }
    }
}

/// Go prints the operand of a bad verb with `%v` under the same flags, width and precision.
fn bad_verb(v: &Value, verb: char, spec: &Spec) -> String {
    match v {
        Value::Nil => format!("%!{verb}(<nil>)"),
        _ => format!("%!{verb}({}={})", v.type_name(), format_value(v, 'v', spec)),
    }
}

/// Formats an element of a list or map: a nil element prints as `<nil>` for any verb,
/// unpadded (`interface {}(nil)` in Go syntax).
fn format_elem(v: &Value, verb: char, spec: &Spec) -> String {
    match v {
        Value::Nil if spec.sharp_v => "interface {}(nil)".to_string(),
        Value::Nil => "<nil>".to_string(),
        v => format_value(v, verb, spec),
    }
}

/// Formats one value for one verb.
fn format_value(v: &Value, verb: char, spec: &Spec) -> String {
    if verb == 'T' {
        return pad(&truncate(&v.type_name(), spec.prec), spec);
    }
    match v {
        Value::Nil => match verb {
            'v' => pad("<nil>", spec),
            _ => bad_verb(v, verb, spec),
        },
        Value::Bool(b) => match verb {
            't' | 'v' => pad(if *b { "true" } else { "false" }, spec),
            _ => bad_verb(v, verb, spec),
        },
        Value::Int(i) => format_int(*i, verb, spec).unwrap_or_else(|| bad_verb(v, verb, spec)),
        Value::Float(f) => format_float(*f, verb, spec).unwrap_or_else(|| bad_verb(v, verb, spec)),
        Value::String(s) => match verb {
            'v' if spec.sharp_v => pad(&quote(s, false), spec),
            'v' | 's' => pad(&truncate(s, spec.prec), spec),
            'q' => {
                let s = truncate(s, spec.prec);
                if spec.sharp && can_backquote(&s) {
                    pad(&format!("`{s}`"), spec)
                } else {
                    pad(&quote(&s, spec.plus), spec)
                }
            }
            'x' | 'X' => pad(&hex_bytes(s.as_bytes(), verb == 'X', spec), spec),
            _ => bad_verb(v, verb, spec),
        },
        Value::List(items) => {
            if spec.sharp_v && verb == 'v' {
                let inner: Vec<String> = items.iter().map(|i| format_elem(i, verb, spec)).collect();
                return format!("[]interface {{}}{{{}}}", inner.join(", "));
            }
            let inner: Vec<String> = items.iter().map(|i| format_elem(i, verb, spec)).collect();
            format!("[{}]", inner.join(" "))
        }
        Value::Map(m) => {
            let m = m.snapshot();
            if spec.sharp_v && verb == 'v' {
                let inner: Vec<String> =
                    m.iter().map(|(k, v)| format!("{}:{}", quote(k, false), format_elem(v, verb, spec))).collect();
                return format!("map[string]interface {{}}{{{}}}", inner.join(", "));
            }
            let inner: Vec<String> = m
                .iter()
                .map(|(k, v)| {
                    format!("{}:{}", format_value(&Value::String(k.clone()), verb, spec), format_elem(v, verb, spec))
                })
                .collect();
            format!("map[{}]", inner.join(" "))
        }
        Value::Func(_) => match verb {
            'v' | 'p' => pad("0x1", spec),
            _ => bad_verb(v, verb, spec),
        },
        Value::Object(o) => match verb {
            'v' | 's' => pad(&o.format(), spec),
            _ => bad_verb(v, verb, spec),
        },
    }
}

/// Pads to the width with spaces (or zeros with the `0` flag), on the right with `-`.
fn pad(s: &str, spec: &Spec) -> String {
    pad_with(s, spec, spec.zero)
}

fn pad_with(s: &str, spec: &Spec, zero: bool) -> String {
    let Some(width) = spec.width else { return s.to_string() };
    let len = s.chars().count();
    if len >= width {
        return s.to_string();
    }
    let fill: String = std::iter::repeat_n(if zero { '0' } else { ' ' }, width - len).collect();
    if spec.minus { format!("{s}{fill}") } else { format!("{fill}{s}") }
}

fn truncate(s: &str, prec: Option<usize>) -> String {
    match prec {
        Some(p) => s.chars().take(p).collect(),
        None => s.to_string(),
    }
}

fn hex_bytes(bytes: &[u8], upper: bool, spec: &Spec) -> String {
    let mut out = String::new();
    let n = spec.prec.map_or(bytes.len(), |p| p.min(bytes.len()));
    for (i, b) in bytes[..n].iter().enumerate() {
        if spec.space && i > 0 {
            out.push(' ');
        }
        if spec.sharp && (spec.space || i == 0) {
            out.push_str(if upper { "0X" } else { "0x" });
        }
        if upper {
            let _ = write!(out, "{b:02X}");
        } else {
            let _ = write!(out, "{b:02x}");
        }
    }
    out
}

/// Go's `strconv.Quote` (or `QuoteToASCII` when `ascii`).
pub fn quote(s: &str, ascii: bool) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        quote_char_into(&mut out, c, '"', ascii);
    }
    out.push('"');
    out
}

fn quote_char_into(out: &mut String, c: char, delim: char, ascii: bool) {
    match c {
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{b}' => out.push_str("\\v"),
        '\\' => out.push_str("\\\\"),
        c if c == delim => {
            out.push('\\');
            out.push(c);
        }
        c if (c as u32) < 0x80 && !c.is_ascii_control() => out.push(c),
        c if !ascii && is_print(c) => out.push(c),
        c if (c as u32) < 0x80 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if (c as u32) < 0x10000 => {
            let _ = write!(out, "\\u{:04x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\U{:08x}", c as u32);
        }
    }
}

/// An approximation of Go's `unicode.IsPrint` for non-ASCII characters.
fn is_print(c: char) -> bool {
    !(c.is_control()
        || matches!(c as u32, 0x00AD | 0x2028 | 0x2029 | 0xFEFF | 0xFFFE..=0xFFFF | 0x200B..=0x200F | 0x2060..=0x206F)
        || (c.is_whitespace() && c != ' ' && (c as u32) != 0x3000 && !matches!(c as u32, 0x2000..=0x200A | 0xA0)))
}

fn can_backquote(s: &str) -> bool {
    s.chars().all(|c| c != '`' && c != '\u{FEFF}' && (c == '\t' || !c.is_control()))
}

/// `%q` of a rune: `'x'`.
fn quote_rune(c: char, ascii: bool) -> String {
    let mut out = String::from("'");
    quote_char_into(&mut out, c, '\'', ascii);
    out.push('\'');
    out
}

fn format_int(i: i64, verb: char, spec: &Spec) -> Option<String> {
    let (base, upper) = match verb {
        'v' | 'd' => (10, false),
        'b' => (2, false),
        'o' | 'O' => (8, false),
        'x' => (16, false),
        'X' => (16, true),
        'c' => {
            let c = u32::try_from(i).ok().and_then(char::from_u32).unwrap_or('\u{FFFD}');
            return Some(pad(&c.to_string(), spec));
        }
        'q' => {
            let c = u32::try_from(i).ok().and_then(char::from_u32).unwrap_or('\u{FFFD}');
            return Some(pad(&quote_rune(c, spec.plus), spec));
        }
        'U' => {
            let mut s = format!("U+{:04X}", i as u64);
            if spec.sharp
                && let Some(c) = u32::try_from(i).ok().and_then(char::from_u32)
                && is_print(c)
            {
                let _ = write!(s, " '{c}'");
            }
            return Some(pad(&s, spec));
        }
        _ => return None,
    };
    let neg = i < 0;
    let u = i.unsigned_abs();
    let mut digits = match base {
        2 => format!("{u:b}"),
        8 => format!("{u:o}"),
        16 if upper => format!("{u:X}"),
        16 => format!("{u:x}"),
        _ => u.to_string(),
    };
    let mut prec = 0;
    if let Some(p) = spec.prec {
        if p == 0 && u == 0 {
            return Some(pad_with("", spec, false));
        }
        prec = p;
    } else if spec.zero
        && let Some(w) = spec.width
    {
        prec = w;
        if neg || spec.plus || spec.space {
            prec = prec.saturating_sub(1);
        }
    }
    if digits.len() < prec {
        digits = format!("{}{}", "0".repeat(prec - digits.len()), digits);
    }
    let mut prefix = String::new();
    if spec.sharp {
        match verb {
            'b' => prefix.push_str("0b"),
            'o' if !digits.starts_with('0') => prefix.push('0'),
            'x' => prefix.push_str("0x"),
            'X' => prefix.push_str("0X"),
            _ => {}
        }
    }
    if verb == 'O' {
        prefix = "0o".into();
    }
    let sign = if neg {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    };
    Some(pad_with(&format!("{sign}{prefix}{digits}"), spec, false))
}

/// Decimal digits (no trailing zeros, at least one) and the decimal point position:
/// value = 0.DIGITS × 10^dp.
fn decimal_digits(x: f64, sig: Option<usize>) -> (String, i32) {
    let s = match sig {
        Some(n) => format!("{:.*e}", n.saturating_sub(1), x.abs()),
        None => format!("{:e}", x.abs()),
    };
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
    }
    if digits == "0" {
        return (digits, 1);
    }
    (digits, exp + 1)
}

/// `%e` from digits with `prec` digits after the point.
fn fmt_e(digits: &str, dp: i32, prec: usize, upper: bool) -> String {
    let d = digits.as_bytes();
    let mut out = String::new();
    out.push(d.first().map_or('0', |b| *b as char));
    if prec > 0 {
        out.push('.');
        for k in 1..=prec {
            out.push(d.get(k).map_or('0', |b| *b as char));
        }
    }
    let exp = if digits == "0" { 0 } else { dp - 1 };
    out.push(if upper { 'E' } else { 'e' });
    out.push(if exp < 0 { '-' } else { '+' });
    let _ = write!(out, "{:02}", exp.unsigned_abs());
    out
}

/// `%f` from digits with `prec` digits after the point.
fn fmt_f(digits: &str, dp: i32, prec: usize) -> String {
    let d = digits.as_bytes();
    let digit = |k: i32| -> char { if k < 0 { '0' } else { d.get(k as usize).map_or('0', |b| *b as char) } };
    let mut out = String::new();
    if dp > 0 {
        for k in 0..dp {
            out.push(digit(k));
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for k in 0..prec as i32 {
            out.push(digit(dp + k));
        }
    }
    out
}

fn format_float(x: f64, verb: char, spec: &Spec) -> Option<String> {
    let upper = matches!(verb, 'E' | 'G' | 'F' | 'X');
    let body = if x.is_nan() {
        "NaN".to_string()
    } else if x.is_infinite() {
        "Inf".to_string()
    } else {
        match verb {
            'v' | 'g' | 'G' => {
                let shortest = spec.prec.is_none();
                let (digits, dp) = match spec.prec {
                    None => decimal_digits(x, None),
                    Some(p) => decimal_digits(x, Some(p.max(1))),
                };
                let nd = digits.len() as i32;
                let mut prec = match spec.prec {
                    None => nd,
                    Some(p) => p.max(1) as i32,
                };
                let mut eprec = prec;
                if eprec > nd && nd >= dp {
                    eprec = nd;
                }
                if shortest {
                    eprec = 6;
                }
                let exp = dp - 1;
                if exp < -4 || exp >= eprec {
                    if prec > nd {
                        prec = nd;
                    }
                    fmt_e(&digits, dp, (prec - 1).max(0) as usize, upper)
                } else {
                    if prec > dp {
                        prec = nd;
                    }
                    fmt_f(&digits, dp, (prec - dp).max(0) as usize)
                }
            }
            'e' | 'E' => {
                let p = spec.prec.unwrap_or(6);
                let (digits, dp) = decimal_digits(x, Some(p + 1));
                fmt_e(&digits, dp, p, upper)
            }
            'f' | 'F' => format!("{:.*}", spec.prec.unwrap_or(6), x.abs()),
            _ => return None,
        }
    };
    let body = if spec.sharp && x.is_finite() { sharp_float(&body, verb, spec.prec) } else { body };
    let neg = x.is_sign_negative() && !x.is_nan();
    if x.is_nan() || x.is_infinite() {
        // Go always signs infinities ("+Inf"); NaN only with `+` or space.
        let sign = if neg {
            "-"
        } else if spec.plus {
            "+"
        } else if spec.space {
            " "
        } else if x.is_infinite() {
            "+"
        } else {
            ""
        };
        return Some(pad_with(&format!("{sign}{}", if x.is_nan() { "NaN" } else { "Inf" }), spec, false));
    }
    let sign = if neg {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    };
    if !sign.is_empty()
        && spec.zero
        && let Some(w) = spec.width
        && w > body.len() + 1
    {
        return Some(format!("{sign}{}{body}", "0".repeat(w - body.len() - 1)));
    }
    Some(pad(&format!("{sign}{body}"), spec))
}

/// The `#` flag on floats: always a decimal point, and `%g` keeps its trailing zeros.
fn sharp_float(body: &str, verb: char, prec: Option<usize>) -> String {
    let mut digits: i64 = match verb {
        'v' | 'g' | 'G' => prec.map_or(6, |p| p as i64),
        _ => 0,
    };
    let (num, tail) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], &body[i..]),
        None => (body, ""),
    };
    let mut num = num.to_string();
    let has_point = num.contains('.');
    let mut saw_nonzero = false;
    for c in num.chars() {
        if c == '.' {
            continue;
        }
        if c != '0' {
            saw_nonzero = true;
        }
        if saw_nonzero {
            digits -= 1;
        }
    }
    if !has_point {
        if num == "0" {
            digits -= 1;
        }
        num.push('.');
    }
    while digits > 0 {
        num.push('0');
        digits -= 1;
    }
    num + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(fmt: &str, args: &[Value]) -> String {
        sprintf(fmt, args)
    }

    #[test]
    fn floats_print_like_go() {
        assert_eq!(sprint(&[Value::Float(1.0)]), "1");
        assert_eq!(sprint(&[Value::Float(1_000_000.0)]), "1e+06");
        assert_eq!(sprint(&[Value::Float(123456.0)]), "123456");
        assert_eq!(sprint(&[Value::Float(0.0001)]), "0.0001");
        assert_eq!(sprint(&[Value::Float(0.00001)]), "1e-05");
        assert_eq!(sprint(&[Value::Float(1.5)]), "1.5");
        assert_eq!(f("%.2f", &[Value::Float(1.23456)]), "1.23");
        assert_eq!(f("%e", &[Value::Float(1234.5678)]), "1.234568e+03");
        assert_eq!(f("%.3g", &[Value::Float(1234.5678)]), "1.23e+03");
        assert_eq!(f("%g", &[Value::Float(100000000.0)]), "1e+08");
        assert_eq!(f("%08.3f", &[Value::Float(-1.23456)]), "-001.235");
    }

    #[test]
    fn ints_and_flags() {
        assert_eq!(f("%5d|%-5d|%05d", &[Value::Int(42), Value::Int(42), Value::Int(-42)]), "   42|42   |-0042");
        assert_eq!(f("%x %X %#x %o %#o %b", &vec![Value::Int(255); 6]), "ff FF 0xff 377 0377 11111111");
        assert_eq!(f("%+d % d", &[Value::Int(5), Value::Int(5)]), "+5  5");
        assert_eq!(f("%c %q %U", &vec![Value::Int(65); 3]), "A 'A' U+0041");
    }

    #[test]
    fn bad_verbs_and_arity() {
        assert_eq!(f("%d", &[Value::Float(80.0)]), "%!d(float64=80)");
        assert_eq!(f("%d %d", &[Value::Int(1)]), "1 %!d(MISSING)");
        assert_eq!(f("%d", &[Value::Int(1), Value::from("x")]), "1%!(EXTRA string=x)");
        assert_eq!(f("%s", &[Value::Nil]), "%!s(<nil>)");
        assert_eq!(f("%", &[]), "%!(NOVERB)");
    }

    #[test]
    fn strings_and_containers() {
        assert_eq!(f("%q", &[Value::from("a\"b\n")]), r#""a\"b\n""#);
        assert_eq!(f("%-4s|%4s|%.2s", &[Value::from("ab"), Value::from("ab"), Value::from("abc")]), "ab  |  ab|ab");
        assert_eq!(f("%x", &[Value::from("hi")]), "6869");
        let l = Value::list(vec![Value::Int(1), Value::from("a")]);
        assert_eq!(f("%v %d", &[l.clone(), l]), "[1 a] [1 %!d(string=a)]");
        assert_eq!(sprint(&[Value::from("a"), Value::Int(1), Value::Int(2), Value::from("b")]), "a1 2b");
        assert_eq!(sprintln(&[Value::from("a"), Value::Int(1)]), "a 1\n");
    }
}
