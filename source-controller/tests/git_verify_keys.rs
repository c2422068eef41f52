//! Which OpenPGP keys `spec.verify` trusts: a signing subkey signs for its primary key, and a
//! signature that checks out is still refused when its key is revoked or expired (or the
//! signature expired) at verification time, as go-crypto, hence Flux, judges it. Keys are made
//! by gpg in a temporary GNUPGHOME (with a faked clock for the ones that must have expired),
//! commits and tags signed by git, and checked with the library's `verify_checkout`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use k8s_openapi::ByteString;
use source_controller::git_repository::fetch::CheckedOutTag;
use source_controller::git_repository::verify::{self, VerifyError};
use weir_api::source::git_repository::GitVerificationMode;

/// A moment in 2020 when the short-lived test keys were still valid, in gpg's format.
const IN_2020: &str = "20200101T120000!";
const START_OF_2020: &str = "20200101T000000!";

/// A temporary GNUPGHOME and a git work tree signing with it.
struct Signer {
    home: tempfile::TempDir,
    work: tempfile::TempDir,
}

impl Signer {
    fn new() -> Signer {
        let version = Command::new("gpg").arg("--version").output();
        assert!(version.is_ok_and(|o| o.status.success()), "these tests need `gpg` on PATH (apt-get install gnupg)");
        let home = tempfile::Builder::new().prefix("gpg").tempdir_in("/tmp").unwrap();
        let work = tempfile::tempdir().unwrap();
        let signer = Signer { home, work };
        signer.git(None, &["init", "-q", "-b", "main"]);
        signer
    }

    /// Runs gpg, at the faked time `at` when given.
    fn gpg(&self, at: Option<&str>, args: &[&str]) -> String {
        self.gpg_with_input(at, args, None)
    }

