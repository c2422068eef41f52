//! Functions: the registry type for custom functions (sprig and Helm's built-ins go
//! here later) and Go's built-in functions, which see values as Go's reflection does.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use super::error::FuncError;
use super::exec::Context;
use super::format;
use super::value::{Val, Value};

/// How many arguments a function takes, checked before the call as Go checks a
/// function's signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arity {
    Exact(usize),
    AtLeast(usize),
}

/// The Go type of a function parameter, for functions declared with concrete types
/// (`func(string, int)`) rather than `interface{}`: text/template checks each argument
/// against it before the call, at the argument, with Go's messages (`expected string;
/// found 1`, `wrong type for value; expected int; got float64`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    /// `interface{}`: anything.
    Any,
    String,
    /// Go's `int`.
    Int,
    Float64,
    Bool,
    /// `map[string]interface{}` (nil is a nil map).
    Map,
}

impl Param {
    /// Go's name for the type.
    pub fn go_type(self) -> &'static str {
        match self {
            Param::Any => "interface {}",
            Param::String => "string",
            Param::Int => "int",
            Param::Float64 => "float64",
            Param::Bool => "bool",
            Param::Map => "map[string]interface {}",
        }
    }
}

type Impl = dyn Fn(&mut Context<'_>, &[Value]) -> Result<Value, FuncError> + Send + Sync;

/// A template function. Cheap to clone.
#[derive(Clone)]
pub struct Function {
    arity: Arity,
    imp: Arc<Impl>,
    params: Option<Arc<[Param]>>,
}

impl Function {
    /// A function that checks its own arguments and needs no execution context.
    pub fn new(arity: Arity, f: impl Fn(&[Value]) -> Result<Value, FuncError> + Send + Sync + 'static) -> Function {
        Function { arity, imp: Arc::new(move |_: &mut Context<'_>, args: &[Value]| f(args)), params: None }
    }

    /// A function that can execute templates (Helm's `include`, `tpl`).
    pub fn with_context(
        arity: Arity,
        f: impl Fn(&mut Context<'_>, &[Value]) -> Result<Value, FuncError> + Send + Sync + 'static,
    ) -> Function {
        Function { arity, imp: Arc::new(f), params: None }
    }

    /// Declares the Go types of the parameters; the last one repeats for the arguments
    /// beyond the list (a variadic `...T`). Unlisted functions take `interface{}`s.
    pub fn with_params(mut self, params: &[Param]) -> Function {
        self.params = Some(params.into());
        self
    }

    /// The declared type of argument `i`.
    pub fn param(&self, i: usize) -> Param {
        match &self.params {
            Some(p) => p.get(i).or(p.last()).copied().unwrap_or(Param::Any),
            None => Param::Any,
        }
    }

    pub fn arity(&self) -> Arity {
        self.arity
    }

    pub fn call(&self, ctx: &mut Context<'_>, args: &[Value]) -> Result<Value, FuncError> {
        (self.imp)(ctx, args)
    }

    pub fn ptr_eq(&self, other: &Function) -> bool {
        Arc::ptr_eq(&self.imp, &other.imp)
    }

    /// The Go signature `%T` shows.
    pub fn type_name(&self) -> String {
        "func(...interface {}) (interface {}, error)".into()
    }

    /// Go's "wrong number of args" message if `n` arguments do not fit.
    pub fn check_arity(&self, name: &str, n: usize) -> Option<String> {
        check_arity(self.arity, name, n)
    }
}

fn check_arity(arity: Arity, name: &str, n: usize) -> Option<String> {
    match arity {
        Arity::Exact(want) if n != want => Some(format!("wrong number of args for {name}: want {want} got {n}")),
        Arity::AtLeast(want) if n < want => {
            Some(format!("wrong number of args for {name}: want at least {want} got {n}"))
        }
        _ => None,
    }
}

impl fmt::Debug for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Function({:?}, {:?})", self.arity, self.params)
    }
}

/// Functions by name, as Go's `template.FuncMap`.
pub type FuncMap = HashMap<String, Function>;

/// Go's built-in functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    And,
    Or,
    Not,
    Len,
    Index,
    Slice,
    Print,
    Printf,
    Println,
    Html,
    Js,
    Urlquery,
    Call,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Builtin {
    pub fn lookup(name: &str) -> Option<Builtin> {
        Some(match name {
            "and" => Builtin::And,
            "or" => Builtin::Or,
            "not" => Builtin::Not,
            "len" => Builtin::Len,
            "index" => Builtin::Index,
            "slice" => Builtin::Slice,
            "print" => Builtin::Print,
            "printf" => Builtin::Printf,
            "println" => Builtin::Println,
            "html" => Builtin::Html,
            "js" => Builtin::Js,
            "urlquery" => Builtin::Urlquery,
            "call" => Builtin::Call,
            "eq" => Builtin::Eq,
            "ne" => Builtin::Ne,
            "lt" => Builtin::Lt,
            "le" => Builtin::Le,
            "gt" => Builtin::Gt,
            "ge" => Builtin::Ge,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Builtin::And => "and",
            Builtin::Or => "or",
            Builtin::Not => "not",
            Builtin::Len => "len",
            Builtin::Index => "index",
            Builtin::Slice => "slice",
            Builtin::Print => "print",
            Builtin::Printf => "printf",
            Builtin::Println => "println",
            Builtin::Html => "html",
            Builtin::Js => "js",
            Builtin::Urlquery => "urlquery",
            Builtin::Call => "call",
            Builtin::Eq => "eq",
            Builtin::Ne => "ne",
            Builtin::Lt => "lt",
            Builtin::Le => "le",
            Builtin::Gt => "gt",
            Builtin::Ge => "ge",
        }
    }

    pub fn arity(self) -> Arity {
        match self {
            Builtin::And | Builtin::Or | Builtin::Index | Builtin::Slice | Builtin::Printf | Builtin::Call => {
                Arity::AtLeast(1)
            }
            Builtin::Eq => Arity::AtLeast(1),
            Builtin::Not | Builtin::Len => Arity::Exact(1),
            Builtin::Ne | Builtin::Lt | Builtin::Le | Builtin::Gt | Builtin::Ge => Arity::Exact(2),
            Builtin::Print | Builtin::Println | Builtin::Html | Builtin::Js | Builtin::Urlquery => Arity::AtLeast(0),
        }
    }

    pub fn check_arity(self, name: &str, n: usize) -> Option<String> {
        check_arity(self.arity(), name, n)
    }

    /// Calls a built-in other than `and`/`or` (which the executor short-circuits) and
    /// `call` (which needs the context). Errors are the text after "error calling NAME: ".
    pub fn call(self, args: &[Val]) -> Result<Val, FuncError> {
        if let Some(msg) = self.check_arity(self.name(), args.len()) {
            return Err(FuncError::Exec(msg));
        }
        let plain = |v: bool| Ok(Val::Plain(Value::Bool(v)));
        match self {
            Builtin::Not => plain(!args.first().is_some_and(Val::is_true)),
            Builtin::Len => length(args.first().unwrap_or(&Val::Invalid)).map(|n| Val::Plain(Value::Int(n as i64))),
            Builtin::Index => index(args),
            Builtin::Slice => slice(args),
            Builtin::Print => Ok(Val::Plain(Value::String(format::sprint(&values(args))))),
            Builtin::Println => Ok(Val::Plain(Value::String(format::sprintln(&values(args))))),
            Builtin::Printf => {
                let vals = values(args);
                let fmt = match vals.first() {
                    Some(Value::String(s)) => s.clone(),
                    Some(v) => {
                        return Err(FuncError::Exec(format!(
                            "wrong type for value; expected string; got {}",
                            v.type_name()
                        )));
                    }
                    None => String::new(),
                };
                Ok(Val::Plain(Value::String(format::sprintf(&fmt, &vals[1..]))))
            }
            Builtin::Html => Ok(Val::Plain(Value::String(escape_html(&eval_args(args))))),
            Builtin::Js => Ok(Val::Plain(Value::String(escape_js(&eval_args(args))))),
            Builtin::Urlquery => Ok(Val::Plain(Value::String(escape_query(&eval_args(args))))),
            Builtin::Eq => {
                let (first, rest) = args.split_first().ok_or_else(|| FuncError::call(NO_COMPARISON))?;
                eq(first, rest).and_then(plain)
            }
            Builtin::Ne => eq(&args[0], &args[1..2]).and_then(|b| plain(!b)),
            Builtin::Lt => lt(&args[0], &args[1]).and_then(plain),
            Builtin::Le => le(&args[0], &args[1]).and_then(plain),
            Builtin::Gt => le(&args[0], &args[1]).and_then(|b| plain(!b)),
            Builtin::Ge => lt(&args[0], &args[1]).and_then(|b| plain(!b)),
            Builtin::And | Builtin::Or | Builtin::Call => Err(FuncError::call("internal error: not a plain builtin")),
        }
    }
}

/// Arguments as functions taking `interface{}` receive them (an invalid value is nil).
pub fn values(args: &[Val]) -> Vec<Value> {
    args.iter().map(Val::to_value).collect()
}

fn length(item: &Val) -> Result<usize, FuncError> {
    match item {
        Val::Invalid => Err(FuncError::call("reflect: call of reflect.Value.Type on zero Value")),
        Val::Elem(Value::Nil) | Val::Plain(Value::Nil) => Err(FuncError::call("len of nil pointer")),
        Val::Elem(v) | Val::Plain(v) => match v {
            Value::String(s) => Ok(s.len()),
            Value::List(l) => Ok(l.len()),
            Value::Map(m) => Ok(m.read().len()),
            v => Err(FuncError::call(format!("len of type {}", v.type_name()))),
        },
    }
}

fn index_arg(index: &Val, cap: usize) -> Result<usize, FuncError> {
    index_arg_of(index.value(), cap)
}

/// `slice` does not look inside `interface {}` values, so an element read out of a
/// container is rejected by its static type.
fn slice_index_arg(index: &Val, cap: usize) -> Result<usize, FuncError> {
    match index {
        Val::Invalid => Err(FuncError::call("cannot index slice/array with nil")),
        Val::Elem(_) => Err(FuncError::call("cannot index slice/array with type interface {}")),
        Val::Plain(v) => index_arg_of(Some(v), cap),
    }
}

fn index_arg_of(index: Option<&Value>, cap: usize) -> Result<usize, FuncError> {
    let x = match index {
        Some(Value::Int(i)) => *i,
        None | Some(Value::Nil) => return Err(FuncError::call("cannot index slice/array with nil")),
        Some(v) => return Err(FuncError::call(format!("cannot index slice/array with type {}", v.type_name()))),
    };
    if x < 0 || x as u64 > cap as u64 {
        return Err(FuncError::call(format!("index out of range: {x}")));
    }
    Ok(x as usize)
}

fn index(args: &[Val]) -> Result<Val, FuncError> {
    let mut item = args[0].clone();
    if item.value().is_none_or(|v| matches!(v, Value::Nil)) {
        return Err(FuncError::call("index of untyped nil"));
    }
    // A byte of a string is Go's uint8; our values only know int.
    let mut is_byte = false;
    for idx in &args[1..] {
        if is_byte {
            return Err(FuncError::call("can't index item of type uint8"));
        }
        let Some(v) = item.value().cloned() else {
            return Err(FuncError::call("index of untyped nil"));
        };
        item = match v {
            Value::Nil => return Err(FuncError::call("index of nil pointer")),
            Value::List(l) => {
                let x = index_arg(idx, l.len())?;
                match l.get(x) {
                    Some(e) => Val::Elem(e.clone()),
                    None => return Err(FuncError::call("reflect: slice index out of range")),
                }
            }
            Value::String(s) => {
                let x = index_arg(idx, s.len())?;
                match s.as_bytes().get(x) {
                    Some(b) => {
                        is_byte = true;
                        Val::Plain(Value::Int(i64::from(*b)))
                    }
                    None => return Err(FuncError::call("reflect: string index out of range")),
                }
            }
            Value::Map(m) => match idx.value() {
                Some(Value::String(k)) => Val::Elem(m.read().get(k).cloned().unwrap_or(Value::Nil)),
                None | Some(Value::Nil) => return Err(FuncError::call("value is nil; should be of type string")),
                Some(k) => {
                    return Err(FuncError::call(format!("value has type {}; should be string", k.type_name())));
                }
            },
            v => return Err(FuncError::call(format!("can't index item of type {}", v.type_name()))),
        };
    }
    Ok(item)
}

fn slice(args: &[Val]) -> Result<Val, FuncError> {
    let item = match args[0].value() {
        None | Some(Value::Nil) => return Err(FuncError::call("slice of untyped nil")),
        Some(v) => v.clone(),
    };
    let indexes = &args[1..];
    if indexes.len() > 3 {
        return Err(FuncError::call(format!("too many slice indexes: {}", indexes.len())));
    }
    let len = match &item {
        Value::String(s) => {
            if indexes.len() == 3 {
                return Err(FuncError::call("cannot 3-index slice a string"));
            }
            s.len()
        }
        Value::List(l) => l.len(),
        v => return Err(FuncError::call(format!("can't slice item of type {}", v.type_name()))),
    };
    let mut idx = [0, len, len];
    for (i, index) in indexes.iter().enumerate() {
        idx[i] = slice_index_arg(index, len)?;
    }
    if idx[0] > idx[1] {
        return Err(FuncError::call(format!("invalid slice index: {} > {}", idx[0], idx[1])));
    }
    if indexes.len() == 3 && idx[1] > idx[2] {
        return Err(FuncError::call(format!("invalid slice index: {} > {}", idx[1], idx[2])));
    }
    Ok(Val::Plain(match item {
        Value::String(s) => Value::String(String::from_utf8_lossy(&s.as_bytes()[idx[0]..idx[1]]).into_owned()),
        Value::List(l) => Value::list(l[idx[0]..idx[1]].to_vec()),
        _ => Value::Nil,
    }))
}

/// Go's comparison kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BasicKind {
    Invalid,
    Bool,
    Int,
    Float,
    String,
}

fn basic_kind(v: Option<&Value>) -> BasicKind {
    match v {
        Some(Value::Bool(_)) => BasicKind::Bool,
        Some(Value::Int(_)) => BasicKind::Int,
        Some(Value::Float(_)) => BasicKind::Float,
        Some(Value::String(_)) => BasicKind::String,
        _ => BasicKind::Invalid,
    }
}

const BAD_COMPARISON: &str = "incompatible types for comparison";
const BAD_COMPARISON_TYPE: &str = "invalid type for comparison";
const NO_COMPARISON: &str = "missing argument for comparison";

/// Go's "kind" for the non-basic comparison path (nil interface and invalid are alike).
fn reflect_kind(v: Option<&Value>) -> &'static str {
    match v {
        None | Some(Value::Nil) => "invalid",
        Some(Value::List(_)) => "slice",
        Some(Value::Map(_)) => "map",
        Some(Value::Func(_)) => "func",
        Some(Value::Object(_)) => "ptr",
        Some(_) => "basic",
    }
}

fn eq(arg1: &Val, rest: &[Val]) -> Result<bool, FuncError> {
    let a = arg1.value().filter(|v| !matches!(v, Value::Nil));
    if rest.is_empty() {
        return Err(FuncError::call(NO_COMPARISON));
    }
    let k1 = basic_kind(a);
    for arg in rest {
        let b = arg.value().filter(|v| !matches!(v, Value::Nil));
        let k2 = basic_kind(b);
        let truth = if k1 != k2 {
            if a.is_some() && b.is_some() {
                return Err(FuncError::call(BAD_COMPARISON));
            }
            false
        } else {
            match (a, b) {
                (Some(Value::Bool(x)), Some(Value::Bool(y))) => x == y,
                (Some(Value::Int(x)), Some(Value::Int(y))) => x == y,
                (Some(Value::Float(x)), Some(Value::Float(y))) => x == y,
                (Some(Value::String(x)), Some(Value::String(y))) => x == y,
                _ => {
                    let (r1, r2) = (reflect_kind(a), reflect_kind(b));
                    if r1 != r2 && r1 != "invalid" && r2 != "invalid" {
                        let (a, b) = (a.cloned().unwrap_or_default(), b.cloned().unwrap_or_default());
                        return Err(FuncError::call(format!(
                            "non-comparable types {}: {}, {}: {}",
                            format::sprintf("%s", std::slice::from_ref(&a)),
                            a.type_name(),
                            b.type_name(),
                            format::sprint(std::slice::from_ref(&b)),
                        )));
                    }
                    match (a, b) {
                        (None, None) => true,
                        (None, Some(_)) | (Some(_), None) => false,
                        (Some(_), Some(b)) => match b {
                            Value::List(_) | Value::Map(_) | Value::Func(_) => {
                                return Err(FuncError::call(format!(
                                    "non-comparable type {}: {}",
                                    format::sprintf("%s", std::slice::from_ref(b)),
                                    b.type_name()
                                )));
                            }
                            b => a == Some(b),
                        },
                    }
                }
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

fn lt(arg1: &Val, arg2: &Val) -> Result<bool, FuncError> {
    let (a, b) = (arg1.value(), arg2.value());
    let (k1, k2) = (basic_kind(a), basic_kind(b));
    if k1 == BasicKind::Invalid || k2 == BasicKind::Invalid {
        return Err(FuncError::call(BAD_COMPARISON_TYPE));
    }
    if k1 != k2 {
        return Err(FuncError::call(BAD_COMPARISON));
    }
    match (a, b) {
        (Some(Value::Int(x)), Some(Value::Int(y))) => Ok(x < y),
        (Some(Value::Float(x)), Some(Value::Float(y))) => Ok(x < y),
        (Some(Value::String(x)), Some(Value::String(y))) => Ok(x < y),
        _ => Err(FuncError::call(BAD_COMPARISON_TYPE)),
    }
}

fn le(arg1: &Val, arg2: &Val) -> Result<bool, FuncError> {
    if lt(arg1, arg2)? {
        return Ok(true);
    }
    eq(arg1, std::slice::from_ref(arg2))
}

/// The text html/js/urlquery escape: one string argument as is, otherwise `fmt.Sprint`
/// with nil arguments printed as the string `<no value>`, as Go's `evalArgs` does.
fn eval_args(args: &[Val]) -> String {
    if let [a] = args
        && let Some(Value::String(s)) = a.value()
    {
        return s.clone();
    }
    let vals: Vec<Value> = values(args)
        .into_iter()
        .map(|v| if matches!(v, Value::Nil) { Value::String("<no value>".into()) } else { v })
        .collect();
    format::sprint(&vals)
}

/// Go's `template.HTMLEscapeString`.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Go's `template.JSEscapeString`.
pub fn escape_js(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c if (c as u32) < 0x80 => out.push(c),
            c if c.is_control() || matches!(c as u32, 0x2028 | 0x2029 | 0xFEFF) => {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

/// Go's `url.QueryEscape`.
pub fn escape_query(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(v: impl Into<Value>) -> Val {
        Val::Plain(v.into())
    }

    #[test]
    fn comparisons() {
        assert_eq!(eq(&p(1i64), &[p(2i64), p(1i64)]), Ok(true));
        assert_eq!(eq(&p(1i64), &[p(1.0)]), Err(FuncError::call(BAD_COMPARISON)));
        assert_eq!(eq(&Val::Invalid, &[p("a")]), Ok(false));
        assert_eq!(lt(&p("a"), &p("b")), Ok(true));
        assert_eq!(lt(&Val::Invalid, &p(1i64)), Err(FuncError::call(BAD_COMPARISON_TYPE)));
    }

    #[test]
    fn escapes() {
        assert_eq!(escape_html("<a href=\"x\">'&'</a>"), "&lt;a href=&#34;x&#34;&gt;&#39;&amp;&#39;&lt;/a&gt;");
        assert_eq!(escape_js("a'b\"c<d>=\n"), "a\\'b\\\"c\\u003Cd\\u003E\\u003D\\u000A");
        assert_eq!(escape_query("a b&c=d/é"), "a+b%26c%3Dd%2F%C3%A9");
    }

    #[test]
    fn index_and_slice() {
        let l = p(Value::list(vec![Value::Int(1), Value::Int(2), Value::Int(3)]));
        assert!(matches!(index(&[l.clone(), p(1i64)]), Ok(Val::Elem(Value::Int(2)))));
        assert_eq!(index(&[l.clone(), p(5i64)]).err(), Some(FuncError::call("index out of range: 5")));
        assert!(matches!(slice(&[p("hello"), p(1i64), p(3i64)]), Ok(Val::Plain(Value::String(s))) if s == "el"));
        let _ = l;
    }
}
