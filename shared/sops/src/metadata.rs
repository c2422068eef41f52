//! The `sops` metadata of a document: who can recover the data key, which values are encrypted,
//! and the encrypted MAC.

use std::collections::BTreeMap;

use regex::Regex;
use serde::Deserialize;

use crate::error::SopsError;

/// An age recipient and the data key encrypted to it (an armored age file).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct AgeEntry {
    #[serde(default)]
    pub recipient: String,
    #[serde(default)]
    pub enc: String,
}

/// An OpenPGP key's fingerprint and the data key encrypted to it (an armored message).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct PgpEntry {
    #[serde(default)]
    pub fp: String,
    #[serde(default)]
    pub enc: String,
}

/// Master keys that each hold the whole data key (or one Shamir share of it).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct KeyGroup {
    #[serde(default)]
    pub age: Vec<AgeEntry>,
    #[serde(default)]
    pub pgp: Vec<PgpEntry>,
    /// kms, gcp_kms, azure_kv, hc_vault and any later provider.
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

impl KeyGroup {
    /// The providers Weir cannot use that hold a copy of the data key.
    pub fn other_providers(&self) -> Vec<String> {
        self.other.iter().filter(|(_, v)| v.as_array().is_some_and(|a| !a.is_empty())).map(|(k, _)| k.clone()).collect()
    }
}

#[derive(Debug, Default, Deserialize)]
struct Raw {
    #[serde(default)]
    key_groups: Vec<KeyGroup>,
    #[serde(flatten)]
    flat: KeyGroup,
    #[serde(default)]
    lastmodified: String,
    #[serde(default)]
    mac: String,
    #[serde(default)]
    mac_only_encrypted: bool,
    #[serde(default)]
    unencrypted_suffix: String,
    #[serde(default)]
    encrypted_suffix: String,
    #[serde(default)]
    unencrypted_regex: String,
    #[serde(default)]
    encrypted_regex: String,
    #[serde(default)]
    unencrypted_comment_regex: String,
    #[serde(default)]
    encrypted_comment_regex: String,
}

/// Which values are encrypted: at most one rule, `_unencrypted` suffix when none is given.
#[derive(Debug)]
pub enum Rule {
    UnencryptedSuffix(String),
    EncryptedSuffix(String),
    UnencryptedRegex(Regex),
    EncryptedRegex(Regex),
    /// Comment-based rules depend on comments, which Weir does not keep: a value is taken as
    /// encrypted when it has the shape of one.
    ByShape,
}

impl Rule {
    /// Whether the value at `path` is encrypted under this rule; `None` for [`Rule::ByShape`].
    pub fn encrypts(&self, path: &[String]) -> Option<bool> {
        Some(match self {
            Rule::UnencryptedSuffix(s) => !path.iter().any(|p| p.ends_with(s.as_str())),
            Rule::EncryptedSuffix(s) => path.iter().any(|p| p.ends_with(s.as_str())),
            Rule::UnencryptedRegex(r) => !path.iter().any(|p| r.is_match(p)),
            Rule::EncryptedRegex(r) => path.iter().any(|p| r.is_match(p)),
            Rule::ByShape => return None,
        })
    }
}

#[derive(Debug)]
pub struct Metadata {
    pub groups: Vec<KeyGroup>,
    pub last_modified: String,
    pub mac: String,
    pub mac_only_encrypted: bool,
    pub rule: Rule,
}

