//! A small client for the OCI distribution API, enough for Flux's sources: resolve a tag or a
//! digest, list tags, pull manifests and blobs, push (tests and tooling), log in with Basic or
//! Bearer token auth, and check cosign key signatures.
//!
//! - `repository`: `oci://host/path` URLs and the scheme to talk;
//! - `docker_config`: credentials from `kubernetes.io/dockerconfigjson` Secrets;
//! - `manifest`: the OCI image manifest and Flux's media types;
//! - `client`: the HTTP side, with the registry's auth challenges;
//! - `proxy`: the HTTP proxy of `proxySecretRef`;
//! - `cosign`: signatures at `sha256-<hex>.sig` checked against ECDSA P-256 public keys.

pub mod client;
pub mod cosign;
pub mod docker_config;
pub mod manifest;
pub mod proxy;
pub mod repository;

pub use client::{ClientOptions, Credentials, OciError, RegistryClient};
pub use manifest::{Descriptor, Manifest};
pub use proxy::ProxyOptions;
pub use repository::Repository;
