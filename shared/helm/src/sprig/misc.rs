//! The rest: `hello`, JSON (`toJson`, `toPrettyJson`, `toRawJson`, `fromJson` and `must*`;
//! Helm replaces `toJson`/`fromJson` with its own, the others stay sprig's), paths (`base`,
//! `dir`, `clean`, `ext`, `isAbs` and the `os*` forms, which are the same on Linux),
//! `urlParse`, `urlJoin`.

use super::{call_err, map_entries, reg, reg_must, str_arg, strval};
use crate::template::{Arity, FuncError, FuncMap, Map, Value};

/// Go's `json.Marshal` HTML escaping, applied to serde_json's output (the characters
/// only occur inside strings there).
fn escape_html(json: String) -> String {
    if !json.contains(['<', '>', '&', '\u{2028}', '\u{2029}']) {
        return json;
    }
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

fn to_json(v: &Value, pretty: bool, escape: bool) -> Result<String, FuncError> {
    let s = if pretty { serde_json::to_string_pretty(v) } else { serde_json::to_string(v) };
    let s = s.map_err(|e| call_err(format!("json: {e}")))?;
    Ok(if escape { escape_html(s) } else { s })
}

fn from_json(s: &str) -> Result<Value, FuncError> {
    serde_json::from_str::<serde_json::Value>(s).map(|j| Value::from_json(&j)).map_err(|e| call_err(e.to_string()))
}

/// Go's `path.Clean`.
pub(crate) fn clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

fn base(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return "/".into();
    }
    t.rsplit('/').next().unwrap_or(t).to_string()
}

fn dir(p: &str) -> String {
    let d = match p.rfind('/') {
        Some(i) => &p[..=i],
        None => "",
    };
    clean(d)
}

fn ext(p: &str) -> String {
    for (i, c) in p.char_indices().rev() {
        if c == '/' {
            break;
        }
        if c == '.' {
            return p[i..].to_string();
        }
    }
    String::new()
}

fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && let (Some(hi), Some(lo)) = (b.get(i + 1).and_then(|c| hex(*c)), b.get(i + 2).and_then(|c| hex(*c)))
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A subset of Go's `url.Parse` as sprig's `urlParse` reports it.
fn url_parse(raw: &str) -> Map {
    let (rest, fragment) = match raw.split_once('#') {
        Some((r, f)) => (r, unescape(f)),
        None => (raw, String::new()),
    };
    let mut scheme = String::new();
    let mut rest = rest;
    if let Some(i) = rest.find(':') {
        let s = &rest[..i];
        if !s.is_empty()
            && s.starts_with(|c: char| c.is_ascii_alphabetic())
            && s.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        {
            scheme = s.to_ascii_lowercase();
            rest = &rest[i + 1..];
        }
    }
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, q.to_string()),
        None => (rest, String::new()),
    };
    let (mut host, mut userinfo, mut path, mut opaque) = (String::new(), String::new(), String::new(), String::new());
    if !scheme.is_empty() && !rest.starts_with('/') {
        opaque = rest.to_string();
    } else if let Some(auth_rest) = rest.strip_prefix("//") {
        let (auth, p) = match auth_rest.find('/') {
            Some(i) => (&auth_rest[..i], &auth_rest[i..]),
            None => (auth_rest, ""),
        };
        match auth.rsplit_once('@') {
            Some((u, h)) => {
                userinfo = u.to_string();
                host = h.to_string();
            }
            None => host = auth.to_string(),
        }
        path = unescape(p);
    } else {
        path = unescape(rest);
    }
    let hostname = if let Some(h) = host.strip_prefix('[') {
        h.split(']').next().unwrap_or("").to_string()
    } else {
        host.split(':').next().unwrap_or("").to_string()
    };
    let mut m = Map::new();
    for (k, v) in [
        ("scheme", scheme),
        ("host", host),
        ("hostname", hostname),
        ("path", path),
        ("query", query),
        ("opaque", opaque),
        ("fragment", fragment),
        ("userinfo", userinfo),
    ] {
        m.insert(k.to_string(), Value::String(v));
    }
    m
}

