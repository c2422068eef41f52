//! The results as Markdown, with the machine they ran on and Flux's published figures beside.

use std::path::Path;

use anyhow::Context;

use crate::git_scenario::GitRun;
use crate::proc_stats::mib;

const BEGIN: &str = "<!-- weir-bench results: begin -->";
const END: &str = "<!-- weir-bench results: end -->";

/// Flux v2.9.0's Kustomization MTTP and kustomize-controller memory (flux-benchmark RESULTS.md,
/// 16-core runner, 3-node kind cluster, OCIRepository sources).
fn flux_figure(n: usize) -> &'static str {
    match n {
        100 => "26s / 134Mi",
        500 => "2m0s / 183Mi",
        1000 => "4m13s / 223Mi",
        _ => "n/a",
    }
}

pub fn markdown(runs: &[GitRun], concurrency: usize) -> String {
    let mut out = String::new();
    out.push_str(&format!("{BEGIN}\n"));
    out.push_str(&format!(
        "Machine: {}; concurrency {concurrency}; the API server, etcd and the controllers share it.\n\n",
        machine()
    ));
    out.push_str("| N apps | Weir (Git) | floor | Weir / floor | source-controller peak | kustomize-controller peak | Flux v2.9 (OCI, kustomize-controller) |\n");
    out.push_str("|---|---|---|---|---|---|---|\n");
    for run in runs {
        let ratio = run.weir.as_secs_f64() / run.floor.as_secs_f64().max(0.001);
        out.push_str(&format!(
            "| {} | {:.1}s | {:.1}s | {ratio:.2} | {} | {} | {} |\n",
            run.n,
            run.weir.as_secs_f64(),
            run.floor.as_secs_f64(),
            mib(run.peak_rss[0]),
            mib(run.peak_rss[1]),
            flux_figure(run.n)
        ));
    }
    for run in runs {
        if let Some(storm) = &run.storm {
            out.push_str(&format!(
                "\nMonorepo storm (N = {}, one app changed, reconcile requested on the GitRepository):\n\n\
                 - change in the cluster after {:.1}s; all {} Kustomizations reconciled the new revision after {:.1}s\n\
                 - CPU spent: source-controller {:.1}s, kustomize-controller {:.1}s\n\
                 - idle afterwards: source-controller {} RSS, {:.2}s CPU; kustomize-controller {} RSS, {:.2}s CPU\n",
                run.n,
                storm.change_applied.as_secs_f64(),
                storm.reconciled,
                storm.all_reconciled.as_secs_f64(),
                storm.cpu[0].as_secs_f64(),
                storm.cpu[1].as_secs_f64(),
                mib(storm.idle_rss[0]),
                storm.idle_cpu[0].as_secs_f64(),
                mib(storm.idle_rss[1]),
                storm.idle_cpu[1].as_secs_f64(),
            ));
        }
    }
    out.push_str(&format!("{END}\n"));
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
