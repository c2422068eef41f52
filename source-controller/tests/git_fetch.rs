//! The Git steps against real servers on loopback: `file://` and git smart HTTP (with and
//! without authentication), every reference kind, the cheap check and the ignore rules.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use weir_testenv::git as support;

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use source_controller::git_repository::fetch::{FetchError, FetchRequest, Fetched, OwnedReference, fetch_blocking};
use source_controller::git_repository::git::{Auth, GitError};
use source_controller::git_repository::http_options::HttpOptions;
use source_controller::git_repository::ignore::SourceIgnore;
use source_controller::storage::{ObjectRef, Retention, Storage};
use support::{GitHttpServer, Repo, ServerAuth};

fn request(url: &str, auth: Auth, reference: OwnedReference) -> FetchRequest {
    FetchRequest {
        url: url.to_string(),
        auth,
        http: HttpOptions::default(),
        reference,
        timeout: Duration::from_secs(60),
        recurse_submodules: false,
    }
}

fn fetch(request: &FetchRequest) -> Result<Fetched, FetchError> {
    fetch_blocking(request, |_| false, &AtomicBool::new(false))
}

fn checked_out(result: Result<Fetched, FetchError>) -> (String, String, tempfile::TempDir, std::path::PathBuf) {
    match result.unwrap() {
        Fetched::CheckedOut { revision, commit, dir, temp, .. } => (revision, commit, temp, dir),
        Fetched::Unchanged { revision } => panic!("expected a checkout, got unchanged {revision}"),
    }
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// A repository with main (two commits), tags v1.0.0 (annotated) v1.2.0 and v2.0.0, and a
/// pull-request ref.
fn fixture() -> (Repo, String, String) {
    let repo = Repo::new("podinfo");
    let first = repo.commit(&[("deploy/app.yaml", "version: 1.0.0\n"), ("logo.png", "png")], "first");
    repo.annotated_tag("v1.0.0");
    repo.push("main");
    let second = repo.commit(&[("deploy/app.yaml", "version: 1.2.0\n")], "second");
    repo.lightweight_tag("v1.2.0");
    repo.push("main");
    repo.commit(&[("deploy/app.yaml", "version: 2.0.0\n")], "third on a branch");
    repo.lightweight_tag("v2.0.0");
    repo.push("HEAD:refs/pull/1/head");
    support::git(&repo.work, &["reset", "-q", "--hard", &second]);
    (repo, first, second)
}

fn every_reference_kind(url: &str, auth: Auth, first: &str, second: &str, pull: &str) {
    let (revision, commit, _t, dir) =
        checked_out(fetch(&request(url, auth.clone(), OwnedReference::Branch("main".into()))));
    assert_eq!(revision, format!("main@sha1:{second}"));
    assert_eq!(commit, second);
    assert_eq!(read(&dir, "deploy/app.yaml"), "version: 1.2.0\n");
    // Shallow: only the tip commit came.
    let depth = support::git(&dir, &["rev-list", "--count", "HEAD"]);
    assert_eq!(depth, "1", "a depth-1 clone");

    let (revision, _, _t, dir) = checked_out(fetch(&request(url, auth.clone(), OwnedReference::Tag("v1.0.0".into()))));
    assert_eq!(revision, format!("v1.0.0@sha1:{first}"), "an annotated tag gives its commit");
    assert_eq!(read(&dir, "deploy/app.yaml"), "version: 1.0.0\n");

    let (revision, _, _t, _) = checked_out(fetch(&request(url, auth.clone(), OwnedReference::SemVer("~1".into()))));
    assert_eq!(revision, format!("v1.2.0@sha1:{second}"));

    let (revision, _, _t, dir) =
        checked_out(fetch(&request(url, auth.clone(), OwnedReference::Name("refs/pull/1/head".into()))));
    assert_eq!(revision, format!("refs/pull/1/head@sha1:{pull}"));
    assert_eq!(read(&dir, "deploy/app.yaml"), "version: 2.0.0\n");

    let commit_alone = OwnedReference::Commit { sha: first.to_string(), branch: None };
    let (revision, _, _t, dir) = checked_out(fetch(&request(url, auth.clone(), commit_alone)));
    assert_eq!(revision, format!("sha1:{first}"));
    assert_eq!(read(&dir, "deploy/app.yaml"), "version: 1.0.0\n");

    let with_branch = OwnedReference::Commit { sha: first.to_string(), branch: Some("main".into()) };
    let (revision, _, _t, _) = checked_out(fetch(&request(url, auth.clone(), with_branch)));
    assert_eq!(revision, format!("main@sha1:{first}"));

    let missing = fetch(&request(url, auth.clone(), OwnedReference::Branch("nope".into()))).unwrap_err();
    assert!(missing.to_string().contains("branch 'nope'"), "{missing}");
    let missing = fetch(&request(url, auth.clone(), OwnedReference::SemVer(">=3".into()))).unwrap_err();
    assert!(missing.to_string().contains(">=3"), "{missing}");
    let absent = "0123456789012345678901234567890123456789";
    let commit = OwnedReference::Commit { sha: absent.into(), branch: None };
    let missing = fetch(&request(url, auth, commit)).unwrap_err();
    assert!(missing.to_string().contains(absent), "{missing}");
}

#[test]
fn file_urls_every_reference_kind() {
    let (repo, first, second) = fixture();
    let pull = support::git(&repo.bare, &["rev-parse", "refs/pull/1/head"]);
    every_reference_kind(&repo.file_url(), Auth::None, &first, &second, &pull);
}

#[test]
fn smart_http_every_reference_kind() {
    let (repo, first, second) = fixture();
    let pull = support::git(&repo.bare, &["rev-parse", "refs/pull/1/head"]);
    let server = GitHttpServer::start(&repo.root, ServerAuth::None);
    every_reference_kind(&server.url("podinfo"), Auth::None, &first, &second, &pull);
}

#[test]
fn smart_http_basic_auth() {
    let (repo, _, second) = fixture();
    let auth = ServerAuth::Basic { username: "flux".into(), password: "s3cr3t-pass".into() };
    let server = GitHttpServer::start(&repo.root, auth);
    let url = server.url("podinfo");
    let good = Auth::Basic { username: "flux".into(), password: "s3cr3t-pass".into() };
    let (revision, _, _t, _) = checked_out(fetch(&request(&url, good, OwnedReference::Branch("main".into()))));
    assert_eq!(revision, format!("main@sha1:{second}"));

    for auth in [Auth::None, Auth::Basic { username: "flux".into(), password: "wrong-pass".into() }] {
        let error = fetch(&request(&url, auth, OwnedReference::Branch("main".into()))).unwrap_err();
        assert!(matches!(error, FetchError::Git(GitError::Authentication { .. })), "{error:?}");
        let text = error.to_string();
        assert!(!text.contains("wrong-pass") && !text.contains("s3cr3t"), "credentials leaked: {text}");
    }
}

#[test]
fn smart_http_bearer_token() {
    let (repo, _, second) = fixture();
    let server = GitHttpServer::start(&repo.root, ServerAuth::Bearer("tok-123".into()));
    let url = server.url("podinfo");
    let (revision, _, _t, _) =
        checked_out(fetch(&request(&url, Auth::Bearer("tok-123".into()), OwnedReference::Branch("main".into()))));
    assert_eq!(revision, format!("main@sha1:{second}"));
    let error = fetch(&request(&url, Auth::Bearer("bad".into()), OwnedReference::Branch("main".into()))).unwrap_err();
    assert!(matches!(error, FetchError::Git(GitError::Authentication { .. })), "{error:?}");
}

#[test]
fn the_cheap_check_skips_the_clone() {
    let (repo, _, second) = fixture();
    let request = request(&repo.file_url(), Auth::None, OwnedReference::Branch("main".into()));
    let expected = format!("main@sha1:{second}");
    let seen = expected.clone();
    match fetch_blocking(&request, move |revision| revision == seen, &AtomicBool::new(false)).unwrap() {
        Fetched::Unchanged { revision } => assert_eq!(revision, expected),
        other => panic!("expected no clone, got {other:?}"),
    }
}

#[test]
fn the_artifact_leaves_out_ignored_files() {
    let repo = Repo::new("ignored");
    repo.commit(
        &[
            ("deploy/app.yaml", "a: 1\n"),
            ("logo.png", "png"),
            (".github/workflows/ci.yaml", "on: push\n"),
            ("secrets/.sourceignore", "*.enc\n"),
            ("secrets/key.enc", "x"),
            ("secrets/keep.yaml", "k: 1\n"),
        ],
        "tree",
    );
    repo.push("main");
    let (revision, commit, _t, dir) =
        checked_out(fetch(&request(&repo.file_url(), Auth::None, OwnedReference::Branch("main".into()))));
    let storage_dir = tempfile::tempdir().unwrap();
    let storage = Storage::new(storage_dir.path(), "localhost", Retention::default()).unwrap();
    let filter = SourceIgnore::load(&dir, None).unwrap();
    let object = ObjectRef::new("GitRepository", "default", "ignored");
    let artifact = storage.archive_dir(object, &format!("{commit}.tar.gz"), &revision, &dir, &filter).unwrap();
    assert_eq!(artifact.path, format!("gitrepository/default/ignored/{commit}.tar.gz"));
    let bytes = std::fs::read(storage.local_path(&artifact).unwrap()).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
    let mut names: Vec<String> =
        archive.entries().unwrap().map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned()).collect();
    names.sort();
    // The tree's .sourceignore replaces the image and CI defaults (as in Flux); .git always goes.
    assert_eq!(
        names,
        [
            ".",
            ".github",
            ".github/workflows",
            ".github/workflows/ci.yaml",
            "deploy",
            "deploy/app.yaml",
            "logo.png",
            "secrets",
            "secrets/.sourceignore",
            "secrets/keep.yaml"
        ]
    );
}

