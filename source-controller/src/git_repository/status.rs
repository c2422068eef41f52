//! The GitRepository status as Flux writes it: conditions with Flux's types and reasons.

use weir_api::conditions::{self, ConditionStatus, reasons, types};
use weir_api::meta::Artifact;
use weir_api::source::git_repository::{GitRepositoryInclude, GitRepositoryVerification, GitVerificationMode};
use weir_api::source::{GitRepositorySpec, GitRepositoryStatus};
use weir_runtime::status::{condition, mark_failed, mark_ready, mark_stalled};

use crate::reconciler::SourceStatus;
use crate::reconciler::source::status_fields;

/// `stored artifact for revision '<rev>'`, Flux's Ready message after success.
pub fn stored_message(revision: &str) -> String {
    format!("stored artifact for revision '{revision}'")
}

impl SourceStatus for GitRepositoryStatus {
    status_fields!();

    fn mark_failed(
        &mut self,
        generation: Option<i64>,
        failure_type: &str,
        reason: &str,
        message: &str,
        artifact_in_storage: bool,
    ) {
        failed(self, generation, failure_type, reason, message, artifact_in_storage);
    }
}

/// The spec fields that decide what goes into the artifact, as the status records them: when
/// they change, the stored artifact is outdated even at the same revision.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observed {
    pub ignore: Option<String>,
    pub recurse_submodules: Option<bool>,
    pub sparse_checkout: Option<Vec<String>>,
    pub include: Option<Vec<GitRepositoryInclude>>,
}

impl Observed {
    pub fn of(spec: &GitRepositorySpec) -> Observed {
        Observed {
            ignore: spec.ignore.clone(),
            // Flux records `false` and unset alike as false.
            recurse_submodules: spec.recurse_submodules.filter(|r| *r),
            sparse_checkout: spec.sparse_checkout.clone().filter(|s| !s.is_empty()),
            include: spec.include.clone().filter(|i| !i.is_empty()),
        }
    }

    /// Whether the artifact described by `status` was built with these rules.
    pub fn matches(&self, status: &GitRepositoryStatus) -> bool {
        self.ignore == status.observed_ignore
            && self.recurse_submodules == status.observed_recurse_submodules.filter(|r| *r)
            && self.sparse_checkout == status.observed_sparse_checkout.clone().filter(|s| !s.is_empty())
            && self.include == status.observed_include.clone().filter(|i| !i.is_empty())
    }

    fn record(self, status: &mut GitRepositoryStatus) {
        status.observed_ignore = self.ignore;
        status.observed_recurse_submodules = self.recurse_submodules;
        status.observed_sparse_checkout = self.sparse_checkout;
        status.observed_include = self.include;
    }
}

/// The spec's content rules changed since the artifact was built: a new one is on its way.
pub fn outdated(status: &mut GitRepositoryStatus, generation: Option<i64>) {
    let message =
        "the content rules changed (ignore, include, sparseCheckout or recurseSubmodules): building a new artifact";
    let outdated =
        condition(types::ARTIFACT_OUTDATED, ConditionStatus::True, reasons::NEW_REVISION, message, generation);
    conditions::set(status.conditions.get_or_insert_with(Vec::new), outdated);
}

/// The artifact for `revision` is in storage and published.
pub fn succeeded(
    status: &mut GitRepositoryStatus,
    generation: Option<i64>,
    artifact: Option<Artifact>,
    observed: Observed,
    revision: &str,
) {
    if let Some(artifact) = artifact {
        status.artifact = Some(artifact);
    }
    observed.record(status);
    status.observed_generation = generation;
    let message = stored_message(revision);
    let list = status.conditions.get_or_insert_with(Vec::new);
    let cleared =
        [types::FETCH_FAILED, types::STORAGE_OPERATION_FAILED, types::INCLUDE_UNAVAILABLE, types::ARTIFACT_OUTDATED];
    for type_ in cleared {
        conditions::remove(list, type_);
    }
    mark_ready(list, generation, reasons::SUCCEEDED, &message);
    let in_storage =
        condition(types::ARTIFACT_IN_STORAGE, ConditionStatus::True, reasons::SUCCEEDED, &message, generation);
    conditions::set(list, in_storage);
}

/// A failure: `failure_type` (FetchFailed, StorageOperationFailed) is True with the reason, Ready
/// False, Reconciling says a retry follows. The last artifact stays.
pub fn failed(
    status: &mut GitRepositoryStatus,
    generation: Option<i64>,
    failure_type: &str,
    reason: &str,
    message: &str,
    artifact_in_storage: bool,
) {
    let list = status.conditions.get_or_insert_with(Vec::new);
    for type_ in [types::FETCH_FAILED, types::STORAGE_OPERATION_FAILED, types::INCLUDE_UNAVAILABLE, types::STALLED] {
        if type_ != failure_type {
            conditions::remove(list, type_);
        }
    }
    conditions::set(list, condition(failure_type, ConditionStatus::True, reason, message, generation));
    mark_failed(list, generation, reason, message);
    if !artifact_in_storage {
        conditions::remove(list, types::ARTIFACT_IN_STORAGE);
    }
}

/// The mode as Flux records it in `status.sourceVerificationMode` (`head` is written `HEAD`).
pub fn mode_name(mode: GitVerificationMode) -> &'static str {
    match mode {
        GitVerificationMode::Tag => "Tag",
        GitVerificationMode::TagAndHead => "TagAndHEAD",
        GitVerificationMode::Head | GitVerificationMode::LegacyHead => "HEAD",
    }
}

