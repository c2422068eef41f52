//! The artifact storage, the producer half of Flux's artifact contract (FLUX-API.md §2):
//! deterministic tarballs and copied files under `<root>/<kind>/<namespace>/<name>/`, each
//! written atomically with its `sha256` digest, garbage collected with Flux's retention rules,
//! and served read-only over plain HTTP.
//!
//! The file operations block: reconcilers call them inside `spawn_blocking`.

mod archive;
mod gc;
mod path;
pub mod server;
mod write;

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use weir_api::meta::Artifact;

pub use archive::{ArchiveFilter, ContentError, NoFilter, human_size};
pub use path::{ObjectRef, check_segment};

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("invalid {what} {value:?}: it must be a single non-empty path segment without '/', '\\', NUL or '..'")]
    InvalidPath { what: &'static str, value: String },
    #[error("cannot archive {0}: not a directory")]
    NotADirectory(PathBuf),
    #[error("{action} {path}: {source}")]
    Io { action: &'static str, path: PathBuf, source: std::io::Error },
    /// What the source holds is refused (a symlink out of the tree, too much content): a new
    /// revision can mend it, a retry cannot.
    #[error(transparent)]
    Content(#[from] ContentError),
}

impl StorageError {
    fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> StorageError + 'a {
        move |source| StorageError::Io { action, path: path.to_path_buf(), source }
    }
}

/// Flux's `--artifact-retention-ttl` and `--artifact-retention-records`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    /// Artifacts other than the current one older than this are deleted.
    pub ttl: Duration,
    /// At most this many artifacts (the current one included) are kept.
    pub records: usize,
}

impl Default for Retention {
    fn default() -> Self {
        Retention { ttl: Duration::from_secs(60), records: 2 }
    }
}

/// The storage directory and the address its files are advertised at.
#[derive(Clone, Debug)]
pub struct Storage {
    root: PathBuf,
    adv_addr: String,
    retention: Retention,
    /// Bytes of file content an archived directory may hold (`--artifact-max-size`).
    max_size: Option<u64>,
}

impl Storage {
    /// Opens (creating it when missing) the storage root. `adv_addr` is the `host[:port]` written
    /// into artifact URLs.
    pub fn new(
        root: impl Into<PathBuf>,
        adv_addr: impl Into<String>,
        retention: Retention,
    ) -> Result<Self, StorageError> {
        let root = root.into();
        std::fs::create_dir_all(&root).map_err(StorageError::io("creating the storage directory", &root))?;
        Ok(Storage { root, adv_addr: adv_addr.into(), retention, max_size: None })
    }

    /// Bounds the file content of archived directories; `None` for no bound.
    pub fn with_max_size(self, max_size: Option<u64>) -> Self {
        Storage { max_size, ..self }
    }

