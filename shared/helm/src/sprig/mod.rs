//! sprig: the function library Helm 3 registers (Masterminds/sprig v3.2), without `env` and
//! `expandenv`, which Helm removes.
//!
//! ```
//! use weir_helm::{sprig::sprig_funcs, template::{Template, Value}};
//! let mut t = Template::new("t").funcs(sprig_funcs());
//! t.parse(r#"{{ "hello" | upper | quote }} {{ add 1 2.5 }} {{ list 3 1 2 | sortAlpha }}"#).unwrap();
//! assert_eq!(t.execute(&Value::Nil).unwrap(), r#""HELLO" 3 [1 2 3]"#);
//! ```
//!
//! One file per family. Functions see arguments as Go's reflection would after
//! text/template's argument checks: a parameter Go declares as `string` or `int` rejects
//! other types with Go's message; `interface{}` parameters go through sprig's own
//! conversions (`strval`, `toInt64`, `toFloat64`, as spf13/cast does them).
//! A Go panic inside a sprig function (e.g. `first` of a string) is an error
//! `error calling NAME: MSG`, as Go's text/template recovers it, so `mustX` and `X` fail
//! alike.
//!
//! Checked against sprig itself by `tests/sprig_differential.rs` (Go 1.19, sprig 3.2.3
//! from Debian's golang-github-masterminds-sprig-dev).
//!
//! # Differences from sprig (not supported yet)
//! - Go's sized types: sprig's int64, `[]string`, `[]int` and `map[string]string` results
//!   are `int`, `[]interface {}` and `map[string]interface {}` here (`typeOf`, `kindOf`),
//!   so Go's type errors on them are not reproduced (Go rejects `trunc (add 1 2) "abc"`:
//!   an int64 for an `int` parameter; here it runs).
//! - `toJson` of a time or a semver version writes its `String()` form (Go: RFC 3339,
//!   and the version string, respectively: the same for versions).
//! - Crypto: `genPrivateKey "dsa"` is an error (sprig makes a DSA key); EC keys must be
//!   P-256; certificates carry a subject key identifier on leaves too (Go: CAs only), and a
//!   common name with `*` is a UTF8String (Go: PrintableString).
//! - Regular-expression compile errors use Go's wording for unclosed/unopened groups and
//!   classes only; others carry the `regex` crate's description.
//! - `toDate` understands zone abbreviations only for UTC/GMT; `now` prints without Go's
//!   monotonic clock suffix; `duration 90` (an `int` literal) is 1m30s where sprig gives 0s.
//! - `urlParse`/`urlJoin` follow Go's `net/url` for ordinary URLs but do not validate or
//!   re-escape (Go's `url.Parse` errors and `EscapedPath` rules are not reproduced).
//! - Random functions (`shuffle`, `randAlpha`, `uuidv4`, `randInt`, `randBytes`, …) use a
//!   non-cryptographic generator seeded from the OS's hash randomness and the clock.
//! - Results larger than 64 Mi bytes or elements (`repeat`, `untilStep`, `randAlpha` …)
//!   are errors instead of exhausting memory.

mod crypto;
mod dates;
mod defaults;
mod dicts;
mod encoding;
mod lists;
mod math;
mod misc;
mod random;
mod regex;
mod semver;
mod strings;
mod types;

use crate::template::{Arity, FuncError, FuncMap, Function, Map, MapRef, Param, Value, sprint};

/// sprig's functions as Helm registers them (`sprig.TxtFuncMap()` minus `env`, `expandenv`).
pub fn sprig_funcs() -> FuncMap {
    let mut m = FuncMap::new();
    defaults::register(&mut m);
    types::register(&mut m);
    strings::register(&mut m);
    lists::register(&mut m);
    dicts::register(&mut m);
    math::register(&mut m);
    encoding::register(&mut m);
    regex::register(&mut m);
    semver::register(&mut m);
    random::register(&mut m);
    misc::register(&mut m);
    dates::register(&mut m);
    crypto::register(&mut m);
    for (names, params) in SIGNATURES {
        for name in names.split_whitespace() {
            if let Some(f) = m.remove(name) {
                m.insert(name.to_string(), f.with_params(params));
            }
        }
    }
    m
}

