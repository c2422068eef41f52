//! Regular expressions (Go's RE2 syntax, which the `regex` crate shares): `regexMatch`,
//! `regexFind`, `regexFindAll`, `regexReplaceAll`, `regexReplaceAllLiteral`, `regexSplit`,
//! `regexQuoteMeta` and the `must*` variants. Compile error messages are the `regex`
//! crate's, not Go's.

use regex::{NoExpand, Regex};

use super::{call_err, int_arg, reg, str_arg, str_list};
use crate::template::{Arity, FuncError, FuncMap, Value};

/// Go's wording of a compile error, for the common ones; others keep the `regex`
/// crate's description.
fn go_syntax_error(re: &str, e: &regex::Error) -> String {
    let text = e.to_string();
    let what = text.lines().find_map(|l| l.strip_prefix("error: ")).unwrap_or(&text).to_string();
    match what.as_str() {
        "unclosed group" => format!("missing closing ): `{re}`"),
        "unclosed character class" => {
            let from = re.rfind('[').unwrap_or(0);
            format!("missing closing ]: `{}`", &re[from..])
        }
        "unopened group" => format!("unexpected ): `{re}`"),
        _ => what,
    }
}

/// `regexp.Compile`.
fn compile(re: &str) -> Result<Regex, FuncError> {
    Regex::new(re).map_err(|e| call_err(format!("error parsing regexp: {}", go_syntax_error(re, &e))))
}

/// `regexp.MustCompile`: the panic message Go gives.
fn must_compile(re: &str) -> Result<Regex, FuncError> {
    Regex::new(re)
        .map_err(|e| call_err(format!("regexp: Compile(`{re}`): error parsing regexp: {}", go_syntax_error(re, &e))))
}

fn find_all(re: &Regex, s: &str, n: i64) -> Vec<String> {
    let it = re.find_iter(s).map(|m| m.as_str().to_string());
    if n < 0 { it.collect() } else { it.take(n as usize).collect() }
}

/// Go's `(*Regexp).Split`.
fn split(re: &Regex, s: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    if !re.as_str().is_empty() && s.is_empty() {
        return vec![String::new()];
    }
    let matches: Vec<(usize, usize)> = {
        let it = re.find_iter(s).map(|m| (m.start(), m.end()));
        if n < 0 { it.collect() } else { it.take(n as usize).collect() }
    };
    let mut out = Vec::new();
    let (mut beg, mut end) = (0, 0);
    for (a, b) in matches {
        if n > 0 && out.len() as i64 == n - 1 {
            break;
        }
        end = a;
        if b != 0 {
            out.push(s[beg..end].to_string());
        }
        beg = b;
    }
    if end != s.len() {
        out.push(s[beg..].to_string());
    }
    out
}

/// Go's `regexp.QuoteMeta`.
fn quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if r"\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub(super) fn register(m: &mut FuncMap) {
    reg(m, "regexMatch", Arity::Exact(2), |a| {
        Ok(Value::Bool(compile(str_arg(a, 0)?).is_ok_and(|r| r.is_match(str_arg(a, 1).unwrap_or("")))))
    });
    reg(m, "mustRegexMatch", Arity::Exact(2), |a| Ok(Value::Bool(compile(str_arg(a, 0)?)?.is_match(str_arg(a, 1)?))));
    for (name, comp) in [("regexFindAll", must_compile as fn(&str) -> _), ("mustRegexFindAll", compile)] {
        reg(m, name, Arity::Exact(3), move |a| {
            let (re, s, n) = (comp(str_arg(a, 0)?)?, str_arg(a, 1)?, int_arg(a, 2)?);
            Ok(str_list(find_all(&re, s, n)))
        });
    }
    for (name, comp) in [("regexFind", must_compile as fn(&str) -> _), ("mustRegexFind", compile)] {
        reg(m, name, Arity::Exact(2), move |a| {
            let re = comp(str_arg(a, 0)?)?;
            Ok(Value::from(re.find(str_arg(a, 1)?).map(|m| m.as_str()).unwrap_or("")))
        });
    }
    for (name, comp) in [("regexReplaceAll", must_compile as fn(&str) -> _), ("mustRegexReplaceAll", compile)] {
        reg(m, name, Arity::Exact(3), move |a| {
            let re = comp(str_arg(a, 0)?)?;
            Ok(Value::String(re.replace_all(str_arg(a, 1)?, str_arg(a, 2)?).into_owned()))
        });
    }
    for (name, comp) in
        [("regexReplaceAllLiteral", must_compile as fn(&str) -> _), ("mustRegexReplaceAllLiteral", compile)]
    {
        reg(m, name, Arity::Exact(3), move |a| {
            let re = comp(str_arg(a, 0)?)?;
            Ok(Value::String(re.replace_all(str_arg(a, 1)?, NoExpand(str_arg(a, 2)?)).into_owned()))
        });
    }
    for (name, comp) in [("regexSplit", must_compile as fn(&str) -> _), ("mustRegexSplit", compile)] {
        reg(m, name, Arity::Exact(3), move |a| {
            let (re, s, n) = (comp(str_arg(a, 0)?)?, str_arg(a, 1)?, int_arg(a, 2)?);
            Ok(str_list(split(&re, s, n)))
        });
    }
    reg(m, "regexQuoteMeta", Arity::Exact(1), |a| Ok(Value::String(quote_meta(str_arg(a, 0)?))));
}

#[cfg(test)]
mod tests {
    use super::super::test_util::check;

    #[test]
    fn regexes() {
        check(
            r#"{{ regexMatch "^[a-z]+$" "abc" }} {{ regexFind "[0-9]+" "a12b3" }} {{ regexFindAll "[0-9]" "a1b2c3" 2 }}"#,
            "true 12 [1 2]",
        );
        check(
            r#"{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }} {{ regexReplaceAllLiteral "a" "aa" "$1" }}"#,
            "-W-xxW- $1$1",
        );
        check(
            r#"{{ regexSplit "z+" "pizza" -1 }} {{ regexSplit "z+" "pizza" 1 }} {{ regexQuoteMeta "1.5+" }}"#,
            r"[pi a] [pizza] 1\.5\+",
        );
    }
}
