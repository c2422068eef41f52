//! The filesystem a build reads from: a trait, a disk implementation confined to a root, and an
//! in-memory one. Paths given to an `Fs` are relative to its root, already normalised (see
//! [`normalize`]); the disk implementation still refuses anything that resolves outside the root,
//! symlinks included, because the tree it reads comes from an untrusted artifact.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use crate::error::BuildError;

/// Read-only access to a tree of files.
pub trait Fs {
    /// The bytes of a file.
    fn read(&self, path: &Path) -> Result<Vec<u8>, BuildError>;
    /// The names of the entries of a directory, sorted.
    fn list_dir(&self, path: &Path) -> Result<Vec<String>, BuildError>;
    fn is_dir(&self, path: &Path) -> bool;
    fn exists(&self, path: &Path) -> bool;
}

/// Joins `rel` to `base` and removes `.` and `..` lexically. Absolute paths and paths that climb
/// above the root are refused.
pub fn normalize(base: &Path, rel: &Path) -> Result<PathBuf, BuildError> {
    let mut out: Vec<std::ffi::OsString> = Vec::new();
    for part in base.join(rel).components() {
        match part {
            Component::Normal(p) => out.push(p.to_os_string()),
            Component::CurDir => {}
            Component::ParentDir => {
                if out.pop().is_none() {
                    return Err(BuildError::OutsideRoot { path: base.join(rel) });
                }
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(BuildError::OutsideRoot { path: base.join(rel) });
            }
        }
    }
    Ok(out.iter().collect())
}

/// Files on disk under `root`; nothing outside it is readable.
#[derive(Debug, Clone)]
pub struct DiskFs {
    root: PathBuf,
}

impl DiskFs {
    pub fn new(root: impl AsRef<Path>) -> Result<Self, BuildError> {
        let root = root.as_ref();
        let root = std::fs::canonicalize(root)
            .map_err(|e| BuildError::Fs { path: root.to_path_buf(), message: e.to_string() })?;
        Ok(DiskFs { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The real path of `path`, refused when it (or a symlink on the way) leaves the root.
    fn resolve(&self, path: &Path) -> Result<PathBuf, BuildError> {
        let rel = normalize(Path::new(""), path)?;
        let joined = self.root.join(&rel);
        let real =
            std::fs::canonicalize(&joined).map_err(|e| BuildError::Fs { path: rel.clone(), message: e.to_string() })?;
        if !real.starts_with(&self.root) {
            return Err(BuildError::OutsideRoot { path: rel });
        }
        Ok(real)
    }
}

impl Fs for DiskFs {
    fn read(&self, path: &Path) -> Result<Vec<u8>, BuildError> {
        let real = self.resolve(path)?;
        std::fs::read(real).map_err(|e| BuildError::Fs { path: path.to_path_buf(), message: e.to_string() })
    }

    fn list_dir(&self, path: &Path) -> Result<Vec<String>, BuildError> {
        let real = self.resolve(path)?;
        let entries =
            std::fs::read_dir(real).map_err(|e| BuildError::Fs { path: path.to_path_buf(), message: e.to_string() })?;
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| BuildError::Fs { path: path.to_path_buf(), message: e.to_string() })?;
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        Ok(names)
    }

    fn is_dir(&self, path: &Path) -> bool {
        self.resolve(path).map(|p| p.is_dir()).unwrap_or(false)
    }

    fn exists(&self, path: &Path) -> bool {
        self.resolve(path).is_ok()
    }
}

/// Files held in memory, keyed by normalised relative path; directories are implied by files.
#[derive(Debug, Clone, Default)]
pub struct MemFs {
    files: BTreeMap<PathBuf, Vec<u8>>,
}

impl MemFs {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a file.
    pub fn insert(&mut self, path: impl AsRef<Path>, content: impl Into<Vec<u8>>) -> &mut Self {
        self.files.insert(path.as_ref().to_path_buf(), content.into());
        self
    }

    pub fn with(mut self, path: impl AsRef<Path>, content: impl Into<Vec<u8>>) -> Self {
        self.insert(path, content);
        self
    }
}

impl Fs for MemFs {
    fn read(&self, path: &Path) -> Result<Vec<u8>, BuildError> {
        self.files
            .get(path)
            .cloned()
            .ok_or_else(|| BuildError::Fs { path: path.to_path_buf(), message: "no such file".into() })
    }

    fn list_dir(&self, path: &Path) -> Result<Vec<String>, BuildError> {
        let mut names: Vec<String> = self
            .files
            .keys()
            .filter_map(|p| p.strip_prefix(path).ok())
            .filter_map(|rest| rest.components().next())
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .filter(|n| !n.is_empty())
            .collect();
        names.sort();
        names.dedup();
        if names.is_empty() && !self.is_dir(path) {
            return Err(BuildError::Fs { path: path.to_path_buf(), message: "no such directory".into() });
        }
        Ok(names)
    }

    fn is_dir(&self, path: &Path) -> bool {
        self.files.keys().any(|p| p != path && p.starts_with(path))
    }

    fn exists(&self, path: &Path) -> bool {
        self.files.contains_key(path) || self.is_dir(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_refuses_climbing_out() {
        assert_eq!(normalize(Path::new("a/b"), Path::new("../c")).unwrap(), PathBuf::from("a/c"));
        assert!(matches!(normalize(Path::new("a"), Path::new("../../c")), Err(BuildError::OutsideRoot { .. })));
        assert!(normalize(Path::new("a"), Path::new("/etc/passwd")).is_err());
    }

    #[test]
    fn mem_fs_lists_implied_directories() {
        let fs = MemFs::new().with("a/b/c.yaml", "x").with("a/d.yaml", "y");
        assert_eq!(fs.list_dir(Path::new("a")).unwrap(), vec!["b".to_string(), "d.yaml".to_string()]);
        assert!(fs.is_dir(Path::new("a/b")));
        assert!(!fs.is_dir(Path::new("a/d.yaml")));
        assert!(fs.exists(Path::new("a/d.yaml")));
        assert!(fs.list_dir(Path::new("nope")).is_err());
    }

    #[test]
    fn disk_fs_refuses_symlinks_out_of_root() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "s").unwrap();
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("ok"), "fine").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(outside.path().join("secret"), root.path().join("link")).unwrap();
        let fs = DiskFs::new(root.path()).unwrap();
        assert_eq!(fs.read(Path::new("ok")).unwrap(), b"fine");
        #[cfg(unix)]
        assert!(matches!(fs.read(Path::new("link")), Err(BuildError::OutsideRoot { .. })));
        assert!(fs.read(Path::new("../x")).is_err());
    }
}
