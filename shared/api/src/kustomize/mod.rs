//! `kustomize.toolkit.fluxcd.io/v1`: what to apply from a source, and how.

pub mod kustomization;
