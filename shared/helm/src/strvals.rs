//! Helm's `--set`, `--set-string`, `--set-file` and `--set-json` syntax (Helm's `strvals`
//! package): comma-separated `path=value` pairs merged into a values map.
//!
//! ```
//! use weir_helm::strvals::{parse_set, parse_set_string};
//! use weir_helm::template::Value;
//! let v = parse_set(r"image.tag=1.2,replicas=3,list={a,b},names[1]=x,dots\.in\.key=true").unwrap();
//! assert_eq!(Value::map(v.clone()).to_string(),
//!     "map[dots.in.key:true image:map[tag:1.2] list:[a b] names:[<nil> x] replicas:3]");
//! assert_eq!(parse_set_string("replicas=3").unwrap().get("replicas"), Some(&Value::from("3")));
//! ```
//!
//! - A path is keys separated by `.`, with list indexes `name[0]`, `name[0][1]`, `a[0].b`;
//!   `\` escapes the next character anywhere (`a\.b`, `x=1\,2`).
//! - `--set` infers types as Helm does: `true`/`false` (any case) are booleans, `null`
//!   is nil (which deletes the key when the values are coalesced), base-10 integers not
//!   starting with `0` are integers (`0` too), everything else (`1.5`, `012`, `1e3`) is
//!   a string. `--set-string` keeps every value a string.
//! - `{a,b}` is a list; `key=` sets an empty string.
//! - `--set-json` values are JSON documents (`a={"b":1},c=[1,2]`); an empty value is nil.
//! - `--set-file` values are file paths whose content (read by the caller's reader) is the
//!   string value.
//! - Limits as Helm's: list indexes at most 65536, names nested at most 30 deep.

use crate::template::{Map, Value};

/// Helm's `MaxIndex`: larger list indexes are refused rather than allocated.
pub const MAX_INDEX: usize = 65536;
/// Helm's `MaxNestedNameLevel`.
pub const MAX_NESTED_NAME_LEVEL: usize = 30;

/// A `--set`-style expression that does not parse; the message is Helm's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StrvalsError(pub String);

/// How values are read.
enum Reader<'a> {
    /// `--set`: types inferred.
    Typed,
    /// `--set-string`.
    String,
    /// `--set-file`: the value is a path; the closure returns the file's content.
    File(&'a mut dyn FnMut(&str) -> Result<String, String>),
    /// `--set-json`.
    Json,
}

/// Parses a `--set` expression into a new map.
pub fn parse_set(s: &str) -> Result<Map, StrvalsError> {
    let mut m = Map::new();
    parse_set_into(s, &mut m)?;
    Ok(m)
}

/// Parses a `--set-string` expression into a new map.
pub fn parse_set_string(s: &str) -> Result<Map, StrvalsError> {
    let mut m = Map::new();
    parse_set_string_into(s, &mut m)?;
    Ok(m)
}

/// Parses a `--set` expression into `dest` (later flags override earlier ones this way).
pub fn parse_set_into(s: &str, dest: &mut Map) -> Result<(), StrvalsError> {
    Parser::new(s, Reader::Typed).parse(dest)
}

pub fn parse_set_string_into(s: &str, dest: &mut Map) -> Result<(), StrvalsError> {
    Parser::new(s, Reader::String).parse(dest)
}

/// Parses a `--set-json` expression into `dest`.
pub fn parse_set_json_into(s: &str, dest: &mut Map) -> Result<(), StrvalsError> {
    Parser::new(s, Reader::Json).parse(dest)
}

/// Parses a `--set-file` expression into `dest`; `read` gives a path's content.
pub fn parse_set_file_into(
    s: &str,
    dest: &mut Map,
    mut read: impl FnMut(&str) -> Result<String, String>,
) -> Result<(), StrvalsError> {
    Parser::new(s, Reader::File(&mut read)).parse(dest)
}

/// Helm's `typedVal`.
fn typed_value(s: &str, as_string: bool) -> Value {
    if as_string {
        return Value::String(s.to_string());
    }
    if s.eq_ignore_ascii_case("true") {
        return Value::Bool(true);
    }
    if s.eq_ignore_ascii_case("false") {
        return Value::Bool(false);
    }
    if s.eq_ignore_ascii_case("null") {
        return Value::Nil;
    }
    if s == "0" {
        return Value::Int(0);
    }
    if !s.is_empty()
        && !s.starts_with('0')
        && is_go_decimal_int(s)
        && let Ok(n) = s.parse::<i64>()
    {
        return Value::Int(n);
    }
    Value::String(s.to_string())
}

