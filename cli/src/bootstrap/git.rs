//! The Git side of bootstrap, through the `git` program: clone, commit and push with the
//! credentials given on the command line, never written into the repository's config or URLs.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// How to authenticate to the Git server.
pub enum GitAuth {
    None,
    /// HTTP(S) basic auth, answered through GIT_ASKPASS so the password never shows in argv.
    Basic {
        username: String,
        password: String,
    },
    /// SSH with a private key and the server's host keys, checked strictly.
    Ssh {
        private_key: PathBuf,
        known_hosts: PathBuf,
    },
}

/// A clone of the bootstrap repository in a temporary directory.
pub struct Workdir {
    dir: tempfile::TempDir,
    auth: GitAuth,
    askpass: Option<PathBuf>,
}

impl Workdir {
    /// Clones `branch` of `url`; an empty repository or a missing branch starts a new branch.
    pub fn clone(url: &str, branch: &str, auth: GitAuth) -> anyhow::Result<Workdir> {
        let dir =
            tempfile::Builder::new().prefix("weir-bootstrap-").tempdir().context("creating a temporary directory")?;
        let askpass = match &auth {
            GitAuth::Basic { .. } => Some(write_askpass(dir.path())?),
            _ => None,
        };
        let work = Workdir { dir, auth, askpass };
        let checkout = work.checkout_dir();
        let checkout_arg = checkout.display().to_string();
        work.git(work.dir.path(), &["clone", "--quiet", "--no-tags", url, &checkout_arg])
            .with_context(|| format!("cloning {url}"))?;
        let remote_branch = format!("refs/remotes/origin/{branch}");
        if work.git_ok(&checkout, &["rev-parse", "--verify", "--quiet", &remote_branch]) {
            work.git(&checkout, &["checkout", "--quiet", "-B", branch, &format!("origin/{branch}")])?;
        } else {
            work.git(&checkout, &["checkout", "--quiet", "--orphan", branch])?;
            // An orphan branch of a non-empty clone starts with the default branch's files staged.
            work.git(&checkout, &["rm", "-r", "--quiet", "--cached", "--ignore-unmatch", "."])?;
        }
        Ok(work)
    }

    pub fn checkout_dir(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    /// Stages `path` and commits it when it changed; returns the new commit, or `None`.
    pub fn commit(&self, path: &str, message: &str, author: (&str, &str)) -> anyhow::Result<Option<String>> {
        let checkout = self.checkout_dir();
        self.git(&checkout, &["add", "--all", "--", path])?;
        if self.git_ok(&checkout, &["diff", "--cached", "--quiet"]) && self.has_head() {
            return Ok(None);
        }
        let (name, email) = author;
        self.git(
            &checkout,
            &[
                "-c",
                &format!("user.name={name}"),
                "-c",
                &format!("user.email={email}"),
                "-c",
                "commit.gpgsign=false",
                "commit",
                "--quiet",
                "-m",
                message,
            ],
        )?;
        Ok(Some(self.head()?))
    }

    /// Pushes the current branch to `branch` on the remote.
    pub fn push(&self, branch: &str) -> anyhow::Result<()> {
        self.git(&self.checkout_dir(), &["push", "--quiet", "origin", &format!("HEAD:refs/heads/{branch}")])
            .with_context(|| format!("pushing to branch {branch}"))
            .map(|_| ())
    }

    pub fn head(&self) -> anyhow::Result<String> {
        Ok(self.git(&self.checkout_dir(), &["rev-parse", "HEAD"])?.trim().to_string())
    }

    fn has_head(&self) -> bool {
        self.git_ok(&self.checkout_dir(), &["rev-parse", "--verify", "--quiet", "HEAD"])
    }

    fn command(&self, dir: &Path, args: &[&str]) -> Command {
        let mut command = Command::new("git");
        command
            .current_dir(dir)
            .args(args)
            .env("GIT_TERMINAL_PROMPT", "0")
            // The user's hooks and templates have no business in a bootstrap.
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE");
        match &self.auth {
            GitAuth::None => {}
            GitAuth::Basic { username, password } => {
                if let Some(askpass) = &self.askpass {
                    command
                        .env("GIT_ASKPASS", askpass)
                        .env("WEIR_GIT_USERNAME", username)
                        .env("WEIR_GIT_PASSWORD", password);
                }
            }
            GitAuth::Ssh { private_key, known_hosts } => {
                command.env(
                    "GIT_SSH_COMMAND",
                    format!(
                        "ssh -i '{}' -o IdentitiesOnly=yes -o UserKnownHostsFile='{}' -o StrictHostKeyChecking=yes -o BatchMode=yes",
                        private_key.display(),
                        known_hosts.display()
                    ),
                );
            }
        }
        command
    }

    fn git(&self, dir: &Path, args: &[&str]) -> anyhow::Result<String> {
        let output = self.command(dir, args).output().context("running git (is it installed and on PATH?)")?;
        if !output.status.success() {
            bail!(
                "git {} failed: {}",
                args.first().copied().unwrap_or_default(),
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    fn git_ok(&self, dir: &Path, args: &[&str]) -> bool {
        self.command(dir, args).output().is_ok_and(|o| o.status.success())
    }
}

/// A GIT_ASKPASS program answering git's prompts from the environment.
fn write_askpass(dir: &Path) -> anyhow::Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("askpass.sh");
    let script = "#!/bin/sh\ncase \"$1\" in\n  Username*) printf '%s\\n' \"$WEIR_GIT_USERNAME\" ;;\n  *) printf '%s\\n' \"$WEIR_GIT_PASSWORD\" ;;\nesac\n";
    std::fs::write(&path, script).context("writing the askpass helper")?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700))
        .context("making the askpass helper executable")?;
    Ok(path)
}
