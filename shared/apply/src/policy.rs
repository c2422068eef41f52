//! The per-object annotations that change how an object is applied or pruned.

use weir_api::annotations::{KUSTOMIZE_FORCE, KUSTOMIZE_PRUNE, KUSTOMIZE_RECONCILE, KUSTOMIZE_SSA, values};

use crate::object::Object;

/// `kustomize.toolkit.fluxcd.io/ssa`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SsaPolicy {
    /// Apply and take over fields edited by hand (kubectl), so that edits are reverted.
    #[default]
    Override,
    /// Apply, but leave fields owned by other managers alone.
    Merge,
    /// Create when absent; never update.
    IfNotPresent,
    /// Do not apply at all.
    Ignore,
}

impl SsaPolicy {
    /// Parses the annotation value; unknown values mean the default, as in Flux.
    pub fn parse(value: Option<&str>) -> SsaPolicy {
        let Some(v) = value else { return SsaPolicy::Override };
        if v.eq_ignore_ascii_case(values::MERGE) {
            SsaPolicy::Merge
        } else if v.eq_ignore_ascii_case(values::IF_NOT_PRESENT) {
            SsaPolicy::IfNotPresent
        } else if v.eq_ignore_ascii_case(values::IGNORE) {
            SsaPolicy::Ignore
        } else {
            SsaPolicy::Override
        }
    }
}

/// Everything the annotations (and, for prune and reconcile, labels) of one object ask for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    pub ssa: SsaPolicy,
    /// `force: Enabled`: recreate on an immutable-field error.
    pub force: bool,
    /// `prune: disabled`: never delete it.
    pub prune_disabled: bool,
    /// `reconcile: disabled`: do not apply it.
    pub reconcile_disabled: bool,
}

impl Policy {
    pub fn of(object: &Object) -> Policy {
        let disabled = |key: &str| {
            [object.annotation(key), object.label(key)]
                .into_iter()
                .flatten()
                .any(|v| v.eq_ignore_ascii_case(values::DISABLED))
        };
        Policy {
            ssa: SsaPolicy::parse(object.annotation(KUSTOMIZE_SSA)),
            force: object.annotation(KUSTOMIZE_FORCE).is_some_and(|v| v.eq_ignore_ascii_case(values::ENABLED)),
            prune_disabled: disabled(KUSTOMIZE_PRUNE),
            reconcile_disabled: disabled(KUSTOMIZE_RECONCILE),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(annotations: serde_json::Value, labels: serde_json::Value) -> Object {
        Object::new(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "annotations": annotations, "labels": labels}}))
        .unwrap()
    }

    #[test]
    fn parses_annotations() {
        assert_eq!(Policy::of(&obj(json!({}), json!({}))), Policy::default());
        let p = Policy::of(&obj(
            json!({"kustomize.toolkit.fluxcd.io/ssa": "IfNotPresent", "kustomize.toolkit.fluxcd.io/force": "Enabled",
                   "kustomize.toolkit.fluxcd.io/prune": "disabled"}),
            json!({"kustomize.toolkit.fluxcd.io/reconcile": "Disabled"}),
        ));
        assert_eq!(
            p,
            Policy { ssa: SsaPolicy::IfNotPresent, force: true, prune_disabled: true, reconcile_disabled: true }
        );
        assert_eq!(SsaPolicy::parse(Some("Merge")), SsaPolicy::Merge);
        assert_eq!(SsaPolicy::parse(Some("merge")), SsaPolicy::Merge);
        assert_eq!(SsaPolicy::parse(Some("Ignore")), SsaPolicy::Ignore);
        assert_eq!(SsaPolicy::parse(Some("bogus")), SsaPolicy::Override);
        let p = Policy::of(&obj(json!({"kustomize.toolkit.fluxcd.io/prune": "Disabled"}), json!({})));
        assert!(p.prune_disabled && !p.reconcile_disabled && !p.force);
    }
}
