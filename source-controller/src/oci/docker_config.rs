//! Registry credentials from `kubernetes.io/dockerconfigjson` (and legacy `.dockercfg`) Secrets,
//! matched to a registry host as the kubelet's keyring does: an entry's key may be a bare host, a
//! host with a path, or a URL.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::Deserialize;

use super::client::Credentials;

#[derive(Deserialize)]
struct ConfigJson {
    #[serde(default)]
    auths: BTreeMap<String, Entry>,
}

#[derive(Default, Deserialize)]
struct Entry {
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    auth: Option<String>,
}

/// Why a Secret's content could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DockerConfigError {
    #[error("invalid docker config JSON: {0}")]
    Json(String),
    #[error("invalid 'auth' of '{0}': not base64 'user:password'")]
    Auth(String),
}

/// The credentials for `registry` (`host[:port]`) in a Secret's data, if any: `.dockerconfigjson`
/// or `.dockercfg`.
pub fn credentials_for(
    data: &BTreeMap<String, Vec<u8>>,
    registry: &str,
) -> Result<Option<Credentials>, DockerConfigError> {
    let entries = if let Some(json) = data.get(".dockerconfigjson") {
        serde_json::from_slice::<ConfigJson>(json).map_err(|e| DockerConfigError::Json(e.to_string()))?.auths
    } else if let Some(json) = data.get(".dockercfg") {
        serde_json::from_slice::<BTreeMap<String, Entry>>(json).map_err(|e| DockerConfigError::Json(e.to_string()))?
    } else {
        return Ok(None);
    };
    for (key, entry) in entries {
        if entry_host(&key) != normalize(registry) {
            continue;
        }
        return entry_credentials(&key, entry).map(Some);
    }
    Ok(None)
}

fn entry_credentials(key: &str, entry: Entry) -> Result<Credentials, DockerConfigError> {
    if let (Some(username), Some(password)) = (&entry.username, &entry.password)
        && !username.is_empty()
    {
        return Ok(Credentials { username: username.clone(), password: password.clone() });
    }
    let auth = entry.auth.ok_or_else(|| DockerConfigError::Auth(key.to_string()))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(auth.trim())
        .map_err(|_| DockerConfigError::Auth(key.to_string()))?;
    let text = String::from_utf8(decoded).map_err(|_| DockerConfigError::Auth(key.to_string()))?;
    let (username, password) = text.split_once(':').ok_or_else(|| DockerConfigError::Auth(key.to_string()))?;
    Ok(Credentials { username: username.to_string(), password: password.to_string() })
}

/// `https://host/v1/` → `host`; Docker Hub's names are one.
fn entry_host(key: &str) -> String {
    let without_scheme = key.split_once("://").map_or(key, |(_, rest)| rest);
    normalize(without_scheme.split('/').next().unwrap_or(without_scheme))
}

fn normalize(host: &str) -> String {
    match host {
        "index.docker.io" | "registry-1.docker.io" | "docker.io" => "docker.io".to_string(),
        other => other.to_ascii_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(json: &str) -> BTreeMap<String, Vec<u8>> {
        BTreeMap::from([(".dockerconfigjson".to_string(), json.as_bytes().to_vec())])
    }

    #[test]
    fn finds_the_registry_entry() {
        // "flux:secret" in base64
        let json = r#"{"auths":{"https://ghcr.io/v1/":{"auth":"Zmx1eDpzZWNyZXQ="},"127.0.0.1:5000":{"username":"u","password":"p"}}}"#;
        let found = credentials_for(&data(json), "ghcr.io").unwrap().unwrap();
        assert_eq!((found.username.as_str(), found.password.as_str()), ("flux", "secret"));
        let found = credentials_for(&data(json), "127.0.0.1:5000").unwrap().unwrap();
        assert_eq!(found.username, "u");
        assert!(credentials_for(&data(json), "quay.io").unwrap().is_none());
        assert!(credentials_for(&BTreeMap::new(), "quay.io").unwrap().is_none());
    }

    #[test]
    fn bad_json_and_auth_are_errors() {
        assert!(credentials_for(&data("{"), "ghcr.io").is_err());
        assert!(credentials_for(&data(r#"{"auths":{"ghcr.io":{"auth":"!!"}}}"#), "ghcr.io").is_err());
    }
}
