//! In-code checks of what HelmRelease's schema checks on the server: duration patterns, string
//! bounds and patterns, and the CEL rules (chart xor chartRef, the strategy rules, kubeConfig).

use super::actions::{
    ActionStrategyName, INSTALL_STRATEGY_MESSAGE, InstallStrategy, UPGRADE_STRATEGY_MESSAGE, UpgradeStrategy,
};
use super::values::{TARGET_PATH_PATTERN, VALUES_KEY_PATTERN};
use super::{CHART_SOURCE_MESSAGE, HelmRelease};
use crate::validation::{Validate, ValidationErrors, Validator};

impl Validate for HelmRelease {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut v = Validator::new();
        let s = &self.spec;

        v.duration("spec.interval", Some(&s.interval));
        v.duration("spec.timeout", s.timeout.as_deref());
        v.length("spec.releaseName", s.release_name.as_deref(), 1, 53);
        v.length("spec.serviceAccountName", s.service_account_name.as_deref(), 1, 253);
        v.length("spec.storageNamespace", s.storage_namespace.as_deref(), 1, 63);
        v.length("spec.targetNamespace", s.target_namespace.as_deref(), 1, 63);

        // CEL: (has(self.chart) && !has(self.chartRef)) || (!has(self.chart) && has(self.chartRef))
        v.check(s.chart.is_some() != s.chart_ref.is_some(), "spec", CHART_SOURCE_MESSAGE);
        if let Some(chart) = &s.chart {
            let c = &chart.spec;
            v.length("spec.chart.spec.chart", Some(&c.chart), 1, 2048);
            v.duration("spec.chart.spec.interval", c.interval.as_deref());
            v.length("spec.chart.spec.sourceRef.name", Some(&c.source_ref.name), 1, 253);
            v.length("spec.chart.spec.sourceRef.namespace", c.source_ref.namespace.as_deref(), 1, 63);
        }
        if let Some(r) = &s.chart_ref {
            v.length("spec.chartRef.name", Some(&r.name), 1, 253);
            v.length("spec.chartRef.namespace", r.namespace.as_deref(), 1, 63);
        }

        if let Some(kc) = &s.kube_config {
            kc.validate_into(&mut v, "spec.kubeConfig");
        }

        if let Some(install) = &s.install {
            v.duration("spec.install.timeout", install.timeout.as_deref());
            if let Some(strategy) = &install.strategy {
                install_strategy(&mut v, strategy);
            }
        }
        if let Some(upgrade) = &s.upgrade {
            v.duration("spec.upgrade.timeout", upgrade.timeout.as_deref());
            if let Some(strategy) = &upgrade.strategy {
                upgrade_strategy(&mut v, strategy);
            }
        }
        if let Some(test) = &s.test {
            v.duration("spec.test.timeout", test.timeout.as_deref());
            for (i, f) in test.filters.iter().flatten().enumerate() {
                v.length(&format!("spec.test.filters[{i}].name"), Some(&f.name), 1, 253);
            }
        }
        if let Some(rollback) = &s.rollback {
            v.duration("spec.rollback.timeout", rollback.timeout.as_deref());
        }
        if let Some(uninstall) = &s.uninstall {
            v.duration("spec.uninstall.timeout", uninstall.timeout.as_deref());
        }

        for (i, r) in s.values_from.iter().flatten().enumerate() {
            let at = format!("spec.valuesFrom[{i}]");
            v.length(&format!("{at}.name"), Some(&r.name), 1, 253);
            v.length(&format!("{at}.targetPath"), r.target_path.as_deref(), 0, 250);
            v.pattern(&format!("{at}.targetPath"), r.target_path.as_deref(), TARGET_PATH_PATTERN);
            v.length(&format!("{at}.valuesKey"), r.values_key.as_deref(), 0, 253);
            v.pattern(&format!("{at}.valuesKey"), r.values_key.as_deref(), VALUES_KEY_PATTERN);
        }

        v.finish()
    }
}

fn install_strategy(v: &mut Validator, s: &InstallStrategy) {
    // CEL: !has(self.retryInterval) || self.name != 'RemediateOnFailure'
    let ok = s.retry_interval.is_none() || s.name != ActionStrategyName::RemediateOnFailure;
    v.check(ok, "spec.install.strategy", INSTALL_STRATEGY_MESSAGE);
    v.duration("spec.install.strategy.retryInterval", s.retry_interval.as_deref());
}

