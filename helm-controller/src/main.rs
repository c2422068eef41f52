//! Weir's helm-controller: HelmReleases are rendered, installed, upgraded, tested and rolled back.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser};
use weir_runtime::CommonFlags;
use weir_runtime::flags::parse_duration;

const NAME: &str = "helm-controller";
const DEFAULTS: &[(&str, &str)] = &[("concurrent", "4")];

#[derive(Parser, Debug)]
#[command(name = NAME, version, about = "Weir's helm-controller (Flux helm.toolkit.fluxcd.io)")]
struct Flags {
    #[command(flatten)]
    common: CommonFlags,
    #[command(flatten)]
    helm: HelmFlags,
}

#[derive(Args, Debug)]
struct HelmFlags {
    /// The interval at which failing dependencies are reevaluated.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    requeue_dependency: Duration,
}

fn main() -> ExitCode {
    weir_runtime::run_main(NAME, controller_main())
}

async fn controller_main() -> ExitCode {
    let flags: Flags = weir_runtime::parse_with_defaults(DEFAULTS);
    weir_runtime::run_controller(NAME, flags.common, |context| async move {
        tracing::debug!(flags = ?flags.helm, "helm-controller flags");
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
        assert_eq!(flags.common.concurrent, 4);
        assert_eq!(flags.helm.requeue_dependency, Duration::from_secs(5));
    }
}
