//! weir-bench: Flux's time-to-production benchmark shape on the local control plane, with a
//! floor measured in the same run. `hack/bench.sh` builds the release binaries and runs it.

mod apiserver_requests;
mod bulk_create;
mod floor;
mod git_scenario;
mod mttp;
mod oci_scenario;
mod proc_stats;
mod readiness;
mod registry;
mod report;
mod source_baseline;
mod source_repos;
mod source_scenario;
mod timeline;
mod webhook_scenario;
mod workload;

// The Git smart-HTTP server of the tests.
use weir_testenv::git as support;

use std::time::Duration;

use anyhow::bail;
use clap::Parser;

/// Every scenario, in the order they run; `--scenarios` picks some.
const SCENARIOS: [&str; 6] = ["oci", "git", "storm", "idle", "webhook", "source"];

#[derive(Parser, Debug)]
#[command(about = "Weir's time-to-production benchmark against a same-run floor")]
struct Args {
    /// Numbers of apps to run, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "100,500,1000")]
    sizes: Vec<usize>,
    /// Reconciles (and floor applies) at once, as Flux's benchmark configures kustomize-controller.
    #[arg(long, default_value_t = 20)]
    concurrency: usize,
    /// How long to watch the controllers sit idle after the storm (scenario `idle`).
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    idle: Duration,
    /// Scenarios to run, comma-separated: `oci` (Flux's shape: N OCIRepositories, N
    /// Kustomizations), `git` (one monorepo, N Kustomizations), `storm` (one app of the monorepo
    /// changes, at the largest N), `idle` (the controllers after it), `webhook` (commit to cluster
    /// through a Receiver) and `source` (N repositories, N GitRepositories, source-controller alone).
    #[arg(long, value_delimiter = ',', default_value = "oci,git,storm,idle,webhook,source")]
    scenarios: Vec<String>,
    /// Commits the webhook scenario pushes, one after the other.
    #[arg(long, default_value_t = 5)]
    commits: usize,
    /// Write the results into this Markdown file (between the bench markers).
    #[arg(long)]
    out: Option<std::path::PathBuf>,
}

/// Every measurement runs on a control plane of its own, so that no figure pays for the objects
/// (and kube-controller-manager's work on them) an earlier scenario left behind.
async fn fresh() -> anyhow::Result<weir_testenv::TestEnv> {
    weir_testenv::TestEnv::fresh().await
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    weir_api::duration::parse_duration(s).map_err(|e| e.to_string())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(unknown) = args.scenarios.iter().find(|s| !SCENARIOS.contains(&s.as_str())) {
        bail!("unknown scenario {unknown:?}: choose among {}", SCENARIOS.join(","));
    }
    let largest = args.sizes.iter().copied().max().unwrap_or_default();
    let wanted = |name: &str| args.scenarios.iter().any(|s| s == name);
    let mut results = report::Results { concurrency: args.concurrency, ..Default::default() };
    for &n in &args.sizes {
        let after = git_scenario::After {
            storm: n == largest && wanted("storm"),
            idle: (n == largest && wanted("idle")).then_some(args.idle),
        };
        // The storm and the idle watch need the Git shape's rollout first.
        let git = wanted("git") || after.storm || after.idle.is_some();
        if !git && !wanted("oci") {
            continue;
        }
        let floor = floor::measure(&fresh().await?.client(), n, args.concurrency).await?;
        eprintln!(
            "[floor n={n}] applied {:.1}s, every Deployment Available {:.1}s",
            floor.applied.as_secs_f64(),
            floor.settled.as_secs_f64()
        );
        if wanted("oci") {
            results.mttp.push(oci_scenario::run(&fresh().await?, n, args.concurrency, floor.clone()).await?);
        }
        if git {
            let run = git_scenario::run(&fresh().await?, n, args.concurrency, floor, after).await?;
            results.mttp.push(run.mttp);
            results.storm = run.storm.map(|storm| (n, storm)).or(results.storm);
            results.idle = run.idle.or(results.idle);
        }
    }
    if wanted("webhook") {
        results.webhook = Some(webhook_scenario::run(&fresh().await?, args.commits).await?);
    }
    let mut source_runs = Vec::new();
    for &n in args.sizes.iter().filter(|_| wanted("source")) {
        source_runs.push(source_scenario::run(&fresh().await?, n, args.concurrency).await?);
    }
    let markdown = report::markdown(&results, &source_runs);
    println!("{markdown}");
    if let Some(path) = &args.out {
        report::write_into(path, &markdown)?;
        eprintln!("[bench] results written to {}", path.display());
    }
    Ok(())
}
