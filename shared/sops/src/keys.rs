//! The private keys that recover a document's data key: age identities (X25519, and OpenSSH
//! ed25519/RSA keys) and OpenPGP secret keys. Cloud KMS and Vault entries are named in the error
//! when nothing else could open the document.

use std::io::{BufReader, Read};
use std::str::FromStr;

use age::armor::ArmoredReader;
use pgp::composed::{Deserializable, Message, SignedSecretKey};
use pgp::types::{KeyDetails, Password};

use crate::error::KeyError;
use crate::metadata::{AgeEntry, KeyGroup, Metadata, PgpEntry};

/// A key ring: every key given, tried in SOPS's order (age, then OpenPGP).
#[derive(Default)]
pub struct Keys {
    /// Each identity with the recipient it answers to, for error messages.
    age: Vec<(Box<dyn age::Identity + Send + Sync>, String)>,
    pgp: Vec<SignedSecretKey>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Keys {
    pub fn new() -> Self {
        Keys::default()
    }

    pub fn is_empty(&self) -> bool {
        self.age.is_empty() && self.pgp.is_empty()
    }

    /// Adds the identities of an age key file (`AGE-SECRET-KEY-1…` lines, `#` comments), or of
    /// an unencrypted OpenSSH private key. Returns how many were added.
    pub fn add_age(&mut self, text: &str) -> Result<usize, KeyError> {
        if text.contains("-----BEGIN OPENSSH PRIVATE KEY-----") || text.contains("-----BEGIN RSA PRIVATE KEY-----") {
            let identity = age::ssh::Identity::from_buffer(BufReader::new(text.as_bytes()), None)
                .map_err(|e| KeyError::InvalidAge(format!("not a readable SSH private key: {e}")))?;
            let label = match &identity {
                age::ssh::Identity::Unencrypted(_) => "an SSH key".to_string(),
                _ => return Err(KeyError::InvalidAge("SSH keys must be unencrypted and ed25519 or RSA".into())),
            };
            self.age.push((Box::new(identity), label));
            return Ok(1);
        }
        let mut added = 0;
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let identity = age::x25519::Identity::from_str(line).map_err(|_| {
                KeyError::InvalidAge(format!("line {} is not an AGE-SECRET-KEY-1 identity", number + 1))
            })?;
            let recipient = identity.to_public().to_string();
            self.age.push((Box::new(identity), recipient));
            added += 1;
        }
        if added == 0 {
            return Err(KeyError::InvalidAge("no identity found".into()));
        }
        Ok(added)
    }

    /// Adds the secret keys of an armored OpenPGP key block. Returns how many were added.
    pub fn add_pgp(&mut self, armored: &[u8]) -> Result<usize, KeyError> {
        let (keys, _) = SignedSecretKey::from_armor_many(armored).map_err(|e| KeyError::InvalidPgp(e.to_string()))?;
        let mut added = 0;
        for key in keys {
            let key = key.map_err(|e| KeyError::InvalidPgp(e.to_string()))?;
            self.pgp.push(key);
            added += 1;
        }
        if added == 0 {
            return Err(KeyError::InvalidPgp("no secret key found".into()));
        }
        Ok(added)
    }

    /// The public side of every key, as error messages show it.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self.age.iter().map(|(_, r)| format!("age {r}")).collect();
        parts.extend(self.pgp.iter().map(|k| format!("pgp {:X}", k.fingerprint())));
        if parts.is_empty() { "none".to_string() } else { parts.join(", ") }
    }

    /// Recovers the 32-byte data key of a document.
    pub fn data_key(&self, metadata: &Metadata) -> Result<Vec<u8>, KeyError> {
        let [group] = metadata.groups.as_slice() else { return Err(KeyError::Shamir(metadata.groups.len())) };
        for entry in &group.age {
            if let Some(key) = self.open_age(entry)? {
                return Ok(key);
            }
        }
        for entry in &group.pgp {
            if let Some(key) = self.open_pgp(entry)? {
                return Ok(key);
            }
        }
        Err(no_key(group, self))
    }

    fn open_age(&self, entry: &AgeEntry) -> Result<Option<Vec<u8>>, KeyError> {
        if self.age.is_empty() {
            return Ok(None);
        }
        let Ok(decryptor) = age::Decryptor::new(ArmoredReader::new(entry.enc.as_bytes())) else { return Ok(None) };
        let identities = self.age.iter().map(|(i, _)| i.as_ref() as &dyn age::Identity);
        let Ok(mut reader) = decryptor.decrypt(identities) else { return Ok(None) };
        let mut key = Vec::new();
        if reader.read_to_end(&mut key).is_err() {
            return Ok(None);
        }
        checked(key, &format!("age recipient {}", entry.recipient)).map(Some)
    }

    fn open_pgp(&self, entry: &PgpEntry) -> Result<Option<Vec<u8>>, KeyError> {
        for secret in &self.pgp {
            let Ok((message, _)) = Message::from_string(&entry.enc) else { return Ok(None) };
            let Ok(mut message) = message.decrypt(&Password::empty(), secret) else { continue };
            if message.is_compressed() {
                let Ok(decompressed) = message.decompress() else { continue };
                message = decompressed;
            }
            let Ok(key) = message.as_data_vec() else { continue };
            return checked(key, &format!("pgp key {}", entry.fp)).map(Some);
        }
        Ok(None)
    }
}

fn checked(key: Vec<u8>, recipient: &str) -> Result<Vec<u8>, KeyError> {
    if key.len() != 32 {
        return Err(KeyError::DataKeyLength { recipient: recipient.to_string(), len: key.len() });
    }
    Ok(key)
}

fn no_key(group: &KeyGroup, keys: &Keys) -> KeyError {
    let mut recipients: Vec<String> = group.age.iter().map(|e| format!("age {}", e.recipient)).collect();
    recipients.extend(group.pgp.iter().map(|e| format!("pgp {}", e.fp)));
    let others = group.other_providers();
    if recipients.is_empty() && !others.is_empty() {
        return KeyError::UnsupportedProviders { providers: others.join(", ") };
    }
    recipients.extend(others.iter().map(|p| format!("{p} (not supported by Weir)")));
    let recipients = if recipients.is_empty() { "no recipient".to_string() } else { recipients.join(", ") };
    KeyError::NoMatchingKey { recipients, available: keys.describe() }
}
