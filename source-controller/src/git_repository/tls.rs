//! The TLS configuration of Git's HTTPS clients that trust the system roots only. reqwest reads
//! and parses every system CA certificate each time a client is built, and gix builds one per
//! connection (two per reconcile that fetches): about 5% of the controller's CPU. Built once
//! per process instead, as Flux's Go loads the system pool once; a changed system CA bundle
//! therefore needs a restart, as in Flux.

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