/// What Go's `strconv.ParseInt(s, 10, 64)` accepts: an optional sign and ASCII digits.
fn is_go_decimal_int(s: &str) -> bool {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Why reading stopped.
#[derive(PartialEq, Eq)]
enum Stop {
    End,
    At(char),
}

struct Parser<'a> {
    chars: Vec<char>,
    pos: usize,
    reader: Reader<'a>,
}

fn err(msg: impl Into<String>) -> StrvalsError {
    StrvalsError(msg.into())
}

impl<'a> Parser<'a> {
    fn new(s: &str, reader: Reader<'a>) -> Parser<'a> {
        Parser { chars: s.chars().collect(), pos: 0, reader }
    }

    fn parse(&mut self, dest: &mut Map) -> Result<(), StrvalsError> {
        while self.key(dest, 0)? {}
        Ok(())
    }

    fn next(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    /// Helm's `runesUntil`: characters up to one of `stop`, with `\` escapes.
    fn until(&mut self, stop: &[char]) -> (String, Stop) {
        let mut out = String::new();
        loop {
            match self.next() {
                None => return (out, Stop::End),
                Some(c) if stop.contains(&c) => return (out, Stop::At(c)),
                Some('\\') => match self.next() {
                    Some(n) => out.push(n),
                    None => return (out, Stop::End),
                },
                Some(c) => out.push(c),
            }
        }
    }

    fn read_value(&mut self, raw: &str) -> Result<Value, StrvalsError> {
        match &mut self.reader {
            Reader::Typed => Ok(typed_value(raw, false)),
            Reader::String | Reader::Json => Ok(typed_value(raw, true)),
            Reader::File(read) => read(raw).map(Value::String).map_err(err),
        }
    }

    /// One `path=value`; `Ok(false)` at the end of the input.
    fn key(&mut self, data: &mut Map, level: usize) -> Result<bool, StrvalsError> {
        let (k, stop) = self.until(&['=', '[', ',', '.']);
        match stop {
            Stop::End if k.is_empty() => Ok(false),
            Stop::End => Err(err(format!("key {k:?} has no value"))),
            Stop::At('[') => {
                let i = self.key_index()?;
                let list = match data.get(&k) {
                    None => Vec::new(),
                    Some(Value::List(l)) => l.to_vec(),
                    Some(v) => return Err(not_a("[]interface {}", v)),
                };
                let (list, more) = self.list_item(list, i, level)?;
                set(data, &k, Value::list(list));
                Ok(more)
            }
            Stop::At('=') => self.assign(data, &k),
            Stop::At(',') => {
                set(data, &k, Value::String(String::new()));
                Err(err(format!("key {k:?} has no value (cannot end with ,)")))
            }
            Stop::At(_) => {
                let level = level + 1;
                if level > MAX_NESTED_NAME_LEVEL {
                    return Err(err(format!(
                        "value name nested level is greater than maximum supported nested level of {MAX_NESTED_NAME_LEVEL}"
                    )));
                }
                let mut inner = match data.get(&k) {
                    None => Map::new(),
                    Some(Value::Map(m)) => m.snapshot(),
                    Some(v) => return Err(not_a("map[string]interface {}", v)),
                };
                let result = self.key(&mut inner, level);
                if result.is_ok() && inner.is_empty() {
                    return Err(err(format!("key map {k:?} has no value")));
                }
                if !inner.is_empty() {
                    set(data, &k, Value::map(inner));
                }
                result
            }
        }
    }

    /// The value after `key=`.
    fn assign(&mut self, data: &mut Map, k: &str) -> Result<bool, StrvalsError> {
        if matches!(self.reader, Reader::Json) {
            let v = self.json_value()?;
            set(data, k, v);
            return Ok(true);
        }
        match self.value_list()? {
            ListOrNot::List(l) => {
                set(data, k, Value::list(l));
                Ok(true)
            }
            ListOrNot::End => {
                set(data, k, Value::String(String::new()));
                Ok(false)
            }
            ListOrNot::NotList => {
                let (raw, _) = self.until(&[',']);
                let v = self.read_value(&raw)?;
                set(data, k, v);
                Ok(true)
            }
        }
    }

    /// Helm's `keyIndex`: the digits up to `]`.
    fn key_index(&mut self) -> Result<i64, StrvalsError> {
        let (v, stop) = self.until(&[']']);
        if stop == Stop::End {
            return Err(err("error parsing index: EOF"));
        }
        v.parse::<i64>().map_err(|_| err(format!("error parsing index: strconv.Atoi: parsing {v:?}: invalid syntax")))
    }

    fn list_item(&mut self, list: Vec<Value>, i: i64, level: usize) -> Result<(Vec<Value>, bool), StrvalsError> {
        if i < 0 {
            return Err(err(format!("negative {i} index not allowed")));
        }
        let (k, stop) = self.until(&['[', '.', '=']);
        if !k.is_empty() {
            return Err(err(format!("unexpected data at end of array index: {k:?}")));
        }
        match stop {
            Stop::End => Err(err("EOF")),
            Stop::At('=') => {
                if matches!(self.reader, Reader::Json) {
                    let v = self.json_value()?;
                    return Ok((set_index(list, i, v)?, true));
                }
                match self.value_list()? {
                    ListOrNot::List(l) => Ok((set_index(list, i, Value::list(l))?, true)),
                    ListOrNot::End => Ok((set_index(list, i, Value::String(String::new()))?, false)),
                    ListOrNot::NotList => {
                        let (raw, _) = self.until(&[',']);
                        let v = self.read_value(&raw)?;
                        Ok((set_index(list, i, v)?, true))
                    }
                }
            }
            Stop::At('[') => {
                let next = self.key_index()?;
                let current = match list.get(i as usize) {
                    None | Some(Value::Nil) => Vec::new(),
                    Some(Value::List(l)) => l.to_vec(),
                    Some(v) => return Err(not_a("[]interface {}", v)),
                };
                let (inner, more) = self.list_item(current, next, level)?;
                Ok((set_index(list, i, Value::list(inner))?, more))
            }
            Stop::At(_) => {
                // A map inside a list: indexes out of order start from an empty map.
                let mut inner = match list.get(i as usize) {
                    Some(Value::Map(m)) => m.snapshot(),
                    _ => Map::new(),
                };
                let more = self.key(&mut inner, level)?;
                Ok((set_index(list, i, Value::map(inner))?, more))
            }
        }
    }

    /// Helm's `valList`: `{a,b}` after `=`.
    fn value_list(&mut self) -> Result<ListOrNot, StrvalsError> {
        match self.chars.get(self.pos) {
            None => return Ok(ListOrNot::End),
            Some('{') => self.pos += 1,
            Some(_) => return Ok(ListOrNot::NotList),
        }
        let mut list = Vec::new();
        loop {
            let (raw, stop) = self.until(&[',', '}']);
            match stop {
                Stop::End => return Err(err("list must terminate with '}'")),
                Stop::At('}') => {
                    if self.chars.get(self.pos) == Some(&',') {
                        self.pos += 1;
                    }
                    list.push(self.read_value(&raw)?);
                    return Ok(ListOrNot::List(list));
                }
                Stop::At(_) => list.push(self.read_value(&raw)?),
            }
        }
    }

    /// Helm's `emptyVal`: skips blanks; true at the end or at a comma (consumed).
    fn empty_value(&mut self) -> bool {
        while let Some(&c) = self.chars.get(self.pos) {
            self.pos += 1;
            if c == ',' {
                return true;
            }
            if !c.is_whitespace() {
                self.pos -= 1;
                return false;
            }
        }
        true
    }

    /// One JSON document after `=`, then an optional comma.
    fn json_value(&mut self) -> Result<Value, StrvalsError> {
        if self.empty_value() {
            return Ok(Value::Nil);
        }
        let rest: String = self.chars[self.pos..].iter().collect();
        let mut stream = serde_json::Deserializer::from_str(&rest).into_iter::<serde_json::Value>();
        let json = match stream.next() {
            Some(Ok(v)) => v,
            Some(Err(e)) => return Err(err(e.to_string())),
            None => return Err(err("EOF")),
        };
        let used = rest[..stream.byte_offset()].chars().count();
        self.pos += used;
        self.empty_value();
        Ok(Value::from_json(&json))
    }
}

enum ListOrNot {
    List(Vec<Value>),
    NotList,
    End,
}

fn set(data: &mut Map, key: &str, v: Value) {
    if !key.is_empty() {
        data.insert(key.to_string(), v);
    }
}

fn not_a(want: &str, v: &Value) -> StrvalsError {
    let have = if matches!(v, Value::Nil) { "nil".to_string() } else { v.type_name() };
    err(format!("unable to parse key: interface conversion: interface {{}} is {have}, not {want}"))
}

/// Helm's `setIndex`: grows the list with nils up to the index.
fn set_index(mut list: Vec<Value>, i: i64, v: Value) -> Result<Vec<Value>, StrvalsError> {
    if i < 0 {
        return Err(err(format!("negative {i} index not allowed")));
    }
    let i = i as usize;
    if i > MAX_INDEX {
        return Err(err(format!("index of {i} is greater than maximum supported index of {MAX_INDEX}")));
    }
    if list.len() <= i {
        list.resize(i + 1, Value::Nil);
    }
    list[i] = v;
    Ok(list)
}
