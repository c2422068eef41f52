//! One SOPS value: `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`, AES-256-GCM under the data key
//! with the value's path as additional data. Errors never quote the value: a value that should
//! have been encrypted may be plaintext.

use aes_gcm::aead::consts::{U12, U32};
use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::aes::Aes256;
use aes_gcm::{AesGcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::tree::Node;

/// What a decrypted value is, from its `type:` field.
#[derive(Debug, PartialEq)]
pub enum Plain {
    Value(Node),
    Comment(String),
}

struct Encrypted {
    data: Vec<u8>,
    iv: Vec<u8>,
    tag: Vec<u8>,
    kind: String,
}

/// True when `value` has the shape of an encrypted SOPS value.
pub fn is_encrypted(value: &str) -> bool {
    parse(value).is_ok()
}

fn parse(value: &str) -> Result<Encrypted, String> {
    let not_sops = || "the value is not in SOPS's ENC[AES256_GCM,…] format".to_string();
    let inner = value.strip_prefix("ENC[AES256_GCM,").and_then(|v| v.strip_suffix(']')).ok_or_else(not_sops)?;
    // Base64 has no commas, so the fields split cleanly.
    let fields: Vec<&str> = inner.split(',').collect();
    let [data, iv, tag, kind] = fields.as_slice() else { return Err(not_sops()) };
    let field = |prefix: &str, text: &str| text.strip_prefix(prefix).map(str::to_string).ok_or_else(not_sops);
    let decode = |name: &str, text: String| STANDARD.decode(text).map_err(|e| format!("its {name} is not base64: {e}"));
    Ok(Encrypted {
        data: decode("data", field("data:", data)?)?,
        iv: decode("iv", field("iv:", iv)?)?,
        tag: decode("tag", field("tag:", tag)?)?,
        kind: field("type:", kind)?,
    })
}

/// Decrypts `value` with the data `key`, authenticated with `aad` (the path, `a:b:c:`).
pub fn decrypt(value: &str, key: &[u8], aad: &str) -> Result<Plain, String> {
    if value.is_empty() {
        // SOPS leaves empty strings as they are.
        return Ok(Plain::Value(Node::Str(String::new())));
    }
    let encrypted = parse(value)?;
    let mut sealed = encrypted.data;
    sealed.extend_from_slice(&encrypted.tag);
    let payload = Payload { msg: &sealed, aad: aad.as_bytes() };
    let plain = match encrypted.iv.len() {
        32 => AesGcm::<Aes256, U32>::new_from_slice(key)
            .map_err(|_| "the data key is not 32 bytes".to_string())?
            .decrypt(GenericArray::from_slice(&encrypted.iv), payload),
        12 => AesGcm::<Aes256, U12>::new_from_slice(key)
            .map_err(|_| "the data key is not 32 bytes".to_string())?
            .decrypt(Nonce::from_slice(&encrypted.iv), payload),
        n => return Err(format!("unsupported IV length {n}")),
    }
    .map_err(|_| "AES-GCM authentication failed (wrong data key, or the value or its path was changed)".to_string())?;
    let text = || String::from_utf8(plain.clone()).map_err(|_| "the decrypted value is not UTF-8".to_string());
    let bad = |kind: &str| format!("the decrypted value is not a valid {kind}");
    let node = match encrypted.kind.as_str() {
        "str" => Node::Str(text()?),
        "int" | "int64" => Node::Int(text()?.parse().map_err(|_| bad("integer"))?),
        "float" => Node::Float(text()?.parse().map_err(|_| bad("float"))?),
        "bool" => Node::Bool(parse_go_bool(&text()?).ok_or_else(|| bad("boolean"))?),
        "bytes" => Node::Bytes(plain),
        "comment" => return Ok(Plain::Comment(text()?)),
        other => return Err(format!("unknown value type '{other}'")),
    };
    Ok(Plain::Value(node))
}

/// Go's `strconv.ParseBool`.
fn parse_go_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encrypt(plain: &[u8], key: &[u8], aad: &str, kind: &str) -> String {
        let iv = [7u8; 32];
        let cipher = AesGcm::<Aes256, U32>::new_from_slice(key).unwrap();
        let out = cipher.encrypt(GenericArray::from_slice(&iv), Payload { msg: plain, aad: aad.as_bytes() }).unwrap();
        let (data, tag) = out.split_at(out.len() - 16);
        format!(
            "ENC[AES256_GCM,data:{},iv:{},tag:{},type:{kind}]",
            STANDARD.encode(data),
            STANDARD.encode(iv),
            STANDARD.encode(tag)
        )
    }

    #[test]
    fn values_decrypt_to_their_type() {
        let key = [1u8; 32];
        let cases = [
            (b"hello".as_slice(), "str", Node::Str("hello".into())),
            (b"42", "int", Node::Int(42)),
            (b"1.5", "float", Node::Float(1.5)),
            (b"True", "bool", Node::Bool(true)),
            (b"\x00\xff", "bytes", Node::Bytes(vec![0, 255])),
        ];
        for (plain, kind, expected) in cases {
            let value = encrypt(plain, &key, "a:b:", kind);
            assert_eq!(decrypt(&value, &key, "a:b:").unwrap(), Plain::Value(expected));
        }
        let comment = encrypt(b" note", &key, "", "comment");
        assert_eq!(decrypt(&comment, &key, "").unwrap(), Plain::Comment(" note".into()));
    }

    #[test]
    fn another_path_or_key_fails_without_quoting_the_value() {
        let key = [1u8; 32];
        let value = encrypt(b"hunter2", &key, "data:password:", "str");
        let moved = decrypt(&value, &key, "data:other:").unwrap_err();
        assert!(moved.contains("authentication failed"), "{moved}");
        assert!(decrypt(&value, &[2u8; 32], "data:password:").is_err());
        let plain = decrypt("hunter2", &key, "data:password:").unwrap_err();
        assert!(!plain.contains("hunter2"), "{plain}");
        assert_eq!(decrypt("", &key, "x:").unwrap(), Plain::Value(Node::Str(String::new())));
    }
}
