//! The `${…}` expansion language of Flux's postBuild substitution (Flux's fork of drone/envsubst),
//! evaluated the same way, quirks included:
//!
//! - only `${name}` forms expand; a bare `$name` is text. `$$` is an escaped `$` anywhere in the
//!   text, so `$${name}` gives the literal `${name}`;
//! - `${name=d}`, `${name:=d}`, `${name:-d}`, `${name:?d}` and `${name:+d}` all mean "the value,
//!   or `d` when the value is empty" (the fork does not implement `?` and `+` as the shell does);
//!   `${name-d}`, `${name+d}` and `${name?d}` are parse errors;
//! - `${#name}` (length in bytes), `${name^}`, `${name^^}`, `${name,}`, `${name,,}`,
//!   `${name:offset}`, `${name:offset:length}`, `${name#glob}`, `${name##glob}`, `${name%glob}`,
//!   `${name%%glob}`, `${name/from/to}`, `${name//from/to}`, `${name/#from/to}`, `${name/%from/to}`;
//! - in strict mode a variable that is not defined fails the expansion unless the form supplies a
//!   default (`=`, `:=`, `:-`, `:?`, `:+`); a variable defined as the empty string is defined.

use std::collections::BTreeMap;

/// Why an expansion failed; the texts are the fork's, which Flux users see in conditions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvsubstError {
    #[error("bad substitution")]
    BadSubstitution,
    #[error("missing closing brace")]
    MissingClosingBrace,
    #[error("unable to parse variable name")]
    VariableName,
    #[error("unable to parse substitution within function")]
    FuncSubstitution,
    #[error("unable to parse default function")]
    DefaultFunction,
    #[error("variable not set (strict mode): {0:?}")]
    NotSet(String),
}

/// Expands every `${…}` of `text` with `vars`. Undefined variables expand to the empty string,
/// or fail when `strict`.
pub fn expand(text: &str, vars: &BTreeMap<String, String>, strict: bool) -> Result<String, EnvsubstError> {
    if !text.contains('$') {
        return Ok(text.to_string());
    }
    let chars: Vec<char> = text.chars().collect();
    let mut parser = Parser { chars: &chars, pos: 0 };
    let nodes = parser.parse_top()?;
    let mut out = String::with_capacity(text.len());
    for node in &nodes {
        node.eval(vars, strict, &mut out)?;
    }
    Ok(out)
}

#[derive(Debug, Clone)]
enum Node {
    Text(String),
    Func { param: String, op: String, args: Vec<Node> },
}

impl Node {
    fn eval(&self, vars: &BTreeMap<String, String>, strict: bool, out: &mut String) -> Result<(), EnvsubstError> {
        match self {
            Node::Text(text) => out.push_str(text),
            Node::Func { param, op, args } => {
                let mut values = Vec::with_capacity(args.len());
                for arg in args {
                    let mut buf = String::new();
                    arg.eval(vars, strict, &mut buf)?;
                    values.push(buf);
                }
                let value = match vars.get(param) {
                    Some(v) => v.as_str(),
                    None if strict && !is_default_op(op) => return Err(EnvsubstError::NotSet(param.clone())),
                    None => "",
                };
                out.push_str(&apply(op, value, &values));
            }
        }
        Ok(())
    }
}

fn is_default_op(op: &str) -> bool {
    matches!(op, "-" | "+" | "=" | "?" | ":-" | ":+" | ":=" | ":?")
}

fn apply(op: &str, value: &str, args: &[String]) -> String {
    match op {
        "," => map_first(value, |c| c.to_lowercase().collect()),
        ",," => value.to_lowercase(),
        "^" => map_first(value, |c| c.to_uppercase().collect()),
        "^^" => value.to_uppercase(),
        "#" if args.is_empty() => value.len().to_string(),
        "#" => trim_shortest_prefix(value, &args[0]),
        "##" => args.first().map_or_else(|| value.to_string(), |a| trim_longest_prefix(value, a)),
        "%" => args
            .first()
            .map_or_else(|| value.to_string(), |a| reversed(&trim_shortest_prefix(&reversed(value), &reversed(a)))),
        "%%" => args
            .first()
            .map_or_else(|| value.to_string(), |a| reversed(&trim_longest_prefix(&reversed(value), &reversed(a)))),
        ":" => substring(value, args),
        "/#" => match args {
            [from, to] if value.starts_with(from.as_str()) => value.replacen(from.as_str(), to, 1),
            _ => value.to_string(),
        },
        "/%" => match args {
            [from, to] if value.ends_with(from.as_str()) => format!("{}{to}", &value[..value.len() - from.len()]),
            _ => value.to_string(),
        },
        "/" => match args {
            [] => value.to_string(),
            [from] => value.replacen(from.as_str(), "", 1),
            [from, to, ..] => value.replacen(from.as_str(), to, 1),
        },
        "//" => match args {
            [] => value.to_string(),
            [from] => value.replace(from.as_str(), ""),
            [from, to, ..] => value.replace(from.as_str(), to),
        },
        // The plain form and every default form: the value, or the arguments when it is empty.
        _ if value.is_empty() && !args.is_empty() => args.concat(),
        _ => value.to_string(),
    }
}

