//! What the API server was asked, from its own request counter (`apiserver_request_total` on
//! `/metrics`). The benchmark reads it to count exactly how many Kustomizations sent their
//! objects during a window: kustomize-controller's apply engine server-side dry-runs every
//! object it applies, one request each, and nothing else dry-runs the benchmark's Ingresses.

use std::collections::BTreeMap;

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
    let text = metrics(client).await?;
    sum(&text, requests).context(
        "the API server's /metrics has no apiserver_request_total with a dry_run label \
         (Kubernetes 1.16 or later has it)",
    )
}

async fn metrics(client: &kube::Client) -> anyhow::Result<String> {
    let request = http::Request::get("/metrics").body(Vec::new()).context("building the /metrics request")?;
    client.request_text(request).await.context("reading the API server's /metrics")
}

/// Every request the API server has answered so far, by verb, resource, subresource and dry
/// run (summed over response codes): before and after a window, it says where the load came from.
#[derive(Debug, Clone, Default)]
pub struct Tally(BTreeMap<String, u64>);

impl Tally {
    pub async fn take(client: &kube::Client) -> anyhow::Result<Tally> {
        Ok(tally(&metrics(client).await?))
    }

    /// What was asked since `before`, largest first, without kinds of request nobody sent.
    pub fn since(&self, before: &Tally) -> RequestMix {
        let mut counts: Vec<(String, u64)> = self
            .0
            .iter()
            .map(|(key, after)| (key.clone(), after.saturating_sub(before.0.get(key).copied().unwrap_or(0))))
            .filter(|(_, delta)| *delta > 0)
            .collect();
        counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        RequestMix(counts)
    }
}

/// Requests sent during a window, by kind, largest first.
#[derive(Debug, Clone, Default)]
pub struct RequestMix(pub Vec<(String, u64)>);

impl RequestMix {
    pub fn total(&self) -> u64 {
        self.0.iter().map(|(_, n)| n).sum()
    }

    /// `total` and the `top` largest kinds, each divided by `per` (the number of apps).
    pub fn summary(&self, per: usize, top: usize) -> String {
        let per = per.max(1) as f64;
        let kinds: Vec<String> =
            self.0.iter().take(top).map(|(key, n)| format!("{key} {:.1}", *n as f64 / per)).collect();
        format!("{:.1} per app ({})", self.total() as f64 / per, kinds.join(", "))
    }
}

/// `apiserver_request_total` of a Prometheus text keyed as `VERB resource[/subresource][ (dry run)]`;
/// watches are left out (they are long-lived, not load per object).
fn tally(text: &str) -> Tally {
    let mut counts = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("apiserver_request_total{") else { continue };
        let Some((labels, value)) = rest.rsplit_once('}') else { continue };
        let labels = parse_labels(labels);
        let label = |key: &str| labels.iter().find(|(k, _)| *k == key).map(|(_, v)| *v).unwrap_or("");
        if label("verb") == "WATCH" || label("resource").is_empty() {
            continue;
        }
        let mut key = format!("{} {}", label("verb"), label("resource"));
        if !label("subresource").is_empty() {
            key = format!("{key}/{}", label("subresource"));
        }
        if label("dry_run") == "All" {
            key.push_str(" (dry run)");
        }
        *counts.entry(key).or_insert(0) += value.trim().parse::<f64>().map(|v| v as u64).unwrap_or(0);
    }
    Tally(counts)
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

    #[test]
    fn a_tally_tells_what_was_asked_between_two_reads() {
        let before = tally(SAMPLE);
        let after = tally(&SAMPLE.replace("} 7\n", "} 9\n").replace("} 5\n", "} 6\n"));
        let mix = after.since(&before);
        assert_eq!(
            mix.0,
            vec![("APPLY ingresses (dry run)".to_string(), 2), ("APPLY ingresses/status".to_string(), 1)]
        );
        assert_eq!(mix.total(), 3);
        assert_eq!(mix.summary(2, 1), "1.5 per app (APPLY ingresses (dry run) 1.0)");
    }
}
