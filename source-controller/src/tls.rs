//! The TLS configuration of HTTPS clients that trust the system roots only. reqwest reads and
//! parses every system CA certificate each time a client is built, and the source kinds build
//! clients per reconcile (gix one per Git connection, two per fetch): about 5% of the
//! controller's CPU. Built once per process instead, as Flux's Go loads the system pool once;
//! a changed system CA bundle therefore needs a restart, as in Flux.

use std::sync::{Arc, OnceLock};

use rustls_platform_verifier::BuilderVerifierExt;

static SYSTEM_ROOTS: OnceLock<Option<rustls::ClientConfig>> = OnceLock::new();

/// The configuration reqwest would build without extra roots or a client certificate: every
/// TLS version, the platform verifier (the system roots), HTTP/1.1 by ALPN (the only version
/// compiled in). `None` when the system roots cannot be loaded: reqwest then builds its own
/// configuration and reports the problem itself.
pub fn system_roots() -> Option<rustls::ClientConfig> {
    SYSTEM_ROOTS.get_or_init(build).clone()
}

fn build() -> Option<rustls::ClientConfig> {
    // The process's provider (ring, `weir_runtime::client::install_crypto_provider`).
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    let builder =
        rustls::ClientConfig::builder_with_provider(provider).with_protocol_versions(rustls::ALL_VERSIONS).ok()?;
    match builder.with_platform_verifier() {
        Ok(builder) => {
            let mut config = builder.with_no_client_auth();
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            Some(config)
        }
        Err(error) => {
            tracing::warn!(%error, "loading the system CA certificates for Git over HTTPS");
            None
        }
    }
}

/// Why a repository's own TLS material was refused.
#[derive(Debug)]
pub enum TlsMaterialError {
    /// `ca.crt` is not a PEM bundle.
    Ca(reqwest::Error),
    /// `tls.crt`/`tls.key` are not a PEM certificate and key.
    Identity(reqwest::Error),
}

/// Sets up `builder` to trust `ca_pem` besides the system roots and to present `identity`
/// (PEM certificate, PEM key); with neither, it shares the process's system-roots configuration.
pub fn configure(
    mut builder: reqwest::ClientBuilder,
    ca_pem: Option<&[u8]>,
    identity: Option<(&[u8], &[u8])>,
) -> Result<reqwest::ClientBuilder, TlsMaterialError> {
    if ca_pem.is_none()
        && identity.is_none()
        && let Some(tls) = system_roots()
    {
        builder = builder.tls_backend_preconfigured(tls);
    }
    if let Some(ca) = ca_pem {
        for cert in reqwest::Certificate::from_pem_bundle(ca).map_err(TlsMaterialError::Ca)? {
            builder = builder.add_root_certificate(cert);
        }
    }
    if let Some((cert, key)) = identity {
        let mut pem = cert.to_vec();
        pem.push(b'\n');
        pem.extend_from_slice(key);
        builder = builder.identity(reqwest::Identity::from_pem(&pem).map_err(TlsMaterialError::Identity)?);
    }
    Ok(builder)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configuration_is_reqwests_default() {
        weir_runtime::client::install_crypto_provider();
        // A machine without system roots has nothing to share; reqwest reports it then.
        let Some(config) = system_roots() else { return };
        assert_eq!(config.alpn_protocols, vec![b"http/1.1".to_vec()]);
        assert!(config.enable_sni);
        assert!(SYSTEM_ROOTS.get().is_some_and(Option::is_some), "kept for the next client");
    }
}
