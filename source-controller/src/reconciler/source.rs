//! What the shared reconcile reads and writes of every source kind: `spec.suspend` and the
//! status fields Flux gives all sources.

use std::fmt::Debug;

use kube::Resource;
use serde::Serialize;
use serde::de::DeserializeOwned;
use weir_api::conditions::Condition;
use weir_api::meta::Artifact;
use weir_api::source::{
    GitRepository, GitRepositoryStatus, HelmChart, HelmChartStatus, HelmRepository, HelmRepositoryStatus,
    OCIRepository, OCIRepositoryStatus,
};

use super::conditions;

/// A source kind's object, as the reconcile prologue reads it.
pub trait SourceObject:
    Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
    + Clone
    + Debug
    + DeserializeOwned
    + Serialize
    + Send
    + Sync
    + 'static
{
    type Status: SourceStatus;

    fn status(&self) -> Option<&Self::Status>;
    /// `spec.suspend`.
    fn suspended(&self) -> bool;
}

/// The status fields every source kind has.
pub trait SourceStatus: Clone + Default + PartialEq + Serialize + Send + Sync {
    fn conditions_mut(&mut self) -> &mut Option<Vec<Condition>>;
    fn observed_generation_mut(&mut self) -> &mut Option<i64>;
    fn last_handled_reconcile_at_mut(&mut self) -> &mut Option<String>;
    fn last_handled_reconcile_at(&self) -> Option<&str>;
    fn observed_generation(&self) -> Option<i64>;
    fn artifact(&self) -> Option<&Artifact>;

    /// Records a retried failure: `failure_type` with `reason`, Ready False.
    fn mark_failed(
        &mut self,
        generation: Option<i64>,
        failure_type: &str,
        reason: &str,
        message: &str,
        artifact_in_storage: bool,
    ) {
        conditions::failed(self.conditions_mut(), generation, failure_type, reason, message, artifact_in_storage);
    }
}

/// The [`SourceStatus`] accessors, for a status with the usual field names.
macro_rules! status_fields {
    () => {
        fn conditions_mut(&mut self) -> &mut Option<Vec<weir_api::conditions::Condition>> {
            &mut self.conditions
        }
        fn observed_generation_mut(&mut self) -> &mut Option<i64> {
            &mut self.observed_generation
        }
        fn last_handled_reconcile_at_mut(&mut self) -> &mut Option<String> {
            &mut self.last_handled_reconcile_at
        }
        fn last_handled_reconcile_at(&self) -> Option<&str> {
            self.last_handled_reconcile_at.as_deref()
        }
        fn observed_generation(&self) -> Option<i64> {
            self.observed_generation
        }
        fn artifact(&self) -> Option<&weir_api::meta::Artifact> {
            self.artifact.as_ref()
        }
    };
}
pub(crate) use status_fields;

macro_rules! source_object {
    ($kind:ty, $status:ty) => {
        impl SourceObject for $kind {
            type Status = $status;
            fn status(&self) -> Option<&$status> {
                self.status.as_ref()
            }
            fn suspended(&self) -> bool {
                self.spec.suspend == Some(true)
            }
        }
    };
}

source_object!(HelmRepository, HelmRepositoryStatus);
source_object!(OCIRepository, OCIRepositoryStatus);
source_object!(HelmChart, HelmChartStatus);
source_object!(GitRepository, GitRepositoryStatus);

impl SourceStatus for HelmRepositoryStatus {
    status_fields!();
}

impl SourceStatus for OCIRepositoryStatus {
    status_fields!();
}

impl SourceStatus for HelmChartStatus {
    status_fields!();
}

// GitRepositoryStatus's is in git_repository::status: it marks failures its own way.
