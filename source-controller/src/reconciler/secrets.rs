//! Reading the Secrets a source names: their data, TLS material (`ca.crt`, `tls.crt`,
//! `tls.key`) and a ServiceAccount's image pull secrets. Errors name the Secret, never its data.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use kube::api::Api;

/// A Secret's data, keys to bytes.
pub type SecretData = BTreeMap<String, Vec<u8>>;

/// The data of `namespace/name`, or a message saying why not.
pub async fn data(client: &kube::Client, namespace: &str, name: &str) -> Result<SecretData, String> {
    let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let secret =
        secrets.get(name).await.map_err(|e| format!("failed to get secret '{namespace}/{name}': {}", short(&e)))?;
    Ok(decoded(secret))
}

fn decoded(secret: Secret) -> SecretData {
    let mut data: SecretData = secret.data.unwrap_or_default().into_iter().map(|(k, v)| (k, v.0)).collect();
    for (key, value) in secret.string_data.unwrap_or_default() {
        data.entry(key).or_insert_with(|| value.into_bytes());
    }
    data
}

/// The image pull secrets of ServiceAccount `namespace/name`, in order.
pub async fn pull_secrets(client: &kube::Client, namespace: &str, name: &str) -> Result<Vec<SecretData>, String> {
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), namespace);
    let account = accounts
        .get(name)
        .await
        .map_err(|e| format!("failed to get service account '{namespace}/{name}': {}", short(&e)))?;
    let mut found = Vec::new();
    for reference in account.image_pull_secrets.unwrap_or_default() {
        found.push(data(client, namespace, &reference.name).await?);
    }
    Ok(found)
}

/// TLS material of a `certSecretRef`: the CA bundle and the client certificate with its key.
#[derive(Clone, Default)]
pub struct Tls {
    pub ca: Option<Vec<u8>>,
    pub identity: Option<(Vec<u8>, Vec<u8>)>,
}

impl std::fmt::Debug for Tls {
    /// Says what is there, never the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls").field("ca", &self.ca.is_some()).field("identity", &self.identity.is_some()).finish()
    }
}

/// Reads `ca.crt` (or the deprecated `caFile`), `tls.crt` and `tls.key` (or `certFile` and
/// `keyFile`); a certificate without its key is an error.
pub fn tls(data: &SecretData, secret: &str) -> Result<Tls, String> {
    let get = |keys: &[&str]| keys.iter().find_map(|k| data.get(*k)).filter(|v| !v.is_empty()).cloned();
    let ca = get(&["ca.crt", "caFile"]);
    let cert = get(&["tls.crt", "certFile"]);
    let key = get(&["tls.key", "keyFile"]);
    let identity = match (cert, key) {
        (Some(cert), Some(key)) => Some((cert, key)),
        (None, None) => None,
        _ => return Err(format!("secret '{secret}' must contain both 'tls.crt' and 'tls.key'")),
    };
    if ca.is_none() && identity.is_none() {
        return Err(format!("secret '{secret}' must contain 'ca.crt' or 'tls.crt' and 'tls.key'"));
    }
    Ok(Tls { ca, identity })
}

/// The text of `key`, if present.
pub fn text(data: &SecretData, key: &str) -> Option<String> {
    data.get(key).map(|v| String::from_utf8_lossy(v).into_owned())
}

pub fn short(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) => status.message.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_needs_a_pair() {
        let mut data = SecretData::new();
        assert!(tls(&data, "ns/x").is_err());
        data.insert("tls.crt".into(), b"cert".to_vec());
        assert!(tls(&data, "ns/x").unwrap_err().contains("both"));
        data.insert("tls.key".into(), b"key".to_vec());
        data.insert("ca.crt".into(), b"ca".to_vec());
        let found = tls(&data, "ns/x").unwrap();
        assert_eq!(found.ca.as_deref(), Some(&b"ca"[..]));
        assert!(found.identity.is_some());
    }
}
