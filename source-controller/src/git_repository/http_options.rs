//! What an HTTP(S) remote needs beyond credentials: a private CA and a client certificate from
//! the `secretRef` (`ca.crt`, `tls.crt`, `tls.key`, or the older `caFile`) and a proxy from the
//! `proxySecretRef` (`address`, `username`, `password`). Parsed once, before any network use, so
//! that bad material gives a clear error naming the key; applied to gix's reqwest client.

/// The TLS and proxy settings of one fetch. Never printed with its secrets.
#[derive(Clone, Default)]
pub struct HttpOptions {
    roots: Vec<reqwest::Certificate>,
    identity: Option<reqwest::Identity>,
    proxy: Option<reqwest::Proxy>,
    /// For messages: the proxy address without credentials.
    proxy_address: Option<String>,
}

impl std::fmt::Debug for HttpOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpOptions")
            .field("ca_certificates", &self.roots.len())
            .field("client_certificate", &self.identity.is_some())
            .field("proxy", &self.proxy_address)
            .finish()
    }
}

/// TLS material or a proxy that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpOptionsError {
    #[error("invalid '{key}': {message}")]
    Tls { key: &'static str, message: String },
    #[error("invalid proxy: {0}")]
    Proxy(String),
}

impl HttpOptions {
    /// Adds the TLS material of a `secretRef`: `ca.crt` (or `caFile`) is trusted besides the
    /// system roots; `tls.crt` with `tls.key` is the client certificate.
    pub fn with_tls(
        mut self,
        ca: Option<&[u8]>,
        cert: Option<&[u8]>,
        key: Option<&[u8]>,
    ) -> Result<Self, HttpOptionsError> {
        if let Some(ca) = ca {
            let roots = reqwest::Certificate::from_pem_bundle(ca)
                .map_err(|e| HttpOptionsError::Tls { key: "ca.crt", message: e.to_string() })?;
            if roots.is_empty() {
                let message = "no PEM certificate found".to_string();
                return Err(HttpOptionsError::Tls { key: "ca.crt", message });
            }
            self.roots = roots;
        }
        match (cert, key) {
            (Some(cert), Some(key)) => {
                let mut pem = cert.to_vec();
                pem.push(b'\n');
                pem.extend_from_slice(key);
                let identity = reqwest::Identity::from_pem(&pem)
                    .map_err(|e| HttpOptionsError::Tls { key: "tls.crt", message: e.to_string() })?;
                self.identity = Some(identity);
            }
            (Some(_), None) => {
                let message = "a client certificate needs its private key in 'tls.key'".to_string();
                return Err(HttpOptionsError::Tls { key: "tls.key", message });
            }
            (None, Some(_)) => {
                let message = "a client key needs its certificate in 'tls.crt'".to_string();
                return Err(HttpOptionsError::Tls { key: "tls.crt", message });
            }
            (None, None) => {}
        }
        Ok(self)
    }

    /// Sends every request through the proxy at `address` (`http://host:port`, or `host:port`),
    /// with basic credentials when given.
    pub fn with_proxy(
        mut self,
        address: &str,
        username: Option<&str>,
        password: Option<&str>,
    ) -> Result<Self, HttpOptionsError> {
        let address = address.trim();
        if address.is_empty() {
            return Err(HttpOptionsError::Proxy("'address' is empty".to_string()));
        }
        let address = if address.contains("://") { address.to_string() } else { format!("http://{address}") };
        let mut proxy =
            reqwest::Proxy::all(&address).map_err(|e| HttpOptionsError::Proxy(format!("'address' {address}: {e}")))?;
        if let Some(username) = username.filter(|u| !u.is_empty()) {
            proxy = proxy.basic_auth(username, password.unwrap_or_default());
        }
        self.proxy = Some(proxy);
        self.proxy_address = Some(super::git::redact_url(&address));
        Ok(self)
    }

    /// Whether a proxy is set.
    pub fn has_proxy(&self) -> bool {
        self.proxy.is_some()
    }

    /// Applies the settings to gix's reqwest client. Without a private CA or a client
    /// certificate, the TLS configuration is the process's one (system roots loaded once).
    pub fn apply(&self, mut builder: reqwest::blocking::ClientBuilder) -> reqwest::blocking::ClientBuilder {
        if self.roots.is_empty()
            && self.identity.is_none()
            && let Some(tls) = crate::tls::system_roots()
        {
            builder = builder.tls_backend_preconfigured(tls);
        }
        for root in &self.roots {
            builder = builder.add_root_certificate(root.clone());
        }
        if let Some(identity) = &self.identity {
            builder = builder.identity(identity.clone());
        }
        if let Some(proxy) = &self.proxy {
            builder = builder.proxy(proxy.clone());
        }
        builder
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn certificate() -> (String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap().self_signed(&key).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    #[test]
    fn bad_material_names_the_key() {
        let error = HttpOptions::default().with_tls(Some(b"not a certificate"), None, None).unwrap_err();
        assert!(matches!(error, HttpOptionsError::Tls { key: "ca.crt", .. }), "{error}");
        let (cert, _) = certificate();
        let error = HttpOptions::default().with_tls(None, Some(cert.as_bytes()), None).unwrap_err();
        assert!(error.to_string().contains("'tls.key'"), "{error}");
    }

    #[test]
    fn good_material_is_accepted_and_never_printed() {
        let (cert, key) = certificate();
        let options = HttpOptions::default()
            .with_tls(Some(cert.as_bytes()), Some(cert.as_bytes()), Some(key.as_bytes()))
            .unwrap()
            .with_proxy("proxy.local:3128", Some("user"), Some("s3cret"))
            .unwrap();
        let printed = format!("{options:?}");
        assert!(printed.contains("http://proxy.local:3128"), "{printed}");
        assert!(!printed.contains("s3cret") && !printed.contains("PRIVATE KEY"), "{printed}");
        assert!(options.has_proxy());
        assert!(HttpOptions::default().with_proxy("  ", None, None).is_err());
    }
}