/// The Go parameter types of sprig's functions that do not take `interface{}`, so that
/// text/template's argument checks apply as in Go (`upper 1` is an error, not "1").
/// The last type repeats for variadic functions.
const SIGNATURES: &[(&str, &[Param])] = {
    use Param::{Any, Bool, Int, Map as M, String as S};
    &[
        (
            "trim upper lower title untitle nospace initials swapcase snakecase kebabcase camelcase shuffle \
             atoi b64enc b64dec b32enc b32dec sha1sum sha256sum adler32sum regexQuoteMeta semver fail \
             fromJson mustFromJson base dir clean ext isAbs osBase osDir osClean osExt osIsAbs urlParse",
            &[S],
        ),
        (
            "trimAll trimall trimPrefix trimSuffix contains hasPrefix hasSuffix split splitList regexMatch \
             mustRegexMatch regexFind mustRegexFind semverCompare",
            &[S, S],
        ),
        ("typeIs typeIsLike kindIs join", &[S, Any]),
        ("repeat trunc abbrev wrap indent nindent", &[Int, S]),
        ("substr abbrevboth", &[Int, Int, S]),
        ("wrapWith", &[Int, S, S]),
        ("replace regexReplaceAll mustRegexReplaceAll regexReplaceAllLiteral mustRegexReplaceAllLiteral", &[S, S, S]),
        ("plural regexFindAll mustRegexFindAll regexSplit mustRegexSplit", &[S, S, Int]),
        ("splitn", &[S, Int, S]),
        ("ternary", &[Any, Any, Bool]),
        ("until randAlpha randNumeric randAlphaNum randAscii untilStep randInt seq", &[Int]),
        ("round", &[Any, Int, Param::Float64]),
        ("chunk mustChunk", &[Int, Any]),
        ("get unset hasKey pick omit", &[M, S]),
        ("set", &[M, S, Any]),
        ("pluck", &[S, M]),
        ("genCA", &[S, Int]),
        ("genCAWithKey", &[S, Int, S]),
        ("genSelfSignedCert", &[S, Any, Any, Int]),
        ("genSelfSignedCertWithKey", &[S, Any, Any, Int, S]),
        ("genSignedCert", &[S, Any, Any, Int, Any]),
        ("genSignedCertWithKey", &[S, Any, Any, Int, Any, S]),
        ("genPrivateKey bcrypt", &[S]),
        ("buildCustomCert htpasswd encryptAES decryptAES", &[S, S]),
        ("derivePassword", &[Any, S]),
        ("keys values merge mergeOverwrite mustMerge mustMergeOverwrite urlJoin", &[M]),
    ]
};

pub(crate) fn reg(
    m: &mut FuncMap,
    name: &str,
    arity: Arity,
    f: impl Fn(&[Value]) -> Result<Value, FuncError> + Send + Sync + 'static,
) {
    m.insert(name.to_string(), Function::new(arity, f));
}

/// Registers `name` and `mustName` with the same implementation (a panic in sprig's
/// plain variant and an error in its `must` variant both read `error calling NAME: …`).
pub(crate) fn reg_must(
    m: &mut FuncMap,
    name: &str,
    arity: Arity,
    f: impl Fn(&[Value]) -> Result<Value, FuncError> + Send + Sync + 'static,
) {
    let f = Function::new(arity, f);
    let mut must = String::from("must");
    let mut chars = name.chars();
    if let Some(c) = chars.next() {
        must.extend(c.to_uppercase());
        must.push_str(chars.as_str());
    }
    m.insert(name.to_string(), f.clone());
    m.insert(must, f);
}

/// The most a function may allocate for one result (Go would try and run out of memory).
pub(crate) const MAX_LEN: u128 = 1 << 26;