#[tokio::test]
async fn spec_timeout_is_enforced() {
    // A server that accepts connections and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let hold = std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().take(2).collect();
        std::thread::sleep(Duration::from_secs(5));
        drop(held);
    });
    let mut request = request(&format!("http://{addr}/repo.git"), Auth::None, OwnedReference::Branch("main".into()));
    request.timeout = Duration::from_millis(500);
    let started = std::time::Instant::now();
    let error = source_controller::git_repository::fetch::fetch(request, |_| false).await.unwrap_err();
    assert!(matches!(error, FetchError::Timeout { .. }), "{error:?}");
    assert!(error.to_string().contains("timeout"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    drop(hold);
}

/// Over HTTPS gitoxide's reqwest client uses rustls with the process's crypto provider (ring,
/// installed at start as the controller does; see DEPENDENCIES.md "TLS pitfall"): a server whose
/// certificate is not trusted is refused with a certificate error, and nothing panics.
#[test]
fn https_handshakes_with_rustls_and_refuses_an_untrusted_certificate() {
    weir_runtime::client::install_crypto_provider();
    let openssl = std::process::Command::new("openssl").arg("version").output();
    assert!(openssl.is_ok_and(|o| o.status.success()), "this test needs the `openssl` CLI on PATH");
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let status = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "openssl req failed");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut server = std::process::Command::new("openssl")
        .args(["s_server", "-quiet", "-www", "-accept"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-cert")
        .arg(&cert)
        .arg("-key")
        .arg(&key)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "openssl s_server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let url = format!("https://127.0.0.1:{port}/repo.git");
    let error = fetch(&request(&url, Auth::None, OwnedReference::Branch("main".into()))).unwrap_err();
    let _ = server.kill();
    let _ = server.wait();
    let text = error.to_string().to_lowercase();
    assert!(text.contains("certificate") || text.contains("unknownissuer"), "{error}");
}
