//! Weir's kustomize-controller: Kustomizations are fetched, built and applied to the cluster.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser};
use weir_runtime::CommonFlags;
use weir_runtime::flags::parse_duration;

const NAME: &str = "kustomize-controller";
const DEFAULTS: &[(&str, &str)] = &[("concurrent", "4")];

#[derive(Parser, Debug)]
#[command(name = NAME, version, about = "Weir's kustomize-controller (Flux kustomize.toolkit.fluxcd.io)")]
struct Flags {
    #[command(flatten)]
    common: CommonFlags,
    #[command(flatten)]
    kustomize: KustomizeFlags,
}

#[derive(Args, Debug)]
struct KustomizeFlags {
    /// The interval at which failing dependencies are reevaluated.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    requeue_dependency: Duration,
    /// Refuse references to sources in other namespaces.
    #[arg(long)]
    no_cross_namespace_refs: bool,
    /// The service account impersonated when a Kustomization sets no serviceAccountName.
    #[arg(long)]
    default_service_account: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let flags: Flags = weir_runtime::parse_with_defaults(DEFAULTS);
    let kubeconfig = flags.common.kubeconfig.clone();
    weir_runtime::run_controller(NAME, flags.common, |context| async move {
        tracing::debug!(flags = ?flags.kustomize, "kustomize-controller flags");
        let options = kustomize_controller::kustomization::Options {
            no_cross_namespace_refs: flags.kustomize.no_cross_namespace_refs,
            requeue_dependency: flags.kustomize.requeue_dependency,
            default_service_account: flags.kustomize.default_service_account.filter(|s| !s.is_empty()),
            kubeconfig,
        };
        kustomize_controller::kustomization::run(context, options).await
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
        assert_eq!(flags.kustomize.requeue_dependency, Duration::from_secs(30));
        assert!(!flags.kustomize.no_cross_namespace_refs);
        assert_eq!(flags.kustomize.default_service_account, None);
    }
}
