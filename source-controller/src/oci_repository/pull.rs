//! The registry side of an OCIRepository reconcile: which manifest the reference points at (and
//! Flux's revision for it), and pulling the selected layer, extracted or copied.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use weir_api::source::oci_repository::OCIReference;
use weir_api::source::oci_repository::{OCILayerOperation, OCILayerSelector};
use weir_runtime::artifact::{UntarError, UntarLimits, untar_gz};

use crate::git_repository::reference::highest_matching;
use crate::oci::manifest::is_sha256_digest;
use crate::oci::{OciError, RegistryClient};
use crate::storage::human_size;

/// Reasons Flux gives to OCIRepository failures.
pub mod reasons {
    pub const OCI_PULL_FAILED: &str = weir_api::conditions::reasons::OCI_PULL_FAILED;
    pub const LAYER_OPERATION_FAILED: &str = "OCIArtifactLayerOperationFailed";
    pub const READ_OPERATION_FAILED: &str = "ReadOperationFailed";
    pub const URL_INVALID: &str = "URLInvalid";
}

/// Why the registry side failed, with Flux's messages.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error("failed to determine the artifact tag for '{url}': {message}")]
    Tag { url: String, message: String },
    #[error("failed to determine artifact digest: {0}")]
    Digest(String),
    #[error("failed to pull artifact from '{url}': {message}")]
    Pull { url: String, message: String },
    #[error("{0}")]
    Layer(String),
    #[error("{0}")]
    Auth(String),
}

impl PullError {
    pub fn reason(&self) -> &'static str {
        match self {
            PullError::Tag { .. } => reasons::READ_OPERATION_FAILED,
            PullError::Digest(_) | PullError::Pull { .. } => reasons::OCI_PULL_FAILED,
            PullError::Layer(_) => reasons::LAYER_OPERATION_FAILED,
            PullError::Auth(_) => weir_api::conditions::reasons::AUTHENTICATION_FAILED,
        }
    }

    fn registry(error: OciError, wrap: impl FnOnce(String) -> PullError) -> PullError {
        if error.is_unauthorized() {
            PullError::Auth(format!("failed to authenticate: {error}"))
        } else {
            wrap(error.to_string())
        }
    }
}

/// A reference resolved to a manifest digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// `sha256:<hex>` of the manifest.
    pub digest: String,
    /// Flux's revision: `<tag>@sha256:<hex>`, or `sha256:<hex>` for a digest reference.
    pub revision: String,
    /// `host/path:tag` or `host/path@digest`, for messages.
    pub display: String,
}

/// Resolves the reference with a `HEAD` on the manifest (no pull).
pub async fn resolve(client: &RegistryClient, url: &str, reference: OCIReference<'_>) -> Result<Resolved, PullError> {
    let name = client.repository().name();
    let tag = match reference {
        OCIReference::Digest(digest) => {
            if !is_sha256_digest(digest) {
                return Err(PullError::Digest(format!("invalid digest '{digest}': expected sha256:<64 hex digits>")));
            }
            return Ok(Resolved {
                digest: digest.to_string(),
                revision: digest.to_string(),
                display: format!("{name}@{digest}"),
            });
        }
        OCIReference::Tag(tag) => tag.to_string(),
        OCIReference::SemVer { range, filter } => {
            let tag_error = |message: String| PullError::Tag { url: url.to_string(), message };
            let tags = client.tags().await.map_err(|e| PullError::registry(e, tag_error))?;
            let tags = filter_tags(tags, filter).map_err(|m| PullError::Tag { url: url.to_string(), message: m })?;
            let refs: Vec<&str> = tags.iter().map(String::as_str).collect();
            highest_matching(range, &refs)
                .map_err(|e| PullError::Tag { url: url.to_string(), message: e.to_string() })?
        }
    };
    let digest = client.resolve(&tag).await.map_err(|e| PullError::registry(e, PullError::Digest))?;
    Ok(Resolved { revision: format!("{tag}@{digest}"), display: format!("{name}:{tag}"), digest })
}

/// Keeps the tags matching `spec.ref.semverFilter`.
fn filter_tags(tags: Vec<String>, filter: Option<&str>) -> Result<Vec<String>, String> {
    let Some(filter) = filter else { return Ok(tags) };
    let regex = regex::Regex::new(filter).map_err(|e| format!("invalid semverFilter '{filter}': {e}"))?;
    Ok(tags.into_iter().filter(|t| regex.is_match(t)).collect())
}

/// What a pull left in the work directory.
pub struct Pulled {
    /// The manifest's annotations, Flux's artifact metadata.
    pub annotations: Option<BTreeMap<String, String>>,
    pub content: Content,
}

