//! Real Git servers on loopback for tests: bare repositories made with the `git` CLI, served over
//! `file://`, over git's smart HTTP protocol by `git http-backend` behind a tiny CGI shim
//! ([`GitHttpServer`]), or over SSH by OpenSSH's `sshd` ([`SshServer`]). Like the rest of this
//! crate, every helper panics with the reason when its setup fails: the test then fails with it.

mod http;
mod ssh;

use std::path::{Path, PathBuf};
use std::process::Command;

pub use http::{GitHttpServer, HTTP_BACKEND, ServerAuth, serve};
pub use ssh::{SSHD, SshServer, keygen, keygen_with_passphrase, user};

/// Panics with a clear message when the tools the tests need are missing.
pub fn require_git() {
    let git = Command::new("git").arg("--version").output();
    assert!(git.is_ok_and(|o| o.status.success()), "these tests need the `git` CLI on PATH (apt-get install git)");
    assert!(Path::new(HTTP_BACKEND).is_file(), "these tests need {HTTP_BACKEND} (Debian's `git` package ships it)");
}

/// Runs git with a fixed identity and dates-free config; panics with its output on failure.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(["-c", "user.name=Weir Test", "-c", "user.email=test@weir.invalid", "-c", "init.defaultBranch=main"])
        .args(["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", "-c", "protocol.file.allow=always"])
        .args(args)
        .current_dir(dir)
        .env_remove("GIT_DIR")
        .output()
        .unwrap_or_else(|e| panic!("running git {args:?}: {e}"));
    assert!(
        output.status.success(),
        "git {args:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// A bare repository `<root>/<name>.git` and a working clone to make commits in.
pub struct Repo {
    pub root: PathBuf,
    pub bare: PathBuf,
    pub work: PathBuf,
    _dir: tempfile::TempDir,
}

impl Repo {
    pub fn new(name: &str) -> Repo {
        require_git();
        let dir = must(tempfile::tempdir(), "creating a temporary directory for a Git repository");
        let root = dir.path().join("srv");
        must(std::fs::create_dir_all(&root), "creating the repository root");
        let bare = root.join(format!("{name}.git"));
        git(&root, &["init", "--bare", "-b", "main", &bare.to_string_lossy()]);
        // Serve any object by id, as hosting services do (fetching a commit by SHA).
        git(&bare, &["config", "uploadpack.allowAnySHA1InWant", "true"]);
        git(&bare, &["config", "http.receivepack", "true"]);
        let work = dir.path().join("work");
        git(dir.path(), &["init", "-b", "main", &work.to_string_lossy()]);
        git(&work, &["remote", "add", "origin", &bare.to_string_lossy()]);
        Repo { root, bare, work, _dir: dir }
    }

    pub fn file_url(&self) -> String {
        format!("file://{}", self.bare.display())
    }

    /// Writes the files (creating directories), commits all and returns the commit id.
    pub fn commit(&self, files: &[(&str, &str)], message: &str) -> String {
        for (path, content) in files {
            let path = self.work.join(path);
            if let Some(parent) = path.parent() {
                must(std::fs::create_dir_all(parent), "creating a directory in the working clone");
            }
            must(std::fs::write(&path, content), &format!("writing {}", path.display()));
        }
        git(&self.work, &["add", "-A"]);
        git(&self.work, &["commit", "-q", "--allow-empty", "-m", message]);
        git(&self.work, &["rev-parse", "HEAD"])
    }

    pub fn push(&self, refspec: &str) {
        git(&self.work, &["push", "-q", "-f", "origin", refspec]);
    }

    pub fn annotated_tag(&self, tag: &str) {
        git(&self.work, &["tag", "-a", "-m", tag, tag]);
        self.push(&format!("refs/tags/{tag}"));
    }

    pub fn lightweight_tag(&self, tag: &str) {
        git(&self.work, &["tag", tag]);
        self.push(&format!("refs/tags/{tag}"));
    }
}

/// The value of a setup step, or a panic that says which step failed and why.
fn must<T, E: std::fmt::Display>(result: Result<T, E>, doing: &str) -> T {
    result.unwrap_or_else(|e| panic!("{doing}: {e}"))
}
