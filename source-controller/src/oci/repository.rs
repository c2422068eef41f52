//! `oci://<host>[:port]/<path>` as Flux reads it: no tag or digest in the URL, and plain HTTP for
//! `insecure` registries and, as go-containerregistry decides, for local addresses.

use std::net::IpAddr;

/// A repository in a registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repository {
    /// `host[:port]` as written in the URL (`docker.io` for Docker Hub).
    pub registry: String,
    /// The repository path, `org/app`.
    pub path: String,
}

/// Why an `oci://` URL was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("URL must be in format 'oci://<domain>/<org>/<repo>'")]
    Format,
    #[error("URL must not contain a tag; remove ':{0}'")]
    Tag(String),
    #[error("URL must not contain a digest; remove '@{0}'")]
    Digest(String),
}

impl Repository {
    /// Parses `oci://host/path`.
    pub fn parse(url: &str) -> Result<Repository, UrlError> {
        let rest = url.strip_prefix("oci://").ok_or(UrlError::Format)?;
        let (registry, path) = rest.split_once('/').ok_or(UrlError::Format)?;
        let path = path.trim_end_matches('/');
        if registry.is_empty() || path.is_empty() || path.split('/').any(str::is_empty) {
            return Err(UrlError::Format);
        }
        if let Some((_, digest)) = path.split_once('@') {
            return Err(UrlError::Digest(digest.to_string()));
        }
        if let Some((_, tag)) = path.rsplit('/').next().and_then(|last| last.split_once(':')) {
            return Err(UrlError::Tag(tag.to_string()));
        }
        if !path.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-/".contains(&b)) {
            return Err(UrlError::Format);
        }
        let mut path = path.to_string();
        if registry == "docker.io" && !path.contains('/') {
            path = format!("library/{path}");
        }
        Ok(Repository { registry: registry.to_string(), path })
    }

    /// The host the API is served on (Docker Hub's differs from its name).
    pub fn api_host(&self) -> &str {
        if self.registry == "docker.io" || self.registry == "index.docker.io" {
            "registry-1.docker.io"
        } else {
            &self.registry
        }
    }

    /// Whether the registry is local, where go-containerregistry (hence Flux) talks plain HTTP:
    /// `localhost`, loopback and private addresses.
    pub fn is_local(&self) -> bool {
        let host = host_of(&self.registry);
        if host == "localhost" {
            return true;
        }
        match host.parse::<IpAddr>() {
            Ok(IpAddr::V4(ip)) => ip.is_loopback() || ip.is_private(),
            Ok(IpAddr::V6(ip)) => ip.is_loopback(),
            Err(_) => false,
        }
    }

    /// `oci://` URL form, for messages: `host/path`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.path)
    }
}

/// The host of `host[:port]` or `[v6]:port`.
fn host_of(registry: &str) -> &str {
    if let Some(rest) = registry.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    registry.rsplit_once(':').map_or(registry, |(host, _)| host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_flux_urls() {
        let repo = Repository::parse("oci://ghcr.io/stefanprodan/manifests/podinfo").unwrap();
        assert_eq!(repo.registry, "ghcr.io");
        assert_eq!(repo.path, "stefanprodan/manifests/podinfo");
        assert!(!repo.is_local());
        let local = Repository::parse("oci://127.0.0.1:5000/app").unwrap();
        assert!(local.is_local());
        assert_eq!(local.name(), "127.0.0.1:5000/app");
        assert!(Repository::parse("oci://localhost:5000/a/b/").unwrap().is_local());
        assert!(Repository::parse("oci://[::1]:5000/a").unwrap().is_local());
        assert_eq!(Repository::parse("oci://docker.io/nginx").unwrap().path, "library/nginx");
    }

    #[test]
    fn refuses_tags_digests_and_bad_urls() {
        assert_eq!(Repository::parse("oci://ghcr.io/a/b:v1"), Err(UrlError::Tag("v1".into())));
        assert_eq!(Repository::parse("oci://ghcr.io/a@sha256:ab"), Err(UrlError::Digest("sha256:ab".into())));
        for bad in ["https://ghcr.io/a", "oci://ghcr.io", "oci://ghcr.io/", "oci:///a", "oci://h/A", "oci://h/a//b"] {
            assert_eq!(Repository::parse(bad), Err(UrlError::Format), "{bad}");
        }
    }
}
