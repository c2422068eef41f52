//! Literals as Go's syntax defines them: interpreted and raw strings, character
//! constants and numbers (decimal, hex, octal, binary, underscores, floats, hex floats).

use super::ast::Number;

/// Go's `strconv.Unquote` for "…" and `…` strings. `None` means "invalid syntax".
pub fn unquote(s: &str) -> Option<String> {
    if s.len() >= 2 && s.starts_with('`') && s.ends_with('`') {
        return Some(s[1..s.len() - 1].replace('\r', ""));
    }
    if s.len() < 2 || !s.starts_with('"') || !s.ends_with('"') {
        return None;
    }
    let body = &s[1..s.len() - 1];
    let mut bytes = Vec::new();
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' | '\n' => return None,
            '\\' => unescape(&mut chars, '"', &mut bytes)?,
            c => {
                let mut buf = [0u8; 4];
                bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// A character constant `'x'` as its code point: `Err(true)` for a bad escape ("invalid
/// syntax"), `Err(false)` for anything else ("malformed character constant").
pub fn unquote_char_checked(s: &str) -> Result<i64, bool> {
    let Some(body) = s.strip_prefix('\'') else { return Err(false) };
    let mut chars = body.chars().peekable();
    let Some(c) = chars.next() else { return Err(true) };
    let value = match c {
        '\'' | '\n' => return Err(true),
        '\\' => {
            let mut bytes = Vec::new();
            let is_byte_escape = matches!(chars.peek(), Some('x' | '0'..='7'));
            unescape(&mut chars, '\'', &mut bytes).ok_or(true)?;
            if is_byte_escape {
                i64::from(*bytes.first().ok_or(true)?)
            } else {
                let s = std::str::from_utf8(&bytes).map_err(|_| true)?;
                i64::from(u32::from(s.chars().next().ok_or(true)?))
            }
        }
        c => i64::from(u32::from(c)),
    };
    if chars.collect::<String>() != "'" {
        return Err(false);
    }
    Ok(value)
}

fn unescape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, quote: char, out: &mut Vec<u8>) -> Option<()> {
    let c = chars.next()?;
    let simple = match c {
        'a' => Some(7u8),
        'b' => Some(8),
        'f' => Some(12),
        'n' => Some(b'\n'),
        'r' => Some(b'\r'),
        't' => Some(b'\t'),
        'v' => Some(11),
        '\\' => Some(b'\\'),
        c if c == quote => Some(c as u8),
        _ => None,
    };
    if let Some(b) = simple {
        out.push(b);
        return Some(());
    }
    match c {
        'x' => {
            let v = hex_digits(chars, 2)?;
            out.push(v as u8);
        }
        'u' | 'U' => {
            let v = hex_digits(chars, if c == 'u' { 4 } else { 8 })?;
            let ch = char::from_u32(v)?;
            let mut buf = [0u8; 4];
            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
        }
        '0'..='7' => {
            let mut v = c.to_digit(8)?;
            for _ in 0..2 {
                v = v * 8 + chars.next()?.to_digit(8)?;
            }
            if v > 255 {
                return None;
            }
            out.push(v as u8);
        }
        _ => return None,
    }
    Some(())
}

fn hex_digits(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, n: usize) -> Option<u32> {
    let mut v: u32 = 0;
    for _ in 0..n {
        v = v.checked_mul(16)?.checked_add(chars.next()?.to_digit(16)?)?;
    }
    Some(v)
}

/// Why a number literal is rejected at parse time.
#[derive(Debug, PartialEq)]
pub enum NumberError {
    Illegal,
    /// A bad escape in a character constant.
    InvalidSyntax,
    IntegerOverflow,
    Complex,
}

/// Types a number literal as Go does for an untyped constant in a template.
pub fn parse_number(text: &str) -> Result<Number, NumberError> {
    if text.starts_with('\'') {
        return unquote_char_checked(text)
            .map(Number::Int)
            .map_err(|bad_escape| if bad_escape { NumberError::InvalidSyntax } else { NumberError::Illegal });
    }
    if text.ends_with('i') {
        return Err(NumberError::Complex);
    }
    let (neg, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let is_hex = body.len() > 2 && (body.starts_with("0x") || body.starts_with("0X"));
    let looks_float = if is_hex { body.contains(['p', 'P']) } else { body.contains(['.', 'e', 'E', 'p', 'P']) };
    if !looks_float && let Some(u) = parse_uint(body) {
        {
            if neg {
                if u <= 1u64 << 63 {
                    return Ok(Number::Int((u as i64).wrapping_neg()));
                }
            } else if let Ok(i) = i64::try_from(u) {
                return Ok(Number::Int(i));
            } else {
                return Ok(Number::Overflow);
            }
        }
    }
    match parse_float(body) {
        Some(f) => {
            if !looks_float {
                return Err(NumberError::IntegerOverflow);
            }
            let f = if neg { -f } else { f };
            // An integral float written like "1e3" is still a float in an untyped context.
            Ok(Number::Float(f))
        }
        None => Err(NumberError::Illegal),
    }
}

/// Underscores only between digits or after a base prefix, as Go's syntax allows.
fn underscores_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let mut prev_ok = false; // previous char is a digit or base prefix
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1] | 0x20, b'x' | b'o' | b'b') {
        i = 2;
        prev_ok = true;
    }
    let mut saw_digit = false;
    while i < b.len() {
        let c = b[i];
        if c == b'_' {
            if !prev_ok {
                return false;
            }
            prev_ok = false;
        } else if c.is_ascii_hexdigit() {
            prev_ok = true;
            saw_digit = true;
        } else {
            // '.', exponent markers and signs reset.
            if !prev_ok && i > 0 && b[i - 1] == b'_' {
                return false;
            }
            prev_ok = false;
        }
        i += 1;
    }
    let _ = saw_digit;
    !s.ends_with('_')
}

