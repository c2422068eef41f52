//! SOPS's stores: how each format holds the values and the metadata, read into trees and written
//! back as plaintext.

use serde_json::Value;

use crate::error::SopsError;
use crate::metadata::Metadata;
use crate::tree::{Node, format_float};

/// A document format, as SOPS picks it from a file name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
    Dotenv,
    /// Any other file: its bytes, encrypted as the `data` value of a JSON document.
    Binary,
    /// Recognised so that it can be refused clearly.
    Ini,
}

impl Format {
    /// SOPS's choice by extension: `.yaml`/`.yml`, `.json`, `.env`, `.ini`, anything else binary.
    pub fn for_path(path: &str) -> Format {
        if path.ends_with(".yaml") || path.ends_with(".yml") {
            Format::Yaml
        } else if path.ends_with(".json") {
            Format::Json
        } else if path.ends_with(".env") {
            Format::Dotenv
        } else if path.ends_with(".ini") {
            Format::Ini
        } else {
            Format::Binary
        }
    }

    /// The bytes every encrypted document of this format contains (its MAC entry).
    pub fn marker(self) -> &'static [u8] {
        match self {
            Format::Yaml => b"mac: ENC[",
            Format::Json | Format::Binary => b"\"mac\": \"ENC[",
            Format::Dotenv => b"sops_mac=ENC[",
            Format::Ini => b"[sops]",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Yaml => "YAML",
            Format::Json => "JSON",
            Format::Dotenv => "dotenv",
            Format::Binary => "binary",
            Format::Ini => "INI",
        }
    }
}

/// The documents (one per YAML document, else one) without their metadata, and the metadata.
pub fn load(data: &[u8], format: Format) -> Result<(Vec<Node>, Metadata), SopsError> {
    let syntax = |message: String| SopsError::Syntax { format: format.name(), message };
    let text = || std::str::from_utf8(data).map_err(|_| syntax("the document is not UTF-8".into()));
    let mut documents: Vec<Node> = match format {
        Format::Yaml => {
            serde_saphyr::from_multiple_with_options(text()?, yaml_options()).map_err(|e| syntax(e.to_string()))?
        }
        Format::Json | Format::Binary => vec![serde_json::from_slice(data).map_err(|e| syntax(e.to_string()))?],
        Format::Dotenv => return load_dotenv(text()?),
        Format::Ini => return Err(SopsError::Unsupported { format: "INI" }),
    };
    if documents.iter().any(|d| !matches!(d, Node::Map(_))) {
        return Err(syntax("a document is not a mapping".into()));
    }
    // SOPS writes the metadata into every YAML document and reads it from the first.
    let metadata = documents.first().and_then(|d| d.get("sops")).cloned().ok_or(SopsError::NoMetadata)?;
    for document in &mut documents {
        document.remove("sops");
    }
    Ok((documents, Metadata::from_json(metadata.into())?))
}

/// Plain scalars resolved as Go's yaml.v3 (which sops uses) does: only `true`/`false` are
/// booleans (a key `n` stays a string), `0755` is octal.
fn yaml_options() -> serde_saphyr::Options {
    serde_saphyr::options! { strict_booleans: true, legacy_octal_numbers: true }
}

fn load_dotenv(text: &str) -> Result<(Vec<Node>, Metadata), SopsError> {
    let mut entries = Vec::new();
    let mut metadata = Value::Object(Default::default());
    for (number, line) in text.split('\n').enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(SopsError::Syntax { format: "dotenv", message: format!("line {} has no '='", number + 1) });
        };
        let value = value.replace("\\n", "\n");
        match key.strip_prefix("sops_") {
            Some(flat) => insert_flattened(&mut metadata, &tokenize(flat), Value::String(value)),
            None => entries.push((key.to_string(), Node::Str(value))),
        }
    }
    let Value::Object(map) = &mut metadata else { return Err(SopsError::NoMetadata) };
    if map.is_empty() {
        return Err(SopsError::NoMetadata);
    }
    // Flattened metadata is all strings: the two non-string fields come back typed.
    if let Some(v) = map.get_mut("mac_only_encrypted") {
        *v = Value::Bool(v.as_str() == Some("true"));
    }
    if let Some(v) = map.get_mut("shamir_threshold") {
        let n: u64 = v
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| SopsError::Metadata("shamir_threshold is not an integer".into()))?;
        *v = Value::from(n);
    }
    Ok((vec![Node::Map(entries)], Metadata::from_json(metadata)?))
}

enum Token {
    Key(String),
    Index(usize),
}

