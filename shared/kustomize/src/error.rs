//! The errors of a build: each names the file (or kustomization) and the problem.

use std::path::PathBuf;

/// Why a build failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{path}: {message}")]
    Fs { path: PathBuf, message: String },
    #[error("path {path} leaves the root of the source tree")]
    OutsideRoot { path: PathBuf },
    #[error("{path}: no kustomization.yaml, kustomization.yml or Kustomization in this directory")]
    NoKustomization { path: PathBuf },
    #[error("{path}: more than one kustomization file in this directory ({found})")]
    MultipleKustomizations { path: PathBuf, found: String },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("{path}: cycle between kustomizations: {chain}")]
    Cycle { path: PathBuf, chain: String },
    #[error("duplicate resource id {id}: defined in {first} and in {second}")]
    DuplicateId { id: String, first: String, second: String },
    #[error("{path}: {what} is refused: {reason}")]
    Refused { path: PathBuf, what: String, reason: String },
    #[error("{path}: {field} is not supported yet")]
    Unsupported { path: PathBuf, field: String },
    #[error("{path}: patch: {message}")]
    Patch { path: PathBuf, message: String },
}

impl BuildError {
    pub(crate) fn invalid(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        BuildError::Invalid { path: path.into(), message: message.into() }
    }
}
