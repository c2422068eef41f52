//! Helm's `lookup`: reads live objects from the cluster during install; offline (as
//! `helm template` runs) it returns an empty map.

use crate::template::{Map, Value};

/// A source of live objects for `lookup apiVersion kind namespace name`. An empty name
/// asks for a list (Helm returns the `List` object with its `items`).
pub trait Lookup: Send + Sync {
    fn lookup(&self, api_version: &str, kind: &str, namespace: &str, name: &str) -> Result<Value, String>;
}

/// No cluster: every lookup is an empty map, as with `helm template`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Offline;

impl Lookup for Offline {
    fn lookup(&self, _: &str, _: &str, _: &str, _: &str) -> Result<Value, String> {
        Ok(Value::map(Map::new()))
    }
}
