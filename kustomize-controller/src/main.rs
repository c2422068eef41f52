//! Weir's kustomize-controller: Kustomizations are fetched, built and applied to the cluster.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

use std::process::ExitCode;
use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::{ArgAction, Args, Parser};
use kustomize_controller::features::{self, FeatureGates, GateSettings};
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
    /// The service account whose token reaches a remote cluster of a `spec.kubeConfig.configMapRef`
    /// whose ConfigMap names none (needs the ObjectLevelWorkloadIdentity feature gate).
    #[arg(long)]
    default_kubeconfig_service_account: Option<String>,
    /// Skip apply, prune and health checks when a new source revision builds to the same objects
    /// as this Kustomization's last successful apply, made less than `spec.interval` ago at the
    /// same generation (a monorepo commit under another path). Only the revision is recorded;
    /// drift is still corrected every interval, and a requested reconcile never skips.
    #[arg(long, default_value = "true", default_missing_value = "true", num_args = 0..=1,
          require_equals = true, action = ArgAction::Set, value_parser = BoolishValueParser::new())]
    skip_unchanged_revisions: bool,
    /// A Secret in the controller's namespace whose `.agekey` entries decrypt the Kustomizations
    /// that set `spec.decryption` without a `secretRef`.
    #[arg(long)]
    sops_age_secret: Option<String>,
    /// Flux's feature gates, `Name=true|false` separated by commas (StrictPostBuildSubstitutions
    /// is on by default; ObjectLevelWorkloadIdentity off).
    #[arg(long, value_name = "GATES", action = ArgAction::Append, value_parser = features::parse_settings)]
    feature_gates: Vec<GateSettings>,
}

fn main() -> ExitCode {
    weir_runtime::run_main(NAME, controller_main())
}

async fn controller_main() -> ExitCode {
    let flags: Flags = weir_runtime::parse_with_defaults(DEFAULTS);
    let kubeconfig = flags.common.kubeconfig.clone();
    weir_runtime::run_controller(NAME, flags.common, |context| async move {
        tracing::debug!(flags = ?flags.kustomize, "kustomize-controller flags");
        let options = kustomize_controller::kustomization::Options {
            no_cross_namespace_refs: flags.kustomize.no_cross_namespace_refs,
            requeue_dependency: flags.kustomize.requeue_dependency,
            default_service_account: flags.kustomize.default_service_account.filter(|s| !s.is_empty()),
            default_kubeconfig_service_account: flags
                .kustomize
                .default_kubeconfig_service_account
                .filter(|s| !s.is_empty()),
            skip_unchanged_revisions: flags.kustomize.skip_unchanged_revisions,
            sops_age_secret: flags.kustomize.sops_age_secret.filter(|s| !s.is_empty()),
            feature_gates: FeatureGates::from_settings(&flags.kustomize.feature_gates),
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
        assert!(flags.kustomize.skip_unchanged_revisions);
        assert_eq!(FeatureGates::from_settings(&flags.kustomize.feature_gates), FeatureGates::default());
    }

    #[test]
    fn weir_flags() {
        let flags: Flags = try_parse_from_with_defaults(
            [
                NAME,
                "--skip-unchanged-revisions=false",
                "--feature-gates=StrictPostBuildSubstitutions=false",
                "--feature-gates=ObjectLevelWorkloadIdentity=true",
                "--default-kubeconfig-service-account=remote",
            ],
            DEFAULTS,
        )
        .unwrap();
        assert!(!flags.kustomize.skip_unchanged_revisions);
        let gates = FeatureGates::from_settings(&flags.kustomize.feature_gates);
        assert!(!gates.enabled(features::STRICT_POST_BUILD_SUBSTITUTIONS));
        assert!(gates.enabled(features::OBJECT_LEVEL_WORKLOAD_IDENTITY));
        assert_eq!(flags.kustomize.default_kubeconfig_service_account.as_deref(), Some("remote"));
        assert!(try_parse_from_with_defaults::<Flags, _, _>([NAME, "--feature-gates=Nope=true"], DEFAULTS).is_err());
    }
}
