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
use crate::storage::Storage;

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
    fn conditions(&self) -> Option<&[Condition]>;
    fn observed_generation_mut(&mut self) -> &mut Option<i64>;
    fn last_handled_reconcile_at_mut(&mut self) -> &mut Option<String>;
    fn last_handled_reconcile_at(&self) -> Option<&str>;
    fn observed_generation(&self) -> Option<i64>;
    fn artifact(&self) -> Option<&Artifact>;
    fn artifact_mut(&mut self) -> Option<&mut Artifact>;
    /// `status.url`, for kinds that publish a link beside the artifact (`index.yaml`,
    /// `latest.tar.gz`).
    fn link_url_mut(&mut self) -> Option<&mut String> {
        None
    }

    /// Writes the URLs of the artifact and of its link afresh from `storage`'s advertised
    /// address, as Flux does on every reconcile: a controller restarted with another
    /// `--storage-adv-addr` then corrects what it did not need to rebuild.
    fn refresh_urls(&mut self, storage: &Storage) {
        let Some(artifact) = self.artifact_mut() else { return };
        artifact.url = storage.url_for(&artifact.path);
        let path = artifact.path.clone();
        if let Some(link) = self.link_url_mut()
            && let Some(name) = link.rsplit('/').next().filter(|name| !name.is_empty()).map(str::to_string)
        {
            *link = storage.link_url(&path, &name);
        }
    }

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
        fn conditions(&self) -> Option<&[weir_api::conditions::Condition]> {
            self.conditions.as_deref()
        }
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
        fn artifact_mut(&mut self) -> Option<&mut weir_api::meta::Artifact> {
            self.artifact.as_mut()
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
    fn link_url_mut(&mut self) -> Option<&mut String> {
        self.url.as_mut()
    }
}

impl SourceStatus for OCIRepositoryStatus {
    status_fields!();
    fn link_url_mut(&mut self) -> Option<&mut String> {
        self.url.as_mut()
    }
}

impl SourceStatus for HelmChartStatus {
    status_fields!();
    fn link_url_mut(&mut self) -> Option<&mut String> {
        self.url.as_mut()
    }
}

// GitRepositoryStatus's is in git_repository::status: it marks failures its own way.

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Retention;

    fn artifact(url: &str) -> Artifact {
        Artifact {
            digest: "sha256:0".into(),
            last_update_time: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                k8s_openapi::jiff::Timestamp::UNIX_EPOCH,
            ),
            metadata: None,
            path: "helmrepository/ns/charts/index-1.yaml".into(),
            revision: "sha256:0".into(),
            size: None,
            url: url.into(),
        }
    }

    #[test]
    fn urls_follow_the_advertised_address() {
        let root = tempfile::tempdir().unwrap();
        let storage = Storage::new(root.path(), "new:9090", Retention::default()).unwrap();
        let mut status = HelmRepositoryStatus {
            artifact: Some(artifact("http://old:9090/helmrepository/ns/charts/index-1.yaml")),
            url: Some("http://old:9090/helmrepository/ns/charts/index.yaml".into()),
            ..HelmRepositoryStatus::default()
        };
        status.refresh_urls(&storage);
        assert_eq!(status.artifact.unwrap().url, "http://new:9090/helmrepository/ns/charts/index-1.yaml");
        assert_eq!(status.url.as_deref(), Some("http://new:9090/helmrepository/ns/charts/index.yaml"));

        // No artifact, nothing to point at: the status is left alone.
        let mut empty = OCIRepositoryStatus { url: Some("http://old/x".into()), ..OCIRepositoryStatus::default() };
        empty.refresh_urls(&storage);
        assert_eq!(empty.url.as_deref(), Some("http://old/x"));
    }
}
