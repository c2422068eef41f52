//! The Git operations, with gitoxide, all blocking (callers run them in `spawn_blocking`):
//! listing the remote's refs (`ls-refs`, the cheap check before a clone) and a shallow fetch
//! plus checkout of one ref or commit into a directory.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use gix::bstr::ByteSlice;
use gix::protocol::handshake::Ref;
use gix::protocol::transport::client::blocking_io::{Transport, http};
use gix::remote::Direction;

use super::http_options::HttpOptions;
use super::reference::{RemoteRef, Target};
use super::scratch;
use super::ssh::{self, SshAuth, SshError, SshSession};

/// Credentials from the GitRepository's `secretRef`. Never printed.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum Auth {
    #[default]
    None,
    Basic {
        username: String,
        password: String,
    },
    Bearer(String),
    /// A private key and the server's host keys, for `ssh://` and scp-like URLs.
    Ssh(SshAuth),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Auth::None => "None",
            Auth::Basic { .. } => "Basic(<redacted>)",
            Auth::Bearer(_) => "Bearer(<redacted>)",
            Auth::Ssh(_) => "Ssh(<redacted>)",
        })
    }
}

/// Why a Git operation failed; the message never holds credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GitError {
    #[error("authentication to {url} failed: {message}")]
    Authentication { url: String, message: String },
    #[error("{action} {url}: {message}")]
    Operation { action: String, url: String, message: String },
    #[error("the SSH host key of {url} is not trusted: {message} (check 'known_hosts' in the secretRef)")]
    HostKey { url: String, message: String },
    #[error("{url}: {source}")]
    Ssh { url: String, source: SshError },
}

impl GitError {
    fn from_gix(action: &'static str, url: &str, error: &gix::Error) -> GitError {
        Self::from_gix_with_ssh(action, url, error, None)
    }

    /// As [`GitError::from_gix`], with what `ssh` printed, which says more than the protocol error.
    fn from_gix_with_ssh(action: &'static str, url: &str, error: &gix::Error, ssh: Option<&SshSession>) -> GitError {
        let url = redact_url(url);
        let ssh_messages = ssh.map(SshSession::messages).unwrap_or_default();
        if ssh::is_host_key_failure(&ssh_messages) {
            return GitError::HostKey { url, message: ssh_messages };
        }
        if ssh::is_auth_failure(&ssh_messages) {
            return GitError::Authentication { url, message: ssh_messages };
        }
        let mut parts: Vec<String> = Vec::new();
        if !ssh_messages.is_empty() {
            parts.push(format!("ssh: {ssh_messages}"));
        }
        for cause in error.iter_errors() {
            let text = cause.to_string();
            if !parts.iter().any(|p| p.contains(&text)) {
                parts.push(text);
            }
        }
        let message = if parts.is_empty() { error.to_string() } else { parts.join(": ") };
        let lower = message.to_ascii_lowercase();
        let auth = error.classify().is_unauthenticated()
            || lower.contains("401")
            || lower.contains("403")
            || lower.contains("authenticat")
            || lower.contains("credentials");
        if auth {
            GitError::Authentication { url, message }
        } else {
            GitError::Operation { action: action.to_string(), url, message }
        }
    }
}

/// Whether gix reaches `url` through `ssh` (`ssh://` or scp-like `user@host:path`).
pub fn is_ssh_url(url: &str) -> bool {
    gix::url::parse(url.as_bytes().as_bstr()).is_ok_and(|u| u.scheme == gix::url::Scheme::Ssh)
}

/// The SSH session of an operation on `url`: required for SSH URLs, so that host keys are always
/// checked against the Secret's `known_hosts`; none for other URLs.
fn ssh_session(url: &str, auth: &Auth) -> Result<Option<SshSession>, GitError> {
    if !is_ssh_url(url) {
        return Ok(None);
    }
    let session = match auth {
        Auth::Ssh(ssh) => SshSession::prepare(ssh),
        // Never fall back to ssh's own configuration and trust.
        _ => Err(SshError::MissingKnownHosts),
    };
    session.map(Some).map_err(|source| GitError::Ssh { url: redact_url(url), source })
}

/// The URL without user information, for messages.
pub fn redact_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            match authority.rsplit_once('@') {
                Some((_, host)) => format!("{scheme}://{host}{path}"),
                None => url.to_string(),
            }
        }
        None => url.to_string(),
    }
}

type Connection<'a, 'b, 'c> = gix::remote::Connection<'a, 'b, 'c, Box<dyn Transport + Send>>;

