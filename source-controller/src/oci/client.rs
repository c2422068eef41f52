//! The registry's HTTP API (OCI distribution spec) over reqwest. Each request goes out with the
//! authorization learnt so far; a `401` with a `WWW-Authenticate` challenge is answered once:
//! `Basic` with the credentials, `Bearer` by fetching a token from the challenge's realm (with
//! the credentials, if any, as Basic auth) and retrying with it.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, LOCATION, WWW_AUTHENTICATE};
use reqwest::{Method, Response, StatusCode};
use sha2::{Digest as _, Sha256};

use super::manifest::{ACCEPT_MANIFESTS, Manifest, sha256_digest};
use super::repository::Repository;

const USER_AGENT: &str = concat!("weir-source-controller/", env!("CARGO_PKG_VERSION"));
/// Manifests are small; a bigger answer is not one.
const MAX_MANIFEST_BYTES: usize = 4 << 20;

/// A username and password (or token) for a registry. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials").field("username", &self.username).finish_non_exhaustive()
    }
}

/// How to reach a registry.
#[derive(Clone, Debug, Default)]
pub struct ClientOptions {
    pub credentials: Option<Credentials>,
    /// PEM CA certificates trusted besides the system's.
    pub ca_pem: Option<Vec<u8>>,
    /// PEM client certificate and key.
    pub client_identity: Option<(Vec<u8>, Vec<u8>)>,
    /// The HTTP proxy every request goes through (`proxySecretRef`); none means direct.
    pub proxy: Option<super::proxy::ProxyOptions>,
    /// Plain HTTP.
    pub insecure: bool,
    /// The limit of each request.
    pub timeout: Option<Duration>,
}

/// Why a registry operation failed. Messages never carry credentials or tokens.
#[derive(Debug, thiserror::Error)]
pub enum OciError {
    #[error("building the HTTP client: {0}")]
    Client(String),
    #[error("{method} {url}: {message}")]
    Transport { method: Method, url: String, message: String },
    #[error("{method} {url}: {status}{}", body_suffix(.body))]
    Status { method: Method, url: String, status: StatusCode, body: String },
    #[error("{method} {url}: authentication failed: {message}")]
    Unauthorized { method: Method, url: String, message: String },
    #[error("{url}: {message}")]
    Invalid { url: String, message: String },
    #[error("registry {registry} answered neither over HTTPS nor over HTTP: {failures}")]
    Unreachable { registry: String, failures: String },
    #[error("writing {path}: {source}")]
    Io { path: String, source: std::io::Error },
}

fn body_suffix(body: &str) -> String {
    if body.is_empty() { String::new() } else { format!(": {body}") }
}

impl OciError {
    /// Whether the registry refused the credentials (or their absence).
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, OciError::Unauthorized { .. })
            || matches!(self, OciError::Status { status, .. } if *status == StatusCode::UNAUTHORIZED || *status == StatusCode::FORBIDDEN)
    }

    /// Whether the manifest, tag or blob does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, OciError::Status { status, .. } if *status == StatusCode::NOT_FOUND)
    }
}

/// A client for one repository of a registry.
pub struct RegistryClient {
    http: reqwest::Client,
    /// The schemes to try, in order, until one answers the API's ping.
    schemes: &'static [&'static str],
    /// `scheme://host/v2/path`, once a scheme answered.
    base: tokio::sync::OnceCell<String>,
    repository: Repository,
    credentials: Option<Credentials>,
    /// The `Authorization` header value that worked last (a Basic or Bearer value).
    authorization: Mutex<Option<String>>,
}

