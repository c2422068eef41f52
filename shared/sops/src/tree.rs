//! The document as SOPS sees it: an ordered tree whose map order matters, because the MAC hashes
//! the values in document order. Read from YAML and JSON with serde, written back the same way.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// One value of a document.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Map(Vec<(String, Node)>),
    Seq(Vec<Node>),
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A `bytes`-typed value: only SOPS's binary store writes those.
    Bytes(Vec<u8>),
    Null,
}

impl Node {
    /// The value of `key` in a map.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Takes `key` out of a map.
    pub fn remove(&mut self, key: &str) -> Option<Node> {
        match self {
            Node::Map(entries) => {
                let index = entries.iter().position(|(k, _)| k == key)?;
                Some(entries.remove(index).1)
            }
            _ => None,
        }
    }

    /// The bytes SOPS hashes into the MAC for a leaf, as Go's sops formats them (booleans in
    /// Python's title case, floats without exponent or padding).
    pub fn mac_bytes(&self) -> Option<Vec<u8>> {
        match self {
            Node::Str(s) => Some(s.as_bytes().to_vec()),
            Node::Int(i) => Some(i.to_string().into_bytes()),
            Node::Float(f) => Some(format_float(*f).into_bytes()),
            Node::Bool(true) => Some(b"True".to_vec()),
            Node::Bool(false) => Some(b"False".to_vec()),
            Node::Bytes(b) => Some(b.clone()),
            Node::Map(_) | Node::Seq(_) | Node::Null => None,
        }
    }
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)`: the shortest digits that round-trip, no exponent.
pub fn format_float(f: f64) -> String {
    // Rust's Display is exactly that for finite values.
    format!("{f}")
}

impl From<serde_json::Value> for Node {
    fn from(value: serde_json::Value) -> Self {
        match value {
            serde_json::Value::Null => Node::Null,
            serde_json::Value::Bool(b) => Node::Bool(b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Node::Int(i),
                None => Node::Float(n.as_f64().unwrap_or_default()),
            },
            serde_json::Value::String(s) => Node::Str(s),
            serde_json::Value::Array(items) => Node::Seq(items.into_iter().map(Node::from).collect()),
            serde_json::Value::Object(map) => Node::Map(map.into_iter().map(|(k, v)| (k, Node::from(v))).collect()),
        }
    }
}

impl From<Node> for serde_json::Value {
    fn from(node: Node) -> Self {
        match node {
            Node::Null => serde_json::Value::Null,
            Node::Bool(b) => serde_json::Value::Bool(b),
            Node::Int(i) => serde_json::Value::from(i),
            Node::Float(f) => {
                serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, serde_json::Value::Number)
            }
            Node::Str(s) => serde_json::Value::String(s),
            Node::Bytes(b) => serde_json::Value::String(String::from_utf8_lossy(&b).into_owned()),
            Node::Seq(items) => serde_json::Value::Array(items.into_iter().map(Into::into).collect()),
            Node::Map(entries) => serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k, v.into())).collect()),
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a YAML or JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        // Past i64, Go's decoders give a float as well.
        Ok(i64::try_from(v).map_or(Node::Float(v as f64), Node::Int))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }

    fn visit_bytes<E>(self, v: &[u8]) -> Result<Node, E> {
        Ok(Node::Bytes(v.to_vec()))
    }

    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        Node::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some((key, value)) = map.next_entry::<Node, Node>()? {
            let key = match key {
                Node::Str(s) => s,
                Node::Int(i) => i.to_string(),
                Node::Bool(b) => b.to_string(),
                Node::Float(f) => format_float(f),
                _ => return Err(de::Error::custom("only scalar map keys are supported")),
            };
            entries.push((key, value));
        }
        Ok(Node::Map(entries))
    }
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Map(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
            Node::Seq(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Node::Str(s) => serializer.serialize_str(s),
            Node::Int(i) => serializer.serialize_i64(*i),
            Node::Float(f) => serializer.serialize_f64(*f),
            Node::Bool(b) => serializer.serialize_bool(*b),
            Node::Bytes(b) => serializer.serialize_str(&String::from_utf8_lossy(b)),
            Node::Null => serializer.serialize_unit(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_maps_keep_their_order() {
        let node: Node = serde_saphyr::from_str("b: 1\na: [x, 2.5, true]\nc: null\n").unwrap();
        let Node::Map(entries) = &node else { panic!("{node:?}") };
        let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["b", "a", "c"]);
        assert_eq!(node.get("a"), Some(&Node::Seq(vec![Node::Str("x".into()), Node::Float(2.5), Node::Bool(true)])));
    }

    #[test]
    fn mac_bytes_follow_go_sops() {
        assert_eq!(Node::Bool(true).mac_bytes().unwrap(), b"True");
        assert_eq!(Node::Float(1.0).mac_bytes().unwrap(), b"1");
        assert_eq!(Node::Float(0.000001).mac_bytes().unwrap(), b"0.000001");
        assert_eq!(Node::Int(-3).mac_bytes().unwrap(), b"-3");
        assert_eq!(Node::Null.mac_bytes(), None);
    }
}
