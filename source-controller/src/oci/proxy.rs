//! `spec.proxySecretRef`: the HTTP proxy a registry is reached through, from a Secret's
//! `address` and optional `username` and `password`, as Flux reads it.

use std::collections::BTreeMap;
use std::fmt;

use super::client::OciError;

/// A proxy address and its credentials. The password is never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyOptions {
    /// `http://host:port` (a bare `host:port` is taken as HTTP).
    pub address: String,
    pub username: Option<String>,
    pub password: Option<String>,
}

impl fmt::Debug for ProxyOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyOptions")
            .field("address", &self.address)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl ProxyOptions {
    /// Reads the proxy Secret `secret` (`namespace/name`, for messages).
    pub fn from_secret(data: &BTreeMap<String, Vec<u8>>, secret: &str) -> Result<ProxyOptions, String> {
        let text =
            |key: &str| data.get(key).map(|v| String::from_utf8_lossy(v).trim().to_string()).filter(|v| !v.is_empty());
        let address =
            text("address").ok_or_else(|| format!("invalid proxy secret '{secret}': key 'address' is missing"))?;
        let proxy = ProxyOptions { address, username: text("username"), password: text("password") };
        proxy.to_reqwest().map_err(|e| format!("invalid proxy secret '{secret}': {e}"))?;
        Ok(proxy)
    }

    /// The proxy for every scheme: HTTP requests are forwarded, HTTPS tunnelled (`CONNECT`).
    pub(crate) fn to_reqwest(&self) -> Result<reqwest::Proxy, OciError> {
        let address =
            if self.address.contains("://") { self.address.clone() } else { format!("http://{}", self.address) };
        let mut proxy = reqwest::Proxy::all(&address)
            .map_err(|e| OciError::Client(format!("invalid proxy address '{}': {e}", self.address)))?;
        if let Some(username) = &self.username {
            proxy = proxy.basic_auth(username, self.password.as_deref().unwrap_or_default());
        }
        Ok(proxy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.as_bytes().to_vec())).collect()
    }

    #[test]
    fn reads_address_and_credentials() {
        let proxy = ProxyOptions::from_secret(
            &data(&[("address", "http://proxy.local:3128\n"), ("username", "u"), ("password", "s3cret")]),
            "ns/proxy",
        )
        .unwrap();
        assert_eq!(proxy.address, "http://proxy.local:3128");
        assert_eq!((proxy.username.as_deref(), proxy.password.as_deref()), (Some("u"), Some("s3cret")));
        assert!(!format!("{proxy:?}").contains("s3cret"));
        assert!(ProxyOptions::from_secret(&data(&[("address", "127.0.0.1:3128")]), "ns/p").is_ok());
    }

    #[test]
    fn an_address_is_required() {
        let error = ProxyOptions::from_secret(&data(&[("username", "u")]), "ns/proxy").unwrap_err();
        assert_eq!(error, "invalid proxy secret 'ns/proxy': key 'address' is missing");
    }
}