impl RegistryClient {
    pub fn new(repository: Repository, options: ClientOptions) -> Result<RegistryClient, OciError> {
        weir_runtime::client::install_crypto_provider();
        let mut builder = reqwest::Client::builder().user_agent(USER_AGENT);
        builder = match &options.proxy {
            Some(proxy) => builder.proxy(proxy.to_reqwest()?),
            None => builder.no_proxy(),
        };
        if let Some(timeout) = options.timeout {
            builder = builder.timeout(timeout);
        }
        let identity = options.client_identity.as_ref().map(|(cert, key)| (cert.as_slice(), key.as_slice()));
        builder = crate::tls::configure(builder, options.ca_pem.as_deref(), identity).map_err(|e| match e {
            crate::tls::TlsMaterialError::Ca(e) => OciError::Client(format!("ca.crt: {e}")),
            crate::tls::TlsMaterialError::Identity(e) => OciError::Client(format!("tls.crt/tls.key: {e}")),
        })?;
        let http = builder.build().map_err(|e| OciError::Client(error_chain(&e)))?;
        // As go-containerregistry (hence Flux): HTTPS first, and plain HTTP as well for
        // `insecure` and local registries, whichever answers.
        let schemes: &'static [&'static str] =
            if options.insecure || repository.is_local() { &["https", "http"] } else { &["https"] };
        Ok(RegistryClient {
            http,
            schemes,
            base: tokio::sync::OnceCell::new(),
            repository,
            credentials: options.credentials,
            authorization: Mutex::new(None),
        })
    }

    /// `scheme://host/v2/path`: the first scheme whose `/v2/` answers 200 or 401 (a registry),
    /// when there is a choice.
    async fn base(&self) -> Result<&str, OciError> {
        let base = self
            .base
            .get_or_try_init(|| async {
                let host = self.repository.api_host();
                if let [scheme] = self.schemes {
                    return Ok(format!("{scheme}://{host}/v2/{}", self.repository.path));
                }
                let mut failures = Vec::new();
                for scheme in self.schemes {
                    let url = format!("{scheme}://{host}/v2/");
                    match self.http.get(&url).send().await {
                        Ok(response)
                            if response.status().is_success() || response.status() == StatusCode::UNAUTHORIZED =>
                        {
                            return Ok(format!("{scheme}://{host}/v2/{}", self.repository.path));
                        }
                        Ok(response) => failures.push(format!("GET {url}: {}", response.status())),
                        Err(e) => failures.push(format!("GET {url}: {}", error_chain(&e))),
                    }
                }
                Err(OciError::Unreachable { registry: self.repository.registry.clone(), failures: failures.join("; ") })
            })
            .await?;
        Ok(base)
    }

    pub fn repository(&self) -> &Repository {
        &self.repository
    }

    /// The digest of the manifest at `reference` (a tag or digest) with a `HEAD`, falling back to
    /// a `GET` when the registry does not say (as go-containerregistry does).
    pub async fn resolve(&self, reference: &str) -> Result<String, OciError> {
        let url = format!("{}/manifests/{reference}", self.base().await?);
        let response = self.send(Method::HEAD, &url, manifest_accept(), None, false).await?;
        if let Some(digest) = header(response.headers(), "docker-content-digest")
            && super::manifest::is_sha256_digest(&digest)
        {
            return Ok(digest);
        }
        let (_, digest, _) = self.manifest(reference).await?;
        Ok(digest)
    }

    /// The manifest at `reference`, its digest (computed over the bytes) and its raw bytes.
    pub async fn manifest(&self, reference: &str) -> Result<(Manifest, String, Vec<u8>), OciError> {
        let url = format!("{}/manifests/{reference}", self.base().await?);
        let response = self.send(Method::GET, &url, manifest_accept(), None, false).await?;
        let bytes = read_limited(response, &url, MAX_MANIFEST_BYTES).await?;
        let digest = sha256_digest(&bytes);
        if reference.starts_with("sha256:") && reference != digest {
            return Err(OciError::Invalid { url, message: format!("the manifest's digest is {digest}") });
        }
        let manifest: Manifest = serde_json::from_slice(&bytes)
            .map_err(|e| OciError::Invalid { url: url.clone(), message: format!("not an OCI manifest: {e}") })?;
        Ok((manifest, digest, bytes))
    }

    /// All tags of the repository, following the `Link` pagination.
    pub async fn tags(&self) -> Result<Vec<String>, OciError> {
        #[derive(serde::Deserialize)]
        struct TagList {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let mut tags = Vec::new();
        let mut url = format!("{}/tags/list?n=1000", self.base().await?);
        loop {
            let response = self.send(Method::GET, &url, HeaderMap::new(), None, false).await?;
            let next = header(response.headers(), "link").and_then(|link| next_link(&link));
            let bytes = read_limited(response, &url, 64 << 20).await?;
            let list: TagList = serde_json::from_slice(&bytes)
                .map_err(|e| OciError::Invalid { url: url.clone(), message: format!("not a tag list: {e}") })?;
            tags.extend(list.tags.unwrap_or_default());
            match next {
                Some(next) if next.starts_with('/') => {
                    url = format!("{}{next}", self.origin().await?);
                }
                Some(next) => url = next,
                None => return Ok(tags),
            }
        }
    }

    /// A small blob (a signature payload, a config) in memory, its digest checked.
    pub async fn blob_bytes(&self, digest: &str, limit: usize) -> Result<Vec<u8>, OciError> {
        let url = format!("{}/blobs/{digest}", self.base().await?);
        let response = self.send(Method::GET, &url, HeaderMap::new(), None, false).await?;
        let bytes = read_limited(response, &url, limit).await?;
        if sha256_digest(&bytes) != digest {
            return Err(OciError::Invalid { url, message: "the content does not match its digest".into() });
        }
        Ok(bytes)
    }

    /// Streams a blob into `dest`, checking its digest and that it is not bigger than `limit`.
    pub async fn blob_to_file(&self, digest: &str, dest: &Path, limit: u64) -> Result<u64, OciError> {
        let url = format!("{}/blobs/{digest}", self.base().await?);
        let mut response = self.send(Method::GET, &url, HeaderMap::new(), None, false).await?;
        let io = |source| OciError::Io { path: dest.display().to_string(), source };
        let mut file = std::io::BufWriter::new(std::fs::File::create(dest).map_err(io)?);
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = response.chunk().await.map_err(|e| self.transport(Method::GET, &url, &e))? {
            size += chunk.len() as u64;
            if size > limit {
                return Err(OciError::Invalid { url, message: format!("the blob is larger than {limit} bytes") });
            }
            hasher.update(&chunk);
            file.write_all(&chunk).map_err(io)?;
        }
        file.flush().map_err(io)?;
        let actual = format!("sha256:{}", hex(&hasher.finalize()));
        if actual != digest {
            return Err(OciError::Invalid { url, message: format!("the content's digest is {actual}") });
        }
        Ok(size)
    }

    /// Uploads a blob (monolithic: POST then PUT) unless the registry has it; returns its digest.
    pub async fn push_blob(&self, bytes: Vec<u8>) -> Result<String, OciError> {
        let digest = sha256_digest(&bytes);
        let head = format!("{}/blobs/{digest}", self.base().await?);
        match self.send(Method::HEAD, &head, HeaderMap::new(), None, true).await {
            Ok(_) => return Ok(digest),
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
        let start = format!("{}/blobs/uploads/", self.base().await?);
        let response = self.send(Method::POST, &start, HeaderMap::new(), Some(Vec::new()), true).await?;
        let location = header(response.headers(), LOCATION.as_str())
            .ok_or_else(|| OciError::Invalid { url: start.clone(), message: "no upload Location".into() })?;
        let location = if location.starts_with('/') { format!("{}{location}", self.origin().await?) } else { location };
        let separator = if location.contains('?') { '&' } else { '?' };
        let put = format!("{location}{separator}digest={digest}");
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, reqwest::header::HeaderValue::from_static("application/octet-stream"));
        self.send(Method::PUT, &put, headers, Some(bytes), true).await?;
        Ok(digest)
    }

    /// Uploads a manifest under `reference` (a tag or its digest); returns its digest.
    pub async fn push_manifest(&self, reference: &str, media_type: &str, bytes: Vec<u8>) -> Result<String, OciError> {
        let digest = sha256_digest(&bytes);
        let url = format!("{}/manifests/{reference}", self.base().await?);
        let mut headers = HeaderMap::new();
        let value = reqwest::header::HeaderValue::from_str(media_type)
            .map_err(|e| OciError::Invalid { url: url.clone(), message: e.to_string() })?;
        headers.insert(CONTENT_TYPE, value);
        self.send(Method::PUT, &url, headers, Some(bytes), true).await?;
        Ok(digest)
    }

    /// Checks that the registry accepts the credentials (HelmRepository `type: oci`): the
    /// repository's tag list, which needs pull access. A repository without tags is fine.
    pub async fn login(&self) -> Result<(), OciError> {
        let url = format!("{}/tags/list?n=1", self.base().await?);
        match self.send(Method::GET, &url, HeaderMap::new(), None, false).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// `scheme://host` of the API.
    async fn origin(&self) -> Result<&str, OciError> {
        let base = self.base().await?;
        Ok(base.find("/v2/").map_or(base, |i| &base[..i]))
    }

    /// Sends a request, answering one auth challenge; non-2xx answers are errors.
    async fn send(
        &self,
        method: Method,
        url: &str,
        headers: HeaderMap,
        body: Option<Vec<u8>>,
        push: bool,
    ) -> Result<Response, OciError> {
        let known = self.authorization.lock().ok().and_then(|a| a.clone());
        let response = self.once(method.clone(), url, &headers, body.clone(), known.as_deref()).await?;
        let response = if response.status() == StatusCode::UNAUTHORIZED {
            let challenge = header(response.headers(), WWW_AUTHENTICATE.as_str()).unwrap_or_default();
            let authorization = self.answer(&method, url, &challenge, push).await?;
            let retried = self.once(method.clone(), url, &headers, body, Some(&authorization)).await?;
            if retried.status() == StatusCode::UNAUTHORIZED {
                let message = if self.credentials.is_some() {
                    "the registry refused the credentials"
                } else {
                    "the registry needs credentials"
                };
                return Err(OciError::Unauthorized { method, url: url.to_string(), message: message.into() });
            }
            if let Ok(mut slot) = self.authorization.lock() {
                *slot = Some(authorization);
            }
            retried
        } else {
            response
        };
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = if method == Method::HEAD { String::new() } else { error_text(response).await };
        Err(OciError::Status { method, url: url.to_string(), status, body })
    }

    async fn once(
        &self,
        method: Method,
        url: &str,
        headers: &HeaderMap,
        body: Option<Vec<u8>>,
        authorization: Option<&str>,
    ) -> Result<Response, OciError> {
        let mut request = self.http.request(method.clone(), url).headers(headers.clone());
        if let Some(authorization) = authorization {
            request = request.header(AUTHORIZATION, authorization);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        request.send().await.map_err(|e| self.transport(method, url, &e))
    }

    /// The `Authorization` value answering `challenge`.
    async fn answer(&self, method: &Method, url: &str, challenge: &str, push: bool) -> Result<String, OciError> {
        let unauthorized =
            |message: String| OciError::Unauthorized { method: method.clone(), url: url.to_string(), message };
        let (scheme, params) = parse_challenge(challenge);
        match scheme.to_ascii_lowercase().as_str() {
            "basic" => {
                let credentials =
                    self.credentials.as_ref().ok_or_else(|| unauthorized("the registry needs credentials".into()))?;
                Ok(basic(credentials))
            }
            "bearer" => {
                let realm =
                    params.get("realm").ok_or_else(|| unauthorized("a Bearer challenge without realm".into()))?;
                let actions = if push { "pull,push" } else { "pull" };
                let scope = params
                    .get("scope")
                    .cloned()
                    .unwrap_or_else(|| format!("repository:{}:{actions}", self.repository.path));
                let mut token_url = reqwest::Url::parse(realm)
                    .map_err(|e| unauthorized(format!("the Bearer challenge's realm '{realm}' is not a URL: {e}")))?;
                token_url.query_pairs_mut().append_pair("scope", &scope);
                if let Some(service) = params.get("service") {
                    token_url.query_pairs_mut().append_pair("service", service);
                }
                let mut request = self.http.get(token_url);
                if let Some(credentials) = &self.credentials {
                    request = request.header(AUTHORIZATION, basic(credentials));
                }
                let response = request.send().await.map_err(|e| self.transport(Method::GET, realm, &e))?;
                if !response.status().is_success() {
                    return Err(unauthorized(format!("the token endpoint {realm} answered {}", response.status())));
                }
                #[derive(serde::Deserialize)]
                struct Token {
                    #[serde(default)]
                    token: Option<String>,
                    #[serde(default)]
                    access_token: Option<String>,
                }
                let bytes = read_limited(response, realm, 1 << 20).await?;
                let token: Token = serde_json::from_slice(&bytes)
                    .map_err(|e| unauthorized(format!("the token endpoint {realm} answered no token: {e}")))?;
                let token = token
                    .token
                    .or(token.access_token)
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| unauthorized(format!("the token endpoint {realm} answered no token")))?;
                Ok(format!("Bearer {token}"))
            }
            _ => Err(unauthorized(format!("unsupported authentication challenge '{scheme}'"))),
        }
    }

    fn transport(&self, method: Method, url: &str, error: &reqwest::Error) -> OciError {
        OciError::Transport { method, url: url.to_string(), message: error_chain(error) }
    }
}

fn manifest_accept() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, reqwest::header::HeaderValue::from_static(ACCEPT_MANIFESTS));
    headers
}