fn map_first(value: &str, f: impl Fn(char) -> String) -> String {
    let mut chars = value.chars();
    match chars.next() {
        Some(first) => f(first) + chars.as_str(),
        None => String::new(),
    }
}

fn reversed(s: &str) -> String {
    s.chars().rev().collect()
}

/// Byte offsets of the non-empty prefixes of `s`, longest first (as the fork tries them).
fn prefix_ends(s: &str) -> impl Iterator<Item = usize> + '_ {
    s.char_indices().map(|(i, c)| i + c.len_utf8()).collect::<Vec<_>>().into_iter().rev()
}

fn trim_shortest_prefix(s: &str, pattern: &str) -> String {
    let shortest = prefix_ends(s).filter(|&end| glob_match(pattern, &s[..end])).last();
    shortest.map_or_else(|| s.to_string(), |end| s[end..].to_string())
}

fn trim_longest_prefix(s: &str, pattern: &str) -> String {
    let longest = prefix_ends(s).find(|&end| glob_match(pattern, &s[..end]));
    longest.map_or_else(|| s.to_string(), |end| s[end..].to_string())
}

/// `${name:offset}` and `${name:offset:length}`, with the fork's bash-like bounds: a negative
/// offset counts from the end, an unparsable number returns the value unchanged.
fn substring(s: &str, args: &[String]) -> String {
    let Some(Ok(offset)) = args.first().map(|a| a.parse::<i64>()) else {
        return s.to_string();
    };
    let len = s.len() as i64;
    let start = if offset < 0 { (len + offset).max(0) } else { offset };
    let end = match args.get(1) {
        None => len,
        Some(a) => match a.parse::<i64>() {
            Ok(length) if start + length < len => start + length,
            Ok(_) => len,
            Err(_) => return s.to_string(),
        },
    };
    if start >= len || end < start {
        return String::new();
    }
    s.get(start as usize..end as usize).unwrap_or(s).to_string()
}

/// Shell glob matching as the fork does it: `*` is any run of characters (`/` included), `?` one
/// character, `[…]` a class (`!` or `^` negates, `a-z` ranges), `\` escapes.
fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    glob_at(&p, &t)
}

fn glob_at(p: &[char], t: &[char]) -> bool {
    match p.first() {
        None => t.is_empty(),
        Some('*') => (0..=t.len()).any(|skip| glob_at(&p[1..], &t[skip..])),
        Some('?') => !t.is_empty() && glob_at(&p[1..], &t[1..]),
        Some('[') => {
            let Some(&c) = t.first() else { return false };
            match class_match(&p[1..], c) {
                Some((matched, rest)) => matched && glob_at(rest, &t[1..]),
                None => false,
            }
        }
        Some('\\') if p.len() > 1 => t.first() == Some(&p[1]) && glob_at(&p[2..], &t[1..]),
        Some(&c) => t.first() == Some(&c) && glob_at(&p[1..], &t[1..]),
    }
}

/// Matches `c` against the class that starts after `[`; the pattern after `]` with the result, or
/// `None` for an unterminated class (which matches nothing).
fn class_match(p: &[char], c: char) -> Option<(bool, &[char])> {
    let (negated, mut i) = match p.first() {
        Some('!' | '^') => (true, 1),
        _ => (false, 0),
    };
    let mut matched = false;
    let mut first = true;
    while i < p.len() {
        if p[i] == ']' && !first {
            return Some((matched != negated, &p[i + 1..]));
        }
        first = false;
        let lo = p[i];
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            matched |= lo <= c && c <= p[i + 2];
            i += 3;
        } else {
            matched |= lo == c;
            i += 1;
        }
    }
    None
}