fn parse_uint(s: &str) -> Option<u64> {
    if s.is_empty() || !underscores_ok(s) {
        return None;
    }
    let clean: String = s.chars().filter(|c| *c != '_').collect();
    let (radix, digits) = if let Some(d) = clean.strip_prefix("0x").or_else(|| clean.strip_prefix("0X")) {
        (16, d)
    } else if let Some(d) = clean.strip_prefix("0o").or_else(|| clean.strip_prefix("0O")) {
        (8, d)
    } else if let Some(d) = clean.strip_prefix("0b").or_else(|| clean.strip_prefix("0B")) {
        (2, d)
    } else if clean.len() > 1 && clean.starts_with('0') {
        (8, &clean[1..])
    } else {
        (10, clean.as_str())
    };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

fn parse_float(s: &str) -> Option<f64> {
    if s.is_empty() || !underscores_ok(s) {
        return None;
    }
    let clean: String = s.chars().filter(|c| *c != '_').collect();
    if let Some(h) = clean.strip_prefix("0x").or_else(|| clean.strip_prefix("0X")) {
        return parse_hex_float(h);
    }
    if !clean.bytes().all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-')) {
        return None;
    }
    if !clean.bytes().any(|c| c.is_ascii_digit()) {
        return None;
    }
    clean.parse::<f64>().ok().filter(|f| f.is_finite())
}

fn parse_hex_float(h: &str) -> Option<f64> {
    let (mant, exp) = match h.find(['p', 'P']) {
        Some(i) => (&h[..i], h[i + 1..].parse::<i32>().ok()?),
        None => return None,
    };
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut v = 0f64;
    for c in int.chars() {
        v = v * 16.0 + f64::from(c.to_digit(16)?);
    }
    let mut scale = 1.0 / 16.0;
    for c in frac.chars() {
        v += f64::from(c.to_digit(16)?) * scale;
        scale /= 16.0;
    }
    let f = v * 2f64.powi(exp);
    f.is_finite().then_some(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings() {
        assert_eq!(unquote(r#""a\tb\x41\u00e9\101""#).as_deref(), Some("a\tbAéA"));
        assert_eq!(unquote("`a\\n`").as_deref(), Some("a\\n"));
        assert_eq!(unquote(r#""\'""#), None);
        assert_eq!(unquote_char_checked(r"'\n'"), Ok(10));
        assert_eq!(unquote_char_checked("'ab'"), Err(false));
        assert_eq!(unquote_char_checked(r"'\q'"), Err(true));
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number("0x1F"), Ok(Number::Int(31)));
        assert_eq!(parse_number("0o17"), Ok(Number::Int(15)));
        assert_eq!(parse_number("017"), Ok(Number::Int(15)));
        assert_eq!(parse_number("0b101"), Ok(Number::Int(5)));
        assert_eq!(parse_number("1_000"), Ok(Number::Int(1000)));
        assert_eq!(parse_number("-7"), Ok(Number::Int(-7)));
        assert_eq!(parse_number("1e3"), Ok(Number::Float(1000.0)));
        assert_eq!(parse_number(".5"), Ok(Number::Float(0.5)));
        assert_eq!(parse_number("0x1p-2"), Ok(Number::Float(0.25)));
        assert_eq!(parse_number("'a'"), Ok(Number::Int(97)));
        assert_eq!(parse_number("18446744073709551615"), Ok(Number::Overflow));
        assert_eq!(parse_number("99999999999999999999"), Err(NumberError::IntegerOverflow));
        assert_eq!(parse_number("1__0"), Err(NumberError::Illegal));
    }
}