fn upgrade_strategy(v: &mut Validator, s: &UpgradeStrategy) {
    // CEL: !has(self.retryInterval) || self.name == 'RetryOnFailure'
    let ok = s.retry_interval.is_none() || s.name == ActionStrategyName::RetryOnFailure;
    v.check(ok, "spec.upgrade.strategy", UPGRADE_STRATEGY_MESSAGE);
    v.duration("spec.upgrade.strategy.retryInterval", s.retry_interval.as_deref());
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use crate::meta::{KUBECONFIG_ONE_OF_MESSAGE, LocalObjectReference, SecretKeyReference};
    use crate::validation::Validate;

    const FIXTURES: &[(&str, &str)] = &[
        ("helmreleases.yaml", include_str!("../../../tests/fixtures/helmreleases.yaml")),
        ("helmreleases-chartref.yaml", include_str!("../../../tests/fixtures/helmreleases-chartref.yaml")),
    ];

    fn parse<T: serde::de::DeserializeOwned>(name: &str, text: &str) -> T {
        serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    fn full() -> HelmRelease {
        parse(FIXTURES[0].0, FIXTURES[0].1)
    }

    fn errors(hr: &HelmRelease) -> Vec<(String, String)> {
        match hr.validate() {
            Ok(()) => Vec::new(),
            Err(e) => e.0.into_iter().map(|e| (e.path, e.message)).collect(),
        }
    }

    fn assert_single_error(hr: &HelmRelease, path: &str, message_part: &str) {
        let errs = errors(hr);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].0, path, "{errs:?}");
        assert!(errs[0].1.contains(message_part), "{errs:?}");
    }

    #[test]
    fn chart_and_chart_ref_are_mutually_exclusive() {
        let mut hr = full();
        hr.spec.chart_ref = Some(CrossNamespaceSourceReference {
            kind: ChartRefKind::OCIRepository,
            name: "podinfo".into(),
            ..Default::default()
        });
        assert_single_error(&hr, "spec", "either chart or chartRef must be set");
        hr.spec.chart = None;
        hr.spec.chart_ref = None;
        assert_single_error(&hr, "spec", "either chart or chartRef must be set");
    }

    #[test]
    fn install_retry_interval_needs_retry_on_failure() {
        let mut hr = full();
        hr.spec.install = Some(Install {
            strategy: Some(InstallStrategy {
                name: ActionStrategyName::RemediateOnFailure,
                retry_interval: Some("1m".into()),
            }),
            ..Default::default()
        });
        assert_single_error(
            &hr,
            "spec.install.strategy",
            ".retryInterval cannot be set when .name is 'RemediateOnFailure'",
        );
    }

    #[test]
    fn upgrade_retry_interval_needs_retry_on_failure() {
        let mut hr = full();
        hr.spec.upgrade = Some(Upgrade {
            strategy: Some(UpgradeStrategy {
                name: ActionStrategyName::RemediateOnFailure,
                retry_interval: Some("1m".into()),
            }),
            ..Default::default()
        });
        assert_single_error(
            &hr,
            "spec.upgrade.strategy",
            ".retryInterval can only be set when .name is 'RetryOnFailure'",
        );
    }

    #[test]
    fn kube_config_needs_exactly_one_reference() {
        let mut hr = full();
        hr.spec.kube_config = Some(KubeConfigReference {
            config_map_ref: Some(LocalObjectReference { name: "cluster".into() }),
            secret_ref: Some(SecretKeyReference { name: "kubeconfig".into(), key: None }),
        });
        assert_single_error(&hr, "spec.kubeConfig", KUBECONFIG_ONE_OF_MESSAGE);
        hr.spec.kube_config = Some(KubeConfigReference::default());
        assert_single_error(&hr, "spec.kubeConfig", KUBECONFIG_ONE_OF_MESSAGE);
    }

    #[test]
    fn bad_durations_are_rejected() {
        let mut hr = full();
        hr.spec.interval = "1d".into();
        assert_single_error(&hr, "spec.interval", "invalid duration \"1d\"");

        let mut hr = full();
        if let Some(test) = hr.spec.test.as_mut() {
            test.timeout = Some("5".into());
        }
        assert_single_error(&hr, "spec.test.timeout", "invalid duration \"5\"");

        let mut hr = full();
        if let Some(s) = hr.spec.upgrade.as_mut().and_then(|u| u.strategy.as_mut()) {
            s.retry_interval = Some("soon".into());
        }
        assert_single_error(&hr, "spec.upgrade.strategy.retryInterval", "invalid duration \"soon\"");
    }

    #[test]
    fn bad_patterns_and_lengths_are_rejected() {
        let mut hr = full();
        if let Some(r) = hr.spec.values_from.as_mut().and_then(|l| l.first_mut()) {
            r.target_path = Some("a b".into());
        }
        assert_single_error(&hr, "spec.valuesFrom[0].targetPath", "does not match the pattern");

        let mut hr = full();
        if let Some(r) = hr.spec.values_from.as_mut().and_then(|l| l.first_mut()) {
            r.values_key = Some("values/prod.yaml".into());
        }
        assert_single_error(&hr, "spec.valuesFrom[0].valuesKey", "does not match the pattern");

        let mut hr = full();
        hr.spec.release_name = Some("r".repeat(54));
        assert_single_error(&hr, "spec.releaseName", "at most 53 characters");

        let mut hr = full();
        hr.spec.target_namespace = Some(String::new());
        assert_single_error(&hr, "spec.targetNamespace", "at least 1 characters");

        let mut hr = full();
        if let Some(chart) = hr.spec.chart.as_mut() {
            chart.spec.source_ref.namespace = Some("n".repeat(64));
        }
        assert_single_error(&hr, "spec.chart.spec.sourceRef.namespace", "at most 63 characters");
    }

    #[test]
    fn unknown_enum_values_are_rejected_by_serde() {
        let text = FIXTURES[0].1.replace("mode: enabled", "mode: sometimes");
        assert!(serde_saphyr::from_str::<HelmRelease>(&text).is_err());
        let text = FIXTURES[0].1.replace("kind: HelmRepository", "kind: OCIRepository");
        assert!(serde_saphyr::from_str::<HelmRelease>(&text).is_err());
    }
}