struct Parser<'a> {
    chars: &'a [char],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.pos + offset).copied()
    }

    fn at_open(&self) -> bool {
        self.peek() == Some('$') && self.peek_at(1) == Some('{')
    }

    /// The whole text: literal runs (with `$$` unescaped) and expressions.
    fn parse_top(&mut self) -> Result<Vec<Node>, EnvsubstError> {
        let mut nodes = Vec::new();
        let mut text = String::new();
        while let Some(c) = self.peek() {
            if self.at_open() {
                if !text.is_empty() {
                    nodes.push(Node::Text(std::mem::take(&mut text)));
                }
                self.pos += 2;
                nodes.push(self.parse_func()?);
            } else if c == '$' && self.peek_at(1) == Some('$') {
                text.push('$');
                self.pos += 2;
            } else {
                text.push(c);
                self.pos += 1;
            }
        }
        if !text.is_empty() {
            nodes.push(Node::Text(text));
        }
        Ok(nodes)
    }

    /// After `${`: the name, the operator and its arguments, the closing `}`.
    fn parse_func(&mut self) -> Result<Node, EnvsubstError> {
        if self.peek() == Some('#') {
            self.pos += 1;
            let param = self.ident();
            if param.is_empty() {
                return Err(EnvsubstError::BadSubstitution);
            }
            self.close()?;
            return Ok(Node::Func { param, op: "#".into(), args: Vec::new() });
        }
        let param = self.ident();
        if param.is_empty() {
            return Err(EnvsubstError::VariableName);
        }
        match self.peek() {
            Some(':') => match self.peek_at(1) {
                Some('=' | '-' | '?' | '+') => self.parse_default(param, 2),
                _ => self.parse_substring(param),
            },
            Some('=') => self.parse_default(param, 1),
            Some(',' | '^') => {
                let op = self.run(|c| c == ',' || c == '^', 2);
                self.close()?;
                Ok(Node::Func { param, op, args: Vec::new() })
            }
            Some('/') => self.parse_replace(param),
            Some(c @ ('#' | '%')) => {
                let op = self.run(|x| x == c, 2);
                let arg = self.param(|c| c != '}', false)?;
                self.close()?;
                Ok(Node::Func { param, op, args: vec![arg] })
            }
            Some('}') => {
                self.pos += 1;
                Ok(Node::Func { param, op: String::new(), args: Vec::new() })
            }
            _ => Err(EnvsubstError::MissingClosingBrace),
        }
    }

    fn parse_default(&mut self, param: String, op_len: usize) -> Result<Node, EnvsubstError> {
        let op: String = self.chars[self.pos..self.pos + op_len].iter().collect();
        self.pos += op_len;
        let mut args = Vec::new();
        loop {
            match self.peek() {
                Some('}') => {
                    self.pos += 1;
                    return Ok(Node::Func { param, op, args });
                }
                None => return Err(EnvsubstError::FuncSubstitution),
                Some(_) => args.push(self.param(|c| c != '}', false)?),
            }
        }
    }

    fn parse_substring(&mut self, param: String) -> Result<Node, EnvsubstError> {
        self.pos += 1; // ':'
        let mut args = vec![self.param(|c| c != ':' && c != '}', false)?];
        match self.peek() {
            Some('}') => {
                self.pos += 1;
                return Ok(Node::Func { param, op: ":".into(), args });
            }
            Some(':') => {
                self.run(|c| c == ':', usize::MAX);
            }
            _ => return Err(EnvsubstError::BadSubstitution),
        }
        args.push(self.param(|c| c != '}', false)?);
        self.close()?;
        Ok(Node::Func { param, op: ":".into(), args })
    }

    fn parse_replace(&mut self, param: String) -> Result<Node, EnvsubstError> {
        let mut op = String::from("/");
        self.pos += 1;
        if let Some(c @ ('/' | '#' | '%')) = self.peek() {
            op.push(c);
            self.pos += 1;
        }
        let mut args = vec![self.param(|c| c != '/', true)?];
        if self.run(|c| c == '/', usize::MAX).is_empty() {
            return Err(EnvsubstError::BadSubstitution);
        }
        if self.peek() != Some('}') {
            args.push(self.param(|c| c != '}', true)?);
        }
        self.close()?;
        Ok(Node::Func { param, op, args })
    }

    /// One argument: a nested `${…}`, or a run of accepted characters up to the next `${`.
    /// `escapes` turns on `\/`, `\\` and `$$`, as in the replace form's arguments.
    fn param(&mut self, accept: impl Fn(char) -> bool, escapes: bool) -> Result<Node, EnvsubstError> {
        if self.at_open() {
            self.pos += 2;
            return self.parse_func();
        }
        let mut text = String::new();
        while let Some(c) = self.peek() {
            if self.at_open() {
                break;
            }
            let escaped = escapes
                && match c {
                    '$' => self.peek_at(1) == Some('$'),
                    '\\' => matches!(self.peek_at(1), Some('/' | '\\')),
                    _ => false,
                };
            if escaped {
                text.push(self.peek_at(1).unwrap_or(c));
                self.pos += 2;
                continue;
            }
            if !accept(c) {
                break;
            }
            text.push(c);
            self.pos += 1;
        }
        if text.is_empty() {
            return Err(EnvsubstError::FuncSubstitution);
        }
        Ok(Node::Text(text))
    }

    fn ident(&mut self) -> String {
        self.run(|c| c.is_alphanumeric() || c == '_', usize::MAX)
    }

    /// Consumes up to `max` characters accepted by `accept`.
    fn run(&mut self, accept: impl Fn(char) -> bool, max: usize) -> String {
        let mut out = String::new();
        while out.chars().count() < max
            && let Some(c) = self.peek()
            && accept(c)
        {
            out.push(c);
            self.pos += 1;
        }
        out
    }

    fn close(&mut self) -> Result<(), EnvsubstError> {
        if self.peek() == Some('}') {
            self.pos += 1;
            Ok(())
        } else {
            Err(EnvsubstError::BadSubstitution)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn ok(text: &str, pairs: &[(&str, &str)]) -> String {
        expand(text, &vars(pairs), false).unwrap()
    }

    #[test]
    fn plain_and_default_forms() {
        let v = [("app", "web"), ("empty", "")];
        assert_eq!(ok("name: ${app}-svc", &v), "name: web-svc");
        assert_eq!(ok("${missing}", &v), "");
        assert_eq!(ok("$app stays", &v), "$app stays");
        for form in ["${missing=d}", "${missing:=d}", "${missing:-d}", "${missing:?d}", "${missing:+d}"] {
            assert_eq!(ok(form, &v), "d", "{form}");
        }
        assert_eq!(ok("${empty:=d}", &v), "d");
        assert_eq!(ok("${app:=d}", &v), "web");
        assert_eq!(ok("${missing:=}", &v), "");
        assert_eq!(ok("${missing:=a-${app}-b}", &v), "a-web-b");
        assert_eq!(ok("${missing:=${other:=x}}", &v), "x");
    }

    #[test]
    fn escapes() {
        let v = [("app", "web")];
        assert_eq!(ok("$${app}", &v), "${app}");
        assert_eq!(ok("a$$b $$$$", &v), "a$b $$");
        assert_eq!(ok("$$${app}", &v), "$web");
        assert_eq!(ok("cost: 5$", &v), "cost: 5$");
    }

    #[test]
    fn string_functions() {
        let v = [("v", "abcdEFGH28ij"), ("p", "/home/bozo/ideas/thoughts.for.today"), ("f", "bash.string.txt")];
        assert_eq!(ok("${#v}", &v), "12");
        assert_eq!(ok("${v^}|${v^^}|${v,}|${v,,}", &v), "AbcdEFGH28ij|ABCDEFGH28IJ|abcdEFGH28ij|abcdefgh28ij");
        assert_eq!(ok("${p:11}", &v), "ideas/thoughts.for.today");
        assert_eq!(ok("${p:11:5}", &v), "ideas");
        assert_eq!(ok("${p:-6}", &v), "/home/bozo/ideas/thoughts.for.today", ":- is a default");
        assert_eq!(ok("${f#*.}|${f##*.}|${f%.*}|${f%%.*}", &v), "string.txt|txt|bash.string|bash");
        let z = [("z", "abcABC123ABCabc"), ("s", "foo/bar/baz")];
        assert_eq!(ok("${z/abc/xyz}|${z//abc/xyz}", &z), "xyzABC123ABCabc|xyzABC123ABCxyz");
        assert_eq!(ok("${z/#abc/XYZ}|${z/%abc/XYZ}", &z), "XYZABC123ABCabc|abcABC123ABCXYZ");
        assert_eq!(ok(r"${s//\//-}", &z), "foo-bar-baz");
        assert_eq!(ok("${z/ABC/}", &z), "abc123ABCabc");
        assert_eq!(ok("${s##*/}", &z), "baz");
    }

    #[test]
    fn strict_mode() {
        let v = vars(&[("set", "x"), ("empty", "")]);
        assert_eq!(expand("${set}${empty}", &v, true).unwrap(), "x");
        assert_eq!(expand("${missing:=d}", &v, true).unwrap(), "d");
        assert_eq!(expand("${missing}", &v, true).unwrap_err(), EnvsubstError::NotSet("missing".into()));
        assert_eq!(
            expand("${missing^^}", &v, true).unwrap_err().to_string(),
            "variable not set (strict mode): \"missing\""
        );
        assert!(expand("${missing%% *}", &v, true).is_err());
        assert_eq!(expand("$${missing}", &v, true).unwrap(), "${missing}");
    }

    #[test]
    fn malformed() {
        let v = vars(&[]);
        assert_eq!(expand("${", &v, false).unwrap_err(), EnvsubstError::VariableName);
        assert_eq!(expand("${}", &v, false).unwrap_err(), EnvsubstError::VariableName);
        assert_eq!(expand("${a", &v, false).unwrap_err(), EnvsubstError::MissingClosingBrace);
        assert_eq!(expand("${a b}", &v, false).unwrap_err(), EnvsubstError::MissingClosingBrace);
        assert_eq!(expand("${a-b}", &v, false).unwrap_err(), EnvsubstError::MissingClosingBrace);
        assert_eq!(expand("${a:=b", &v, false).unwrap_err(), EnvsubstError::FuncSubstitution);
    }
}
