//! Commit statuses on GitHub, GitLab, Gitea and Bitbucket Cloud for the commit an event is about.
//! The commit comes from the event's `revision` (`main@sha1:<sha>`, the older `main/<sha>`, or a
//! bare sha); events without one are skipped. The status is keyed as Flux keys it:
//! `<kind>/<name>/<first part of the Provider's UID>`, lowercase, so each object has its own status
//! per cluster; `info` is success and `error` failure; the description is the event's reason in words.

use serde_json::json;
use weir_api::notification::ProviderType;

use super::{Endpoint, Notification, OutgoingRequest, ProviderError, encode_segment};

/// A Git repository address, e.g. `https://github.com/org/repo.git` or `git@github.com:org/repo`.
#[derive(Clone, Debug, PartialEq)]
pub struct Repository {
    /// `https://github.com`: the scheme and authority the API lives under.
    pub origin: String,
    pub host: String,
    /// `org/repo` (GitLab: possibly `group/subgroup/repo`), without `.git`.
    pub path: String,
}

impl Repository {
    pub fn parse(address: &str) -> Result<Repository, ProviderError> {
        let invalid = |reason: &str| ProviderError::InvalidAddress { address: address.into(), reason: reason.into() };
        if address.is_empty() {
            return Err(ProviderError::NoAddress);
        }
        // scp-like SSH addresses: git@host:org/repo.
        let normalised = match address.split_once("://") {
            None => match address.split_once(':') {
                Some((user_host, path)) => {
                    let host = user_host.rsplit('@').next().unwrap_or(user_host);
                    format!("https://{host}/{path}")
                }
                None => return Err(invalid("not a URL")),
            },
            Some(("ssh", rest)) => {
                let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
                let (host, path) = rest.split_once('/').ok_or_else(|| invalid("no repository path"))?;
                let host = host.split(':').next().unwrap_or(host);
                format!("https://{host}/{path}")
            }
            Some(_) => address.to_string(),
        };
        let url = reqwest::Url::parse(&normalised).map_err(|e| invalid(&e.to_string()))?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(invalid("scheme is not http, https or ssh"));
        }
        let host = url.host_str().filter(|h| !h.is_empty()).ok_or_else(|| invalid("no host"))?.to_string();
        let path = url.path().trim_matches('/').trim_end_matches(".git").to_string();
        if path.split('/').filter(|s| !s.is_empty()).count() < 2 {
            return Err(invalid("the path must name the owner and the repository"));
        }
        let origin = match url.port() {
            Some(port) => format!("{}://{host}:{port}", url.scheme()),
            None => format!("{}://{host}", url.scheme()),
        };
        Ok(Repository { origin, host, path })
    }

    /// `(owner, repo)` for the forges whose repositories have exactly two path parts.
    pub fn owner_repo(&self) -> Result<(&str, &str), ProviderError> {
        match self.path.split_once('/') {
            Some((owner, repo)) if !repo.contains('/') => Ok((owner, repo)),
            _ => Err(ProviderError::InvalidAddress {
                address: self.path.clone(),
                reason: "expected <owner>/<repository>".into(),
            }),
        }
    }

    /// GitHub's REST API root: api.github.com for github.com, `/api/v3` on GitHub Enterprise.
    pub fn github_api(&self) -> String {
        if self.host == "github.com" { "https://api.github.com".into() } else { format!("{}/api/v3", self.origin) }
    }
}

/// The commit sha of a revision: `main@sha1:<sha>`, `sha1:<sha>`, `main/<sha>` or `<sha>`.
pub fn commit_sha(revision: &str) -> Option<&str> {
    let digest = revision.rsplit_once('@').map_or(revision, |(_, d)| d);
    let sha = match digest.split_once(':') {
        Some((_, sha)) => sha,
        None => digest.rsplit('/').next().unwrap_or(digest),
    };
    (sha.len() >= 7 && sha.bytes().all(|b| b.is_ascii_hexdigit())).then_some(sha)
}

/// Flux's default status key: `<kind>/<name>/<first UID part of the Provider>`, lowercase.
pub fn status_id(endpoint: &Endpoint, n: &Notification) -> String {
    let o = &n.event.involved_object;
    let uid = endpoint.uid.split('-').next().unwrap_or_default();
    format!("{}/{}/{}", o.kind.as_deref().unwrap_or_default(), o.name.as_deref().unwrap_or_default(), uid)
        .to_lowercase()
}

