//! Strings: trimming, case, substrings, abbreviation, wrapping, quoting, splitting, joining.

use super::{call_err, int_arg, reg, str_arg, str_list, strslice, strval};
use crate::template::{Arity, FuncError, FuncMap, Map, Value, quote};

fn s1(m: &mut FuncMap, name: &str, f: fn(&str) -> String) {
    reg(m, name, Arity::Exact(1), move |a| Ok(Value::String(f(str_arg(a, 0)?))));
}

/// Go's `unicode.IsSpace`.
fn is_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{85}' | '\u{a0}')
        || (c as u32 > 0xff && c.is_whitespace())
}

/// Go's `strings.Title` word separators.
fn is_title_separator(c: char) -> bool {
    if c.is_ascii() {
        return !(c.is_ascii_alphanumeric() || c == '_');
    }
    if c.is_alphanumeric() {
        return false;
    }
    is_space(c)
}

fn title(s: &str) -> String {
    let mut prev = ' ';
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_title_separator(prev) {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev = c;
    }
    out
}

/// goutils' `Uncapitalize`: the first letter of each whitespace-separated word lowered.
fn untitle(s: &str) -> String {
    let mut prev_space = true;
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if prev_space {
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
        prev_space = is_space(c);
    }
    out
}

fn initials(s: &str) -> String {
    let mut prev_space = true;
    let mut out = String::new();
    for c in s.chars() {
        if prev_space && !is_space(c) {
            out.push(c);
        }
        prev_space = is_space(c);
    }
    out
}

