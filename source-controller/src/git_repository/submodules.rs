//! `spec.recurseSubmodules`: after the checkout, each submodule is fetched at the commit the
//! superproject records (depth 1) into its path, then its own submodules, to a fixed depth.
//!
//! Credentials follow Flux (the GitRepository's for every submodule), except that a password or
//! token is only sent to the superproject's own host: a `.gitmodules` in the repository must not
//! be able to send them elsewhere. An SSH key proves possession without revealing itself, and the
//! host keys are still checked against the Secret's `known_hosts`.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use gix::bstr::ByteSlice;

use super::git::{self, Auth, GitError};
use super::http_options::HttpOptions;
use super::reference::Target;

/// How deep submodules of submodules are followed.
const MAX_DEPTH: usize = 8;

/// One submodule to fetch: where, from where, and which commit.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Submodule {
    path: String,
    url: String,
    commit: String,
}

/// Fetches the submodules of the checkout in `dir`, recursively.
pub fn checkout(
    parent_url: &str,
    auth: &Auth,
    http: &HttpOptions,
    timeout: Duration,
    dir: &Path,
    interrupt: &AtomicBool,
) -> Result<(), GitError> {
    checkout_at_depth(parent_url, auth, http, timeout, dir, interrupt, 0)
}

fn checkout_at_depth(
    parent_url: &str,
    auth: &Auth,
    http: &HttpOptions,
    timeout: Duration,
    dir: &Path,
    interrupt: &AtomicBool,
    depth: usize,
) -> Result<(), GitError> {
    let submodules = list(parent_url, dir)?;
    if !submodules.is_empty() && depth >= MAX_DEPTH {
        return Err(GitError::Operation {
            action: "fetching submodules of".to_string(),
            url: git::redact_url(parent_url),
            message: format!("submodules are nested more than {MAX_DEPTH} levels deep"),
        });
    }
    for submodule in submodules {
        if is_local(&submodule.url) && !is_local(parent_url) {
            return Err(GitError::Operation {
                action: format!("fetching submodule '{}' of", submodule.path),
                url: git::redact_url(parent_url),
                message: format!("refusing the local submodule URL '{}' of a remote repository", submodule.url),
            });
        }
        let auth = credentials_for(parent_url, &submodule.url, auth);
        let target = Target { fetch: submodule.commit.clone(), commit: submodule.commit.clone(), label: None };
        let path = dir.join(&submodule.path);
        // gix checks out a submodule as an empty directory; the clone needs it empty or absent.
        if path.is_dir() {
            let _ = std::fs::remove_dir(&path);
        }
        git::checkout(&submodule.url, &auth, http, timeout, &target, &path, interrupt).map_err(|e| {
            GitError::Operation {
                action: format!("fetching submodule '{}' at {} from", submodule.path, submodule.commit),
                url: git::redact_url(&submodule.url),
                message: e.to_string(),
            }
        })?;
        checkout_at_depth(&submodule.url, &auth, http, timeout, &path, interrupt, depth + 1)?;
    }
    Ok(())
}

/// The submodules recorded in the checkout's `.gitmodules` and tree, with URLs resolved
/// against the superproject's.
fn list(parent_url: &str, dir: &Path) -> Result<Vec<Submodule>, GitError> {
    if !dir.join(".gitmodules").is_file() {
        return Ok(Vec::new());
    }
    let fail = |e: gix::Error| GitError::Operation {
        action: "reading the submodules of".to_string(),
        url: git::redact_url(parent_url),
        message: e.to_string(),
    };
    let repo = gix::open(dir).map_err(fail)?;
    let Some(submodules) = repo.submodules().map_err(fail)? else { return Ok(Vec::new()) };
    let mut found = Vec::new();
    for submodule in submodules {
        let path = submodule.path().map_err(fail)?.to_str_lossy().into_owned();
        let url = submodule.resolved_url().map_err(fail)?.to_bstring().to_str_lossy().into_owned();
        // The commit the superproject's HEAD records; a module without one is not checked out.
        let Some(commit) = submodule.head_id().map_err(fail)? else { continue };
        found.push(Submodule { path, url, commit: commit.to_string() });
    }
    Ok(found)
}

/// The superproject's credentials when the submodule is on the same host (scheme, host, port),
/// SSH keys always, nothing otherwise.
fn credentials_for(parent_url: &str, url: &str, auth: &Auth) -> Auth {
    match auth {
        Auth::Ssh(_) | Auth::None => auth.clone(),
        Auth::Basic { .. } | Auth::Bearer(_) if same_origin(parent_url, url) => auth.clone(),
        Auth::Basic { .. } | Auth::Bearer(_) => Auth::None,
    }
}

/// A `file://` URL or a plain path: the controller's own filesystem.
fn is_local(url: &str) -> bool {
    gix::url::parse(url.as_bytes().as_bstr()).map_or(true, |u| u.scheme == gix::url::Scheme::File)
}

fn same_origin(a: &str, b: &str) -> bool {
    let origin = |url: &str| {
        gix::url::parse(url.as_bytes().as_bstr())
            .ok()
            .map(|u| (u.scheme.clone(), u.host().map(str::to_ascii_lowercase), u.port_or_default()))
    };
    matches!((origin(a), origin(b)), (Some(x), Some(y)) if x == y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_stay_on_the_superprojects_host() {
        let basic = Auth::Basic { username: "u".into(), password: "p".into() };
        let parent = "https://git.example.com/org/app.git";
        assert_eq!(credentials_for(parent, "https://git.example.com/org/lib.git", &basic), basic);
        assert_eq!(credentials_for(parent, "https://evil.example.net/lib.git", &basic), Auth::None);
        assert_eq!(credentials_for(parent, "http://git.example.com/org/lib.git", &basic), Auth::None);
        assert_eq!(credentials_for(parent, "https://git.example.com:8443/lib.git", &basic), Auth::None);
    }

    #[test]
    fn local_urls_are_recognised() {
        assert!(is_local("/srv/git/lib.git"));
        assert!(is_local("file:///srv/git/lib.git"));
        assert!(!is_local("https://git.example.com/lib.git"));
        assert!(!is_local("git@example.com:org/lib.git"));
    }
}
