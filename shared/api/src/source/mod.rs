//! `source.toolkit.fluxcd.io/v1`: where manifests and charts come from.

pub mod bucket;
pub mod external_artifact;
pub mod git_repository;
pub mod helm_chart;
pub mod helm_repository;
pub mod oci_repository;

pub use external_artifact::{ExternalArtifact, ExternalArtifactSpec, ExternalArtifactStatus};