/// `ReconciliationSucceeded` → `Reconciliation succeeded`.
pub fn describe_reason(reason: &str) -> String {
    let mut words: Vec<String> = Vec::new();
    let mut current = String::new();
    for c in reason.chars() {
        if c.is_uppercase() && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        current.push(c);
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            if i == 0 {
                let mut chars = w.chars();
                chars
                    .next()
                    .map(|f| f.to_uppercase().chain(chars.flat_map(char::to_lowercase)).collect())
                    .unwrap_or_default()
            } else {
                w.to_lowercase()
            }
        })
        .collect::<Vec<String>>()
        .join(" ")
}

#[derive(Clone, Copy)]
enum State {
    Pending,
    Success,
    Failure,
}

impl State {
    fn pick(self, pending: &'static str, success: &'static str, failure: &'static str) -> &'static str {
        match self {
            State::Pending => pending,
            State::Success => success,
            State::Failure => failure,
        }
    }
}

pub fn request(
    type_: ProviderType,
    endpoint: &Endpoint,
    n: &Notification,
) -> Result<Option<OutgoingRequest>, ProviderError> {
    let repository = Repository::parse(&endpoint.address)?;
    let token = endpoint.token.as_deref().filter(|t| !t.is_empty()).ok_or(ProviderError::NoToken)?;
    let Some(sha) = n.event.metadata.get("revision").and_then(|r| commit_sha(r)) else { return Ok(None) };
    let id = status_id(endpoint, n);
    let description = describe_reason(&n.event.reason);
    // Flux's controllers send `trace` events while work on a revision is in progress.
    let state = if n.event.severity == weir_api::event::SEVERITY_TRACE {
        State::Pending
    } else if n.event.is_error() {
        State::Failure
    } else {
        State::Success
    };
    let request = match type_ {
        ProviderType::GitHub => {
            let (owner, repo) = repository.owner_repo()?;
            let url = format!("{}/repos/{owner}/{repo}/statuses/{sha}", repository.github_api());
            let state = state.pick("pending", "success", "failure");
            OutgoingRequest::json(url, &json!({"state": state, "context": id, "description": description}))?
                .header("Authorization", format!("Bearer {token}"))
                .header("Accept", "application/vnd.github+json")
        }
        ProviderType::GitLab => {
            let url =
                format!("{}/api/v4/projects/{}/statuses/{sha}", repository.origin, encode_segment(&repository.path));
            let state = state.pick("running", "success", "failed");
            OutgoingRequest::json(url, &json!({"state": state, "name": id, "description": description}))?
                .header("PRIVATE-TOKEN", token)
        }
        ProviderType::Gitea => {
            let (owner, repo) = repository.owner_repo()?;
            let url = format!("{}/api/v1/repos/{owner}/{repo}/statuses/{sha}", repository.origin);
            let state = state.pick("pending", "success", "failure");
            OutgoingRequest::json(url, &json!({"state": state, "context": id, "description": description}))?
                .header("Authorization", format!("token {token}"))
        }
        ProviderType::Bitbucket => {
            let (owner, repo) = repository.owner_repo()?;
            // The token is `<username>:<app password>`.
            let (user, password) = token.split_once(':').ok_or_else(|| ProviderError::InvalidAddress {
                address: "token".into(),
                reason: "the bitbucket token must be <username>:<app password>".into(),
            })?;
            let api = if repository.host == "bitbucket.org" {
                "https://api.bitbucket.org".to_string()
            } else {
                repository.origin.clone()
            };
            let url = format!("{api}/2.0/repositories/{owner}/{repo}/commit/{sha}/statuses/build");
            // Bitbucket keys are at most 40 characters: the SHA-1 of the id fits exactly.
            let key = crate::signature::hex(&<sha1::Sha1 as sha2::Digest>::digest(id.as_bytes()));
            let state = state.pick("INPROGRESS", "SUCCESSFUL", "FAILED");
            let body = json!({"state": state, "key": key, "name": id, "description": description,
                              "url": format!("https://{}/{}", repository.host, repository.path)});
            let mut request = OutgoingRequest::json(url, &body)?;
            request.basic_auth = Some((user.to_string(), password.to_string()));
            request
        }
        other => return Err(ProviderError::Unsupported(other.as_str())),
    };
    Ok(Some(request))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn revisions_old_and_new() {
        assert_eq!(commit_sha(&format!("main@sha1:{SHA}")), Some(SHA));
        assert_eq!(commit_sha(&format!("refs/heads/main@sha1:{SHA}")), Some(SHA));
        assert_eq!(commit_sha(&format!("sha1:{SHA}")), Some(SHA));
        assert_eq!(commit_sha(&format!("main/{SHA}")), Some(SHA));
        assert_eq!(commit_sha(SHA), Some(SHA));
        assert_eq!(commit_sha("v1.2.3"), None);
        assert_eq!(commit_sha(""), None);
    }

    #[test]
    fn repository_addresses() {
        let r = Repository::parse("https://github.com/org/repo.git").unwrap();
        assert_eq!((r.origin.as_str(), r.path.as_str()), ("https://github.com", "org/repo"));
        assert_eq!(r.github_api(), "https://api.github.com");
        let r = Repository::parse("git@gitlab.com:group/sub/repo.git").unwrap();
        assert_eq!((r.origin.as_str(), r.path.as_str()), ("https://gitlab.com", "group/sub/repo"));
        assert!(r.owner_repo().is_err());
        let r = Repository::parse("ssh://git@ghe.example.com:2222/org/repo").unwrap();
        assert_eq!(r.github_api(), "https://ghe.example.com/api/v3");
        let r = Repository::parse("http://127.0.0.1:8080/org/repo").unwrap();
        assert_eq!(r.origin, "http://127.0.0.1:8080");
        assert!(Repository::parse("https://github.com/org").is_err());
        assert_eq!(Repository::parse(""), Err(ProviderError::NoAddress));
    }

    #[test]
    fn key_and_description_as_flux() {
        let e = endpoint(ProviderType::GitHub, "https://github.com/org/repo");
        assert_eq!(status_id(&e, &notification("info")), "kustomization/apps/1a2b3c4d");
        assert_eq!(describe_reason("ReconciliationSucceeded"), "Reconciliation succeeded");
        assert_eq!(describe_reason("HealthCheckFailed"), "Health check failed");
    }

    #[test]
    fn each_forge() {
        let n = notification("error");
        let mut e = endpoint(ProviderType::GitHub, "https://github.com/org/repo");
        assert_eq!(request(ProviderType::GitHub, &e, &n), Err(ProviderError::NoToken));
        e.token = Some("t".into());
        let r = request(ProviderType::GitHub, &e, &n).unwrap().unwrap();
        assert_eq!(r.url, format!("https://api.github.com/repos/org/repo/statuses/{SHA}"));
        assert_eq!(
            body(&r),
            json!({"state": "failure", "context": "kustomization/apps/1a2b3c4d",
                                    "description": "Reconciliation succeeded"})
        );

        e.address = "https://gitlab.com/group/sub/repo".into();
        let r = request(ProviderType::GitLab, &e, &notification("info")).unwrap().unwrap();
        assert_eq!(r.url, format!("https://gitlab.com/api/v4/projects/group%2Fsub%2Frepo/statuses/{SHA}"));
        assert_eq!(r.header_value("PRIVATE-TOKEN"), Some("t"));
        assert_eq!(body(&r)["state"], "success");
        assert_eq!(body(&r)["name"], "kustomization/apps/1a2b3c4d");

        e.address = "https://gitea.example.com/org/repo".into();
        let r = request(ProviderType::Gitea, &e, &n).unwrap().unwrap();
        assert_eq!(r.url, format!("https://gitea.example.com/api/v1/repos/org/repo/statuses/{SHA}"));
        assert_eq!(r.header_value("Authorization"), Some("token t"));

        e.address = "https://bitbucket.org/org/repo".into();
        assert!(request(ProviderType::Bitbucket, &e, &n).is_err());
        e.token = Some("user:app-pass".into());
        let r = request(ProviderType::Bitbucket, &e, &n).unwrap().unwrap();
        assert_eq!(r.url, format!("https://api.bitbucket.org/2.0/repositories/org/repo/commit/{SHA}/statuses/build"));
        assert_eq!(r.basic_auth, Some(("user".into(), "app-pass".into())));
        assert_eq!(body(&r)["state"], "FAILED");
        assert_eq!(body(&r)["key"].as_str().unwrap().len(), 40);
    }

    #[test]
    fn trace_events_are_pending() {
        let mut e = endpoint(ProviderType::GitLab, "https://gitlab.com/org/repo");
        e.token = Some("t".into());
        let n = notification("trace");
        assert_eq!(body(&request(ProviderType::GitLab, &e, &n).unwrap().unwrap())["state"], "running");
        e.address = "https://bitbucket.org/org/repo".into();
        e.token = Some("u:p".into());
        assert_eq!(body(&request(ProviderType::Bitbucket, &e, &n).unwrap().unwrap())["state"], "INPROGRESS");
    }

    #[test]
    fn events_without_revision_are_skipped() {
        let mut e = endpoint(ProviderType::GitHub, "https://github.com/org/repo");
        e.token = Some("t".into());
        let mut n = notification("info");
        n.event.metadata.clear();
        assert_eq!(request(ProviderType::GitHub, &e, &n), Ok(None));
    }
}