/// `age__list_0__map_enc` → `age`, `[0]`, `enc`, as SOPS flattens metadata for dotenv.
fn tokenize(flat: &str) -> Vec<Token> {
    const MAP: &str = "__map_";
    const LIST: &str = "__list_";
    let mut tokens = Vec::new();
    let mut rest = flat;
    let mut is_index = false;
    loop {
        let next = [rest.find(MAP).map(|i| (i, MAP)), rest.find(LIST).map(|i| (i, LIST))]
            .into_iter()
            .flatten()
            .min_by_key(|(i, _)| *i);
        let (part, following) = match next {
            Some((i, separator)) => (&rest[..i], Some((&rest[i + separator.len()..], separator == LIST))),
            None => (rest, None),
        };
        tokens.push(if is_index { Token::Index(part.parse().unwrap_or(0)) } else { Token::Key(part.to_string()) });
        match following {
            Some((after, index)) => {
                rest = after;
                is_index = index;
            }
            None => return tokens,
        }
    }
}

fn insert_flattened(node: &mut Value, tokens: &[Token], value: Value) {
    let Some((first, rest)) = tokens.split_first() else { return };
    let empty = || match rest.first() {
        Some(Token::Index(_)) => Value::Array(Vec::new()),
        _ => Value::Object(Default::default()),
    };
    let slot = match (first, node) {
        (Token::Key(key), Value::Object(map)) => map.entry(key.clone()).or_insert_with(empty),
        (Token::Index(index), Value::Array(items)) => {
            if items.len() <= *index {
                items.resize(index + 1, Value::Null);
            }
            let slot = &mut items[*index];
            if slot.is_null() {
                *slot = empty();
            }
            slot
        }
        _ => return,
    };
    if rest.is_empty() {
        *slot = value;
    } else {
        insert_flattened(slot, rest, value);
    }
}

/// Writes decrypted documents as `format`.
pub fn emit(mut documents: Vec<Node>, format: Format) -> Result<Vec<u8>, SopsError> {
    let fail = |message: String| SopsError::Emit { format: format.name(), message };
    match format {
        Format::Yaml => {
            let mut out = String::new();
            for (i, document) in documents.iter().enumerate() {
                if i > 0 {
                    out.push_str("---\n");
                }
                out.push_str(&serde_saphyr::to_string(document).map_err(|e| fail(e.to_string()))?);
            }
            Ok(out.into_bytes())
        }
        Format::Json => {
            let first = documents.into_iter().next().unwrap_or(Node::Map(Vec::new()));
            let mut out = serde_json::to_vec_pretty(&first).map_err(|e| fail(e.to_string()))?;
            out.push(b'\n');
            Ok(out)
        }
        Format::Dotenv => {
            let Some(Node::Map(entries)) = documents.into_iter().next() else { return Ok(Vec::new()) };
            let mut out = String::new();
            for (key, value) in entries {
                let text = match value {
                    Node::Str(s) => s,
                    Node::Int(i) => i.to_string(),
                    Node::Float(f) => format_float(f),
                    Node::Bool(b) => b.to_string(),
                    Node::Bytes(b) => String::from_utf8_lossy(&b).into_owned(),
                    Node::Null => String::new(),
                    Node::Map(_) | Node::Seq(_) => return Err(fail(format!("'{key}' is not a single value"))),
                };
                out.push_str(&format!("{key}={}\n", text.replace('\n', "\\n")));
            }
            Ok(out.into_bytes())
        }
        Format::Binary => match documents.first_mut().and_then(|d| d.remove("data")) {
            Some(Node::Str(s)) => Ok(s.into_bytes()),
            Some(Node::Bytes(b)) => Ok(b),
            _ => Err(fail("the document has no 'data' string".into())),
        },
        Format::Ini => Err(SopsError::Unsupported { format: "INI" }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattened_metadata_unflattens() {
        let mut root = Value::Object(Default::default());
        for (key, value) in [
            ("age__list_0__map_recipient", "r0"),
            ("age__list_0__map_enc", "e0"),
            ("age__list_1__map_recipient", "r1"),
            ("mac", "m"),
        ] {
            insert_flattened(&mut root, &tokenize(key), Value::String(value.into()));
        }
        assert_eq!(
            root,
            serde_json::json!({"age": [{"recipient": "r0", "enc": "e0"}, {"recipient": "r1"}], "mac": "m"})
        );
    }

    #[test]
    fn formats_follow_the_file_name() {
        assert_eq!(Format::for_path("a/secret.yml"), Format::Yaml);
        assert_eq!(Format::for_path("x.json"), Format::Json);
        assert_eq!(Format::for_path(".env"), Format::Dotenv);
        assert_eq!(Format::for_path("key.pem"), Format::Binary);
    }
}
