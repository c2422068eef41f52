//! `--feature-gates`: Flux's kustomize-controller gates (kustomize-controller 1.9 defaults), given
//! as `Name=bool` pairs separated by commas, in one flag or several. Every Flux gate is accepted,
//! so that a Flux Deployment's flags work unchanged; the ones without an effect in Weir are those
//! whose behaviour Weir has always (e.g. `CancelHealthCheckOnNewRevision`) or never needs.

use std::collections::BTreeMap;

/// Fail the build on a `${var}` that is neither defined nor given a default (on since Flux 2.9).
pub const STRICT_POST_BUILD_SUBSTITUTIONS: &str = "StrictPostBuildSubstitutions";
/// Let `spec.kubeConfig.configMapRef` name a ServiceAccount of the object's namespace (the
/// ConfigMap's `serviceAccountName`, or `--default-kubeconfig-service-account`).
pub const OBJECT_LEVEL_WORKLOAD_IDENTITY: &str = "ObjectLevelWorkloadIdentity";

/// Every gate Flux's kustomize-controller knows, with its default.
const KNOWN: &[(&str, bool)] = &[
    ("AdditiveCELDependencyCheck", false),
    ("CacheSecretsAndConfigMaps", false),
    ("CancelHealthCheckOnNewRevision", false),
    ("DirectSourceFetch", false),
    ("DisableConfigWatchers", false),
    ("DisableFailFastBehavior", false),
    ("DisableStatusPollerCache", true),
    ("ExternalArtifact", false),
    ("GroupChangeLog", false),
    ("MigrateAPIVersion", false),
    (OBJECT_LEVEL_WORKLOAD_IDENTITY, false),
    (STRICT_POST_BUILD_SUBSTITUTIONS, true),
];

/// The gates given on the command line, over Flux's defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeatureGates {
    gates: BTreeMap<String, bool>,
}

impl Default for FeatureGates {
    fn default() -> Self {
        FeatureGates { gates: KNOWN.iter().map(|(name, on)| (name.to_string(), *on)).collect() }
    }
}

/// One `--feature-gates` value: `A=true,B=false`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GateSettings(Vec<(String, bool)>);

/// Parses one `--feature-gates` value (clap's value parser).
pub fn parse_settings(text: &str) -> Result<GateSettings, String> {
    let mut settings = Vec::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("invalid feature gate {pair:?}: expected Name=true or Name=false"))?;
        let name = name.trim();
        if !KNOWN.iter().any(|(known, _)| *known == name) {
            let names: Vec<&str> = KNOWN.iter().map(|(n, _)| *n).collect();
            return Err(format!("unknown feature gate {name:?}; the known gates are {}", names.join(", ")));
        }
        let on = match value.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "t" => true,
            "false" | "0" | "f" => false,
            other => return Err(format!("invalid value {other:?} for feature gate {name}: expected true or false")),
        };
        settings.push((name.to_string(), on));
    }
    Ok(GateSettings(settings))
}

impl FeatureGates {
    /// Flux's defaults with `settings` applied in order (a later flag wins).
    pub fn from_settings<'a>(settings: impl IntoIterator<Item = &'a GateSettings>) -> Self {
        let mut gates = FeatureGates::default();
        for GateSettings(pairs) in settings {
            for (name, on) in pairs {
                gates.gates.insert(name.clone(), *on);
            }
        }
        gates
    }

    pub fn enabled(&self, name: &str) -> bool {
        self.gates.get(name).copied().unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flux_defaults_then_flags_in_order() {
        let defaults = FeatureGates::default();
        assert!(defaults.enabled(STRICT_POST_BUILD_SUBSTITUTIONS), "on by default since Flux 2.9");
        assert!(!defaults.enabled(OBJECT_LEVEL_WORKLOAD_IDENTITY));
        let first = parse_settings("StrictPostBuildSubstitutions=false, ObjectLevelWorkloadIdentity=true").unwrap();
        let second = parse_settings("StrictPostBuildSubstitutions=true").unwrap();
        let gates = FeatureGates::from_settings([&first]);
        assert!(!gates.enabled(STRICT_POST_BUILD_SUBSTITUTIONS));
        assert!(gates.enabled(OBJECT_LEVEL_WORKLOAD_IDENTITY));
        assert!(FeatureGates::from_settings([&first, &second]).enabled(STRICT_POST_BUILD_SUBSTITUTIONS));
        assert_eq!(parse_settings("").unwrap(), GateSettings(Vec::new()));
    }

    #[test]
    fn unknown_gates_and_bad_values_are_refused() {
        assert!(parse_settings("Nope=true").unwrap_err().contains("unknown feature gate \"Nope\""));
        assert!(parse_settings("GroupChangeLog").unwrap_err().contains("expected Name=true"));
        assert!(parse_settings("GroupChangeLog=maybe").unwrap_err().contains("invalid value"));
    }
}