pub enum Content {
    /// The layer extracted into this directory.
    Extracted(PathBuf),
    /// The compressed layer, as it is, in this file.
    Copied(PathBuf),
}

/// Pulls the manifest `resolved.digest` and the layer `selector` picks into `work`; the layer,
/// as downloaded and as extracted, may hold at most `max_size` bytes (`--artifact-max-size`).
pub async fn pull(
    client: &RegistryClient,
    url: &str,
    resolved: &Resolved,
    selector: Option<&OCILayerSelector>,
    work: &Path,
    max_size: Option<u64>,
) -> Result<Pulled, PullError> {
    let pull_error = |message: String| PullError::Pull { url: url.to_string(), message };
    let (manifest, _, _) = client.manifest(&resolved.digest).await.map_err(|e| PullError::registry(e, pull_error))?;
    if manifest.is_index() {
        return Err(pull_error(format!("'{}' is an image index, not an artifact", resolved.display)));
    }
    let layer = select_layer(&manifest.layers, selector).map_err(PullError::Layer)?;
    let blob = work.join("layer.tgz");
    let limit = max_size.unwrap_or(u64::MAX);
    client.blob_to_file(&layer.digest, &blob, limit).await.map_err(|e| PullError::registry(e, pull_error))?;
    let operation = selector.map(OCILayerSelector::operation).unwrap_or_default();
    let content = match operation {
        OCILayerOperation::Copy => Content::Copied(blob),
        OCILayerOperation::Extract => {
            let dir = work.join("content");
            let extracted = tokio::task::spawn_blocking(move || -> Result<PathBuf, String> {
                std::fs::create_dir(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
                let file = std::fs::File::open(&blob).map_err(|e| format!("opening {}: {e}", blob.display()))?;
                // Flux extracts layers without a size limit; Weir's is the storage's. The entry
                // count stays capped.
                let limits = UntarLimits { max_size: limit, ..UntarLimits::default() };
                untar_gz(std::io::BufReader::new(file), &dir, limits).map_err(|e| match e {
                    UntarError::TooLarge { limit } => {
                        format!("its content is larger than the limit of {} (--artifact-max-size)", human_size(limit))
                    }
                    other => other.to_string(),
                })?;
                let _ = std::fs::remove_file(&blob);
                Ok(dir)
            })
            .await
            .map_err(|e| PullError::Layer(format!("the extraction task failed: {e}")))?
            .map_err(|e| PullError::Layer(format!("failed to extract layer contents from artifact: {e}")))?;
            Content::Extracted(extracted)
        }
    };
    Ok(Pulled { annotations: manifest.annotations, content })
}

/// The first layer of `selector.mediaType`, else the first layer.
fn select_layer<'a>(
    layers: &'a [crate::oci::Descriptor],
    selector: Option<&OCILayerSelector>,
) -> Result<&'a crate::oci::Descriptor, String> {
    if layers.is_empty() {
        return Err("no layers found in artifact".to_string());
    }
    match selector.and_then(|s| s.media_type.as_deref()).filter(|m| !m.is_empty()) {
        Some(media_type) => layers
            .iter()
            .find(|l| l.media_type == media_type)
            .ok_or_else(|| format!("failed to find layer with media type '{media_type}' in artifact")),
        None => Ok(&layers[0]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::Descriptor;

    #[test]
    fn layer_selection() {
        let layer = |media_type: &str| Descriptor { media_type: media_type.into(), ..Default::default() };
        let layers = [layer("a"), layer("b"), layer("b")];
        assert_eq!(select_layer(&layers, None).unwrap().media_type, "a");
        let selector = OCILayerSelector { media_type: Some("b".into()), operation: None };
        assert!(std::ptr::eq(select_layer(&layers, Some(&selector)).unwrap(), &layers[1]));
        let missing = OCILayerSelector { media_type: Some("c".into()), operation: None };
        assert_eq!(
            select_layer(&layers, Some(&missing)).unwrap_err(),
            "failed to find layer with media type 'c' in artifact"
        );
        assert_eq!(select_layer(&[], None).unwrap_err(), "no layers found in artifact");
    }

    #[test]
    fn semver_filter() {
        let tags = vec!["6.0.0".to_string(), "6.1.0-rc.1".to_string(), "latest".to_string()];
        assert_eq!(filter_tags(tags.clone(), Some(".*-rc.*")).unwrap(), ["6.1.0-rc.1"]);
        assert_eq!(filter_tags(tags.clone(), None).unwrap().len(), 3);
        assert!(filter_tags(tags, Some("(")).is_err());
    }
}
