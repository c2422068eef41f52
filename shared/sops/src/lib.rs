//! SOPS decryption, pure Rust: the documents `sops` writes (YAML and JSON with a top-level
//! `sops` key, dotenv with `sops_*` keys, binary files wrapped in JSON `data`), their data key
//! recovered with age identities or OpenPGP secret keys, each value opened with AES-256-GCM under
//! its path, and the MAC over all values checked.
//!
//! ```text
//! bytes ─► tree (ordered) + metadata ─► data key (age, pgp) ─► walk: decrypt + hash ─► MAC check ─► bytes
//! ```

mod cipher;
mod error;
mod formats;
mod keys;
mod metadata;
mod tree;

use sha2::{Digest, Sha512};

pub use error::{KeyError, SopsError};
pub use formats::Format;
pub use keys::Keys;

use cipher::Plain;
use metadata::{Metadata, Rule};
use tree::Node;

/// The MAC of a `mac_only_encrypted` document starts from these bytes (sha256 of "sops"), so
/// that it never equals the MAC over all values.
const MAC_ONLY_ENCRYPTED_INIT: [u8; 32] = [
    0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0x0b, 0x0b, 0x97, 0x5b,
    0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69,
];

/// How to decrypt.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Check the MAC over the values. Off only for documents something else has changed since
    /// SOPS wrote them (a resource after kustomize set its namespace or labels).
    pub verify_mac: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { verify_mac: true }
    }
}

/// True when `data` carries the SOPS metadata marker of `format` (as Flux detects it).
pub fn has_marker(data: &[u8], format: Format) -> bool {
    let marker = format.marker();
    data.windows(marker.len()).any(|w| w == marker)
}

/// The format whose SOPS marker `data` carries, if any.
pub fn detect(data: &[u8]) -> Option<Format> {
    [Format::Yaml, Format::Dotenv, Format::Json, Format::Ini].into_iter().find(|f| has_marker(data, *f))
}

/// Decrypts a document of `format` and writes it back in the same format.
pub fn decrypt(data: &[u8], format: Format, keys: &Keys, options: Options) -> Result<Vec<u8>, SopsError> {
    decrypt_as(data, format, format, keys, options)
}

/// Decrypts a document of `input` format and writes it as `output` (a YAML document stored under
/// a `.json` key, say).
pub fn decrypt_as(
    data: &[u8],
    input: Format,
    output: Format,
    keys: &Keys,
    options: Options,
) -> Result<Vec<u8>, SopsError> {
    let (mut branches, metadata) = formats::load(data, input)?;
    decrypt_branches(&mut branches, &metadata, keys, options)?;
    formats::emit(branches, output)
}

/// Decrypts a JSON object with a top-level `sops` key (a Kubernetes resource, say); the result
/// has no `sops` key. The MAC hashes values in document order, which a `serde_json::Value`
/// (sorted keys) has lost: pass `verify_mac: false` unless the keys were in that order.
pub fn decrypt_object(
    object: &serde_json::Value,
    keys: &Keys,
    options: Options,
) -> Result<serde_json::Value, SopsError> {
    let mut node = Node::from(object.clone());
    let metadata = node.remove("sops").ok_or(SopsError::NoMetadata)?;
    let metadata = Metadata::from_json(metadata.into())?;
    let mut branches = vec![node];
    decrypt_branches(&mut branches, &metadata, keys, options)?;
    Ok(branches.pop().map(Into::into).unwrap_or_default())
}

/// True when `object` has SOPS metadata with a MAC, as Flux decides what to decrypt.
pub fn is_encrypted_object(object: &serde_json::Value) -> bool {
    object.get("sops").and_then(|s| s.get("mac")).is_some_and(|m| m.as_str().is_some_and(|m| !m.is_empty()))
}

fn decrypt_branches(
    branches: &mut [Node],
    metadata: &Metadata,
    keys: &Keys,
    options: Options,
) -> Result<(), SopsError> {
    let data_key = keys.data_key(metadata)?;
    let mut hash = Sha512::new();
    if metadata.mac_only_encrypted {
        hash.update(MAC_ONLY_ENCRYPTED_INIT);
    }
    let mut walk = Walk { key: &data_key, rule: &metadata.rule, mac_only_encrypted: metadata.mac_only_encrypted, hash };
    for branch in branches.iter_mut() {
        walk.node(branch, &mut Vec::new())?;
    }
    if options.verify_mac {
        let computed: String = walk.hash.finalize().iter().map(|b| format!("{b:02X}")).collect();
        let stored = match cipher::decrypt(&metadata.mac, &data_key, &metadata.mac_aad()) {
            Ok(Plain::Value(Node::Str(mac))) => mac,
            Ok(_) => return Err(SopsError::Mac("the stored MAC is not a string".into())),
            Err(e) => return Err(SopsError::Mac(format!("the stored MAC cannot be decrypted: {e}"))),
        };
        if stored != computed {
            return Err(SopsError::MacMismatch);
        }
    }
    Ok(())
}

struct Walk<'a> {
    key: &'a [u8],
    rule: &'a Rule,
    mac_only_encrypted: bool,
    hash: Sha512,
}

impl Walk<'_> {
    fn node(&mut self, node: &mut Node, path: &mut Vec<String>) -> Result<(), SopsError> {
        match node {
            Node::Map(entries) => {
                for (key, value) in entries.iter_mut() {
                    path.push(key.clone());
                    self.node(value, path)?;
                    path.pop();
                }
                Ok(())
            }
            // Items of a list share the list's path.
            Node::Seq(items) => items.iter_mut().try_for_each(|item| self.node(item, path)),
            Node::Null => Ok(()),
            leaf => self.leaf(leaf, path),
        }
    }

    fn leaf(&mut self, leaf: &mut Node, path: &[String]) -> Result<(), SopsError> {
        let encrypted = self
            .rule
            .encrypts(path)
            .unwrap_or_else(|| matches!(leaf, Node::Str(s) if s.is_empty() || cipher::is_encrypted(s)));
        if encrypted {
            let at = || path.join(":");
            let Node::Str(value) = leaf else {
                return Err(SopsError::Value {
                    path: at(),
                    message: "the value should be encrypted but is not".into(),
                });
            };
            let aad = format!("{}:", path.join(":"));
            *leaf = match cipher::decrypt(value, self.key, &aad) {
                Ok(Plain::Value(plain)) => plain,
                Ok(Plain::Comment(_)) => {
                    return Err(SopsError::Value { path: at(), message: "a comment where a value should be".into() });
                }
                Err(message) => return Err(SopsError::Value { path: at(), message }),
            };
        }
        if encrypted || !self.mac_only_encrypted {
            self.hash.update(leaf.mac_bytes().unwrap_or_default());
        }
        Ok(())
    }
}
