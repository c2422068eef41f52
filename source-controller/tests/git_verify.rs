//! `spec.verify` end to end: commits and tags signed with real gpg keys in a temporary
//! GNUPGHOME, served by git http-backend on loopback, checked by the source-controller binary
//! against the armored public key in a Secret of a real API server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use weir_testenv::git as support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ObjectMeta, Patch, PatchParams, PostParams};
use tokio::process::{Child, Command};
use weir_api::conditions::{self, ConditionStatus, types};
use weir_api::meta::LocalObjectReference;
use weir_api::source::git_repository::{GitRepositoryRef, GitRepositoryVerification, GitVerificationMode};
use weir_api::source::{GitRepository, GitRepositorySpec};
use weir_testenv::{TestEnv, free_addr};

use support::{GitHttpServer, Repo, ServerAuth};

const WAIT: Duration = Duration::from_secs(90);

/// A temporary GNUPGHOME with keys made by gpg itself.
struct Gpg {
    home: tempfile::TempDir,
}

impl Gpg {
    fn new() -> Gpg {
        let version = std::process::Command::new("gpg").arg("--version").output();
        assert!(version.is_ok_and(|o| o.status.success()), "these tests need `gpg` on PATH (apt-get install gnupg)");
        let home = tempfile::Builder::new().prefix("gpg").tempdir_in("/tmp").unwrap();
        Gpg { home }
    }

