//! `helm.toolkit.fluxcd.io/v2`: Helm releases.

pub mod helm_release;