    fn gpg_with_input(&self, at: Option<&str>, args: &[&str], input: Option<&str>) -> String {
        use std::io::Write as _;
        let mut command = Command::new("gpg");
        command.args(["--batch", "--no-tty", "--pinentry-mode", "loopback", "--passphrase", ""]);
        if let Some(at) = at {
            command.args(["--faked-system-time", at]);
        }
        let mut child = command
            .args(args)
            .env("GNUPGHOME", self.home.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        if let Some(input) = input {
            stdin.write_all(input.as_bytes()).unwrap();
        }
        drop(stdin);
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "gpg {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// The `pub`/`sub` records of `email`'s key: (kind, 16-digit key id).
    fn keys(&self, email: &str) -> Vec<(String, String)> {
        let listing = self.gpg(None, &["--with-colons", "--list-keys", email]);
        listing
            .lines()
            .filter(|l| l.starts_with("pub:") || l.starts_with("sub:"))
            .map(|l| {
                let fields: Vec<&str> = l.split(':').collect();
                (fields[0].to_string(), fields[4].to_string())
            })
            .collect()
    }

    fn fingerprint(&self, email: &str) -> String {
        let listing = self.gpg(None, &["--with-colons", "--list-keys", email]);
        let line = listing.lines().find(|l| l.starts_with("fpr:")).unwrap();
        line.split(':').nth(9).unwrap().to_string()
    }

    fn export(&self, email: &str) -> String {
        self.gpg(None, &["--armor", "--export", email])
    }

    /// A gpg for git to call, with `options` added (a faked clock, a signature expiry).
    fn program(&self, options: &[&str]) -> PathBuf {
        use std::os::unix::fs::PermissionsExt as _;
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = self.home.path().join(format!("gpg-wrapper-{n}"));
        std::fs::write(&path, format!("#!/bin/sh\nexec gpg {} \"$@\"\n", options.join(" "))).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    fn git(&self, signing: Option<(&str, &Path)>, args: &[&str]) -> String {
        let mut command = Command::new("git");
        command.args(["-c", "user.name=Weir Test", "-c", "user.email=test@weir.invalid"]);
        command.args(["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"]);
        if let Some((email, program)) = signing {
            command.args(["-c", &format!("user.signingkey={email}"), "-c"]);
            command.arg(format!("gpg.program={}", program.display()));
        }
        let output = command.args(args).current_dir(self.work.path()).env("GNUPGHOME", self.home.path()).output();
        let output = output.unwrap();
        assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    /// A commit signed by `email`'s key through `program`; returns its id.
    fn signed_commit(&self, email: &str, program: &Path, message: &str) -> String {
        self.git(Some((email, program)), &["commit", "-q", "--allow-empty", "-S", "-m", message]);
        self.git(None, &["rev-parse", "HEAD"])
    }

    /// An annotated tag on HEAD signed by `email`'s key; returns the tag object's id.
    fn signed_tag(&self, email: &str, program: &Path, name: &str) -> String {
        self.git(Some((email, program)), &["tag", "-s", "-m", "release", name]);
        self.git(None, &["rev-parse", &format!("refs/tags/{name}")])
    }

    fn verify(
        &self,
        commit: &str,
        tag: Option<CheckedOutTag>,
        mode: GitVerificationMode,
        armored: &str,
    ) -> Result<String, VerifyError> {
        let data: BTreeMap<String, ByteString> =
            [("author.asc".to_string(), ByteString(armored.as_bytes().to_vec()))].into();
        let keys = verify::keys_from_secret("test/keys", &data).unwrap();
        verify::verify_checkout(self.work.path(), commit, tag.as_ref(), mode, &keys)
    }

    fn verify_head(&self, commit: &str, armored: &str) -> Result<String, VerifyError> {
        self.verify(commit, None, GitVerificationMode::Head, armored)
    }
}

impl Drop for Signer {
    /// gpg started an agent for this GNUPGHOME: stop it with the directory.
    fn drop(&mut self) {
        let _ = Command::new("gpgconf").args(["--kill", "gpg-agent"]).env("GNUPGHOME", self.home.path()).status();
    }
}

/// The refusal's message, checking that it is a commit refusal with Flux's reason and prefix.
fn refused_commit(result: Result<String, VerifyError>, commit: &str) -> String {
    let error = result.expect_err("the signature must be refused");
    assert_eq!(error.reason(), "InvalidCommitSignature", "{error}");
    let message = error.to_string();
    let prefix = format!(
        "signature verification of commit '{commit}' failed: unable to verify Git commit: unable to verify payload with any of the given key rings: "
    );
    assert!(message.starts_with(&prefix), "{message}");
    message
}

#[test]
fn a_signing_subkey_signs_for_its_primary_key() {
    let signer = Signer::new();
    let email = "subkey@weir.invalid";
    signer.gpg(None, &["--quick-gen-key", &format!("Subkey <{email}>"), "ed25519", "cert", "never"]);
    signer.gpg(None, &["--quick-add-key", &signer.fingerprint(email), "ed25519", "sign", "never"]);
    let keys = signer.keys(email);
    let (primary, subkey) = (&keys[0].1, &keys[1].1);

    let commit = signer.signed_commit(email, Path::new("gpg"), "signed by the subkey");
    let raw = signer.git(None, &["cat-file", "commit", &commit]);
    assert!(raw.contains("-----BEGIN PGP SIGNATURE-----"), "{raw}");
    let message = signer.verify_head(&commit, &signer.export(email)).unwrap();
    // Flux names the primary key, whichever of its keys signed.
    assert_eq!(message, format!("verified signature of\n\t- commit '{commit}' with key '{primary}'"));
    assert!(!message.contains(subkey.as_str()));
}

#[test]
fn an_expired_key_is_refused_until_its_expiry_is_extended() {
    let signer = Signer::new();
    let email = "expired@weir.invalid";
    signer.gpg(Some(START_OF_2020), &["--quick-gen-key", &format!("Expired <{email}>"), "ed25519", "sign", "1d"]);
    let id = signer.keys(email)[0].1.clone();
    let commit = signer.signed_commit(email, &signer.program(&["--faked-system-time", IN_2020]), "signed in 2020");

    let message = refused_commit(signer.verify_head(&commit, &signer.export(email)), &commit);
    assert!(message.ends_with(&format!("key {id} expired at 2020-01-02T00:00:00Z")), "{message}");

    // Judged at verification time, as go-crypto does: once extended, the key is valid again.
    signer.gpg(None, &["--quick-set-expire", &signer.fingerprint(email), "never"]);
    let message = signer.verify_head(&commit, &signer.export(email)).unwrap();
    assert!(message.ends_with(&format!("with key '{id}'")), "{message}");
}

#[test]
fn an_expired_signing_subkey_is_refused() {
    let signer = Signer::new();
    let email = "expired-subkey@weir.invalid";
    let uid = format!("Expired subkey <{email}>");
    signer.gpg(Some(START_OF_2020), &["--quick-gen-key", &uid, "ed25519", "cert", "never"]);
    signer.gpg(Some(START_OF_2020), &["--quick-add-key", &signer.fingerprint(email), "ed25519", "sign", "1d"]);
    let keys = signer.keys(email);
    let commit = signer.signed_commit(email, &signer.program(&["--faked-system-time", IN_2020]), "subkey, 2020");

    let message = refused_commit(signer.verify_head(&commit, &signer.export(email)), &commit);
    let expected = format!("subkey {} of key {} expired at 2020-01-02T00:00:00Z", keys[1].1, keys[0].1);
    assert!(message.ends_with(&expected), "{message}");
}

#[test]
fn an_expired_signature_is_refused() {
    let signer = Signer::new();
    let email = "expiring-signature@weir.invalid";
    signer.gpg(Some(START_OF_2020), &["--quick-gen-key", &format!("Sig <{email}>"), "ed25519", "sign", "never"]);
    let id = signer.keys(email)[0].1.clone();
    let program = signer.program(&["--faked-system-time", IN_2020, "--default-sig-expire", "1d"]);
    let commit = signer.signed_commit(email, &program, "a signature valid for a day");

    let message = refused_commit(signer.verify_head(&commit, &signer.export(email)), &commit);
    assert!(message.ends_with(&format!("the signature of key {id} expired at 2020-01-02T12:00:00Z")), "{message}");
}

#[test]
fn a_revoked_key_is_refused_for_commits_and_tags() {
    let signer = Signer::new();
    let email = "revoked@weir.invalid";
    signer.gpg(None, &["--quick-gen-key", &format!("Revoked <{email}>"), "ed25519", "sign", "never"]);
    let id = signer.keys(email)[0].1.clone();
    let commit = signer.signed_commit(email, Path::new("gpg"), "signed before the revocation");
    let tag_object = signer.signed_tag(email, Path::new("gpg"), "v1.0.0");
    let tag = || Some(CheckedOutTag { name: "v1.0.0".into(), object: Some(tag_object.clone()) });
    assert!(signer.verify_head(&commit, &signer.export(email)).is_ok(), "valid before the revocation");
    assert!(signer.verify(&commit, tag(), GitVerificationMode::Tag, &signer.export(email)).is_ok());

    // gpg keeps a revocation certificate for every key it makes, its armor line guarded by ':'.
    let certificate = signer.home.path().join(format!("openpgp-revocs.d/{}.rev", signer.fingerprint(email)));
    let certificate = std::fs::read_to_string(certificate).unwrap().replace(":-----BEGIN", "-----BEGIN");
    let path = signer.home.path().join("revocation.asc");
    std::fs::write(&path, certificate).unwrap();
    signer.gpg(None, &["--import", path.to_str().unwrap()]);
    let revoked = signer.export(email);

    let message = refused_commit(signer.verify_head(&commit, &revoked), &commit);
    assert!(message.ends_with(&format!("key {id} is revoked")), "{message}");
    let error = signer.verify(&commit, tag(), GitVerificationMode::Tag, &revoked).unwrap_err();
    assert_eq!(error.reason(), "InvalidTagSignature");
    let expected = format!(
        "signature verification of tag 'v1.0.0@{tag_object}' failed: unable to verify Git tag: unable to verify payload with any of the given key rings: key {id} is revoked"
    );
    assert_eq!(error.to_string(), expected);
}

#[test]
fn a_revoked_signing_subkey_is_refused() {
    let signer = Signer::new();
    let email = "revoked-subkey@weir.invalid";
    signer.gpg(None, &["--quick-gen-key", &format!("Revoked subkey <{email}>"), "ed25519", "cert", "never"]);
    let fingerprint = signer.fingerprint(email);
    signer.gpg(None, &["--quick-add-key", &fingerprint, "ed25519", "sign", "never"]);
    let keys = signer.keys(email);
    let commit = signer.signed_commit(email, Path::new("gpg"), "signed by the subkey");
    assert!(signer.verify_head(&commit, &signer.export(email)).is_ok(), "valid before the revocation");

    // gpg has no batch command for this: answer --edit-key's prompts (select subkey 1, revoke
    // it, confirm, reason 0 "no reason", empty description, confirm, save).
    signer.gpg_with_input(
        None,
        &["--command-fd", "0", "--edit-key", &fingerprint],
        Some("key 1\nrevkey\ny\n0\n\ny\nsave\n"),
    );
    let message = refused_commit(signer.verify_head(&commit, &signer.export(email)), &commit);
    assert!(message.ends_with(&format!("subkey {} of key {} is revoked", keys[1].1, keys[0].1)), "{message}");
}
