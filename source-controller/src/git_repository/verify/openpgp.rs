//! OpenPGP signatures judged as go-crypto (hence Flux) judges them: a signature that checks out
//! cryptographically is still refused when, at verification time, the key that made it is
//! revoked (the primary key, the signing subkey or the primary user ID), expired (the primary
//! key by its self-signature, the subkey by its binding), not signing-capable, or when the
//! signature itself, the self-signature or the subkey binding has expired.
//!
//! rpgp checks signatures but leaves these rules to its users, so they are written out here.

use pgp::composed::{Deserializable, DetachedSignature, SignedPublicKey, SignedPublicSubKey};
use pgp::packet::{Signature, SignatureType, SubpacketData};
use pgp::types::{KeyDetails, Tag, Timestamp};

/// Flux's message when no key ring verifies the signature.
pub const NO_MATCHING_KEY: &str = "unable to verify payload with any of the given key rings";

/// The key that made `armored` over `payload`, among `certs`, valid at `now` (seconds since the
/// epoch): the 16 hex digits of its primary key id, as Flux writes it. When a key verifies the
/// signature but is not valid, the error says why.
pub fn verify(payload: &[u8], armored: &str, certs: &[SignedPublicKey], now: u32) -> Result<String, String> {
    let (signature, _) =
        DetachedSignature::from_string(armored).map_err(|e| format!("unable to read the signature: {e}"))?;
    let signature = signature.signature;
    let mut refusal = None;
    for cert in certs {
        let signer = if signature.verify(&cert.primary_key, payload).is_ok() {
            Signer::Primary
        } else if let Some(sub) = cert.public_subkeys.iter().find(|sub| signature.verify(&sub.key, payload).is_ok()) {
            Signer::Subkey(sub)
        } else {
            continue;
        };
        match check(cert, &signer, &signature, now) {
            Ok(()) => return Ok(key_id(cert)),
            Err(reason) => {
                refusal.get_or_insert(reason);
            }
        }
    }
    Err(match refusal {
        Some(reason) => format!("{NO_MATCHING_KEY}: {reason}"),
        None => NO_MATCHING_KEY.to_string(),
    })
}

/// The 16 hex digits of the primary key id.
pub fn key_id(cert: &SignedPublicKey) -> String {
    cert.legacy_key_id().as_ref().iter().map(|b| format!("{b:02X}")).collect()
}

enum Signer<'a> {
    Primary,
    Subkey(&'a SignedPublicSubKey),
}

/// go-crypto's order: capability, revocation, key expiry, then signature expiry.
fn check(cert: &SignedPublicKey, signer: &Signer<'_>, signature: &Signature, now: u32) -> Result<(), String> {
    let primary = &cert.primary_key;
    let id = key_id(cert);
    let (self_signature, identity_revoked) = primary_self_signature(cert, now)
        .ok_or_else(|| format!("key {id} has no valid self-signature on a user ID"))?;
    let binding = match signer {
        Signer::Primary => {
            if has_key_flags(self_signature) && !self_signature.key_flags().sign() {
                return Err(format!("key {id} is not allowed to sign"));
            }
            None
        }
        Signer::Subkey(sub) => {
            let binding = latest_valid(&sub.signatures, now, |sig| {
                sig.typ() == Some(SignatureType::SubkeyBinding) && sig.verify_subkey_binding(primary, &sub.key).is_ok()
            })
            .ok_or_else(|| format!("subkey {} of key {id} has no valid binding signature", hex_id(&sub.key)))?;
            if !binding.key_flags().sign() {
                return Err(format!("subkey {} of key {id} is not allowed to sign", hex_id(&sub.key)));
            }
            let backsig = binding
                .embedded_signature()
                .filter(|back| back.verify_primary_key_binding(&sub.key, primary).is_ok())
                .ok_or_else(|| format!("signing subkey {} of key {id} is not cross-certified", hex_id(&sub.key)))?;
            Some((*sub, binding, backsig))
        }
    };

    if let Some(revocation) = cert.details.revocation_signatures.iter().find(|sig| {
        sig.typ() == Some(SignatureType::KeyRevocation) && created(sig) <= now && sig.verify_key(primary).is_ok()
    }) {
        return Err(format!("key {id} is revoked{}", revocation_reason(revocation)));
    }
    if let Some((sub, _, _)) = binding
        && let Some(revocation) = sub.signatures.iter().find(|sig| {
            sig.typ() == Some(SignatureType::SubkeyRevocation)
                && created(sig) <= now
                && sig.verify_subkey_binding(primary, &sub.key).is_ok()
        })
    {
        return Err(format!("subkey {} of key {id} is revoked{}", hex_id(&sub.key), revocation_reason(revocation)));
    }
    if identity_revoked {
        return Err(format!("the primary user ID of key {id} is revoked"));
    }

    if let Some(at) = expiry(primary.created_at(), self_signature.key_expiration_time())
        && at <= now
    {
        return Err(format!("key {id} expired at {}", rfc3339(at)));
    }
    if let Some((sub, binding, _)) = binding
        && let Some(at) = expiry(sub.key.created_at(), binding.key_expiration_time())
        && at <= now
    {
        return Err(format!("subkey {} of key {id} expired at {}", hex_id(&sub.key), rfc3339(at)));
    }

    let mut signatures = vec![("the signature", signature), ("the self-signature", self_signature)];
    if let Some((_, binding, backsig)) = binding {
        signatures.push(("the subkey binding signature", binding));
        signatures.push(("the subkey cross-certification", backsig));
    }
    for (what, sig) in signatures {
        if let Some(at) = expiry(Timestamp::from_secs(created(sig)), sig.signature_expiration_time())
            && at <= now
        {
            return Err(format!("{what} of key {id} expired at {}", rfc3339(at)));
        }
    }
    Ok(())
}

