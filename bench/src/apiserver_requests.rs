//! What the API server was asked, from its own request counter (`apiserver_request_total` on
//! `/metrics`). The benchmark reads it to count exactly how many Kustomizations sent their
//! objects during a window: kustomize-controller's apply engine server-side dry-runs every
//! object it applies, one request each, and nothing else dry-runs the benchmark's Ingresses.

use anyhow::Context;

/// One series of `apiserver_request_total`: which requests to count.
#[derive(Debug, Clone, Copy)]
pub struct Requests<'a> {
    /// As the API server reports it: a server-side apply is `APPLY`, other patches `PATCH`.
    pub verb: &'a str,
    pub resource: &'a str,
    /// Server-side dry runs (`dry_run="All"`) or real requests (`dry_run=""`).
    pub dry_run: bool,
}

/// The number of such requests the API server has answered so far (any response code).
pub async fn count(client: &kube::Client, requests: Requests<'_>) -> anyhow::Result<u64> {
    let request = http::Request::get("/metrics").body(Vec::new()).context("building the /metrics request")?;
    let text = client.request_text(request).await.context("reading the API server's /metrics")?;
    sum(&text, requests).context(
        "the API server's /metrics has no apiserver_request_total with a dry_run label \
         (Kubernetes 1.16 or later has it)",
    )
}

/// Sums the matching series of the Prometheus text; None when the counter is absent.
fn sum(text: &str, requests: Requests<'_>) -> Option<u64> {
    let want_dry_run = if requests.dry_run { "All" } else { "" };
    let mut found = false;
    let mut total = 0u64;
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("apiserver_request_total{") else { continue };
        let Some((labels, value)) = rest.rsplit_once('}') else { continue };
        let labels = parse_labels(labels);
        found |= labels.iter().any(|(k, _)| *k == "dry_run");
        let label = |key: &str| labels.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
        if label("verb") == Some(requests.verb)
            && label("resource") == Some(requests.resource)
            && label("subresource").unwrap_or("").is_empty()
            && label("dry_run") == Some(want_dry_run)
        {
            // Counters are printed as floats (`4`, `4e+06` for large ones).
            total += value.trim().parse::<f64>().map(|v| v as u64).unwrap_or(0);
        }
    }
    found.then_some(total)
}

/// `a="x",b="y"` into pairs; values here never hold quotes or commas.
fn parse_labels(labels: &str) -> Vec<(&str, &str)> {
    labels
        .split("\",")
        .filter_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            Some((key.trim().trim_start_matches(','), value.trim_matches('"')))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"# HELP apiserver_request_total [STABLE] Counter of apiserver requests
# TYPE apiserver_request_total counter
apiserver_request_total{code="200",component="apiserver",dry_run="All",group="networking.k8s.io",resource="ingresses",scope="resource",subresource="",verb="APPLY",version="v1"} 7
apiserver_request_total{code="201",component="apiserver",dry_run="All",group="networking.k8s.io",resource="ingresses",scope="resource",subresource="",verb="APPLY",version="v1"} 3
apiserver_request_total{code="200",component="apiserver",dry_run="",group="networking.k8s.io",resource="ingresses",scope="resource",subresource="",verb="APPLY",version="v1"} 2
apiserver_request_total{code="200",component="apiserver",dry_run="",group="networking.k8s.io",resource="ingresses",scope="resource",subresource="status",verb="APPLY",version="v1"} 5
apiserver_request_total{code="200",component="apiserver",dry_run="All",group="",resource="services",scope="resource",subresource="",verb="APPLY",version="v1"} 1e+06
"#;

    #[test]
    fn sums_the_matching_series_across_codes() {
        let dry = Requests { verb: "APPLY", resource: "ingresses", dry_run: true };
        assert_eq!(sum(SAMPLE, dry), Some(10));
        assert_eq!(sum(SAMPLE, Requests { dry_run: false, ..dry }), Some(2));
        assert_eq!(sum(SAMPLE, Requests { resource: "services", ..dry }), Some(1_000_000));
        assert_eq!(sum(SAMPLE, Requests { verb: "PATCH", ..dry }), Some(0));
        assert_eq!(sum("apiserver_request_total{verb=\"APPLY\"} 1\n", dry), None);
    }
}
