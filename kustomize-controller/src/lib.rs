//! Weir's kustomize-controller as a library: the Kustomization reconciler, started by `main.rs`.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod features;
pub mod kustomization;