/// The self-signature that speaks for the key, as go-crypto picks it: of the primary user ID
/// (flagged primary, else the most recently certified), with whether that user ID is revoked.
fn primary_self_signature(cert: &SignedPublicKey, now: u32) -> Option<(&Signature, bool)> {
    let primary = &cert.primary_key;
    let mut best: Option<(&Signature, bool)> = None;
    for user in &cert.details.users {
        let certification = latest_valid(&user.signatures, now, |sig| {
            is_self_certification(sig) && sig.verify_certification(primary, Tag::UserId, &user.id).is_ok()
        });
        let Some(certification) = certification else { continue };
        let revoked = user.signatures.iter().any(|sig| {
            sig.typ() == Some(SignatureType::CertRevocation)
                && created(sig) <= now
                && sig.verify_certification(primary, Tag::UserId, &user.id).is_ok()
        });
        let better = match best {
            None => true,
            Some((current, _)) => {
                (certification.is_primary(), created(certification)) > (current.is_primary(), created(current))
            }
        };
        if better {
            best = Some((certification, revoked));
        }
    }
    best
}

fn is_self_certification(sig: &Signature) -> bool {
    matches!(
        sig.typ(),
        Some(
            SignatureType::CertGeneric
                | SignatureType::CertPersona
                | SignatureType::CertCasual
                | SignatureType::CertPositive
        )
    )
}

/// The most recent of `signatures` made by `now` that passes `valid`.
fn latest_valid(signatures: &[Signature], now: u32, valid: impl Fn(&Signature) -> bool) -> Option<&Signature> {
    signatures.iter().filter(|sig| created(sig) <= now && valid(sig)).max_by_key(|sig| created(sig))
}

fn created(sig: &Signature) -> u32 {
    sig.created().map_or(0, Timestamp::as_secs)
}

/// When something created at `start` with a validity period of `period` expires; a zero
/// period means it never does.
fn expiry(start: Timestamp, period: Option<pgp::types::Duration>) -> Option<u32> {
    let period = period?.as_secs();
    (period > 0).then(|| start.as_secs().saturating_add(period))
}

fn has_key_flags(sig: &Signature) -> bool {
    sig.config().is_some_and(|c| c.hashed_subpackets().any(|p| matches!(p.data, SubpacketData::KeyFlags(_))))
}

fn revocation_reason(sig: &Signature) -> String {
    match sig.revocation_reason_string().map(|r| String::from_utf8_lossy(r).trim().to_string()) {
        Some(reason) if !reason.is_empty() => format!(" ({reason})"),
        _ => String::new(),
    }
}

fn hex_id(key: &impl KeyDetails) -> String {
    key.legacy_key_id().as_ref().iter().map(|b| format!("{b:02X}")).collect()
}

fn rfc3339(secs: u32) -> String {
    k8s_openapi::jiff::Timestamp::from_second(i64::from(secs)).map_or_else(|_| secs.to_string(), |t| t.to_string())
}