/// Go's `url.URL.String` for the parts sprig's `urlJoin` sets (no escaping of the path).
fn url_join(d: &Map) -> String {
    let get = |k: &str| d.get(k).map(strval).unwrap_or_default();
    let mut out = String::new();
    let scheme = get("scheme");
    if !scheme.is_empty() {
        out.push_str(&scheme);
        out.push(':');
    }
    let opaque = get("opaque");
    if !opaque.is_empty() {
        out.push_str(&opaque);
    } else {
        let (host, user) = (get("host"), get("userinfo"));
        if !scheme.is_empty() || !host.is_empty() || !user.is_empty() {
            let path = get("path");
            if !host.is_empty() || !path.is_empty() || !user.is_empty() {
                out.push_str("//");
            }
            if !user.is_empty() {
                out.push_str(&user);
                out.push('@');
            }
            out.push_str(&host);
        }
        let path = get("path");
        if !path.is_empty() && !path.starts_with('/') && !get("host").is_empty() {
            out.push('/');
        }
        out.push_str(&path);
    }
    let query = get("query");
    if !query.is_empty() {
        out.push('?');
        out.push_str(&query);
    }
    let fragment = get("fragment");
    if !fragment.is_empty() {
        out.push('#');
        out.push_str(&fragment);
    }
    out
}

pub(super) fn register(m: &mut FuncMap) {
    reg(m, "hello", Arity::Exact(0), |_| Ok(Value::from("Hello!")));
    reg_must(m, "toJson", Arity::Exact(1), |a| Ok(Value::String(to_json(&a[0], false, true)?)));
    reg_must(m, "toPrettyJson", Arity::Exact(1), |a| Ok(Value::String(to_json(&a[0], true, true)?)));
    reg_must(m, "toRawJson", Arity::Exact(1), |a| Ok(Value::String(to_json(&a[0], false, false)?)));
    reg(m, "fromJson", Arity::Exact(1), |a| Ok(from_json(str_arg(a, 0)?).unwrap_or(Value::Nil)));
    reg(m, "mustFromJson", Arity::Exact(1), |a| from_json(str_arg(a, 0)?));
    for (name, f) in [
        ("base", base as fn(&str) -> String),
        ("dir", dir),
        ("clean", clean),
        ("ext", ext),
        ("osBase", base),
        ("osDir", dir),
        ("osClean", clean),
        ("osExt", ext),
    ] {
        reg(m, name, Arity::Exact(1), move |a| Ok(Value::String(f(str_arg(a, 0)?))));
    }
    for name in ["isAbs", "osIsAbs"] {
        reg(m, name, Arity::Exact(1), |a| Ok(Value::Bool(str_arg(a, 0)?.starts_with('/'))));
    }
    reg(m, "urlParse", Arity::Exact(1), |a| Ok(Value::map(url_parse(str_arg(a, 0)?))));
    reg(m, "urlJoin", Arity::Exact(1), |a| Ok(Value::String(url_join(&map_entries(a, 0)?))));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(clean("a//b/../c/."), "a/c");
        assert_eq!(clean("/../x"), "/x");
        assert_eq!(base("/a/b.txt/"), "b.txt");
        assert_eq!(dir("/a/b"), "/a");
        assert_eq!(ext("x/y.tar.gz"), ".gz");
    }

    #[test]
    fn urls() {
        let m = url_parse("https://u:p@example.com:8080/a%20b?x=1#frag");
        assert_eq!(m.get("hostname"), Some(&Value::from("example.com")));
        assert_eq!(m.get("path"), Some(&Value::from("/a b")));
        assert_eq!(m.get("userinfo"), Some(&Value::from("u:p")));
    }

    #[test]
    fn json_escapes_html() {
        assert_eq!(to_json(&Value::from("<a&b>"), false, true).ok().as_deref(), Some(r#""\u003ca\u0026b\u003e""#));
    }
}
