//! weir-bench: Flux's time-to-production benchmark shape on the local control plane, with a
//! floor measured in the same run. `hack/bench.sh` builds the release binaries and runs it.

mod floor;
mod git_scenario;
mod proc_stats;
mod report;
mod workload;

// The Git smart-HTTP server of the source-controller's tests.
#[path = "../../source-controller/tests/support/mod.rs"]
mod support;

use std::time::Duration;

use clap::Parser;

#[derive(Parser, Debug)]
#[command(about = "Weir's time-to-production benchmark against a same-run floor")]
struct Args {
    /// Numbers of apps to run, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "100,500,1000")]
    sizes: Vec<usize>,
    /// Reconciles (and floor applies) at once, as Flux's benchmark configures kustomize-controller.
    #[arg(long, default_value_t = 20)]
    concurrency: usize,
    /// How long to watch the controllers sit idle after the storm.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    idle: Duration,
    /// Write the results into this Markdown file (between the bench markers).
    #[arg(long)]
    out: Option<std::path::PathBuf>,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    weir_api::duration::parse_duration(s).map_err(|e| e.to_string())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let env = weir_testenv::TestEnv::shared().await;
    let largest = args.sizes.iter().copied().max().unwrap_or_default();
    let mut runs = Vec::new();
    for &n in &args.sizes {
        runs.push(git_scenario::run(env, n, args.concurrency, n == largest, args.idle).await?);
    }
    let markdown = report::markdown(&runs, args.concurrency);
    println!("{markdown}");
    if let Some(path) = &args.out {
        report::write_into(path, &markdown)?;
        eprintln!("[bench] results written to {}", path.display());
    }
    Ok(())
}