/// Prepares a connection: credentials (basic auth through the credentials callback, asked only
/// when the server requires it; a bearer token as an `Authorization` header) and, over HTTP, a
/// limit on every request so that a server that stops answering frees the blocking thread.
fn configure(
    connection: &mut Connection<'_, '_, '_>,
    url: &str,
    auth: &Auth,
    http: &HttpOptions,
    timeout: Duration,
) -> gix::Result<()> {
    match auth {
        Auth::Basic { username, password } => {
            let (username, password) = (username.clone(), password.clone());
            connection.set_credentials(move |action| match action {
                gix::credentials::helper::Action::Get(context) => Ok(Some(gix::credentials::protocol::Outcome {
                    identity: gix::sec::identity::Account {
                        username: username.clone(),
                        password: password.clone(),
                        oauth_refresh_token: None,
                    },
                    next: context.into(),
                })),
                _ => Ok(None),
            });
        }
        // Never fall back to git's credential helpers or a prompt.
        Auth::None | Auth::Bearer(_) | Auth::Ssh(_) => {
            connection.set_credentials(|_| Ok(None));
        }
    }
    let options = connection.remote().repo().transport_options(url, None)?;
    if let Some(mut options) = options
        && let Some(http_options) = options.downcast_mut::<http::Options>()
    {
        if let Auth::Bearer(token) = auth {
            http_options.extra_headers.push(format!("Authorization: Bearer {token}"));
        }
        let http = http.clone();
        let backend = http::reqwest::Options {
            configure_client: Some(Box::new(move |builder| Ok(http.apply(builder.timeout(timeout))))),
            configure_request: None,
        };
        http_options.backend = Some(Arc::new(Mutex::new(backend)));
        connection.set_transport_options(options);
    }
    Ok(())
}

/// Lists the remote's refs matching `patterns` (refspec sources such as `refs/heads/main` or
/// `refs/tags/*`), annotated tags peeled to their commit. Writes no file: the repository gix
/// needs to hold the remote's configuration is the process's [`scratch`] one.
pub fn ls_remote(
    url: &str,
    auth: &Auth,
    http: &HttpOptions,
    timeout: Duration,
    patterns: &[String],
) -> Result<Vec<RemoteRef>, GitError> {
    // gix's HTTP client is reqwest with rustls and no built-in provider: ring, the process's one.
    weir_runtime::client::install_crypto_provider();
    let session = ssh_session(url, auth)?;
    let fail = |e: gix::Error| GitError::from_gix_with_ssh("listing the refs of", url, &e, session.as_ref());
    let prepare_error = |message: String| GitError::Operation {
        action: "preparing to list the refs of".to_string(),
        url: redact_url(url),
        message,
    };
    let mut repo = scratch::repository().map_err(prepare_error)?;
    if let Some(session) = &session {
        // In memory only: this handle's copy of the configuration, never the shared file.
        let mut config = repo.config_snapshot_mut();
        config
            .append_config(session.config_overrides(), gix::config::Source::Api)
            .map_err(|e| prepare_error(e.to_string()))?;
        config.commit().map_err(|e| prepare_error(e.to_string()))?;
    }
    let remote = repo.remote_at(url).map_err(fail)?;
    // A wildcard refspec needs a destination: map the refs onto themselves (nothing is written).
    let specs: Vec<String> =
        patterns.iter().map(|p| if p.contains('*') { format!("{p}:{p}") } else { p.clone() }).collect();
    let remote = remote
        .with_refspecs(specs.iter().map(String::as_str), Direction::Fetch)
        .map_err(fail)?
        .with_fetch_tags(gix::remote::fetch::Tags::None);
    let mut connection = remote.connect(Direction::Fetch).map_err(fail)?;
    configure(&mut connection, url, auth, http, timeout).map_err(fail)?;
    let (ref_map, _) = connection.ref_map(gix::progress::Discard, Default::default()).map_err(fail)?;
    let refs = ref_map
        .remote_refs
        .iter()
        .filter_map(|r| match r {
            Ref::Direct { full_ref_name, object } => Some(RemoteRef {
                name: full_ref_name.to_str_lossy().into_owned(),
                commit: object.to_string(),
                tag: None,
            }),
            Ref::Peeled { full_ref_name, object, tag } => Some(RemoteRef {
                name: full_ref_name.to_str_lossy().into_owned(),
                commit: object.to_string(),
                tag: Some(tag.to_string()),
            }),
            Ref::Symbolic { .. } | Ref::Unborn { .. } => None,
        })
        .filter(|r| patterns.iter().any(|p| matches_pattern(p, &r.name)))
        .collect();
    Ok(refs)
}

