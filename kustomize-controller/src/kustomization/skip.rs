//! Skipping the apply of a new source revision that changes nothing for this Kustomization: a
//! monorepo commit under another Kustomization's path builds to the same set as before, and Flux
//! would still dry-run, apply and health-check all of it. The skip only records the revision.
//!
//! It is safe only while the cluster can be assumed to still hold the last apply: that apply
//! succeeded, is younger than `spec.interval` (the drift check comes at the same time as it would
//! have), was made at the current generation, and nobody asked for a reconcile.

use std::time::{Duration, Instant};

/// The last full apply of a Kustomization that succeeded, remembered in memory only (after a
/// restart the first new revision applies in full).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastApply {
    /// The digest of the applied set (`status.history`'s).
    pub digest: String,
    pub generation: Option<i64>,
    /// When it finished.
    pub at: Instant,
    /// Whether it checked health, so that the skip keeps the Healthy condition as it was.
    pub checked_health: bool,
}

/// What the reconcile knows when the set is built.
#[derive(Debug)]
pub struct Inputs<'a> {
    /// `--skip-unchanged-revisions`.
    pub enabled: bool,
    /// The artifact's revision differs from `status.lastAppliedRevision`.
    pub new_revision: bool,
    /// A `reconcile.fluxcd.io/requestedAt` value not handled yet.
    pub requested: bool,
    pub generation: Option<i64>,
    pub observed_generation: Option<i64>,
    /// Ready was True before this reconcile.
    pub ready: bool,
    pub last: Option<&'a LastApply>,
    /// The digest of the set just built.
    pub digest: &'a str,
    pub interval: Duration,
    pub now: Instant,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Apply in full; the reason is logged.
    Apply(&'static str),
    /// Record the revision only; the drift check is due in `drift_check_in`.
    Skip { drift_check_in: Duration },
}

pub fn decide(inputs: &Inputs) -> Verdict {
    if !inputs.enabled {
        return Verdict::Apply("--skip-unchanged-revisions is off");
    }
    if !inputs.new_revision {
        return Verdict::Apply("the revision was applied before: this is the drift check");
    }
    if inputs.requested {
        return Verdict::Apply("a reconcile was requested");
    }
    let Some(last) = inputs.last else { return Verdict::Apply("no successful apply since the controller started") };
    if inputs.generation != last.generation || inputs.generation != inputs.observed_generation {
        return Verdict::Apply("the spec changed since the last apply");
    }
    if !inputs.ready {
        return Verdict::Apply("the Kustomization is not Ready");
    }
    if last.digest != inputs.digest {
        return Verdict::Apply("the new revision builds to a different set");
    }
    let age = inputs.now.saturating_duration_since(last.at);
    match inputs.interval.checked_sub(age).filter(|left| !left.is_zero()) {
        Some(drift_check_in) => Verdict::Skip { drift_check_in },
        None => Verdict::Apply("the last apply is older than the interval: the drift check is due"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn last(now: Instant) -> LastApply {
        LastApply { digest: "sha256:a".into(), generation: Some(2), at: now - MINUTE, checked_health: false }
    }

    fn inputs<'a>(last: &'a LastApply, now: Instant) -> Inputs<'a> {
        Inputs {
            enabled: true,
            new_revision: true,
            requested: false,
            generation: Some(2),
            observed_generation: Some(2),
            ready: true,
            last: Some(last),
            digest: "sha256:a",
            interval: 10 * MINUTE,
            now,
        }
    }

    #[test]
    fn an_unchanged_set_skips_until_the_drift_check_is_due() {
        let now = Instant::now();
        let last = last(now);
        assert_eq!(decide(&inputs(&last, now)), Verdict::Skip { drift_check_in: 9 * MINUTE });
        let due = Inputs { now: now + 9 * MINUTE, ..inputs(&last, now) };
        assert!(matches!(decide(&due), Verdict::Apply(reason) if reason.contains("drift check is due")));
    }

    #[test]
    fn anything_that_may_have_changed_the_cluster_or_the_set_applies() {
        let now = Instant::now();
        let last = last(now);
        let base = || inputs(&last, now);
        let cases = [
            (Inputs { enabled: false, ..base() }, "off"),
            (Inputs { new_revision: false, ..base() }, "drift check"),
            (Inputs { requested: true, ..base() }, "requested"),
            (Inputs { last: None, ..base() }, "no successful apply"),
            (Inputs { generation: Some(3), observed_generation: Some(3), ..base() }, "spec changed"),
            (Inputs { observed_generation: Some(1), ..base() }, "spec changed"),
            (Inputs { ready: false, ..base() }, "not Ready"),
            (Inputs { digest: "sha256:b", ..base() }, "different set"),
        ];
        for (case, expected) in cases {
            match decide(&case) {
                Verdict::Apply(reason) => assert!(reason.contains(expected), "{reason} for {case:?}"),
                skip => panic!("{skip:?} for {case:?}"),
            }
        }
    }
}
