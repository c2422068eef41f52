//! `spec.include`: other GitRepositories' artifacts (in the same namespace), or a directory of
//! them (`fromPath`), copied into this one's tree at `toPath` before it is archived. As in Flux
//! the included artifacts are read from this controller's own storage, and an included source
//! without a stored artifact makes the reconcile fail with `IncludeUnavailable`.

use std::path::{Component, Path, PathBuf};

use weir_api::meta::Artifact;
use weir_api::source::GitRepository;
use weir_api::source::git_repository::GitRepositoryInclude;
use weir_runtime::artifact::{UntarLimits, untar_gz};

use crate::storage::Storage;

/// Why an include cannot be used: `IncludeUnavailable` with Flux's reason (`NotFound`,
/// `NoArtifact`, `IllegalPath`, `CopyFailure`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct IncludeError {
    pub reason: &'static str,
    pub message: String,
}

impl IncludeError {
    fn new(reason: &'static str, message: String) -> IncludeError {
        IncludeError { reason, message }
    }
}

/// The artifact of each include, in the order of `spec.include`, from the included objects
/// (`None` for one that does not exist).
pub fn resolve(
    includes: &[GitRepositoryInclude],
    found: &[Option<GitRepository>],
    storage: &Storage,
) -> Result<Vec<Artifact>, IncludeError> {
    let mut artifacts = Vec::with_capacity(includes.len());
    for (include, object) in includes.iter().zip(found) {
        let name = &include.repository.name;
        let Some(object) = object else {
            let message = format!("could not get resource for include '{name}': not found");
            return Err(IncludeError::new("NotFound", message));
        };
        let artifact = object.status.as_ref().and_then(|s| s.artifact.clone());
        match artifact {
            Some(artifact) if storage.artifact_exists(&artifact) => artifacts.push(artifact),
            _ => {
                return Err(IncludeError::new("NoArtifact", format!("no artifact available for include '{name}'")));
            }
        }
    }
    Ok(artifacts)
}

/// Copies each included artifact's `fromPath` into `root/toPath`, replacing what was there.
pub fn copy_into(
    root: &Path,
    includes: &[GitRepositoryInclude],
    artifacts: &[Artifact],
    storage: &Storage,
) -> Result<(), IncludeError> {
    for (include, artifact) in includes.iter().zip(artifacts) {
        let name = include.repository.name.clone();
        let illegal = |message: String| IncludeError::new("IllegalPath", format!("include '{name}': {message}"));
        let fail = |message: String| IncludeError::new("CopyFailure", format!("include '{name}': {message}"));
        let from = include.from_path();
        let from = relative(from).ok_or_else(|| illegal(format!("fromPath '{from}' leaves the artifact")))?;
        let to = include.to_path();
        let to = relative(to).ok_or_else(|| illegal(format!("toPath '{to}' leaves the repository")))?;
        if to.as_os_str().is_empty() {
            return Err(illegal("toPath must not be the repository root".to_string()));
        }
        let scratch = tempfile::Builder::new().prefix("weir-include-").tempdir().map_err(|e| fail(e.to_string()))?;
        let archive = storage.local_path(artifact).map_err(|e| fail(e.to_string()))?;
        let file = std::fs::File::open(&archive).map_err(|e| fail(format!("opening {}: {e}", archive.display())))?;
        untar_gz(std::io::BufReader::new(file), scratch.path(), UntarLimits::default())
            .map_err(|e| fail(format!("extracting the artifact of revision {}: {e}", artifact.revision)))?;
        let source = scratch.path().join(&from);
        if !source.is_dir() {
            let message =
                format!("fromPath '{}' does not exist in revision {}", include.from_path(), artifact.revision);
            return Err(fail(message));
        }
        let dest = root.join(&to);
        if dest.exists() {
            std::fs::remove_dir_all(&dest).map_err(|e| fail(format!("replacing toPath '{}': {e}", to.display())))?;
        }
        copy_dir(&source, &dest).map_err(|e| fail(format!("copying into toPath '{}': {e}", to.display())))?;
    }
    Ok(())
}

/// A path that stays inside its root: no `..`, no absolute path. `""` and `./` are the root.
fn relative(path: &str) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for component in Path::new(path).components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// Copies regular files and directories (an extracted artifact has nothing else).
fn copy_dir(source: &Path, dest: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dest)?;
    for entry in std::fs::read_dir(source)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = dest.join(entry.file_name());
        if kind.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// Whether the included artifacts are the ones the stored artifact was built with.
pub fn same_artifacts(current: Option<&[Artifact]>, next: &[Artifact]) -> bool {
    let current = current.unwrap_or_default();
    current.len() == next.len()
        && current.iter().zip(next).all(|(a, b)| a.digest == b.digest && a.revision == b.revision)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside() {
        assert_eq!(relative("./deploy/"), Some(PathBuf::from("deploy")));
        assert_eq!(relative(""), Some(PathBuf::new()));
        assert_eq!(relative("../x"), None);
        assert_eq!(relative("/etc"), None);
        assert_eq!(relative("a/../../b"), None);
    }

    #[test]
    fn included_artifacts_compare_by_digest_and_revision() {
        let artifact = |digest: &str| Artifact {
            digest: digest.to_string(),
            revision: "main@sha1:abc".to_string(),
            last_update_time: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                k8s_openapi::jiff::Timestamp::UNIX_EPOCH,
            ),
            metadata: None,
            path: "gitrepository/ns/name/abc.tar.gz".to_string(),
            size: None,
            url: String::new(),
        };
        assert!(same_artifacts(None, &[]));
        assert!(same_artifacts(Some(&[artifact("sha256:1")]), &[artifact("sha256:1")]));
        assert!(!same_artifacts(Some(&[artifact("sha256:1")]), &[artifact("sha256:2")]));
        assert!(!same_artifacts(None, &[artifact("sha256:1")]));
    }
}
