//! Helm chart repository indexes over HTTP(S): downloading `index.yaml` with the repository's
//! credentials and TLS, reading it, and choosing a chart version from it.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use crate::reconciler::secrets::Tls;

/// Flux's limit for an index (`helm.MaxIndexSize`).
pub const MAX_INDEX_BYTES: usize = 50 << 20;
/// Flux's limit for a chart (`helm.MaxChartSize`).
pub const MAX_CHART_BYTES: usize = 10 << 20;

/// How to reach a chart repository.
#[derive(Clone, Default)]
pub struct HttpOptions {
    /// Basic auth: username and password.
    pub basic: Option<(String, String)>,
    pub tls: Tls,
    pub timeout: Option<Duration>,
}

/// A client for the repository's HTTP server.
pub fn client(options: &HttpOptions) -> Result<reqwest::Client, String> {
    weir_runtime::client::install_crypto_provider();
    let mut builder =
        reqwest::Client::builder().no_proxy().user_agent(concat!("weir-source-controller/", env!("CARGO_PKG_VERSION")));
    if let Some(timeout) = options.timeout {
        builder = builder.timeout(timeout);
    }
    let identity = options.tls.identity.as_ref().map(|(cert, key)| (cert.as_slice(), key.as_slice()));
    builder = crate::tls::configure(builder, options.tls.ca.as_deref(), identity).map_err(|e| match e {
        crate::tls::TlsMaterialError::Ca(e) => format!("invalid ca.crt: {e}"),
        crate::tls::TlsMaterialError::Identity(e) => format!("invalid tls.crt/tls.key: {e}"),
    })?;
    builder.build().map_err(|e| format!("building the HTTP client: {e}"))
}

/// `GET url` with optional basic auth, at most `limit` bytes.
pub async fn download(
    client: &reqwest::Client,
    url: &str,
    basic: Option<&(String, String)>,
    limit: usize,
) -> Result<Vec<u8>, String> {
    let mut request = client.get(url);
    if let Some((username, password)) = basic {
        request = request.basic_auth(username, Some(password));
    }
    let mut response = request.send().await.map_err(|e| format!("GET {url}: {}", error_chain(&e)))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("failed to fetch {url} : {status}"));
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| format!("GET {url}: {}", error_chain(&e)))? {
        if bytes.len() + chunk.len() > limit {
            return Err(format!("{url} exceeds the maximum size of {limit} bytes"));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
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

/// `<repository URL>/index.yaml`.
pub fn index_url(repository: &str) -> String {
    format!("{}/index.yaml", repository.trim_end_matches('/'))
}

/// One chart version of an index.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct ChartVersion {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub urls: Vec<String>,
    #[serde(default)]
    pub digest: Option<String>,
}

/// The part of an index the controller reads.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    #[serde(default)]
    pub api_version: String,
    #[serde(default)]
    pub entries: BTreeMap<String, Vec<ChartVersion>>,
}

/// Reads an index (YAML or the JSON Flux stores); refuses one without `apiVersion`, as Helm does.
pub fn parse(bytes: &[u8]) -> Result<Index, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "the index is not UTF-8".to_string())?;
    let index: Index = serde_saphyr::from_str(text).map_err(|e| format!("invalid index: {e}"))?;
    if index.api_version.is_empty() {
        return Err("invalid index: no API version specified".to_string());
    }
    Ok(index)
}

/// The index as the JSON document Flux stores for HelmRepositories (keys sorted).
pub fn to_json(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "the index is not UTF-8".to_string())?;
    let value: serde_json::Value = serde_saphyr::from_str(text).map_err(|e| format!("invalid index: {e}"))?;
    serde_json::to_vec_pretty(&value).map_err(|e| format!("encoding the index: {e}"))
}

impl Index {
    /// The highest version of `chart` matching `range` (`*` when empty), as Helm picks it; an
    /// exact version is looked up as it is written.
    pub fn best(&self, chart: &str, range: &str) -> Result<&ChartVersion, String> {
        let versions =
            self.entries.get(chart).filter(|v| !v.is_empty()).ok_or_else(|| format!("no chart name found: {chart}"))?;
        let range = if range.trim().is_empty() { "*" } else { range.trim() };
        if let Some(exact) = versions.iter().find(|v| v.version == range) {
            return Ok(exact);
        }
        let names: Vec<&str> = versions.iter().map(|v| v.version.as_str()).collect();
        let best = crate::git_repository::reference::highest_matching(range, &names)
            .map_err(|_| format!("no '{chart}' chart with version matching '{range}' found"))?;
        versions
            .iter()
            .find(|v| v.version == best)
            .ok_or_else(|| format!("no '{chart}' chart with version matching '{range}' found"))
    }
}

/// The absolute URL of a chart's first `urls` entry, relative ones resolved against the
/// repository URL.
pub fn chart_url(repository: &str, version: &ChartVersion) -> Result<String, String> {
    let first = version
        .urls
        .first()
        .ok_or_else(|| format!("chart '{}' version '{}' has no URL", version.name, version.version))?;
    if first.contains("://") {
        return Ok(first.clone());
    }
    let base = reqwest::Url::parse(&format!("{}/", repository.trim_end_matches('/')))
        .map_err(|e| format!("invalid repository URL '{repository}': {e}"))?;
    base.join(first).map(|u| u.to_string()).map_err(|e| format!("invalid chart URL '{first}': {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const INDEX: &str = r#"
apiVersion: v1
entries:
  podinfo:
    - name: podinfo
      version: 6.1.0
      urls: [podinfo-6.1.0.tgz]
    - name: podinfo
      version: 6.0.3
      urls: ["https://charts.example.com/podinfo-6.0.3.tgz"]
    - name: podinfo
      version: 7.0.0-rc.1
      urls: [podinfo-7.0.0-rc.1.tgz]
generated: "2024-01-01T00:00:00Z"
"#;

    #[test]
    fn picks_versions_like_helm() {
        let index = parse(INDEX.as_bytes()).unwrap();
        assert_eq!(index.best("podinfo", "").unwrap().version, "6.1.0");
        assert_eq!(index.best("podinfo", "6.0.x").unwrap().version, "6.0.3");
        assert_eq!(index.best("podinfo", ">=7.0.0-0").unwrap().version, "7.0.0-rc.1");
        assert_eq!(index.best("podinfo", "6.0.3").unwrap().version, "6.0.3");
        assert!(index.best("podinfo", "8.x").is_err());
        assert_eq!(index.best("nginx", "*").unwrap_err(), "no chart name found: nginx");
    }

    #[test]
    fn chart_urls_resolve_against_the_repository() {
        let index = parse(INDEX.as_bytes()).unwrap();
        let versions = &index.entries["podinfo"];
        assert_eq!(
            chart_url("http://127.0.0.1:8080/charts", &versions[0]).unwrap(),
            "http://127.0.0.1:8080/charts/podinfo-6.1.0.tgz"
        );
        assert_eq!(
            chart_url("http://x/charts/", &versions[1]).unwrap(),
            "https://charts.example.com/podinfo-6.0.3.tgz"
        );
        assert_eq!(index_url("http://x/charts/"), "http://x/charts/index.yaml");
    }

    #[test]
    fn an_index_needs_an_api_version_and_is_stored_as_json() {
        assert!(parse(b"entries: {}\n").is_err());
        let json: serde_json::Value = serde_json::from_slice(&to_json(INDEX.as_bytes()).unwrap()).unwrap();
        assert_eq!(json["entries"]["podinfo"][0]["version"], "6.1.0");
    }
}
