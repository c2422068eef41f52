//! The results as Markdown, with the machine they ran on and Flux's published figures beside.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;

use crate::git_scenario::{Idle, Storm};
use crate::mttp::{Mttp, Shape};
use crate::proc_stats::mib;
use crate::source_scenario::SourceRun;
use crate::webhook_scenario::{Hops, WebhookRun, median_max};

const BEGIN: &str = "<!-- weir-bench results: begin -->";
const END: &str = "<!-- weir-bench results: end -->";

/// Everything one run measured.
#[derive(Debug, Default)]
pub struct Results {
    pub concurrency: usize,
    pub mttp: Vec<Mttp>,
    /// The storm, at its N.
    pub storm: Option<(usize, Storm)>,
    pub idle: Option<Idle>,
    pub webhook: Option<WebhookRun>,
}

/// Flux v2.9.0's Kustomization MTTP and the controllers' peak memory, source-controller then
/// kustomize-controller (flux-benchmark RESULTS.md, 16-core runner, 3-node kind cluster,
/// OCIRepository sources).
fn flux_figure(n: usize) -> &'static str {
    match n {
        100 => "26s; 49Mi / 134Mi",
        500 => "2m0s; 98Mi / 183Mi",
        1000 => "4m13s; 128Mi / 223Mi",
        _ => "n/a",
    }
}

pub fn markdown(results: &Results, source: &[SourceRun]) -> String {
    let mut out = String::new();
    out.push_str(&format!("{BEGIN}\n"));
    out.push_str(&format!(
        "Machine: {}; concurrency {}; the API server, etcd and the controllers share it.\n\n",
        machine(),
        results.concurrency
    ));
    if !results.mttp.is_empty() {
        out.push_str(&mttp_table(&results.mttp));
    }
    if let Some((n, storm)) = &results.storm {
        out.push_str(&format!(
            "\nMonorepo storm (N = {n}, one app changed, reconcile requested on the GitRepository):\n\n\
             - change in the cluster after {:.1}s; all {} Kustomizations reconciled the new revision after {:.1}s\n\
             - Kustomization applies (objects sent to the API server again): {}; Services written: {} \
             (the API server's count of server-side-apply dry runs of the apps' existing Ingresses; in the rollout \
             of the {n}, Ingresses created: {})\n\
             - CPU spent: source-controller {:.1}s, kustomize-controller {:.1}s\n",
            storm.change_applied.as_secs_f64(),
            storm.reconciled,
            storm.all_reconciled.as_secs_f64(),
            storm.reapplied,
            storm.services_written,
            storm.rollout_applies,
            storm.cpu[0].as_secs_f64(),
            storm.cpu[1].as_secs_f64(),
        ));
    }
    if let Some(idle) = &results.idle {
        out.push_str(&format!(
            "\nIdle for {:.0}s afterwards: source-controller {} RSS, {:.2}s CPU; kustomize-controller {} RSS, {:.2}s CPU\n",
            idle.watched.as_secs_f64(),
            mib(idle.rss[0]),
            idle.cpu[0].as_secs_f64(),
            mib(idle.rss[1]),
            idle.cpu[1].as_secs_f64(),
        ));
    }
    if let Some(webhook) = &results.webhook {
        out.push_str(&webhook_section(webhook));
    }
    out.push_str(&crate::source_scenario::markdown(source));
    out.push_str(&format!("{END}\n"));
    out
}

fn mttp_table(rows: &[Mttp]) -> String {
    let mut out = String::from(
        "| N apps | shape | Weir | floor | Weir / floor | floor, Deployments Available | Weir / that | source-controller peak | kustomize-controller peak | Flux v2.9 (OCI): time; source / kustomize peak |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    let mut rows = rows.to_vec();
    rows.sort_by_key(|r| (r.n, r.shape != Shape::Oci));
    for row in &rows {
        out.push_str(&format!(
            "| {} | {} | {:.1}s | {:.1}s | {:.2} | {:.1}s | {:.2} | {} | {} | {} |\n",
            row.n,
            row.shape.label(),
            row.weir.as_secs_f64(),
            row.floor.applied.as_secs_f64(),
            row.ratio(),
            row.floor.settled.as_secs_f64(),
            row.settled_ratio(),
            mib(row.peak_rss[0]),
            mib(row.peak_rss[1]),
            flux_figure(row.n)
        ));
    }
    out.push_str("\nAPI requests the server answered during each run (everyone's, kube-controller-manager's too; watches left out):\n\n");
    let mut floors_shown = Vec::new();
    for row in &rows {
        if !floors_shown.contains(&row.n) {
            floors_shown.push(row.n);
            out.push_str(&format!("- N={} floor: {}\n", row.n, row.floor.requests.summary(row.n, 8)));
        }
        out.push_str(&format!("- N={} {}: {}\n", row.n, row.shape.label(), row.requests.summary(row.n, 8)));
    }
    out
}

/// Reads one hop of a commit.
type HopOf = fn(&Hops) -> Duration;

fn webhook_section(run: &WebhookRun) -> String {
    let hop = |f: HopOf| median_max(&run.commits.iter().map(f).collect::<Vec<_>>());
    let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1000.0);
    let (applied, applied_max) = hop(|h| h.applied);
    let mut out = format!(
        "\nChange latency, webhook to cluster ({} commits one after the other; a `generic` Receiver, one \
         GitRepository, one Kustomization with `wait`): **median {}, max {}** from sending the webhook to the \
         changed Service in the cluster.\n\n| hop (from sending the webhook) | median | max |\n|---|---|---|\n",
        run.commits.len(),
        ms(applied),
        ms(applied_max)
    );
    let hops: [(&str, HopOf); 5] = [
        ("Receiver answered (GitRepository annotated)", |h| h.answered),
        ("new `requestedAt` seen on the GitRepository", |h| h.requested),
        ("the commit's artifact in the GitRepository's status", |h| h.artifact),
        ("the changed Service in the cluster", |h| h.applied),
        ("Kustomization Ready at the commit", |h| h.ready),
    ];
    for (name, f) in hops {
        let (median, max) = hop(f);
        out.push_str(&format!("| {name} | {} | {} |\n", ms(median), ms(max)));
    }
    out
}

/// Replaces the results between the markers in `path` (appending them when absent).
pub fn write_into(path: &Path, results: &str) -> anyhow::Result<()> {
    let current = std::fs::read_to_string(path).unwrap_or_default();
    let updated = match (current.find(BEGIN), current.find(END)) {
        (Some(begin), Some(end)) if begin < end => {
            format!("{}{}{}", &current[..begin], results, current[end + END.len()..].trim_start_matches('\n'))
        }
        _ => format!("{current}\n{results}"),
    };
    std::fs::write(path, updated).with_context(|| format!("writing {}", path.display()))
}

fn machine() -> String {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let kib: u64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model =
        cpuinfo.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split(':').nth(1)).unwrap_or("").trim();
    format!("{cores} cores ({model}), {:.0} GiB memory", kib as f64 / 1024.0 / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_replace_the_previous_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("B.md");
        std::fs::write(&path, format!("# Bench\n{BEGIN}\nold\n{END}\ntail\n")).unwrap();
        write_into(&path, &format!("{BEGIN}\nnew\n{END}\n")).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, format!("# Bench\n{BEGIN}\nnew\n{END}\ntail\n"));
    }
}
