//! Waiting for N Kustomizations to be Ready, with progress and the controllers' logs on failure.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::bail;
use kube::api::{Api, ListParams};
use weir_api::conditions::{self, ConditionStatus, types};
use weir_api::kustomize::Kustomization;
use weir_testenv::controllers::Controllers;

/// Waits until `n` Kustomizations in `api` are Ready (with a last applied revision ending in
/// `revision_suffix` when given); returns how many match.
pub async fn wait_all_ready(
    api: &Api<Kustomization>,
    n: usize,
    revision_suffix: Option<&str>,
    limit: Duration,
    controllers: &Controllers,
) -> anyhow::Result<usize> {
    let deadline = Instant::now() + limit;
    let mut last_report = Instant::now();
    loop {
        let list = api.list(&ListParams::default()).await?;
        let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
        let ready = list
            .items
            .iter()
            .filter(|ks| {
                let Some(status) = ks.status.as_ref() else { return false };
                let revision_ok = revision_suffix
                    .is_none_or(|suffix| status.last_applied_revision.as_deref().is_some_and(|r| r.ends_with(suffix)));
                let condition = status.conditions.as_deref().and_then(|c| conditions::find(c, types::READY));
                if let Some(c) = condition {
                    *reasons.entry(c.reason.clone()).or_default() += 1;
                }
                revision_ok && condition.is_some_and(|c| c.status == ConditionStatus::True)
            })
            .count();
        if ready >= n {
            return Ok(ready);
        }
        if Instant::now() > deadline {
            bail!("only {ready} of {n} Kustomizations became Ready ({reasons:?}):\n{}", tail(&controllers.logs()));
        }
        if last_report.elapsed() > Duration::from_secs(10) {
            eprintln!("  {ready}/{n} ready {reasons:?}");
            last_report = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The last lines of the controllers' logs, for an error message.
pub fn tail(logs: &str) -> String {
    let lines: Vec<&str> = logs.lines().collect();
    lines[lines.len().saturating_sub(60)..].join("\n")
}