    /// The bound on an artifact's content (`--artifact-max-size`), for what is fetched to fill it.
    pub fn max_size(&self) -> Option<u64> {
        self.max_size
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn retention(&self) -> Retention {
        self.retention
    }

    /// `http://<adv-addr>/<path>`.
    pub fn url_for(&self, path: &str) -> String {
        format!("http://{}/{path}", self.adv_addr)
    }

    /// The artifact's file on disk, after checking its `path` cannot leave the storage.
    pub fn local_path(&self, artifact: &Artifact) -> Result<PathBuf, StorageError> {
        path::check_relative(&artifact.path)?;
        Ok(self.root.join(&artifact.path))
    }

    /// Whether the artifact's file is in the storage (e.g. not lost with an `emptyDir` on restart).
    pub fn artifact_exists(&self, artifact: &Artifact) -> bool {
        self.local_path(artifact).is_ok_and(|path| path.is_file())
    }

    /// Archives `dir` as a deterministic tar.gz (see [`archive`](self::archive)) into the object's
    /// `file`, skipping what `filter` excludes. Refused content leaves the storage as it was.
    pub fn archive_dir(
        &self,
        object: ObjectRef<'_>,
        file: &str,
        revision: &str,
        dir: &Path,
        filter: &dyn ArchiveFilter,
    ) -> Result<Artifact, StorageError> {
        if !dir.is_dir() {
            return Err(StorageError::NotADirectory(dir.to_path_buf()));
        }
        let (path, local) = self.prepare(object, file)?;
        let out = write::AtomicFile::create_next_to(&local)?;
        let out = archive::write_tar_gz(dir, filter, self.max_size, out).map_err(|error| match error {
            archive::ArchiveError::Io(source) => {
                StorageError::Io { action: "archiving", path: dir.to_path_buf(), source }
            }
            archive::ArchiveError::Content(content) => StorageError::Content(content),
        })?;
        let written = out.persist(&local)?;
        Ok(self.artifact(path, revision, written))
    }

    /// Copies a single file (a chart `.tgz`, an OCI layer in copy mode) as the object's `file`.
    pub fn copy_file(
        &self,
        object: ObjectRef<'_>,
        file: &str,
        revision: &str,
        src: &Path,
    ) -> Result<Artifact, StorageError> {
        let reader = File::open(src).map_err(StorageError::io("opening", src))?;
        self.store(object, file, revision, reader)
    }

    /// Writes everything `reader` yields as the object's `file`.
    pub fn store(
        &self,
        object: ObjectRef<'_>,
        file: &str,
        revision: &str,
        mut reader: impl Read,
    ) -> Result<Artifact, StorageError> {
        let (path, local) = self.prepare(object, file)?;
        let mut out = write::AtomicFile::create_next_to(&local)?;
        std::io::copy(&mut reader, &mut out).map_err(StorageError::io("writing", &local))?;
        let written = out.persist(&local)?;
        Ok(self.artifact(path, revision, written))
    }

    /// Points `link` in the artifact's directory at the artifact (HelmRepository's `index.yaml`),
    /// replacing it atomically; returns the link's URL. The target is relative, so the storage
    /// can move; garbage collection leaves links alone.
    pub fn link(&self, artifact: &Artifact, link: &str) -> Result<String, StorageError> {
        check_segment("link name", link)?;
        let local = self.local_path(artifact)?;
        let (Some(dir), Some(target)) = (local.parent(), local.file_name()) else {
            return Err(StorageError::InvalidPath { what: "artifact path", value: artifact.path.clone() });
        };
        let temp = dir.join(format!(".{link}.tmp"));
        let _ = std::fs::remove_file(&temp);
        std::os::unix::fs::symlink(target, &temp).map_err(StorageError::io("creating the symlink", &temp))?;
        let path = dir.join(link);
        std::fs::rename(&temp, &path).map_err(StorageError::io("renaming the symlink to", &path))?;
        Ok(self.link_url(&artifact.path, link))
    }

    /// The URL of the link named `link` beside the artifact at `artifact_path`.
    pub fn link_url(&self, artifact_path: &str, link: &str) -> String {
        match artifact_path.rsplit_once('/') {
            Some((parent, _)) => self.url_for(&format!("{parent}/{link}")),
            None => self.url_for(link),
        }
    }

    /// Deletes the object's old artifacts with Flux's rules; returns the deleted files.
    pub fn garbage_collect(&self, current: &Artifact) -> Result<Vec<PathBuf>, StorageError> {
        gc::collect(&self.local_path(current)?, self.retention, std::time::SystemTime::now())
    }

    /// Removes all of the object's artifacts, when the object is deleted.
    pub fn remove_object(&self, object: ObjectRef<'_>) -> Result<(), StorageError> {
        let dir = self.root.join(object.dir()?);
        match std::fs::remove_dir_all(&dir) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                Err(StorageError::Io { action: "removing", path: dir, source: error })
            }
            _ => Ok(()),
        }
    }

    /// The artifact's relative path and its file, with the object's directory created.
    fn prepare(&self, object: ObjectRef<'_>, file: &str) -> Result<(String, PathBuf), StorageError> {
        let path = object.artifact_path(file)?;
        let local = self.root.join(&path);
        if let Some(dir) = local.parent() {
            std::fs::create_dir_all(dir).map_err(StorageError::io("creating", dir))?;
        }
        Ok((path, local))
    }

    fn artifact(&self, path: String, revision: &str, written: write::Written) -> Artifact {
        Artifact {
            digest: written.digest,
            last_update_time: Time(Timestamp::now()),
            metadata: None,
            url: self.url_for(&path),
            path,
            revision: revision.to_string(),
            size: Some(i64::try_from(written.size).unwrap_or(i64::MAX)),
        }
    }
}

/// The advertised address when `--storage-adv-addr` is empty, as Flux derives it from
/// `--storage-addr`: an unspecified host (`:9090`, `0.0.0.0:9090`) becomes `localhost`.
pub fn default_adv_addr(addr: std::net::SocketAddr) -> String {
    if addr.ip().is_unspecified() { format!("localhost:{}", addr.port()) } else { addr.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_files_get_their_digest_and_url() {
        let root = tempfile::tempdir().unwrap();
        let storage =
            Storage::new(root.path(), "source-controller.flux-system.svc.cluster.local.", Retention::default())
                .unwrap();
        let object = ObjectRef::new("HelmChart", "default", "podinfo");
        let artifact = storage.store(object, "podinfo-6.0.3.tgz", "6.0.3", &b"hello"[..]).unwrap();
        assert_eq!(artifact.path, "helmchart/default/podinfo/podinfo-6.0.3.tgz");
        assert_eq!(
            artifact.url,
            "http://source-controller.flux-system.svc.cluster.local./helmchart/default/podinfo/podinfo-6.0.3.tgz"
        );
        // sha256("hello")
        assert_eq!(artifact.digest, "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
        assert_eq!(artifact.size, Some(5));
        assert!(storage.artifact_exists(&artifact));
        assert_eq!(std::fs::read(storage.local_path(&artifact).unwrap()).unwrap(), b"hello");

        storage.remove_object(object).unwrap();
        assert!(!storage.artifact_exists(&artifact));
        storage.remove_object(object).unwrap();
    }

    #[test]
    fn an_artifact_path_from_status_cannot_escape() {
        let root = tempfile::tempdir().unwrap();
        let storage = Storage::new(root.path(), "localhost", Retention::default()).unwrap();
        let artifact = Artifact {
            digest: String::new(),
            last_update_time: Time(Timestamp::now()),
            metadata: None,
            path: "gitrepository/ns/x/../../../../etc/passwd".into(),
            revision: String::new(),
            size: None,
            url: String::new(),
        };
        assert!(storage.local_path(&artifact).is_err());
        assert!(!storage.artifact_exists(&artifact));
    }

    #[test]
    fn adv_addr_defaults_like_fluxs() {
        assert_eq!(
            default_adv_addr(":9090".parse::<weir_runtime::ListenAddr>().unwrap().socket_addr().unwrap()),
            "localhost:9090"
        );
        assert_eq!(default_adv_addr("10.0.0.1:9090".parse().unwrap()), "10.0.0.1:9090");
    }
}
