//! `helm.toolkit.fluxcd.io/v2`: Helm releases.

pub mod helm_release;

pub use helm_release::{HelmRelease, HelmReleaseSpec, HelmReleaseStatus};
