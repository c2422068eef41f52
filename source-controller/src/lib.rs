//! Weir's source-controller as a library: the parts the binary wires together, here so that
//! integration tests can drive them.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod git_repository;
pub mod helm_chart;
pub mod helm_repository;
pub mod oci;
pub mod oci_repository;
pub mod reconciler;
pub mod storage;
pub mod tls;
