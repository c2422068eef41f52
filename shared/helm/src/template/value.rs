//! Dynamic values as Go's text/template sees Helm's data: `interface{}` holding nil, bool,
//! int, float64, string, `[]interface{}` or `map[string]interface{}`, plus functions and
//! host objects (Helm's `.Files`, `.Capabilities`) that expose fields and methods.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::funcs::Function;

/// A map with Go's iteration order (sorted by key bytes).
pub type Map = BTreeMap<String, Value>;

/// A Go `map[string]interface{}` value: a reference to a shared map. Cloning the value
/// shares the map, so a change through one reference (sprig's `set`, `unset`, `merge`)
/// is seen through all of them, as in Go.
#[derive(Clone, Default)]
pub struct MapRef(Arc<RwLock<Map>>);

impl MapRef {
    pub fn new(entries: Map) -> MapRef {
        MapRef(Arc::new(RwLock::new(entries)))
    }

    /// The entries, for reading. Do not hold the guard across a call that may change
    /// the map.
    pub fn read(&self) -> RwLockReadGuard<'_, Map> {
        self.0.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The entries, for changing in place.
    pub fn write(&self) -> RwLockWriteGuard<'_, Map> {
        self.0.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// A copy of the entries (values inside are still shared references).
    pub fn snapshot(&self) -> Map {
        self.read().clone()
    }

    pub fn ptr_eq(&self, other: &MapRef) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl PartialEq for MapRef {
    fn eq(&self, other: &MapRef) -> bool {
        self.ptr_eq(other) || *self.read() == *other.read()
    }
}

impl fmt::Debug for MapRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.read().iter()).finish()
    }
}

/// One dynamic value.
#[derive(Clone, Default)]
pub enum Value {
    /// A nil `interface{}` (YAML `null`).
    #[default]
    Nil,
    Bool(bool),
    /// Go's `int` (template literals, `len`, range indexes).
    Int(i64),
    /// Go's `float64` (every number decoded from YAML or JSON by Helm).
    Float(f64),
    String(String),
    /// `[]interface {}`.
    List(Arc<Vec<Value>>),
    /// `map[string]interface {}` (a shared reference, as Go's maps are).
    Map(MapRef),
    /// A function value, usable with `call`.
    Func(Function),
    /// A host object with fields and methods.
    Object(Arc<dyn Object>),
}

/// A host object: fields are read with `.Name`, methods are called with `.Name arg…`.
pub trait Object: Send + Sync {
    /// Go's type name, for `%T` and error messages (e.g. `*chartutil.Capabilities`).
    fn type_name(&self) -> String;
    /// A field or zero-argument value, if this object has one by that name.
    fn field(&self, name: &str) -> Option<Value>;
    /// A method by that name, called with the action's arguments.
    fn method(&self, name: &str) -> Option<Function> {
        let _ = name;
        None
    }
    /// How `%v` prints this object.
    fn format(&self) -> String {
        format!("{{{}}}", self.type_name())
    }
}

impl Value {
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Arc::new(items))
    }

    pub fn map(entries: Map) -> Value {
        Value::Map(MapRef::new(entries))
    }

    /// Go's type name as `%T` prints it.
    pub fn type_name(&self) -> String {
        match self {
            Value::Nil => "<nil>".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_) => "int".into(),
            Value::Float(_) => "float64".into(),
            Value::String(_) => "string".into(),
            Value::List(_) => "[]interface {}".into(),
            Value::Map(_) => "map[string]interface {}".into(),
            Value::Func(f) => f.type_name(),
            Value::Object(o) => o.type_name(),
        }
    }

    /// Go's truth: false, 0, nil, and empty strings, lists and maps are false.
    pub fn is_true(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::String(s) => !s.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.read().is_empty(),
            Value::Func(_) | Value::Object(_) => true,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The value converted from JSON as Go's `encoding/json` decodes into `interface{}`:
    /// every number becomes a float64.
    pub fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Nil,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap_or(0.0)),
            serde_json::Value::String(s) => Value::String(s.clone()),
            serde_json::Value::Array(a) => Value::list(a.iter().map(Value::from_json).collect()),
            serde_json::Value::Object(o) => {
                Value::map(o.iter().map(|(k, v)| (k.clone(), Value::from_json(v))).collect())
            }
        }
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<Vec<Value>> for Value {
    fn from(l: Vec<Value>) -> Self {
        Value::list(l)
    }
}

impl From<Map> for Value {
    fn from(m: Map) -> Self {
        Value::map(m)
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Nil, Value::Nil) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::List(a), Value::List(b)) => a == b,
            (Value::Map(a), Value::Map(b)) => a == b,
            (Value::Func(a), Value::Func(b)) => a.ptr_eq(b),
            (Value::Object(a), Value::Object(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

/// `%v`, as `fmt.Print` shows the value.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&super::format::sprint(std::slice::from_ref(self)))
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&super::format::sprintf("%#v", std::slice::from_ref(self)))
    }
}

/// A value as Go's reflection holds it while a template executes: invalid (a missing
/// map key), a concrete value, or an element read out of a container, whose static type
/// is `interface {}` (which is why `.a.b` on a nil element is a "nil pointer" error
/// while on a missing key it is not).
#[derive(Clone, Debug)]
pub enum Val {
    Invalid,
    Plain(Value),
    Elem(Value),
}

impl Val {
    /// The value inside, `None` when invalid.
    pub fn value(&self) -> Option<&Value> {
        match self {
            Val::Invalid => None,
            Val::Plain(v) | Val::Elem(v) => Some(v),
        }
    }

    /// As a function argument of type `interface{}`: invalid becomes nil.
    pub fn to_value(&self) -> Value {
        self.value().cloned().unwrap_or(Value::Nil)
    }

    pub fn is_true(&self) -> bool {
        self.value().is_some_and(Value::is_true)
    }

    /// What a pipeline yields: an `interface{}` is unwrapped, and a nil one is invalid.
    pub fn unwrap_iface(self) -> Val {
        match self {
            Val::Elem(Value::Nil) | Val::Plain(Value::Nil) => Val::Invalid,
            Val::Elem(v) => Val::Plain(v),
            v => v,
        }
    }

    /// The static type Go would report (`interface {}` for container elements).
    pub fn type_name(&self) -> String {
        match self {
            Val::Invalid => "<nil>".into(),
            Val::Elem(_) => "interface {}".into(),
            Val::Plain(v) => v.type_name(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_are_gos() {
        assert_eq!(Value::Float(1.0).type_name(), "float64");
        assert_eq!(Value::list(vec![]).type_name(), "[]interface {}");
        assert_eq!(Value::map(Map::new()).type_name(), "map[string]interface {}");
        assert_eq!(Value::Nil.type_name(), "<nil>");
    }

    #[test]
    fn truth_follows_go() {
        assert!(!Value::Nil.is_true());
        assert!(!Value::Float(0.0).is_true());
        assert!(Value::from("x").is_true());
        assert!(!Value::list(vec![]).is_true());
    }

    #[test]
    fn json_numbers_are_floats() {
        let v = Value::from_json(&serde_json::json!({"n": 1}));
        let Value::Map(m) = v else { panic!("map") };
        assert_eq!(m.read().get("n"), Some(&Value::Float(1.0)));
    }
}
