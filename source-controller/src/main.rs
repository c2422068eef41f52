//! Weir's source-controller: GitRepository, OCIRepository, HelmRepository, HelmChart and Bucket
//! become artifacts served over HTTP.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser};
use weir_runtime::flags::parse_duration;
use weir_runtime::{CommonFlags, ListenAddr};

const NAME: &str = "source-controller";
const DEFAULTS: &[(&str, &str)] = &[("concurrent", "2")];

#[derive(Parser, Debug)]
#[command(name = NAME, version, about = "Weir's source-controller (Flux source.toolkit.fluxcd.io)")]
struct Flags {
    #[command(flatten)]
    common: CommonFlags,
    #[command(flatten)]
    source: SourceFlags,
}

#[derive(Args, Debug)]
struct SourceFlags {
    /// The local storage path.
    #[arg(long, env = "STORAGE_PATH", default_value = "/data")]
    storage_path: PathBuf,
    /// The address the static file server binds to.
    #[arg(long, env = "STORAGE_ADDR", default_value = ":9090")]
    storage_addr: ListenAddr,
    /// The advertised address of the static file server.
    #[arg(long, env = "STORAGE_ADV_ADDR", default_value = "")]
    storage_adv_addr: String,
    /// How long a stale artifact is kept before garbage collection.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    artifact_retention_ttl: Duration,
    /// How many artifacts of an object are kept.
    #[arg(long, default_value = "2")]
    artifact_retention_records: u32,
}

#[tokio::main]
async fn main() -> ExitCode {
    let flags: Flags = weir_runtime::parse_with_defaults(DEFAULTS);
    weir_runtime::run_controller(NAME, flags.common, |context| async move {
        tracing::debug!(flags = ?flags.source, "source-controller flags");
        weir_runtime::no_reconcilers(context).await
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_runtime::flags::try_parse_from_with_defaults;

    #[test]
    fn flux_defaults() {
        let flags: Flags = try_parse_from_with_defaults([NAME], DEFAULTS).unwrap();
        assert_eq!(flags.common.concurrent, 2);
        assert_eq!(flags.source.storage_addr, ":9090".parse().unwrap());
        assert_eq!(flags.source.artifact_retention_ttl, Duration::from_secs(60));
        assert_eq!(flags.source.artifact_retention_records, 2);
    }
}