    fn run(&self, args: &[&str]) -> String {
        let output = std::process::Command::new("gpg")
            .args(["--batch", "--no-tty", "--pinentry-mode", "loopback", "--passphrase", ""])
            .args(args)
            .env("GNUPGHOME", self.home.path())
            .output()
            .unwrap();
        assert!(output.status.success(), "gpg {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Generates a signing key for `email` and returns its 16-digit key id.
    fn generate(&self, email: &str) -> String {
        self.run(&["--quick-gen-key", &format!("Weir Test <{email}>"), "ed25519", "sign", "never"]);
        let listing = self.run(&["--with-colons", "--list-keys", email]);
        let line = listing.lines().find(|l| l.starts_with("pub:")).unwrap();
        line.split(':').nth(4).unwrap().to_string()
    }

    fn export(&self, email: &str) -> String {
        self.run(&["--armor", "--export", email])
    }

    /// Runs git in `dir`, signing with `email`'s key where asked.
    fn git(&self, dir: &Path, email: &str, args: &[&str]) -> String {
        let output = std::process::Command::new("git")
            .args(["-c", "user.name=Weir Test", "-c", &format!("user.email={email}")])
            .args(["-c", "gpg.program=gpg", "-c", &format!("user.signingkey={email}")])
            .args(["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"])
            .args(args)
            .current_dir(dir)
            .env("GNUPGHOME", self.home.path())
            .output()
            .unwrap();
        assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }
}

impl Drop for Gpg {
    /// gpg started an agent for this GNUPGHOME: stop it with the directory.
    fn drop(&mut self) {
        let _ = std::process::Command::new("gpgconf")
            .args(["--kill", "gpg-agent"])
            .env("GNUPGHOME", self.home.path())
            .status();
    }
}

struct SourceController {
    _child: Child,
    log: PathBuf,
    _storage: tempfile::TempDir,
}

impl SourceController {
    fn start(env: &TestEnv, namespace: &str) -> SourceController {
        let storage = tempfile::tempdir().unwrap();
        let storage_addr = free_addr();
        let log = std::env::temp_dir().join(format!("weir-source-controller-{namespace}.log"));
        let child = Command::new(env!("CARGO_BIN_EXE_source-controller"))
            .arg(format!("--kubeconfig={}", env.kubeconfig_path().display()))
            .arg(format!("--health-addr={}", free_addr()))
            .arg(format!("--metrics-addr={}", free_addr()))
            .arg(format!("--storage-path={}", storage.path().display()))
            .arg(format!("--storage-addr={storage_addr}"))
            .arg(format!("--storage-adv-addr={storage_addr}"))
            .arg("--watch-all-namespaces=false")
            .env("RUNTIME_NAMESPACE", namespace)
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        SourceController { _child: child, log, _storage: storage }
    }
}

fn git_repository(
    name: &str,
    url: &str,
    reference: GitRepositoryRef,
    mode: Option<GitVerificationMode>,
) -> GitRepository {
    let spec = GitRepositorySpec {
        url: url.to_string(),
        interval: "10m".into(),
        reference: Some(reference),
        verify: mode.map(|mode| GitRepositoryVerification {
            mode: Some(mode),
            secret_ref: LocalObjectReference { name: "pgp-keys".into() },
        }),
        ..Default::default()
    };
    GitRepository::new(name, spec)
}

fn branch(name: &str) -> GitRepositoryRef {
    GitRepositoryRef { branch: Some(name.into()), ..Default::default() }
}

fn tag(name: &str) -> GitRepositoryRef {
    GitRepositoryRef { tag: Some(name.into()), ..Default::default() }
}

/// The Ready and SourceVerified conditions (status, reason, message) once the current
/// generation is reconciled and Ready is decided.
type Outcome = (ConditionStatus, String, Option<(ConditionStatus, String, String)>);

fn outcome(obj: &GitRepository) -> Option<Outcome> {
    let status = obj.status.as_ref()?;
    let list = status.conditions.as_deref()?;
    let ready = conditions::find(list, types::READY)?;
    let decided = ready.status != ConditionStatus::Unknown && ready.observed_generation == obj.metadata.generation;
    let verified =
        conditions::find(list, types::SOURCE_VERIFIED).map(|c| (c.status, c.reason.clone(), c.message.clone()));
    decided.then(|| (ready.status, ready.reason.clone(), verified))
}

async fn wait_for(
    controller: &SourceController,
    api: &Api<GitRepository>,
    name: &str,
    accept: impl Fn(&Outcome) -> bool,
) -> GitRepository {
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut last = None;
    loop {
        if let Ok(obj) = api.get(name).await
            && let Some(seen) = outcome(&obj)
        {
            if accept(&seen) {
                return obj;
            }
            last = Some(seen);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {name}; last seen {last:?}; the controller's log:\n{}",
            std::fs::read_to_string(&controller.log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn expect_verified(controller: &SourceController, api: &Api<GitRepository>, name: &str, parts: &[&str]) {
    let obj = wait_for(controller, api, name, |(ready, _, verified)| {
        *ready == ConditionStatus::True && verified.as_ref().is_some_and(|v| v.0 == ConditionStatus::True)
    })
    .await;
    let (_, _, verified) = outcome(&obj).unwrap();
    let (_, reason, message) = verified.unwrap();
    assert_eq!(reason, "Succeeded");
    assert!(message.starts_with("verified signature of\n\t- "), "{name}: {message}");
    for part in parts {
        assert!(message.contains(part), "{name}: {message:?} lacks {part:?}");
    }
    assert!(obj.status.unwrap().artifact.is_some(), "{name}: verified but no artifact");
}

/// Waits for a refusal with `reason` and returns the object, which must have no new artifact.
async fn expect_refused(
    controller: &SourceController,
    api: &Api<GitRepository>,
    name: &str,
    reason: &str,
) -> GitRepository {
    let obj = wait_for(controller, api, name, |(ready, ready_reason, _)| {
        *ready == ConditionStatus::False && ready_reason == reason
    })
    .await;
    let (_, _, verified) = outcome(&obj).unwrap();
    let (status, verified_reason, message) = verified.expect("a SourceVerified condition");
    assert_eq!((status, verified_reason.as_str()), (ConditionStatus::False, reason), "{name}: {message}");
    obj
}

#[tokio::test]
async fn signatures_decide_what_is_published() {
    let gpg = Gpg::new();
    let alice = "alice@weir.invalid";
    let mallory = "mallory@weir.invalid";
    let alice_id = gpg.generate(alice);
    gpg.generate(mallory);

    let repo = Repo::new("signed");
    let work = &repo.work;
    std::fs::write(work.join("app.yaml"), "signed: true\n").unwrap();
    gpg.git(work, alice, &["add", "-A"]);
    gpg.git(work, alice, &["commit", "-q", "-S", "-m", "signed by alice"]);
    let signed = gpg.git(work, alice, &["rev-parse", "HEAD"]);
    gpg.git(work, alice, &["tag", "-s", "-m", "signed release", "v1.0.0"]);
    gpg.git(work, alice, &["tag", "-a", "-m", "unsigned release", "v2.0.0"]);
    gpg.git(work, alice, &["push", "-q", "origin", "HEAD:refs/heads/signed", "v1.0.0", "v2.0.0"]);

    gpg.git(work, mallory, &["commit", "-q", "--allow-empty", "-S", "-m", "signed by mallory"]);
    let other = gpg.git(work, mallory, &["rev-parse", "HEAD"]);
    gpg.git(work, mallory, &["push", "-q", "origin", "HEAD:refs/heads/other"]);

    gpg.git(work, alice, &["commit", "-q", "--allow-empty", "-m", "not signed"]);
    let unsigned = gpg.git(work, alice, &["rev-parse", "HEAD"]);
    gpg.git(work, alice, &["tag", "-s", "-m", "signed tag, unsigned commit", "v3.0.0"]);
    gpg.git(work, alice, &["push", "-q", "origin", "HEAD:refs/heads/unsigned", "v3.0.0"]);

    // SSH signatures (gpg.format=ssh), with a key of ssh-keygen.
    let ssh_key = support::keygen(gpg.home.path(), "signing");
    let ssh_key_path = ssh_key.display().to_string();
    let ssh = ["-c", "gpg.format=ssh", "-c", &format!("user.signingkey={ssh_key_path}")];
    gpg.git(work, alice, &[&ssh[..], &["commit", "-q", "--allow-empty", "-S", "-m", "ssh signed"]].concat());
    let ssh_signed = gpg.git(work, alice, &["rev-parse", "HEAD"]);
    gpg.git(work, alice, &[&ssh[..], &["tag", "-s", "-m", "ssh signed release", "v4.0.0"]].concat());
    gpg.git(work, alice, &["push", "-q", "origin", "HEAD:refs/heads/ssh-signed", "v4.0.0"]);
    let stranger_key = support::keygen(gpg.home.path(), "stranger").display().to_string();
    let stranger = ["-c", "gpg.format=ssh", "-c", &format!("user.signingkey={stranger_key}")];
    gpg.git(work, alice, &[&stranger[..], &["commit", "-q", "--allow-empty", "-S", "-m", "unknown ssh key"]].concat());
    gpg.git(work, alice, &["push", "-q", "origin", "HEAD:refs/heads/ssh-stranger"]);
    let ssh_public = std::fs::read_to_string(format!("{ssh_key_path}.pub")).unwrap();

    let server = GitHttpServer::start(&repo.root, ServerAuth::None);
    let url = server.url("signed");

    let env = TestEnv::shared().await;
    let namespace = env.namespace("gitverify").await;
    let client = env.client();
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &namespace);
    let keys: BTreeMap<String, ByteString> = [
        ("author.asc".to_string(), ByteString(gpg.export(alice).into_bytes())),
        ("author.sshpub".to_string(), ByteString(ssh_public.into_bytes())),
    ]
    .into();
    let secret = Secret {
        metadata: ObjectMeta { name: Some("pgp-keys".into()), ..Default::default() },
        data: Some(keys),
        ..Default::default()
    };
    secrets.create(&PostParams::default(), &secret).await.unwrap();
    let controller = SourceController::start(env, &namespace);
    let api: Api<GitRepository> = Api::namespaced(client.clone(), &namespace);

    let head = Some(GitVerificationMode::Head);
    let tag_mode = Some(GitVerificationMode::Tag);
    let both = Some(GitVerificationMode::TagAndHead);
    let objects = [
        git_repository("head-signed", &url, branch("signed"), head),
        git_repository("head-unsigned", &url, branch("unsigned"), head),
        git_repository("head-other-key", &url, branch("other"), head),
        git_repository("tag-signed", &url, tag("v1.0.0"), tag_mode),
        git_repository("tag-unsigned", &url, tag("v2.0.0"), tag_mode),
        git_repository("tag-on-branch", &url, branch("signed"), tag_mode),
        git_repository("both-signed", &url, tag("v1.0.0"), both),
        git_repository("both-unsigned-head", &url, tag("v3.0.0"), both),
        git_repository("ssh-head", &url, branch("ssh-signed"), head),
        git_repository("ssh-both", &url, tag("v4.0.0"), both),
        git_repository("ssh-stranger", &url, branch("ssh-stranger"), head),
        git_repository("added-later", &url, branch("unsigned"), None),
        git_repository("added-later-signed", &url, branch("signed"), None),
    ];
    for obj in &objects {
        api.create(&PostParams::default(), obj).await.unwrap();
    }

    let commit_part = format!("commit '{signed}' with key '{alice_id}'");
    expect_verified(&controller, &api, "head-signed", &[&commit_part]).await;
    let refused = expect_refused(&controller, &api, "head-unsigned", "InvalidCommitSignature").await;
    assert!(refused.status.unwrap().artifact.is_none(), "an unsigned commit was published");
    let refused = expect_refused(&controller, &api, "head-other-key", "InvalidCommitSignature").await;
    let status = refused.status.unwrap();
    assert!(status.artifact.is_none(), "a commit signed by an untrusted key was published");
    let message = &conditions::find(status.conditions.as_deref().unwrap(), types::READY).unwrap().message;
    assert!(message.contains(&other) && message.contains("unable to verify"), "{message}");

    expect_verified(&controller, &api, "tag-signed", &["tag 'v1.0.0@", &format!("' with key '{alice_id}'")]).await;
    let refused = expect_refused(&controller, &api, "tag-unsigned", "InvalidGitObject").await;
    assert!(refused.status.unwrap().artifact.is_none(), "an unsigned tag was published");
    let stalled = expect_refused(&controller, &api, "tag-on-branch", "InvalidVerificationMode").await;
    assert!(conditions::is_true(stalled.status.unwrap().conditions.as_deref().unwrap(), types::STALLED));
    expect_verified(&controller, &api, "both-signed", &["\n\t- tag 'v1.0.0@", &commit_part]).await;
    let refused = expect_refused(&controller, &api, "both-unsigned-head", "InvalidCommitSignature").await;
    let message =
        conditions::find(refused.status.unwrap().conditions.as_deref().unwrap(), types::READY).unwrap().message.clone();
    assert!(message.contains(&unsigned), "{message}");

    let ssh_commit = format!("commit '{ssh_signed}' with key 'SHA256:");
    expect_verified(&controller, &api, "ssh-head", &[&ssh_commit]).await;
    expect_verified(&controller, &api, "ssh-both", &["tag 'v4.0.0@", &ssh_commit]).await;
    let refused = expect_refused(&controller, &api, "ssh-stranger", "InvalidCommitSignature").await;
    assert!(refused.status.unwrap().artifact.is_none(), "a commit signed by an unknown SSH key was published");

    // `verify` added to objects already Ready at the same revision: the cheap check must not
    // skip the verification, a refusal keeps the published artifact, and removing `verify`
    // removes the condition.
    let params = PatchParams::default();
    let add = serde_json::json!({ "spec": { "verify": { "mode": "HEAD", "secretRef": { "name": "pgp-keys" } } } });
    let remove = serde_json::json!({ "spec": { "verify": null } });
    for name in ["added-later", "added-later-signed"] {
        wait_for(&controller, &api, name, |(ready, _, _)| *ready == ConditionStatus::True).await;
        api.patch(name, &params, &Patch::Merge(&add)).await.unwrap();
    }
    expect_verified(&controller, &api, "added-later-signed", &[&commit_part]).await;
    let before = api.get("added-later").await.unwrap().status.unwrap().artifact.unwrap();
    let refused = expect_refused(&controller, &api, "added-later", "InvalidCommitSignature").await;
    let status = refused.status.unwrap();
    assert_eq!(status.artifact.as_ref(), Some(&before), "the last good artifact must stay");
    assert!(conditions::is_true(status.conditions.as_deref().unwrap(), types::ARTIFACT_IN_STORAGE));
    for name in ["added-later", "added-later-signed"] {
        api.patch(name, &params, &Patch::Merge(&remove)).await.unwrap();
        let obj = wait_for(&controller, &api, name, |(ready, _, verified)| {
            *ready == ConditionStatus::True && verified.is_none()
        })
        .await;
        assert_eq!(obj.status.unwrap().source_verification_mode, None, "{name}");
    }
}
