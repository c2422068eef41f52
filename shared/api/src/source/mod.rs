//! `source.toolkit.fluxcd.io/v1`: where manifests and charts come from.

pub mod external_artifact;

pub use external_artifact::{ExternalArtifact, ExternalArtifactSpec, ExternalArtifactStatus};
