//! Private keys as sprig writes and reads them: Go's PEM encodings (`RSA PRIVATE KEY` in
//! PKCS#1, `EC PRIVATE KEY` in SEC 1, Ed25519 as PKCS#8 `PRIVATE KEY`) and the PKCS#8 form
//! ring needs to sign.

use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};

use super::super::encoding::{b64, decode64};

/// A private key of one of the types sprig can generate and sign with.
pub(crate) enum PrivateKey {
    Rsa(Box<rsa::RsaPrivateKey>),
    /// P-256, the curve sprig's `genPrivateKey "ecdsa"` uses.
    Ecdsa(p256::SecretKey),
    /// The 32-byte seed.
    Ed25519([u8; 32]),
}

/// The PKCS#8 v1 prefix of an Ed25519 key (RFC 8410), which Go's `MarshalPKCS8PrivateKey`
/// writes before the seed.
const ED25519_PKCS8_PREFIX: [u8; 16] =
    [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
const ED25519_OID: [u8; 5] = [0x06, 0x03, 0x2b, 0x65, 0x70];

pub(crate) fn random_bytes(n: usize) -> Result<Vec<u8>, String> {
    use ring::rand::SecureRandom;
    let mut buf = vec![0u8; n];
    ring::rand::SystemRandom::new().fill(&mut buf).map_err(|_| "reading random bytes failed".to_string())?;
    Ok(buf)
}

impl PrivateKey {
    pub(crate) fn generate_rsa(bits: usize) -> Result<PrivateKey, String> {
        rsa::RsaPrivateKey::new(&mut rand_core::OsRng, bits)
            .map(|k| PrivateKey::Rsa(Box::new(k)))
            .map_err(|e| format!("failed to generate private key: {e}"))
    }

    pub(crate) fn generate_ecdsa() -> PrivateKey {
        PrivateKey::Ecdsa(p256::SecretKey::random(&mut rand_core::OsRng))
    }

    pub(crate) fn generate_ed25519() -> Result<PrivateKey, String> {
        let seed = random_bytes(32)?;
        let mut key = [0u8; 32];
        key.copy_from_slice(&seed);
        Ok(PrivateKey::Ed25519(key))
    }

    /// The key as sprig's `pemBlockForKey` writes it.
    pub(crate) fn to_go_pem(&self) -> Result<String, String> {
        let (label, der) = match self {
            PrivateKey::Rsa(k) => ("RSA PRIVATE KEY", k.to_pkcs1_der().map_err(|e| e.to_string())?.as_bytes().to_vec()),
            PrivateKey::Ecdsa(k) => ("EC PRIVATE KEY", go_sec1(k)),
            PrivateKey::Ed25519(seed) => ("PRIVATE KEY", ed25519_pkcs8(seed)),
        };
        Ok(pem_encode(label, &der))
    }

    /// PKCS#8 DER, the form rcgen (ring) signs with.
    pub(crate) fn to_pkcs8_der(&self) -> Result<Vec<u8>, String> {
        match self {
            PrivateKey::Rsa(k) => Ok(k.to_pkcs8_der().map_err(|e| e.to_string())?.as_bytes().to_vec()),
            PrivateKey::Ecdsa(k) => Ok(k.to_pkcs8_der().map_err(|e| e.to_string())?.as_bytes().to_vec()),
            PrivateKey::Ed25519(seed) => Ok(ed25519_pkcs8(seed)),
        }
    }

    /// sprig's `parsePrivateKeyPEM`, with its error messages.
    pub(crate) fn from_pem(text: &str) -> Result<PrivateKey, String> {
        let Some((label, der)) = pem_decode(text) else { return Err("no PEM data in input".into()) };
        if label == "PRIVATE KEY" {
            return parse_pkcs8(&der).map_err(|e| format!("decoding PEM as PKCS#8: {e}"));
        }
        let Some(kind) = label.strip_suffix(" PRIVATE KEY") else {
            return Err(format!("no private key data in PEM block of type {label}"));
        };
        match kind {
            "RSA" => rsa::RsaPrivateKey::from_pkcs1_der(&der)
                .map(|k| PrivateKey::Rsa(Box::new(k)))
                .map_err(|e| format!("parsing RSA private key from PEM: {e}")),
            "EC" => p256::SecretKey::from_sec1_der(&der)
                .map(PrivateKey::Ecdsa)
                .map_err(|e| format!("parsing EC private key from PEM: {e} (only P-256 keys are supported)")),
            "DSA" => {
                Err("DSA keys cannot sign certificates (Go: x509: only RSA, ECDSA and Ed25519 keys supported)".into())
            }
            _ => Err(format!("invalid private key type {label}")),
        }
    }
}

/// SEC 1 `ECPrivateKey` as Go's `MarshalECPrivateKey` writes it: version 1, the scalar,
/// the named curve (Go cannot read a key without it) and the uncompressed public point.
fn go_sec1(key: &p256::SecretKey) -> Vec<u8> {
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    const PRIME256V1: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    let point = key.public_key().to_encoded_point(false);
    let mut der = vec![0x30, 0x77, 0x02, 0x01, 0x01, 0x04, 0x20];
    der.extend_from_slice(&key.to_bytes());
    der.extend_from_slice(&[0xa0, 0x0a]);
    der.extend_from_slice(&PRIME256V1);
    der.extend_from_slice(&[0xa1, 0x44, 0x03, 0x42, 0x00]);
    der.extend_from_slice(point.as_bytes());
    der
}

fn ed25519_pkcs8(seed: &[u8; 32]) -> Vec<u8> {
    let mut der = ED25519_PKCS8_PREFIX.to_vec();
    der.extend_from_slice(seed);
    der
}

fn parse_pkcs8(der: &[u8]) -> Result<PrivateKey, String> {
    if let Ok(k) = rsa::RsaPrivateKey::from_pkcs8_der(der) {
        return Ok(PrivateKey::Rsa(Box::new(k)));
    }
    if let Ok(k) = p256::SecretKey::from_pkcs8_der(der) {
        return Ok(PrivateKey::Ecdsa(k));
    }
    // Ed25519 (v1 or v2): the algorithm OID, then the seed as an OCTET STRING in an OCTET STRING.
    if der.windows(ED25519_OID.len()).any(|w| w == ED25519_OID)
        && let Some(at) = der.windows(4).position(|w| w == [0x04, 0x22, 0x04, 0x20])
        && let Some(seed) = der.get(at + 4..at + 36)
    {
        let mut key = [0u8; 32];
        key.copy_from_slice(seed);
        return Ok(PrivateKey::Ed25519(key));
    }
    Err("x509: PKCS#8 wrapping contained private key with unknown algorithm (RSA, P-256 and Ed25519 are supported)"
        .into())
}

/// PEM with 64-column lines, as Go's `pem.Encode` writes it.
pub(crate) fn pem_encode(label: &str, der: &[u8]) -> String {
    let body = b64(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The first PEM block of `text` (Go's `pem.Decode`): its type and bytes. Headers
/// (`Proc-Type: …`) are skipped; encrypted blocks are not decrypted.
pub(crate) fn pem_decode(text: &str) -> Option<(String, Vec<u8>)> {
    let start = text.find("-----BEGIN ")?;
    let rest = &text[start + 11..];
    let label_end = rest.find("-----")?;
    let label = &rest[..label_end];
    if label.contains('\n') {
        return None;
    }
    let body_and_end = &rest[label_end + 5..];
    let end_marker = format!("-----END {label}-----");
    let end = body_and_end.find(&end_marker)?;
    let body = &body_and_end[..end];
    let base64: String =
        body.lines().filter(|l| !l.contains(':')).flat_map(|l| l.chars()).filter(|c| !c.is_whitespace()).collect();
    decode64(&base64).ok().map(|der| (label.to_string(), der))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_go_pem() {
        for key in [PrivateKey::generate_ecdsa(), PrivateKey::generate_ed25519().unwrap()] {
            let pem = key.to_go_pem().unwrap();
            let again = PrivateKey::from_pem(&pem).unwrap();
            assert_eq!(again.to_go_pem().unwrap(), pem);
            assert!(!again.to_pkcs8_der().unwrap().is_empty());
        }
    }

    #[test]
    fn ec_keys_carry_the_named_curve_as_go_writes_them() {
        let PrivateKey::Ecdsa(k) = PrivateKey::generate_ecdsa() else { unreachable!() };
        let der = go_sec1(&k);
        assert_eq!(der.len(), 0x77 + 2);
        assert_eq!(p256::SecretKey::from_sec1_der(&der).unwrap(), k);
    }

    #[test]
    fn pem_errors_are_sprigs() {
        assert_eq!(PrivateKey::from_pem("junk").err().as_deref(), Some("no PEM data in input"));
        let cert = pem_encode("CERTIFICATE", b"x");
        assert_eq!(
            PrivateKey::from_pem(&cert).err().as_deref(),
            Some("no private key data in PEM block of type CERTIFICATE")
        );
        assert!(
            PrivateKey::from_pem(&pem_encode("FOO PRIVATE KEY", b"x"))
                .err()
                .unwrap()
                .contains("invalid private key type")
        );
    }
}
