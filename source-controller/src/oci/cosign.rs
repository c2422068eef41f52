//! cosign signatures made with a key pair, as `cosign sign --key` stores them: a manifest tagged
//! `sha256-<hex>.sig` beside the artifact, one simple-signing layer per signature whose payload
//! names the signed manifest digest, and the base64 DER ECDSA P-256 (SHA-256) signature of that
//! payload in the layer's `dev.cosignproject.cosign/signature` annotation. The transparency log
//! is not consulted (keyed verification needs none).

use base64::Engine as _;
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey as _;
use serde::{Deserialize, Serialize};

use super::client::{OciError, RegistryClient};
use super::manifest::COSIGN_SIMPLE_SIGNING;

/// The layer annotation holding the signature.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// Payloads bigger than this are not simple-signing documents.
const MAX_PAYLOAD_BYTES: usize = 1 << 20;

/// Why an artifact is not accepted as signed.
#[derive(Debug, thiserror::Error)]
pub enum CosignError {
    #[error("invalid public key '{name}': {message}")]
    Key { name: String, message: String },
    #[error("no public keys found")]
    NoKeys,
    #[error("no public keys found in secret '{0}'")]
    NoKeysInSecret(String),
    /// Flux's message whether the artifact is unsigned or signed by other keys.
    #[error("no matching signatures were found for '{0}'")]
    NoMatch(String),
    #[error("fetching the signatures: {0}")]
    Registry(#[from] OciError),
}

/// The tag cosign stores the signatures of `digest` (`sha256:<hex>`) under.
pub fn signature_tag(digest: &str) -> String {
    digest.replacen(':', "-", 1) + ".sig"
}

/// A PEM `PUBLIC KEY` (ECDSA P-256), as `cosign generate-key-pair` writes `cosign.pub`.
pub fn parse_public_key(name: &str, pem: &[u8]) -> Result<VerifyingKey, CosignError> {
    let text =
        std::str::from_utf8(pem).map_err(|_| CosignError::Key { name: name.into(), message: "not PEM".into() })?;
    VerifyingKey::from_public_key_pem(text.trim())
        .map_err(|e| CosignError::Key { name: name.into(), message: format!("not an ECDSA P-256 public key: {e}") })
}

/// The cosign public keys (`*.pub`) of the Secret `secret` (`namespace/name`, for messages).
pub fn public_keys(
    data: &std::collections::BTreeMap<String, Vec<u8>>,
    secret: &str,
) -> Result<Vec<VerifyingKey>, CosignError> {
    let keys = data
        .iter()
        .filter(|(name, _)| name.ends_with(".pub"))
        .map(|(name, pem)| parse_public_key(name, pem))
        .collect::<Result<Vec<_>, _>>()?;
    if keys.is_empty() {
        return Err(CosignError::NoKeysInSecret(secret.to_string()));
    }
    Ok(keys)
}

/// The simple-signing payload cosign signs.
#[derive(Debug, Serialize, Deserialize)]
pub struct SimpleSigning {
    pub critical: Critical,
    #[serde(default)]
    pub optional: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Critical {
    pub identity: Identity,
    pub image: Image,
    #[serde(rename = "type")]
    pub type_: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Identity {
    #[serde(rename = "docker-reference")]
    pub docker_reference: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Image {
    #[serde(rename = "docker-manifest-digest")]
    pub docker_manifest_digest: String,
}

impl SimpleSigning {
    /// The payload for `digest` of `docker_reference` (`host/path`).
    pub fn new(docker_reference: &str, digest: &str) -> SimpleSigning {
        SimpleSigning {
            critical: Critical {
                identity: Identity { docker_reference: docker_reference.to_string() },
                image: Image { docker_manifest_digest: digest.to_string() },
                type_: "cosign container image signature".to_string(),
            },
            optional: None,
        }
    }
}

/// Whether `signature` (base64 DER) over `payload` is valid for one of `keys` and the payload
/// names `digest`.
pub fn verify_payload(payload: &[u8], signature: &str, digest: &str, keys: &[VerifyingKey]) -> bool {
    let Ok(der) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else { return false };
    let Ok(signature) = Signature::from_der(&der) else { return false };
    if !keys.iter().any(|key| key.verify(payload, &signature).is_ok()) {
        return false;
    }
    serde_json::from_slice::<SimpleSigning>(payload).is_ok_and(|p| p.critical.image.docker_manifest_digest == digest)
}

/// Checks that the manifest `digest` of the client's repository carries a signature made with
/// one of `keys`.
pub async fn verify(client: &RegistryClient, digest: &str, keys: &[VerifyingKey]) -> Result<(), CosignError> {
    let reference = format!("{}@{digest}", client.repository().name());
    verify_reference(client, digest, &reference, keys).await
}

/// As [`verify`], naming the artifact `reference` (`host/path:tag` or `host/path@digest`, as
/// the source asked for it) in messages, as Flux does.
pub async fn verify_reference(
    client: &RegistryClient,
    digest: &str,
    reference: &str,
    keys: &[VerifyingKey],
) -> Result<(), CosignError> {
    if keys.is_empty() {
        return Err(CosignError::NoKeys);
    }
    let no_match = || CosignError::NoMatch(reference.to_string());
    let (signatures, _, _) = match client.manifest(&signature_tag(digest)).await {
        Ok(found) => found,
        Err(e) if e.is_not_found() => return Err(no_match()),
        Err(e) => return Err(e.into()),
    };
    for layer in signatures.layers.iter().filter(|l| l.media_type == COSIGN_SIMPLE_SIGNING) {
        let Some(signature) = layer.annotations.as_ref().and_then(|a| a.get(SIGNATURE_ANNOTATION)) else { continue };
        let payload = client.blob_bytes(&layer.digest, MAX_PAYLOAD_BYTES).await?;
        if verify_payload(&payload, signature, digest, keys) {
            return Ok(());
        }
    }
    Err(no_match())
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::SigningKey;
    use p256::ecdsa::signature::Signer as _;
    use p256::pkcs8::EncodePublicKey as _;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_slice(&[seed; 32]).unwrap()
    }

    #[test]
    fn accepts_the_right_key_and_digest_only() {
        let digest = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        let payload = serde_json::to_vec(&SimpleSigning::new("127.0.0.1:5000/app", digest)).unwrap();
        let signature: Signature = key(1).sign(&payload);
        let encoded = base64::engine::general_purpose::STANDARD.encode(signature.to_der().as_bytes());
        let pem = key(1).verifying_key().to_public_key_pem(Default::default()).unwrap();
        let right = parse_public_key("cosign.pub", pem.as_bytes()).unwrap();
        let wrong = *key(2).verifying_key();
        assert!(verify_payload(&payload, &encoded, digest, &[wrong, right]));
        assert!(!verify_payload(&payload, &encoded, digest, &[wrong]));
        assert!(!verify_payload(&payload, &encoded, "sha256:bb", &[right]));
        assert!(!verify_payload(b"{}", &encoded, digest, &[right]));
        assert!(parse_public_key("x.pub", b"junk").is_err());
        let data = std::collections::BTreeMap::from([
            ("cosign.pub".to_string(), pem.into_bytes()),
            ("README".to_string(), b"not a key".to_vec()),
        ]);
        assert_eq!(public_keys(&data, "ns/keys").unwrap().len(), 1);
        let error = public_keys(&Default::default(), "ns/keys").unwrap_err();
        assert_eq!(error.to_string(), "no public keys found in secret 'ns/keys'");
        assert_eq!(signature_tag(digest), format!("sha256-{}.sig", &digest[7..]));
    }
}
