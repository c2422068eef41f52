//! `spec.verify`: the OpenPGP or SSH signatures of the checked-out commit and of the annotated
//! tag it came from, checked against the public keys of `verify.secretRef` before anything is
//! stored.
//!
//! The signed payload is the raw object as git hashes it, minus its signature: the `gpgsig`
//! header (with its continuation lines) of a commit, the trailing armored block of a tag.
//! OpenPGP keys must also be valid (not revoked, not expired) as go-crypto judges them:
//! `openpgp`.

mod openpgp;

use std::collections::BTreeMap;
use std::path::Path;

use pgp::composed::{Deserializable, SignedPublicKey};
use weir_api::source::git_repository::GitVerificationMode;

use super::fetch::CheckedOutTag;

/// Flux's reasons on the SourceVerified condition.
pub mod reasons {
    pub const INVALID_COMMIT_SIGNATURE: &str = "InvalidCommitSignature";
    pub const INVALID_TAG_SIGNATURE: &str = "InvalidTagSignature";
    pub const INVALID_GIT_OBJECT: &str = "InvalidGitObject";
    pub const INVALID_VERIFICATION_MODE: &str = "InvalidVerificationMode";
    pub const VERIFICATION_ERROR: &str = "VerificationError";
}

const PGP_SIGNATURE_BEGIN: &str = "-----BEGIN PGP SIGNATURE-----";
const SSH_SIGNATURE_BEGIN: &str = "-----BEGIN SSH SIGNATURE-----";
/// The namespace git signs in (`ssh-keygen -Y sign -n git`).
const SSH_NAMESPACE: &str = "git";

/// The trusted public keys of `verify.secretRef`.
#[derive(Debug, Default)]
pub struct TrustedKeys {
    pgp: Vec<SignedPublicKey>,
    ssh: Vec<ssh_key::PublicKey>,
}

/// Why verification failed; each maps to one of Flux's reasons.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("PGP public keys secret error: {0}")]
    Keys(String),
    #[error("cannot verify tag object's signature if a tag reference is not specified")]
    NoTagReference,
    #[error("cannot verify signature of tag '{0}' since it is not signed")]
    UnsignedTag(String),
    #[error("signature verification of tag '{tag}' failed: {message}")]
    Tag { tag: String, message: String },
    #[error("signature verification of commit '{commit}' failed: {message}")]
    Commit { commit: String, message: String },
    #[error("reading the Git objects to verify: {0}")]
    Read(String),
}

impl VerifyError {
    /// Flux's reason for this failure.
    pub fn reason(&self) -> &'static str {
        match self {
            VerifyError::Keys(_) | VerifyError::Read(_) => reasons::VERIFICATION_ERROR,
            VerifyError::NoTagReference => reasons::INVALID_VERIFICATION_MODE,
            VerifyError::UnsignedTag(_) => reasons::INVALID_GIT_OBJECT,
            VerifyError::Tag { .. } => reasons::INVALID_TAG_SIGNATURE,
            VerifyError::Commit { .. } => reasons::INVALID_COMMIT_SIGNATURE,
        }
    }

    /// Only a spec change can fix it: verifying a tag when no tag is checked out.
    pub fn is_stalling(&self) -> bool {
        matches!(self, VerifyError::NoTagReference)
    }
}

/// The trusted keys: `*.sshpub` values hold SSH public keys (authorized_keys lines), every
/// other value an armored OpenPGP public key ring (Flux asks for `*.asc`; older Secrets had
/// any key name).
pub fn keys_from_secret(
    secret: &str,
    data: &BTreeMap<String, k8s_openapi::ByteString>,
) -> Result<TrustedKeys, VerifyError> {
    let mut keys = TrustedKeys::default();
    for (name, value) in data {
        let text = String::from_utf8_lossy(&value.0);
        if name.ends_with(".sshpub") {
            for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
                let key = ssh_key::PublicKey::from_openssh(line).map_err(|e| {
                    VerifyError::Keys(format!("key '{name}' of secret '{secret}' holds an invalid SSH public key: {e}"))
                })?;
                keys.ssh.push(key);
            }
            continue;
        }
        let invalid = |e: pgp::errors::Error| {
            VerifyError::Keys(format!("key '{name}' of secret '{secret}' is not an armored OpenPGP key ring: {e}"))
        };
        let (ring, _) = SignedPublicKey::from_string_many(&text).map_err(invalid)?;
        for key in ring {
            keys.pgp.push(key.map_err(invalid)?);
        }
    }
    if keys.pgp.is_empty() && keys.ssh.is_empty() {
        return Err(VerifyError::Keys(format!("secret '{secret}' holds no OpenPGP or SSH public keys")));
    }
    Ok(keys)
}