/// An error when a result of `n` units (bytes or elements) would exceed [`MAX_LEN`].
pub(crate) fn check_len(n: u128, what: &str) -> Result<(), FuncError> {
    if n > MAX_LEN { Err(call_err(format!("{what}: result too large ({n})"))) } else { Ok(()) }
}

pub(crate) fn call_err(msg: impl Into<String>) -> FuncError {
    FuncError::Call(msg.into())
}

fn wrong_type(want: &str, v: &Value) -> FuncError {
    match v {
        Value::Nil => FuncError::Exec(format!("invalid value; expected {want}")),
        v => FuncError::Exec(format!("wrong type for value; expected {want}; got {}", v.type_name())),
    }
}

/// An argument Go declares as `string`.
pub(crate) fn str_arg(args: &[Value], i: usize) -> Result<&str, FuncError> {
    match args.get(i) {
        Some(Value::String(s)) => Ok(s),
        Some(v) => Err(wrong_type("string", v)),
        None => Ok(""),
    }
}

/// An argument Go declares as `int`.
pub(crate) fn int_arg(args: &[Value], i: usize) -> Result<i64, FuncError> {
    match args.get(i) {
        Some(Value::Int(n)) => Ok(*n),
        Some(v) => Err(wrong_type("int", v)),
        None => Ok(0),
    }
}

/// An argument Go declares as `float64` (template number literals fit).
pub(crate) fn float_arg(args: &[Value], i: usize) -> Result<f64, FuncError> {
    match args.get(i) {
        Some(Value::Float(f)) => Ok(*f),
        Some(Value::Int(n)) => Ok(*n as f64),
        Some(v) => Err(wrong_type("float64", v)),
        None => Ok(0.0),
    }
}

/// An argument Go declares as `bool`.
pub(crate) fn bool_arg(args: &[Value], i: usize) -> Result<bool, FuncError> {
    match args.get(i) {
        Some(Value::Bool(b)) => Ok(*b),
        Some(v) => Err(wrong_type("bool", v)),
        None => Ok(false),
    }
}

/// An argument Go declares as `map[string]interface{}`: the shared map, `None` for a nil map.
pub(crate) fn map_arg(args: &[Value], i: usize) -> Result<Option<MapRef>, FuncError> {
    match args.get(i) {
        Some(Value::Map(m)) => Ok(Some(m.clone())),
        Some(Value::Nil) | None => Ok(None),
        Some(v) => Err(wrong_type("map[string]interface {}", v)),
    }
}

/// A copy of a map argument's entries (nil is empty).
pub(crate) fn map_entries(args: &[Value], i: usize) -> Result<Map, FuncError> {
    Ok(map_arg(args, i)?.map(|m| m.snapshot()).unwrap_or_default())
}

/// sprig's `strval`: strings as they are, anything else as `%v` prints it.
pub(crate) fn strval(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        v => sprint(std::slice::from_ref(v)),
    }
}

/// spf13/cast's `ToInt64` as sprig uses it (errors give 0).
pub(crate) fn to_i64(v: &Value) -> i64 {
    match v {
        Value::Int(n) => *n,
        // Go on amd64: NaN and out-of-range conversions give the minimum int64.
        Value::Float(f) => {
            if f.is_nan() || *f >= 9.223_372_036_854_776e18 || *f < -9.223_372_036_854_776e18 {
                i64::MIN
            } else {
                *f as i64
            }
        }
        Value::Bool(b) => i64::from(*b),
        Value::String(s) => parse_go_int(trim_zero_decimal(s)).unwrap_or(0),
        _ => 0,
    }
}

/// spf13/cast's `ToFloat64` (errors give 0).
pub(crate) fn to_f64(v: &Value) -> f64 {
    match v {
        Value::Int(n) => *n as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::String(s) => parse_go_float(s).unwrap_or(0.0),
        _ => 0.0,
    }
}

