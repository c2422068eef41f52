//! The consumer half of Flux's artifact contract (FLUX-API.md §2): download a source's
//! `status.artifact.url`, verify it against `status.artifact.digest`, and unpack it safely.
//!
//! ```text
//! let fetcher = ArtifactFetcher::new(FetchOptions::from_env())?;
//! fetcher.fetch(&artifact.url, &artifact.digest, &empty_dir).await?;
//! ```
//! A 404 is [`FetchError::NotFound`] (the source-controller has not written the file yet, or
//! restarted with an empty storage): requeue, do not report a failure.

mod digest;
mod fetch;
mod untar;

pub use digest::{Digest, DigestError};
pub use fetch::{ArtifactFetcher, Downloaded, FetchError, FetchOptions, LOCALHOST_ENV};
pub use untar::{UntarError, UntarLimits, UntarSummary, untar_gz};
