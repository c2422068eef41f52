//! Git over SSH against a real OpenSSH server on 127.0.0.1: a key and known_hosts from the
//! Secret, every host key checked, a wrong host key or an unknown client key refused.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use weir_testenv::git as support;

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use source_controller::git_repository::fetch::{FetchError, FetchRequest, Fetched, OwnedReference, fetch_blocking};
use source_controller::git_repository::git::{Auth, GitError};
use source_controller::git_repository::http_options::HttpOptions;
use source_controller::git_repository::ssh::{SshAuth, SshError};
use support::{Repo, SshServer, keygen, keygen_with_passphrase};

fn request(url: &str, auth: SshAuth, reference: OwnedReference) -> FetchRequest {
    FetchRequest {
        url: url.to_string(),
        auth: Auth::Ssh(auth),
        http: HttpOptions::default(),
        reference,
        timeout: Duration::from_secs(60),
        recurse_submodules: false,
    }
}

fn fetch(request: &FetchRequest) -> Result<Fetched, FetchError> {
    fetch_blocking(request, |_| false, &AtomicBool::new(false))
}

fn fixture() -> (Repo, String) {
    let repo = Repo::new("over-ssh");
    let commit = repo.commit(&[("deploy/app.yaml", "kind: ConfigMap\n")], "first");
    repo.push("main");
    repo.annotated_tag("v1.0.0");
    (repo, commit)
}

#[test]
fn fetches_over_ssh_with_the_secrets_key_and_known_hosts() {
    let server = SshServer::start();
    let (repo, commit) = fixture();
    let auth = SshAuth { identity: Some(server.client_key()), password: None, known_hosts: Some(server.known_hosts()) };
    let url = server.url(&repo.bare);
    for (reference, revision) in [
        (OwnedReference::Branch("main".into()), format!("main@sha1:{commit}")),
        (OwnedReference::Tag("v1.0.0".into()), format!("v1.0.0@sha1:{commit}")),
    ] {
        match fetch(&request(&url, auth.clone(), reference)) {
            Ok(Fetched::CheckedOut { revision: got, dir, .. }) => {
                assert_eq!(got, revision);
                assert_eq!(std::fs::read_to_string(dir.join("deploy/app.yaml")).unwrap(), "kind: ConfigMap\n");
            }
            other => panic!("expected a checkout, got {other:?}\nsshd: {}", server.log()),
        }
    }
}

#[test]
fn a_wrong_host_key_is_refused() {
    let server = SshServer::start();
    let (repo, _) = fixture();
    let other = tempfile::tempdir().unwrap();
    let impostor = std::fs::read_to_string(keygen(other.path(), "impostor").with_extension("pub")).unwrap();
    let auth = SshAuth {
        identity: Some(server.client_key()),
        password: None,
        known_hosts: Some(format!("[127.0.0.1]:{} {}", server.port, impostor.trim())),
    };
    let error = fetch(&request(&server.url(&repo.bare), auth, OwnedReference::Branch("main".into()))).unwrap_err();
    assert!(matches!(error, FetchError::Git(GitError::HostKey { .. })), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("host key") && message.contains("known_hosts"), "{message}");
    assert!(message.contains("127.0.0.1"), "the message names the server: {message}");
}

#[test]
fn an_unknown_client_key_is_an_authentication_failure() {
    let server = SshServer::start();
    let (repo, _) = fixture();
    let other = tempfile::tempdir().unwrap();
    let stranger = std::fs::read(keygen(other.path(), "stranger")).unwrap();
    let auth = SshAuth { identity: Some(stranger), password: None, known_hosts: Some(server.known_hosts()) };
    let error = fetch(&request(&server.url(&repo.bare), auth, OwnedReference::Branch("main".into()))).unwrap_err();
    assert!(matches!(error, FetchError::Git(GitError::Authentication { .. })), "{error:?}");
    assert!(error.to_string().contains("Permission denied"), "{error}");
}

#[test]
fn host_keys_are_never_skipped() {
    // No server needed: the refusal comes before ssh runs.
    let url = "ssh://git@127.0.0.1:1/repo.git";
    let auth = SshAuth { identity: Some(b"key".to_vec()), password: None, known_hosts: None };
    let error = fetch(&request(url, auth, OwnedReference::Branch("main".into()))).unwrap_err();
    assert!(matches!(error, FetchError::Git(GitError::Ssh { source: SshError::MissingKnownHosts, .. })), "{error:?}");
    assert!(error.to_string().contains("'known_hosts' is required"), "{error}");
    // Without SSH credentials at all, scp-like URLs included, nothing falls back to ssh's defaults.
    for url in ["ssh://git@127.0.0.1:1/repo.git", "git@127.0.0.1:org/repo.git"] {
        let request = FetchRequest {
            auth: Auth::None,
            ..request(url, SshAuth::default(), OwnedReference::Branch("main".into()))
        };
        let error = fetch(&request).unwrap_err();
        assert!(error.to_string().contains("'known_hosts' is required"), "{url}: {error}");
    }
}

#[test]
fn a_key_with_a_passphrase_is_unlocked_with_password() {
    let server = SshServer::start();
    let (repo, commit) = fixture();
    let keys = tempfile::tempdir().unwrap();
    let locked = keygen_with_passphrase(keys.path(), "locked", "open sesame");
    let public = std::fs::read_to_string(locked.with_extension("pub")).unwrap();
    let authorized = server.dir.path().join("authorized_keys");
    let mut lines = std::fs::read_to_string(&authorized).unwrap();
    lines.push_str(&public);
    std::fs::write(&authorized, lines).unwrap();
    let identity = std::fs::read(&locked).unwrap();
    let url = server.url(&repo.bare);
    let with = |password: Option<&str>| SshAuth {
        identity: Some(identity.clone()),
        password: password.map(str::to_string),
        known_hosts: Some(server.known_hosts()),
    };

    match fetch(&request(&url, with(Some("open sesame")), OwnedReference::Branch("main".into()))) {
        Ok(Fetched::CheckedOut { revision, .. }) => assert_eq!(revision, format!("main@sha1:{commit}")),
        other => panic!("expected a checkout, got {other:?}\nsshd: {}", server.log()),
    }
    let error = fetch(&request(&url, with(Some("wrong")), OwnedReference::Branch("main".into()))).unwrap_err();
    assert!(matches!(error, FetchError::Git(GitError::Authentication { .. })), "{error:?}");
    assert!(!error.to_string().contains("wrong"), "the passphrase stays out of messages: {error}");
    let error = fetch(&request(&url, with(None), OwnedReference::Branch("main".into()))).unwrap_err();
    assert!(
        matches!(error, FetchError::Git(GitError::Ssh { source: SshError::EncryptedIdentity(_), .. })),
        "{error:?}"
    );
    assert!(error.to_string().contains("'password'"), "{error}");
}