/// Verifies the checkout in `dir` at `commit` as `mode` asks; `tag` is the tag checked out,
/// when the reference was one. Returns Flux's SourceVerified message.
pub fn verify_checkout(
    dir: &Path,
    commit: &str,
    tag: Option<&CheckedOutTag>,
    mode: GitVerificationMode,
    keys: &TrustedKeys,
) -> Result<String, VerifyError> {
    let repo = gix::open(dir).map_err(|e| VerifyError::Read(e.to_string()))?;
    let mut lines = Vec::new();
    if mode.verifies_tag() {
        let tag = tag.ok_or(VerifyError::NoTagReference)?;
        // A lightweight tag is no object of its own, so it carries no signature.
        let id = tag.object.as_deref().ok_or_else(|| VerifyError::UnsignedTag(tag.name.clone()))?;
        let label = format!("{}@{id}", tag.name);
        let raw = object_bytes(&repo, id)?;
        let (payload, signature) = split_tag(&raw).ok_or_else(|| VerifyError::UnsignedTag(label.clone()))?;
        let key = verify_signature(&payload, &signature, keys)
            .map_err(|e| VerifyError::Tag { tag: label.clone(), message: format!("unable to verify Git tag: {e}") })?;
        lines.push(format!("tag '{label}' with key '{key}'"));
    }
    if mode.verifies_head() {
        let raw = object_bytes(&repo, commit)?;
        let failed = |e: String| VerifyError::Commit {
            commit: commit.to_string(),
            message: format!("unable to verify Git commit: {e}"),
        };
        let (payload, signature) = split_commit(&raw)
            .ok_or_else(|| failed("unable to verify payload as the provided signature is empty".to_string()))?;
        let key = verify_signature(&payload, &signature, keys).map_err(failed)?;
        lines.push(format!("commit '{commit}' with key '{key}'"));
    }
    Ok(format!("verified signature of\n\t- {}", lines.join("\n\t- ")))
}

fn object_bytes(repo: &gix::Repository, id: &str) -> Result<Vec<u8>, VerifyError> {
    let id = gix::ObjectId::from_hex(id.as_bytes()).map_err(|e| VerifyError::Read(format!("object id {id}: {e}")))?;
    let object = repo.find_object(id).map_err(|e| VerifyError::Read(e.to_string()))?;
    Ok(object.data.clone())
}

/// A commit's signed payload and armored signature: the `gpgsig` header and its continuation
/// lines (each starting with a space) removed from the headers. `None` when it is not signed.
pub fn split_commit(raw: &[u8]) -> Option<(Vec<u8>, String)> {
    let mut payload = Vec::with_capacity(raw.len());
    let mut signature: Option<Vec<u8>> = None;
    let mut in_signature = false;
    let mut in_headers = true;
    for line in raw.split_inclusive(|b| *b == b'\n') {
        if in_headers {
            if line == b"\n" {
                in_headers = false;
            } else if in_signature && line.starts_with(b" ") {
                signature.get_or_insert_with(Vec::new).extend_from_slice(&line[1..]);
                continue;
            } else if let Some(first) = line.strip_prefix(b"gpgsig ") {
                in_signature = true;
                signature.get_or_insert_with(Vec::new).extend_from_slice(first);
                continue;
            } else {
                in_signature = false;
            }
        }
        payload.extend_from_slice(line);
    }
    let signature = String::from_utf8(signature?).ok()?;
    Some((payload, signature))
}

/// A tag's signed payload and armored signature: the signature is the armored block (OpenPGP
/// or SSH) at the end of the message, the payload everything before it. `None` when it is not
/// signed.
pub fn split_tag(raw: &[u8]) -> Option<(Vec<u8>, String)> {
    let start_of = |marker: &str| {
        let marker = marker.as_bytes();
        raw.windows(marker.len())
            .enumerate()
            .filter(|(i, w)| *w == marker && (*i == 0 || raw[i - 1] == b'\n'))
            .map(|(i, _)| i)
            .next_back()
    };
    let start = start_of(PGP_SIGNATURE_BEGIN).max(start_of(SSH_SIGNATURE_BEGIN))?;
    let signature = String::from_utf8(raw[start..].to_vec()).ok()?;
    Some((raw[..start].to_vec(), signature))
}

