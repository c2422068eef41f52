//! What goes into a GitRepository's artifact beyond the checked-out tree: submodules fetched
//! over git smart HTTP (`recurseSubmodules`) and only some directories (`sparseCheckout`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use weir_testenv::git as support;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use source_controller::git_repository::fetch::{FetchRequest, Fetched, OwnedReference, fetch_blocking};
use source_controller::git_repository::git::Auth;
use source_controller::git_repository::http_options::HttpOptions;
use source_controller::git_repository::ignore::SourceIgnore;
use source_controller::git_repository::sparse::{SparseDirs, SparseFilter};
use source_controller::storage::{ObjectRef, Retention, Storage};
use support::{GitHttpServer, Repo, ServerAuth, git};

fn request(url: &str, recurse_submodules: bool) -> FetchRequest {
    FetchRequest {
        url: url.to_string(),
        auth: Auth::None,
        http: HttpOptions::default(),
        reference: OwnedReference::Branch("main".into()),
        timeout: Duration::from_secs(60),
        recurse_submodules,
    }
}

fn checkout(request: &FetchRequest) -> (String, PathBuf, tempfile::TempDir) {
    match fetch_blocking(request, |_| false, &AtomicBool::new(false)).unwrap() {
        Fetched::CheckedOut { revision, dir, temp, .. } => (revision, dir, temp),
        Fetched::Unchanged { revision } => panic!("expected a checkout, got unchanged {revision}"),
    }
}

/// A second bare repository `<root>/<name>.git` beside `repo`'s, with one commit of `files`.
fn sibling(repo: &Repo, name: &str, files: &[(&str, &str)]) -> (PathBuf, tempfile::TempDir) {
    let bare = repo.root.join(format!("{name}.git"));
    git(&repo.root, &["init", "--bare", "-b", "main", bare.to_str().unwrap()]);
    git(&bare, &["config", "uploadpack.allowAnySHA1InWant", "true"]);
    let work = tempfile::tempdir().unwrap();
    git(work.path(), &["init", "-b", "main", "."]);
    for (path, content) in files {
        let path = work.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    git(work.path(), &["add", "-A"]);
    git(work.path(), &["commit", "-q", "-m", "lib"]);
    git(work.path(), &["push", "-q", bare.to_str().unwrap(), "main"]);
    (bare, work)
}

fn archive_names(dir: &Path, revision: &str, sparse: Option<&SparseDirs>) -> Vec<String> {
    let storage_dir = tempfile::tempdir().unwrap();
    let storage = Storage::new(storage_dir.path(), "localhost", Retention::default()).unwrap();
    let ignore = SourceIgnore::load(dir, None).unwrap();
    let filter = SparseFilter { inner: &ignore, sparse };
    let object = ObjectRef::new("GitRepository", "default", "content");
    let artifact = storage.archive_dir(object, "a.tar.gz", revision, dir, &filter).unwrap();
    let bytes = std::fs::read(storage.local_path(&artifact).unwrap()).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
    let mut names: Vec<String> =
        archive.entries().unwrap().map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn submodules_are_fetched_over_http_when_asked() {
    let repo = Repo::new("app");
    let (_lib, _lib_work) = sibling(&repo, "lib", &[("lib.yaml", "lib: 1\n")]);
    repo.commit(&[("app.yaml", "app: 1\n")], "app");
    // A relative URL, resolved against the superproject's remote as git does.
    git(&repo.work, &["submodule", "add", "-q", "../lib.git", "vendor/lib"]);
    git(&repo.work, &["commit", "-q", "-m", "add lib"]);
    repo.push("main");
    let server = GitHttpServer::start(&repo.root, ServerAuth::None);

    let (_, dir, _temp) = checkout(&request(&server.url("app"), false));
    assert!(dir.join("app.yaml").is_file());
    assert!(!dir.join("vendor/lib/lib.yaml").exists(), "submodules only when recurseSubmodules is set");

    let (revision, dir, _temp) = checkout(&request(&server.url("app"), true));
    assert_eq!(std::fs::read_to_string(dir.join("vendor/lib/lib.yaml")).unwrap(), "lib: 1\n");
    let names = archive_names(&dir, &revision, None);
    assert!(names.contains(&"vendor/lib/lib.yaml".to_string()), "{names:?}");
    assert!(!names.iter().any(|n| n.contains(".git/") || n.ends_with(".git")), "no Git metadata: {names:?}");
}

#[test]
fn a_missing_submodule_commit_fails_the_fetch() {
    let repo = Repo::new("broken");
    let (_lib, lib_work) = sibling(&repo, "gone", &[("lib.yaml", "lib: 1\n")]);
    git(&repo.work, &["submodule", "add", "-q", "../gone.git", "vendor/gone"]);
    // Point the submodule at a commit the server never got.
    std::fs::write(lib_work.path().join("lib.yaml"), "lib: 2\n").unwrap();
    git(lib_work.path(), &["commit", "-q", "-am", "unpushed"]);
    let unpushed = git(lib_work.path(), &["rev-parse", "HEAD"]);
    git(&repo.work, &["update-index", "--cacheinfo", &format!("160000,{unpushed},vendor/gone")]);
    git(&repo.work, &["commit", "-q", "-m", "point at an unpushed commit"]);
    repo.push("main");
    let server = GitHttpServer::start(&repo.root, ServerAuth::None);
    let error = fetch_blocking(&request(&server.url("broken"), true), |_| false, &AtomicBool::new(false)).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("submodule 'vendor/gone'") && message.contains(&unpushed), "{message}");
}

#[test]
fn sparse_checkout_keeps_only_the_listed_directories() {
    let repo = Repo::new("mono");
    repo.commit(
        &[
            ("apps/prod/app.yaml", "prod\n"),
            ("apps/staging/app.yaml", "staging\n"),
            ("infra/base.yaml", "infra\n"),
            ("README.md", "readme\n"),
        ],
        "tree",
    );
    repo.push("main");
    let (revision, dir, _temp) = checkout(&request(&repo.file_url(), false));
    let sparse = SparseDirs::new(&["apps/prod".to_string(), "./infra/".to_string()]).unwrap().unwrap();
    sparse.check_exist(&dir, &revision).unwrap();
    assert_eq!(
        archive_names(&dir, &revision, Some(&sparse)),
        [".", "apps", "apps/prod", "apps/prod/app.yaml", "infra", "infra/base.yaml"]
    );
    let missing = SparseDirs::new(&["apps/dev".to_string()]).unwrap().unwrap();
    let error = missing.check_exist(&dir, &revision).unwrap_err();
    assert!(error.to_string().contains("'apps/dev' does not exist"), "{error}");
}