fn basic(credentials: &Credentials) -> String {
    use base64::Engine as _;
    let raw = format!("{}:{}", credentials.username, credentials.password);
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw))
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// `Bearer realm="https://auth",service="registry",scope="repository:a:pull"` → scheme and
/// parameters.
fn parse_challenge(challenge: &str) -> (String, BTreeMap<String, String>) {
    let challenge = challenge.trim();
    let (scheme, rest) = challenge.split_once(' ').unwrap_or((challenge, ""));
    let mut params = BTreeMap::new();
    let mut rest = rest.trim();
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once('=') else { break };
        let key = key.trim().trim_start_matches(',').trim().to_ascii_lowercase();
        let after = after.trim_start();
        let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            match quoted.find('"') {
                Some(end) => (&quoted[..end], &quoted[end + 1..]),
                None => (quoted, ""),
            }
        } else {
            after.split_once(',').unwrap_or((after, ""))
        };
        params.insert(key, value.to_string());
        rest = remaining.trim_start().trim_start_matches(',').trim_start();
    }
    (scheme.to_string(), params)
}

/// The target of `Link: </v2/a/tags/list?n=1&last=b>; rel="next"`.
fn next_link(link: &str) -> Option<String> {
    let (target, params) = link.split_once(';')?;
    params.contains("rel=\"next\"").then(|| target.trim().trim_start_matches('<').trim_end_matches('>').to_string())
}