/// cast's `trimZeroDecimal`: "12.000" is "12".
fn trim_zero_decimal(s: &str) -> &str {
    let Some(dot) = s.find('.') else { return s };
    let frac = &s[dot + 1..];
    if !frac.is_empty() && frac.bytes().all(|b| b == b'0') { &s[..dot] } else { s }
}

/// Go's `strconv.ParseInt(s, 0, 64)`: sign, base prefixes 0x 0o 0b and leading-0 octal,
/// underscores between digits when a prefix is present.
pub(crate) fn parse_go_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return None;
    }
    let lower = body.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d.to_string(), true)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d.to_string(), true)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d.to_string(), true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_string(), true)
    } else {
        (10, lower.clone(), false)
    };
    // Base 0 allows underscores between digits (and after a base prefix).
    let digits = if digits.contains('_') {
        let d = if prefixed && radix != 8 || lower.starts_with("0o") { format!("_{digits}") } else { digits };
        let d = d.strip_prefix('_').unwrap_or(&d).to_string();
        if d.starts_with('_') || d.ends_with('_') || d.contains("__") {
            return None;
        }
        d.replace('_', "")
    } else {
        digits
    };
    if digits.is_empty() || digits.starts_with('+') || digits.starts_with('-') {
        return None;
    }
    let mag = u64::from_str_radix(&digits, radix).ok()?;
    if neg {
        if mag <= i64::MAX as u64 + 1 { Some((mag as i128).wrapping_neg() as i64) } else { None }
    } else {
        i64::try_from(mag).ok()
    }
}

/// Go's `strconv.ParseFloat(s, 64)` for the common decimal forms plus inf/nan.
pub(crate) fn parse_go_float(s: &str) -> Option<f64> {
    let t = s.to_ascii_lowercase();
    let body = t.trim_start_matches(['+', '-']);
    if matches!(body, "inf" | "infinity" | "nan") {
        return t.parse::<f64>().ok();
    }
    // Hexadecimal floats (which need a `p` exponent in Go) are not supported: 0.
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'+' | b'-' | b'_')) {
        return None;
    }
    t.replace('_', "").parse::<f64>().ok()
}

/// Go's `reflect.TypeOf(v).Kind()` name for sprig's "Cannot … type %s" messages.
pub(crate) fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Nil => "invalid",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Float(_) => "float64",
        Value::String(_) => "string",
        Value::List(_) => "slice",
        Value::Map(_) => "map",
        Value::Func(_) => "func",
        Value::Object(_) => "ptr",
    }
}

/// Go's panic when sprig calls `reflect.TypeOf(nil).Kind()`.
pub(crate) const NIL_DEREF: &str = "runtime error: invalid memory address or nil pointer dereference";

/// A list of strings.
pub(crate) fn str_list(items: impl IntoIterator<Item = String>) -> Value {
    Value::list(items.into_iter().map(Value::String).collect())
}

/// sprig's `strslice`: the string form of a list's elements (nils dropped from
/// `[]interface{}`), or a one-element list.
pub(crate) fn strslice(v: &Value) -> Vec<String> {
    match v {
        Value::List(l) => l.iter().filter(|x| !matches!(x, Value::Nil)).map(strval).collect(),
        Value::Nil => Vec::new(),
        v => vec![strval(v)],
    }
}

/// Go's `empty` as sprig defines it.
pub(crate) fn is_empty(v: &Value) -> bool {
    match v {
        Value::Nil => true,
        Value::Bool(b) => !b,
        Value::Int(n) => *n == 0,
        Value::Float(f) => *f == 0.0,
        Value::String(s) => s.is_empty(),
        Value::List(l) => l.is_empty(),
        Value::Map(m) => m.read().is_empty(),
        Value::Func(_) | Value::Object(_) => false,
    }
}

#[cfg(test)]
pub(crate) mod test_util {
    use crate::template::{Template, Value};

    pub fn render(text: &str) -> Result<String, String> {
        render_with(text, serde_json::Value::Null)
    }