/// Who made `signature` over `payload`: for OpenPGP the 16 hex digits of the primary key id
/// (as Flux writes it), for SSH the key's SHA256 fingerprint.
fn verify_signature(payload: &[u8], signature: &str, keys: &TrustedKeys) -> Result<String, String> {
    if signature.trim_start().starts_with(SSH_SIGNATURE_BEGIN) {
        let signature =
            ssh_key::SshSig::from_pem(signature).map_err(|e| format!("unable to read the SSH signature: {e}"))?;
        return keys
            .ssh
            .iter()
            .find(|key| key.verify(SSH_NAMESPACE, payload, &signature).is_ok())
            .map(|key| key.fingerprint(ssh_key::HashAlg::Sha256).to_string())
            .ok_or_else(|| "unable to verify payload with any of the given SSH public keys".to_string());
    }
    openpgp::verify(payload, signature, &keys.pgp, unix_now())
}

fn unix_now() -> u32 {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    u32::try_from(secs).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIGNED_COMMIT: &str = "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\
author A <a@example.com> 1700000000 +0000\n\
committer A <a@example.com> 1700000000 +0000\n\
gpgsig -----BEGIN PGP SIGNATURE-----\n \n iHUEABYKAB0WIQ\n =abcd\n -----END PGP SIGNATURE-----\n\
mergetag object 1\n\
\n\
message\n\
gpgsig in the message stays\n";

    #[test]
    fn a_commit_payload_is_the_object_without_its_gpgsig_header() {
        let (payload, signature) = split_commit(SIGNED_COMMIT.as_bytes()).unwrap();
        let payload = String::from_utf8(payload).unwrap();
        assert!(payload.starts_with("tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor"));
        assert!(payload.contains("+0000\nmergetag object 1\n\nmessage\ngpgsig in the message stays\n"));
        assert!(!payload.contains("PGP"));
        assert_eq!(signature, "-----BEGIN PGP SIGNATURE-----\n\niHUEABYKAB0WIQ\n=abcd\n-----END PGP SIGNATURE-----\n");
    }

    #[test]
    fn an_unsigned_commit_has_no_signature() {
        assert!(split_commit(b"tree 1\nauthor A\n\ngpgsig -----BEGIN PGP SIGNATURE-----\n").is_none());
    }

    #[test]
    fn a_tag_payload_ends_where_the_armored_signature_starts() {
        let raw = "object 1\ntype commit\ntag v1\ntagger A 1 +0000\n\nrelease\n-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----\n";
        let (payload, signature) = split_tag(raw.as_bytes()).unwrap();
        assert_eq!(payload, b"object 1\ntype commit\ntag v1\ntagger A 1 +0000\n\nrelease\n");
        assert!(signature.starts_with(PGP_SIGNATURE_BEGIN) && signature.ends_with("-----END PGP SIGNATURE-----\n"));
        assert!(split_tag(b"object 1\ntype commit\ntag v1\n\nsays -----BEGIN PGP SIGNATURE----- inline\n").is_none());
    }

    #[test]
    fn an_ssh_signed_tag_splits_like_an_openpgp_one() {
        let raw = "object 1\ntype commit\ntag v1\n\nrelease\n-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n";
        let (payload, signature) = split_tag(raw.as_bytes()).unwrap();
        assert_eq!(payload, b"object 1\ntype commit\ntag v1\n\nrelease\n");
        assert!(signature.starts_with(SSH_SIGNATURE_BEGIN));
    }

    #[test]
    fn reasons_follow_flux() {
        let commit = VerifyError::Commit { commit: "abc".into(), message: "bad".into() };
        assert_eq!(commit.reason(), "InvalidCommitSignature");
        assert_eq!(commit.to_string(), "signature verification of commit 'abc' failed: bad");
        assert_eq!(VerifyError::Tag { tag: "v1@x".into(), message: "m".into() }.reason(), "InvalidTagSignature");
        assert!(VerifyError::NoTagReference.is_stalling());
    }

    #[test]
    fn a_secret_without_keys_is_refused() {
        let mut data = BTreeMap::new();
        data.insert("author.asc".to_string(), k8s_openapi::ByteString(b"not a key".to_vec()));
        assert!(matches!(keys_from_secret("ns/keys", &data), Err(VerifyError::Keys(m)) if m.contains("author.asc")));
        assert!(
            matches!(keys_from_secret("ns/keys", &BTreeMap::new()), Err(VerifyError::Keys(m)) if m.contains("no OpenPGP"))
        );
        let mut data = BTreeMap::new();
        data.insert("author.sshpub".to_string(), k8s_openapi::ByteString(b"ssh-ed25519 nonsense".to_vec()));
        assert!(matches!(keys_from_secret("ns/keys", &data), Err(VerifyError::Keys(m)) if m.contains("author.sshpub")));
    }
}