async fn read_limited(mut response: Response, url: &str, limit: usize) -> Result<Vec<u8>, OciError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| OciError::Transport {
        method: Method::GET,
        url: url.to_string(),
        message: error_chain(&e),
    })? {
        if bytes.len() + chunk.len() > limit {
            return Err(OciError::Invalid {
                url: url.to_string(),
                message: format!("the answer is larger than {limit} bytes"),
            });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// The registry's error answer, shortened: it is for people.
async fn error_text(response: Response) -> String {
    let text = response.text().await.unwrap_or_default();
    let text = text.trim();
    if text.chars().count() > 300 {
        format!("{}…", text.chars().take(300).collect::<String>())
    } else {
        text.to_string()
    }
}

fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_challenges() {
        let (scheme, params) = parse_challenge(
            r#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull""#,
        );
        assert_eq!(scheme, "Bearer");
        assert_eq!(params["realm"], "https://auth.example.com/token");
        assert_eq!(params["service"], "registry.example.com");
        assert_eq!(params["scope"], "repository:a/b:pull");
        let (scheme, params) = parse_challenge(r#"Basic realm="Registry Realm""#);
        assert_eq!(scheme, "Basic");
        assert_eq!(params["realm"], "Registry Realm");
    }

    #[test]
    fn follows_next_links() {
        assert_eq!(
            next_link(r#"</v2/a/tags/list?n=2&last=b>; rel="next""#).as_deref(),
            Some("/v2/a/tags/list?n=2&last=b")
        );
        assert_eq!(next_link("</x>; rel=\"prev\""), None);
    }

    #[test]
    fn credentials_are_not_printed() {
        let credentials = Credentials { username: "flux".into(), password: "s3cret".into() };
        assert!(!format!("{credentials:?}").contains("s3cret"));
    }
}