/// Whether the next checkout must be verified even at an unchanged revision: `verify` was just
/// added or its mode changed, or the last verification did not pass.
pub fn requires_verification(verify: Option<&GitRepositoryVerification>, status: &GitRepositoryStatus) -> bool {
    let Some(verify) = verify else { return false };
    let list = status.conditions.as_deref().unwrap_or_default();
    status.source_verification_mode.as_deref() != Some(mode_name(verify.mode()))
        || !conditions::is_true(list, types::SOURCE_VERIFIED)
}

/// Records the verification outcome of a successful reconcile: SourceVerified True with
/// `message` when this checkout was verified, nothing new when the revision was unchanged, and
/// no condition at all once `verify` is gone from the spec.
pub fn verification(
    status: &mut GitRepositoryStatus,
    verify: Option<&GitRepositoryVerification>,
    generation: Option<i64>,
    message: Option<&str>,
) {
    let list = status.conditions.get_or_insert_with(Vec::new);
    let Some(verify) = verify else {
        conditions::remove(list, types::SOURCE_VERIFIED);
        status.source_verification_mode = None;
        return;
    };
    if let Some(message) = message {
        conditions::set(
            list,
            condition(types::SOURCE_VERIFIED, ConditionStatus::True, reasons::SUCCEEDED, message, generation),
        );
        status.source_verification_mode = Some(mode_name(verify.mode()).to_string());
    }
}

/// A failed verification: SourceVerified False and Ready False with Flux's reason, Stalled when
/// only a spec change can help; the last artifact stays.
pub fn verification_failed(
    status: &mut GitRepositoryStatus,
    generation: Option<i64>,
    reason: &str,
    message: &str,
    stalling: bool,
    artifact_in_storage: bool,
) {
    let list = status.conditions.get_or_insert_with(Vec::new);
    for type_ in [types::FETCH_FAILED, types::STORAGE_OPERATION_FAILED, types::INCLUDE_UNAVAILABLE, types::STALLED] {
        conditions::remove(list, type_);
    }
    conditions::set(list, condition(types::SOURCE_VERIFIED, ConditionStatus::False, reason, message, generation));
    if stalling {
        status.observed_generation = generation;
        mark_stalled(list, generation, reason, message);
    } else {
        mark_failed(list, generation, reason, message);
    }
    if !artifact_in_storage {
        conditions::remove(list, types::ARTIFACT_IN_STORAGE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_keeps_the_artifact_and_success_clears_the_failure() {
        let mut status = GitRepositoryStatus::default();
        succeeded(&mut status, Some(1), None, Observed::default(), "main@sha1:abc");
        let list = status.conditions.clone().unwrap();
        assert_eq!(
            conditions::find(&list, types::READY).unwrap().message,
            "stored artifact for revision 'main@sha1:abc'"
        );
        failed(&mut status, Some(2), types::FETCH_FAILED, reasons::AUTHENTICATION_FAILED, "denied", true);
        let list = status.conditions.clone().unwrap();
        assert!(!conditions::is_true(&list, types::READY));
        assert!(conditions::is_true(&list, types::FETCH_FAILED));
        assert!(conditions::is_true(&list, types::ARTIFACT_IN_STORAGE));
        assert_eq!(status.observed_generation, Some(1));
        succeeded(&mut status, Some(2), None, Observed::default(), "main@sha1:def");
        let list = status.conditions.unwrap();
        assert!(conditions::find(&list, types::FETCH_FAILED).is_none());
        assert!(conditions::find(&list, types::RECONCILING).is_none());
        assert!(conditions::is_true(&list, types::READY));
    }

    #[test]
    fn the_shared_reconcile_marks_failures_the_git_way() {
        let mut status = GitRepositoryStatus::default();
        failed(&mut status, Some(1), types::INCLUDE_UNAVAILABLE, "NotFound", "no include", false);
        status.mark_failed(Some(1), types::FETCH_FAILED, reasons::GIT_OPERATION_FAILED, "unreachable", false);
        let list = status.conditions.clone().unwrap();
        assert!(conditions::find(&list, types::INCLUDE_UNAVAILABLE).is_none());
        assert!(conditions::is_true(&list, types::FETCH_FAILED));
        assert_eq!(conditions::find(&list, types::READY).unwrap().reason, reasons::GIT_OPERATION_FAILED);
    }

    #[test]
    fn verification_is_required_until_it_passed_in_the_current_mode() {
        use weir_api::meta::LocalObjectReference;
        let verify = GitRepositoryVerification { mode: None, secret_ref: LocalObjectReference { name: "keys".into() } };
        let mut status = GitRepositoryStatus::default();
        assert!(!requires_verification(None, &status));
        assert!(requires_verification(Some(&verify), &status));
        verification(&mut status, Some(&verify), Some(1), Some("verified signature of"));
        assert!(!requires_verification(Some(&verify), &status));
        let tag = GitRepositoryVerification { mode: Some(GitVerificationMode::Tag), ..verify.clone() };
        assert!(requires_verification(Some(&tag), &status));
        verification_failed(&mut status, Some(2), "InvalidCommitSignature", "bad", false, true);
        assert!(requires_verification(Some(&verify), &status));
        let list = status.conditions.clone().unwrap();
        assert_eq!(conditions::find(&list, types::READY).unwrap().reason, "InvalidCommitSignature");
        verification(&mut status, None, Some(3), None);
        assert!(conditions::find(status.conditions.as_deref().unwrap(), types::SOURCE_VERIFIED).is_none());
        assert_eq!(status.source_verification_mode, None);
    }
}