fn swapcase(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_uppercase() {
            out.extend(c.to_lowercase());
        } else if c.is_lowercase() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn is_connector(c: char) -> bool {
    c == '-' || c == '_' || is_space(c)
}

fn upper1(c: char) -> char {
    c.to_uppercase().next().unwrap_or(c)
}

fn lower1(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

/// xstrings' `ToCamelCase`: connectors (`-`, `_`, spaces) dropped and the next letter
/// upper-cased; other letters lowered; leading connectors and the last of a run kept.
fn camelcase(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    let mut cur = None;
    for c in chars.by_ref() {
        if !is_connector(c) {
            cur = Some(upper1(c));
            break;
        }
        out.push(c);
    }
    let Some(mut r0) = cur else { return out };
    for c in chars {
        let r1 = r0;
        r0 = c;
        if is_connector(r0) && is_connector(r1) {
            out.push(r1);
            continue;
        }
        if is_connector(r1) {
            r0 = upper1(r0);
        } else {
            r0 = lower1(r0);
            out.push(r1);
        }
    }
    out.push(r0);
    out
}

/// xstrings' word kinds for snake_case and kebab-case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Word {
    End,
    Number,
    Upper,
    Alpha,
    Connector,
    Punct,
    Other,
}

/// A letter, except CJK ideographs (xstrings' `isAlphabet`).
fn is_alphabet(c: char) -> bool {
    c.is_alphabetic() && !(0x2E80..=0x9FFF).contains(&(c as u32))
}

/// Go's `unicode.IsPunct` (category P), exactly for ASCII.
fn is_punct(c: char) -> bool {
    if c.is_ascii() {
        return "!\"#%&'()*,-./:;?@[\\]_{}".contains(c);
    }
    !c.is_alphanumeric()
        && !c.is_whitespace()
        && !c.is_control()
        && "‐‑‒–—―‘’“”†‡•…‰′″‹›«»¡¿§¶·、。「」『』【】".contains(c)
}

/// Splits off the next word as xstrings' `nextWord` does: runs of connectors, of
/// punctuation, of digits, a lower-case word, a capitalised word, or an acronym (whose
/// last capital starts the next word when a lower-case letter follows).
fn next_word(s: &str) -> (Word, &str, &str) {
    let mut it = s.char_indices().peekable();
    let Some((_, first)) = it.next() else { return (Word::End, "", "") };
    let take_while = |start: usize, f: &dyn Fn(char) -> bool| -> usize {
        let mut end = start;
        for (i, c) in s[start..].char_indices() {
            if !f(c) {
                return start + i;
            }
            end = start + i + c.len_utf8();
        }
        end
    };
    let after = first.len_utf8();
    let (kind, end) = if is_connector(first) {
        (Word::Connector, take_while(after, &is_connector))
    } else if is_punct(first) {
        (Word::Punct, take_while(after, &is_punct))
    } else if first.is_uppercase() {
        match s[after..].chars().next() {
            Some(c) if c.is_uppercase() => {
                let end = take_while(after, &|c: char| c.is_uppercase());
                match s[end..].chars().next() {
                    Some(n) if is_alphabet(n) => {
                        let last = s[..end].chars().next_back().map(char::len_utf8).unwrap_or(0);
                        (Word::Upper, end - last)
                    }
                    _ => (Word::Upper, end),
                }
            }
            Some(c) if is_alphabet(c) => {
                (Word::Upper, take_while(after, &|c: char| is_alphabet(c) && !c.is_uppercase()))
            }
            _ => (Word::Upper, after),
        }
    } else if is_alphabet(first) {
        (Word::Alpha, take_while(after, &|c: char| is_alphabet(c) && !c.is_uppercase()))
    } else if first.is_numeric() {
        (Word::Number, take_while(after, &char::is_numeric))
    } else {
        let other = |c: char| !(is_connector(c) || is_alphabet(c) || c.is_numeric() || is_punct(c));
        (Word::Other, take_while(after, &other))
    };
    (kind, &s[..end], &s[end..])
}

fn push_lower(out: &mut String, kind: Word, word: &str, sep: char) {
    if kind != Word::Upper && kind != Word::Connector {
        out.push_str(word);
        return;
    }
    for c in word.chars() {
        if is_connector(c) {
            out.push(sep);
        } else if c.is_uppercase() {
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
}

/// xstrings' `ToSnakeCase`/`ToKebabCase`: words lowered and joined with `sep`; each
/// connector character becomes one `sep`; digits stick to the word before them unless a
/// lower-case word follows (`version2Beta` → `version2_beta`, `ab12cd` → `ab_12cd`).
fn lower_words(s: &str, sep: char) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    let (mut kind, mut word, mut rest) = next_word(s);
    while !rest.is_empty() {
        if kind != Word::Connector {
            push_lower(&mut out, kind, word, sep);
        }
        let (prev, last) = (kind, word);
        (kind, word, rest) = next_word(rest);
        match prev {
            Word::Number => {
                while kind == Word::Alpha || kind == Word::Number {
                    push_lower(&mut out, kind, word, sep);
                    (kind, word, rest) = next_word(rest);
                }
                if !matches!(kind, Word::End | Word::Punct | Word::Connector) {
                    out.push(sep);
                }
            }
            Word::Connector => push_lower(&mut out, prev, last, sep),
            Word::Punct => {}
            _ => {
                if kind != Word::Number {
                    if kind != Word::Connector && kind != Word::Punct {
                        out.push(sep);
                    }
                    continue;
                }
                if rest.is_empty() {
                    continue;
                }
                let number = word;
                (kind, word, rest) = next_word(rest);
                if kind != Word::Alpha {
                    push_lower(&mut out, Word::Number, number, sep);
                    if kind != Word::Connector && kind != Word::Punct {
                        out.push(sep);
                    }
                    continue;
                }
                out.push(sep);
                push_lower(&mut out, Word::Number, number, sep);
                while kind == Word::Alpha || kind == Word::Number {
                    push_lower(&mut out, kind, word, sep);
                    (kind, word, rest) = next_word(rest);
                }
                if !matches!(kind, Word::End | Word::Connector | Word::Punct) {
                    out.push(sep);
                }
            }
        }
    }
    push_lower(&mut out, kind, word, sep);
    out
}

/// Go's `s[a:b]` on bytes, lossily back to a string.
fn byte_slice(s: &str, a: usize, b: usize) -> String {
    String::from_utf8_lossy(&s.as_bytes()[a..b]).into_owned()
}

fn bounds_panic(a: i64, b: i64, len: usize) -> FuncError {
    if a > b && b >= 0 && (b as usize) <= len {
        call_err(format!("runtime error: slice bounds out of range [{a}:{b}]"))
    } else if b < 0 || b as usize > len {
        call_err(format!("runtime error: slice bounds out of range [:{b}] with length {len}"))
    } else {
        call_err(format!("runtime error: slice bounds out of range [{a}:{b}]"))
    }
}

fn substr(start: i64, end: i64, s: &str) -> Result<String, FuncError> {
    let len = s.len();
    let (a, b) = if start < 0 {
        (0, end)
    } else if end < 0 || end as usize > len {
        (start, len as i64)
    } else {
        (start, end)
    };
    if a < 0 || b < 0 || a > b || b as usize > len {
        if start < 0 && end < 0 {
            return Err(call_err(format!("runtime error: slice bounds out of range [:{end}]")));
        }
        if start >= 0 && (start as usize) > len && (end < 0 || end as usize > len) {
            return Err(call_err(format!("runtime error: slice bounds out of range [{start}:{len}]")));
        }
        return Err(bounds_panic(a, b, len));
    }
    Ok(byte_slice(s, a as usize, b as usize))
}

fn trunc(c: i64, s: &str) -> String {
    let len = s.len() as i64;
    if c < 0 && len + c > 0 {
        byte_slice(s, (len + c) as usize, s.len())
    } else if c >= 0 && len > c {
        byte_slice(s, 0, c as usize)
    } else {
        s.to_string()
    }
}

/// goutils' `AbbreviateFull`: `None` where goutils returns an error.
fn abbreviate_full(s: &str, offset: i64, width: i64) -> Option<String> {
    let len = s.len() as i64;
    if s.is_empty() {
        return Some(String::new());
    }
    if width < 4 {
        return None;
    }
    if len <= width {
        return Some(s.to_string());
    }
    let mut offset = offset.min(len);
    if len - offset < width - 3 {
        offset = len - (width - 3);
    }
    if offset <= 4 {
        return Some(format!("{}...", byte_slice(s, 0, (width - 3) as usize)));
    }
    if width < 7 {
        return None;
    }
    if offset + width - 3 < len {
        let rest = byte_slice(s, offset as usize, s.len());
        return Some(format!("...{}", abbreviate_full(&rest, 0, width - 3)?));
    }
    Some(format!("...{}", byte_slice(s, (len - (width - 3)) as usize, s.len())))
}

/// goutils' `WrapCustom`.
fn wrap(s: &str, width: i64, newline: &str, long_words: bool) -> String {
    if s.is_empty() {
        return String::new();
    }
    let newline = if newline.is_empty() { "\n" } else { newline };
    let width = width.max(1) as usize;
    let b = s.as_bytes();
    let len = b.len();
    let mut offset = 0;
    let mut out: Vec<u8> = Vec::with_capacity(len + 8);
    while len - offset > width {
        if b[offset] == b' ' {
            offset += 1;
            continue;
        }
        let end = (width + offset + 1).min(len);
        let space = b[offset..end].iter().rposition(|&c| c == b' ');
        if let Some(sp) = space {
            out.extend_from_slice(&b[offset..offset + sp]);
            out.extend_from_slice(newline.as_bytes());
            offset += sp + 1;
        } else if long_words {
            out.extend_from_slice(&b[offset..width + offset]);
            out.extend_from_slice(newline.as_bytes());
            offset += width;
        } else {
            let end = width + offset;
            match b[end..].iter().position(|&c| c == b' ') {
                None => {
                    out.extend_from_slice(&b[offset..]);
                    offset = len;
                }
                Some(i) => {
                    out.extend_from_slice(&b[offset..end + i]);
                    out.extend_from_slice(newline.as_bytes());
                    offset = end + i + 1;
                }
            }
        }
    }
    out.extend_from_slice(&b[offset..]);
    String::from_utf8_lossy(&out).into_owned()
}

fn repeat(s: &str, n: i64) -> Result<String, FuncError> {
    if n < 0 {
        return Err(call_err("strings: negative Repeat count"));
    }
    super::check_len(s.len() as u128 * n as u128, "strings: Repeat")?;
    Ok(s.repeat(n as usize))
}

/// Go's `strings.Split` (an empty separator splits into characters).
pub(crate) fn go_split(s: &str, sep: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    if sep.is_empty() {
        let chars: Vec<String> = s.chars().map(String::from).collect();
        if n > 0 && (n as usize) < chars.len() {
            let mut v: Vec<String> = chars[..n as usize - 1].to_vec();
            let skip: usize = v.iter().map(String::len).sum();
            v.push(s[skip..].to_string());
            return v;
        }
        return chars;
    }
    if n < 0 { s.split(sep).map(String::from).collect() } else { s.splitn(n as usize, sep).map(String::from).collect() }
}

fn numbered(parts: Vec<String>) -> Value {
    let m: Map = parts.into_iter().enumerate().map(|(i, p)| (format!("_{i}"), Value::String(p))).collect();
    Value::map(m)
}

fn shuffle(s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    for i in (1..chars.len()).rev() {
        let j = (super::random::next_u64() % (i as u64 + 1)) as usize;
        chars.swap(i, j);
    }
    chars.into_iter().collect()
}

pub(super) fn register(m: &mut FuncMap) {
    s1(m, "trim", |s| s.trim_matches(is_space).to_string());
    s1(m, "upper", |s| s.to_uppercase());
    s1(m, "lower", |s| s.to_lowercase());
    s1(m, "title", title);
    s1(m, "untitle", untitle);
    s1(m, "nospace", |s| s.chars().filter(|c| !is_space(*c)).collect());
    s1(m, "initials", initials);
    s1(m, "swapcase", swapcase);
    s1(m, "snakecase", |s| lower_words(s, '_'));
    s1(m, "kebabcase", |s| lower_words(s, '-'));
    s1(m, "camelcase", camelcase);
    s1(m, "shuffle", shuffle);
    for name in ["trimAll", "trimall"] {
        reg(m, name, Arity::Exact(2), |a| {
            let cut: Vec<char> = str_arg(a, 0)?.chars().collect();
            Ok(Value::String(str_arg(a, 1)?.trim_matches(cut.as_slice()).to_string()))
        });
    }
    reg(m, "trimPrefix", Arity::Exact(2), |a| {
        let (p, s) = (str_arg(a, 0)?, str_arg(a, 1)?);
        Ok(Value::from(s.strip_prefix(p).unwrap_or(s)))
    });
    reg(m, "trimSuffix", Arity::Exact(2), |a| {
        let (p, s) = (str_arg(a, 0)?, str_arg(a, 1)?);
        Ok(Value::from(s.strip_suffix(p).unwrap_or(s)))
    });
    reg(m, "repeat", Arity::Exact(2), |a| Ok(Value::String(repeat(str_arg(a, 1)?, int_arg(a, 0)?)?)));
    reg(m, "substr", Arity::Exact(3), |a| Ok(Value::String(substr(int_arg(a, 0)?, int_arg(a, 1)?, str_arg(a, 2)?)?)));
    reg(m, "trunc", Arity::Exact(2), |a| Ok(Value::String(trunc(int_arg(a, 0)?, str_arg(a, 1)?))));
    reg(m, "abbrev", Arity::Exact(2), |a| {
        let (w, s) = (int_arg(a, 0)?, str_arg(a, 1)?);
        Ok(Value::String(if w < 4 { s.to_string() } else { abbreviate_full(s, 0, w).unwrap_or_default() }))
    });
    reg(m, "abbrevboth", Arity::Exact(3), |a| {
        let (l, r, s) = (int_arg(a, 0)?, int_arg(a, 1)?, str_arg(a, 2)?);
        if r < 4 || (l > 0 && r < 7) {
            return Ok(Value::from(s));
        }
        Ok(Value::String(abbreviate_full(s, l, r).unwrap_or_default()))
    });
    reg(m, "wrap", Arity::Exact(2), |a| Ok(Value::String(wrap(str_arg(a, 1)?, int_arg(a, 0)?, "", false))));
    reg(m, "wrapWith", Arity::Exact(3), |a| {
        Ok(Value::String(wrap(str_arg(a, 2)?, int_arg(a, 0)?, str_arg(a, 1)?, true)))
    });
    reg(m, "contains", Arity::Exact(2), |a| Ok(Value::Bool(str_arg(a, 1)?.contains(str_arg(a, 0)?))));
    reg(m, "hasPrefix", Arity::Exact(2), |a| Ok(Value::Bool(str_arg(a, 1)?.starts_with(str_arg(a, 0)?))));
    reg(m, "hasSuffix", Arity::Exact(2), |a| Ok(Value::Bool(str_arg(a, 1)?.ends_with(str_arg(a, 0)?))));
    reg(m, "quote", Arity::AtLeast(0), |a| {
        let parts: Vec<String> =
            a.iter().filter(|v| !matches!(v, Value::Nil)).map(|v| quote(&strval(v), false)).collect();
        Ok(Value::String(parts.join(" ")))
    });
    reg(m, "squote", Arity::AtLeast(0), |a| {
        let parts: Vec<String> =
            a.iter().filter(|v| !matches!(v, Value::Nil)).map(|v| format!("'{}'", strval(v))).collect();
        Ok(Value::String(parts.join(" ")))
    });
    reg(m, "cat", Arity::AtLeast(0), |a| {
        let parts: Vec<String> = a
            .iter()
            .filter(|v| !matches!(v, Value::Nil))
            .map(|v| crate::template::sprint(std::slice::from_ref(v)))
            .collect();
        Ok(Value::String(parts.join(" ")))
    });
    reg(m, "indent", Arity::Exact(2), |a| {
        let pad = repeat(" ", int_arg(a, 0)?)?;
        Ok(Value::String(format!("{pad}{}", str_arg(a, 1)?.replace('\n', &format!("\n{pad}")))))
    });
    reg(m, "nindent", Arity::Exact(2), |a| {
        let pad = repeat(" ", int_arg(a, 0)?)?;
        Ok(Value::String(format!("\n{pad}{}", str_arg(a, 1)?.replace('\n', &format!("\n{pad}")))))
    });
    reg(m, "replace", Arity::Exact(3), |a| Ok(Value::String(str_arg(a, 2)?.replace(str_arg(a, 0)?, str_arg(a, 1)?))));
    reg(m, "plural", Arity::Exact(3), |a| {
        let (one, many, n) = (str_arg(a, 0)?, str_arg(a, 1)?, int_arg(a, 2)?);
        Ok(Value::from(if n == 1 { one } else { many }))
    });
    reg(m, "split", Arity::Exact(2), |a| Ok(numbered(go_split(str_arg(a, 1)?, str_arg(a, 0)?, -1))));
    reg(m, "splitn", Arity::Exact(3), |a| Ok(numbered(go_split(str_arg(a, 2)?, str_arg(a, 0)?, int_arg(a, 1)?))));
    reg(m, "splitList", Arity::Exact(2), |a| Ok(str_list(go_split(str_arg(a, 1)?, str_arg(a, 0)?, -1))));
    reg(m, "join", Arity::Exact(2), |a| {
        let sep = str_arg(a, 0)?;
        Ok(Value::String(strslice(&a[1]).join(sep)))
    });
    reg(m, "sortAlpha", Arity::Exact(1), |a| {
        let mut v = match &a[0] {
            Value::List(_) => strslice(&a[0]),
            v => vec![strval(v)],
        };
        v.sort();
        Ok(str_list(v))
    });
}

#[cfg(test)]
mod tests {
    use super::super::test_util::check;
    use super::*;

    #[test]
    fn strings() {
        check(r#"{{ trunc 3 "hello" }} {{ trunc -3 "hello" }} {{ substr 1 3 "hello" }}"#, "hel llo el");
        check(r#"{{ "a b" | title }} {{ "Ab Cd" | untitle }} {{ initials "hello world" }}"#, "A B ab cd hw");
        check(r#"{{ indent 2 "a\nb" }}|{{ nindent 1 "x" }}"#, "  a\n  b|\n x");
        check(r#"{{ quote "a" 1 }} {{ squote "b" }} {{ cat "a" 1 nil "b" }}"#, r#""a" "1" 'b' a 1 b"#);
        check(r#"{{ splitList "," "a,b" }} {{ (split "$" "x$y")._1 }} {{ join "-" (list 1 2) }}"#, "[a b] y 1-2");
    }

    #[test]
    fn cases() {
        assert_eq!(camelcase("http_server"), "HttpServer");
        assert_eq!(lower_words("FirstName", '_'), "first_name");
        assert_eq!(lower_words("HTTPServer", '-'), "http-server");
        assert_eq!(swapcase("aB"), "Ab");
    }

    #[test]
    fn abbreviation_and_wrap() {
        assert_eq!(abbreviate_full("hello world", 0, 5).as_deref(), Some("he..."));
        assert_eq!(wrap("hello world", 5, "", false), "hello\nworld");
    }
}