/// A refspec source with at most a trailing `*`.
fn matches_pattern(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

/// Fetches `target` (depth 1) and checks it out into `dir`, which must be empty or absent;
/// returns the commit checked out. The `.git` directory stays: the archive filter drops it.
pub fn checkout(
    url: &str,
    auth: &Auth,
    http: &HttpOptions,
    timeout: Duration,
    target: &Target,
    dir: &Path,
    interrupt: &AtomicBool,
) -> Result<String, GitError> {
    weir_runtime::client::install_crypto_provider();
    let session = ssh_session(url, auth)?;
    let fail = |e: gix::Error| GitError::from_gix_with_ssh("fetching", url, &e, session.as_ref());
    let overrides = session.as_ref().map(SshSession::config_overrides).unwrap_or_default();
    let (auth, http) = (auth.clone(), http.clone());
    let connection_url = url.to_string();
    let depth = std::num::NonZeroU32::MIN;
    // As `gix::prepare_clone`, without probing the filesystem again.
    let create = gix::create::Options { fs_capabilities: Some(fs_capabilities(dir)), ..Default::default() };
    let kind = gix::create::Kind::WithWorktree;
    let mut prepare = gix::clone::PrepareFetch::new(url, dir, kind, create, clone_open_options())
        .map_err(fail)?
        .with_shallow(gix::remote::fetch::Shallow::DepthAtRemote(depth))
        .with_revision(Some(target.fetch.as_str()))
        .map_err(fail)?
        .with_in_memory_config_overrides(overrides)
        .configure_remote(|remote| Ok(remote.with_fetch_tags(gix::remote::fetch::Tags::None)))
        .configure_connection(move |connection| configure(connection, &connection_url, &auth, &http, timeout));
    let (mut checkout, _) = prepare.fetch_then_checkout(gix::progress::Discard, interrupt).map_err(|e| {
        match fail(e) {
            // Say which commit could not be fetched (it may not exist on the remote).
            GitError::Operation { url, message, .. } if !target.fetch.starts_with("refs/") => {
                GitError::Operation { action: format!("fetching commit {} from", target.fetch), url, message }
            }
            error => error,
        }
    })?;
    let (repo, _) = checkout
        .main_worktree(gix::progress::Discard, interrupt)
        .map_err(|e| GitError::from_gix("checking out", url, &e))?;
    let head = repo.head_id().map_err(|e| GitError::Operation {
        action: "reading HEAD of the checkout of".to_string(),
        url: redact_url(url),
        message: e.to_string(),
    })?;
    Ok(head.detach().to_string())
}

/// The filesystem's capabilities (executable bit, symlinks, case), probed once per process
/// beside the first checkout: gix otherwise probes with test files on every clone. Every
/// checkout goes under the same temporary directory, so one answer serves all.
fn fs_capabilities(dir: &Path) -> gix::fs::Capabilities {
    static CAPABILITIES: OnceLock<gix::fs::Capabilities> = OnceLock::new();
    *CAPABILITIES.get_or_init(|| gix::fs::Capabilities::probe_dir(dir.parent().unwrap_or(dir)))
}

/// What `gix::prepare_clone` opens the new repository with: full trust, and the git binary's
/// configuration read as git would.
fn clone_open_options() -> gix::open::Options {
    use gix::sec::trust::DefaultForLevel;
    let mut options = gix::open::Options::default_for_level(gix::sec::Trust::Full);
    options.permissions.config.git_binary = true;
    options
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_credentials() {
        assert_eq!(redact_url("https://user:secret@example.com/org/repo"), "https://example.com/org/repo");
        assert_eq!(redact_url("https://example.com/a@b"), "https://example.com/a@b");
        assert_eq!(redact_url("ssh://git@example.com/repo"), "ssh://example.com/repo");
        assert!(!format!("{:?}", Auth::Basic { username: "u".into(), password: "p4ss".into() }).contains("p4ss"));
    }

    #[test]
    fn patterns_match_like_refspec_sources() {
        assert!(matches_pattern("refs/tags/*", "refs/tags/v1"));
        assert!(matches_pattern("refs/heads/main", "refs/heads/main"));
        assert!(!matches_pattern("refs/heads/main", "refs/heads/main2"));
    }
}