impl Metadata {
    pub fn from_json(mut value: serde_json::Value) -> Result<Metadata, SopsError> {
        drop_nulls(&mut value);
        let raw: Raw = serde_json::from_value(value).map_err(|e| SopsError::Metadata(e.to_string()))?;
        let regex = |name: &str, text: &str| {
            Regex::new(text).map_err(|e| SopsError::Metadata(format!("{name} '{text}' is not a valid regex: {e}")))
        };
        let mut rules = Vec::new();
        if !raw.unencrypted_suffix.is_empty() {
            rules.push(Rule::UnencryptedSuffix(raw.unencrypted_suffix.clone()));
        }
        if !raw.encrypted_suffix.is_empty() {
            rules.push(Rule::EncryptedSuffix(raw.encrypted_suffix.clone()));
        }
        if !raw.unencrypted_regex.is_empty() {
            rules.push(Rule::UnencryptedRegex(regex("unencrypted_regex", &raw.unencrypted_regex)?));
        }
        if !raw.encrypted_regex.is_empty() {
            rules.push(Rule::EncryptedRegex(regex("encrypted_regex", &raw.encrypted_regex)?));
        }
        if !raw.unencrypted_comment_regex.is_empty() || !raw.encrypted_comment_regex.is_empty() {
            rules.push(Rule::ByShape);
        }
        if rules.len() > 1 {
            return Err(SopsError::Metadata(
                "more than one of unencrypted_suffix, encrypted_suffix, unencrypted_regex, encrypted_regex, \
                 unencrypted_comment_regex and encrypted_comment_regex is set"
                    .into(),
            ));
        }
        let rule = rules.pop().unwrap_or_else(|| Rule::UnencryptedSuffix("_unencrypted".into()));
        let groups = if raw.key_groups.is_empty() { vec![raw.flat] } else { raw.key_groups };
        Ok(Metadata {
            groups,
            last_modified: raw.lastmodified,
            mac: raw.mac,
            mac_only_encrypted: raw.mac_only_encrypted,
            rule,
        })
    }

    /// The MAC's additional data: `lastmodified` as Go's sops re-formats it (RFC 3339, whole
    /// seconds, `Z` for UTC).
    pub fn mac_aad(&self) -> String {
        go_rfc3339(&self.last_modified)
    }
}

fn drop_nulls(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

fn go_rfc3339(text: &str) -> String {
    let Some(t) = text.find(['T', 't']) else { return text.to_string() };
    let (date, rest) = text.split_at(t + 1);
    let clock_end = rest.find(|c: char| !(c.is_ascii_digit() || c == ':')).unwrap_or(rest.len());
    let (clock, mut zone) = rest.split_at(clock_end);
    if let Some(fraction) = zone.strip_prefix('.') {
        zone = fraction.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let zone = match zone {
        "z" | "+00:00" | "-00:00" => "Z",
        other => other,
    };
    format!("{}T{clock}{zone}", &date[..date.len() - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_modified_is_formatted_as_go_does() {
        assert_eq!(go_rfc3339("2024-05-01T10:11:12Z"), "2024-05-01T10:11:12Z");
        assert_eq!(go_rfc3339("2024-05-01T10:11:12.123456Z"), "2024-05-01T10:11:12Z");
        assert_eq!(go_rfc3339("2024-05-01T10:11:12+00:00"), "2024-05-01T10:11:12Z");
        assert_eq!(go_rfc3339("2024-05-01T10:11:12.5+02:00"), "2024-05-01T10:11:12+02:00");
    }

    #[test]
    fn one_rule_at_most_and_the_default_suffix() {
        let metadata = Metadata::from_json(serde_json::json!({"age": null, "mac": "x"})).unwrap();
        assert!(matches!(&metadata.rule, Rule::UnencryptedSuffix(s) if s == "_unencrypted"));
        let path = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(metadata.rule.encrypts(&path(&["a", "b_unencrypted", "c"])), Some(false));
        assert_eq!(metadata.rule.encrypts(&path(&["a"])), Some(true));
        let both = Metadata::from_json(serde_json::json!({"encrypted_regex": "^data$", "unencrypted_suffix": "_x"}));
        assert!(both.unwrap_err().to_string().contains("more than one"));
    }

    #[test]
    fn other_providers_are_named() {
        let metadata = Metadata::from_json(serde_json::json!({
            "kms": [{"arn": "arn:aws:kms:x", "enc": "e"}], "hc_vault": [], "age": []
        }))
        .unwrap();
        assert_eq!(metadata.groups[0].other_providers(), ["kms"]);
    }
}
