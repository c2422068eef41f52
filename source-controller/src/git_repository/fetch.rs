//! The Git half of a reconcile, off the async runtime and within `spec.timeout`: list the
//! remote's refs, resolve the spec's reference, and (unless the caller already has that
//! revision) fetch and check it out.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use weir_api::source::git_repository::GitReference;

use super::git::{self, Auth, GitError};
use super::http_options::HttpOptions;
use super::reference::{self, ReferenceError, Target};
use super::submodules;

/// Why fetching failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    #[error("the Git operations on {url} did not finish within the timeout of {timeout:?}")]
    Timeout { url: String, timeout: Duration },
    #[error("creating a temporary directory: {0}")]
    TempDir(String),
    #[error("the Git task failed: {0}")]
    Task(String),
}

/// What the remote has now.
#[derive(Debug)]
pub enum Fetched {
    /// The remote's revision is the one the caller has: nothing was cloned.
    Unchanged { revision: String },
    /// A checkout of `revision` in `dir` (removed when `temp` drops); `tag` names the tag checked
    /// out, when the reference was one (for `verify` of the tag's signature).
    CheckedOut { revision: String, commit: String, tag: Option<CheckedOutTag>, dir: PathBuf, temp: tempfile::TempDir },
}

/// The tag a checkout came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedOutTag {
    pub name: String,
    /// The annotated tag object (fetched with the commit); `None` for a lightweight tag.
    pub object: Option<String>,
}

/// One fetch: the remote, credentials, TLS and proxy settings, the reference and the limit.
#[derive(Debug, Clone)]
pub struct FetchRequest {
    pub url: String,
    pub auth: Auth,
    pub http: HttpOptions,
    pub reference: OwnedReference,
    pub timeout: Duration,
    /// Also check out the submodules (`spec.recurseSubmodules`).
    pub recurse_submodules: bool,
}

/// [`GitReference`] without the borrow, to move into the blocking task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnedReference {
    Commit { sha: String, branch: Option<String> },
    Name(String),
    SemVer(String),
    Tag(String),
    Branch(String),
}

impl From<GitReference<'_>> for OwnedReference {
    fn from(reference: GitReference<'_>) -> Self {
        match reference {
            GitReference::Commit { sha, branch } => {
                OwnedReference::Commit { sha: sha.to_string(), branch: branch.map(str::to_string) }
            }
            GitReference::Name(name) => OwnedReference::Name(name.to_string()),
            GitReference::SemVer(range) => OwnedReference::SemVer(range.to_string()),
            GitReference::Tag(tag) => OwnedReference::Tag(tag.to_string()),
            GitReference::Branch(branch) => OwnedReference::Branch(branch.to_string()),
        }
    }
}

impl OwnedReference {
    fn borrowed(&self) -> GitReference<'_> {
        match self {
            OwnedReference::Commit { sha, branch } => GitReference::Commit { sha, branch: branch.as_deref() },
            OwnedReference::Name(name) => GitReference::Name(name),
            OwnedReference::SemVer(range) => GitReference::SemVer(range),
            OwnedReference::Tag(tag) => GitReference::Tag(tag),
            OwnedReference::Branch(branch) => GitReference::Branch(branch),
        }
    }
}

/// Runs the fetch in a blocking task; `unchanged` says whether a revision needs no new artifact
/// (the cheap check). On timeout the task is told to stop and an error is returned at once.
pub async fn fetch(
    request: FetchRequest,
    unchanged: impl FnOnce(&str) -> bool + Send + 'static,
) -> Result<Fetched, FetchError> {
    let interrupt = Arc::new(AtomicBool::new(false));
    let flag = interrupt.clone();
    let (url, timeout) = (git::redact_url(&request.url), request.timeout);
    let task = tokio::task::spawn_blocking(move || fetch_blocking(&request, unchanged, &flag));
    match tokio::time::timeout(timeout, task).await {
        Ok(Ok(result)) => result,
        Ok(Err(join)) => Err(FetchError::Task(join.to_string())),
        Err(_) => {
            interrupt.store(true, Ordering::Relaxed);
            Err(FetchError::Timeout { url, timeout })
        }
    }
}

/// The blocking pipeline: resolve, cheap check, checkout.
pub fn fetch_blocking(
    request: &FetchRequest,
    unchanged: impl FnOnce(&str) -> bool,
    interrupt: &AtomicBool,
) -> Result<Fetched, FetchError> {
    let reference = request.reference.borrowed();
    let (target, tag_object) = resolve_remote(request, &reference)?;
    let expected = target.revision(&target.commit);
    if unchanged(&expected) {
        return Ok(Fetched::Unchanged { revision: expected });
    }
    let temp = tempdir()?;
    let dir = temp.path().join("checkout");
    let commit = git::checkout(&request.url, &request.auth, &request.http, request.timeout, &target, &dir, interrupt)?;
    if request.recurse_submodules {
        submodules::checkout(&request.url, &request.auth, &request.http, request.timeout, &dir, interrupt)?;
    }
    let tag = target
        .fetch
        .strip_prefix("refs/tags/")
        .map(|name| CheckedOutTag { name: name.to_string(), object: tag_object });
    Ok(Fetched::CheckedOut { revision: target.revision(&commit), commit, tag, dir, temp })
}

/// The target of the reference, from the remote's refs (no listing for a commit), and the
/// annotated tag object when the target is one.
fn resolve_remote(
    request: &FetchRequest,
    reference: &GitReference<'_>,
) -> Result<(Target, Option<String>), FetchError> {
    if let GitReference::Commit { sha, branch } = *reference {
        return Ok((reference::commit_target(sha, branch)?, None));
    }
    let patterns = reference::ls_patterns(reference);
    let refs = git::ls_remote(&request.url, &request.auth, &request.http, request.timeout, &patterns)?;
    let target = reference::resolve(reference, &refs)?;
    let tag = refs.iter().find(|r| r.name == target.fetch).and_then(|r| r.tag.clone());
    Ok((target, tag))
}

fn tempdir() -> Result<tempfile::TempDir, FetchError> {
    tempfile::Builder::new().prefix("weir-git-").tempdir().map_err(|e| FetchError::TempDir(e.to_string()))
}