    pub fn render_with(text: &str, data: serde_json::Value) -> Result<String, String> {
        let mut t = Template::new("t").funcs(super::sprig_funcs());
        t.parse(text).map_err(|e| e.to_string())?;
        t.execute(&Value::from_json(&data)).map_err(|e| e.to_string())
    }

    #[track_caller]
    pub fn check(text: &str, want: &str) {
        assert_eq!(render(text).as_deref(), Ok(want), "{text}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_int_parsing() {
        assert_eq!(parse_go_int("0x1f"), Some(31));
        assert_eq!(parse_go_int("017"), Some(15));
        assert_eq!(parse_go_int("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_go_int("1.5"), None);
        assert_eq!(to_i64(&Value::from("12.00")), 12);
        assert_eq!(to_i64(&Value::Float(-2.7)), -2);
    }

    /// sprig 3.2.3's `TxtFuncMap` names (Go), without `env` and `expandenv`.
    const SPRIG_NAMES: &str = "abbrev abbrevboth add add1 add1f addf adler32sum ago all any append atoi b32dec b32enc b64dec b64enc base bcrypt biggest buildCustomCert camelcase cat ceil chunk clean coalesce compact concat contains date dateInZone dateModify date_in_zone date_modify decryptAES deepCopy deepEqual default derivePassword dict dig dir div divf duration durationRound empty encryptAES ext fail first float64 floor fromJson genCA genCAWithKey genPrivateKey genSelfSignedCert genSelfSignedCertWithKey genSignedCert genSignedCertWithKey get getHostByName has hasKey hasPrefix hasSuffix hello htmlDate htmlDateInZone htpasswd indent initial initials int int64 isAbs join kebabcase keys kindIs kindOf last list lower max maxf merge mergeOverwrite min minf mod mul mulf mustAppend mustChunk mustCompact mustDateModify mustDeepCopy mustFirst mustFromJson mustHas mustInitial mustLast mustMerge mustMergeOverwrite mustPrepend mustPush mustRegexFind mustRegexFindAll mustRegexMatch mustRegexReplaceAll mustRegexReplaceAllLiteral mustRegexSplit mustRest mustReverse mustSlice mustToDate mustToJson mustToPrettyJson mustToRawJson mustUniq mustWithout must_date_modify nindent nospace now omit osBase osClean osDir osExt osIsAbs pick pluck plural prepend push quote randAlpha randAlphaNum randAscii randBytes randInt randNumeric regexFind regexFindAll regexMatch regexQuoteMeta regexReplaceAll regexReplaceAllLiteral regexSplit repeat replace rest reverse round semver semverCompare seq set sha1sum sha256sum shuffle slice snakecase sortAlpha split splitList splitn squote sub subf substr swapcase ternary title toDate toDecimal toJson toPrettyJson toRawJson toString toStrings trim trimAll trimPrefix trimSuffix trimall trunc tuple typeIs typeIsLike typeOf uniq unixEpoch unset until untilStep untitle upper urlJoin urlParse uuidv4 values without wrap wrapWith";

    const NOT_YET: &[&str] = &[];

    #[test]
    fn registers_sprigs_names() {
        let f = sprig_funcs();
        let missing: Vec<&str> =
            SPRIG_NAMES.split_whitespace().filter(|n| !f.contains_key(*n) && !NOT_YET.contains(n)).collect();
        assert!(missing.is_empty(), "missing: {missing:?}");
        let extra: Vec<&String> =
            f.keys().filter(|n| !SPRIG_NAMES.split_whitespace().any(|s| s == n.as_str())).collect();
        assert!(extra.is_empty(), "not sprig's: {extra:?}");
        assert_eq!(f.len() + NOT_YET.len(), SPRIG_NAMES.split_whitespace().count());
    }

    #[test]
    fn helm_removes_env() {
        let f = sprig_funcs();
        assert!(!f.contains_key("env") && !f.contains_key("expandenv"));
        assert!(f.contains_key("mustFirst"));
    }
}
