//! `spec.sparseCheckout`: only the listed directories (and the directories leading to them) go
//! into the artifact. The checkout stays whole (depth 1 keeps it small); the archive filter is
//! what the artifact sees, applied together with the ignore rules.

use std::path::{Component, Path, PathBuf};

use crate::storage::ArchiveFilter;

/// The directories of `spec.sparseCheckout`, normalised (`./a/b/` is `a/b`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SparseDirs(Vec<PathBuf>);

/// A sparse checkout directory that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SparseError {
    #[error("invalid sparse checkout directory '{0}': it must be a relative path inside the repository")]
    Invalid(String),
    #[error("sparse checkout directory '{dir}' does not exist at revision {revision}")]
    Missing { dir: String, revision: String },
}

impl SparseDirs {
    /// `None` when no directory is listed (or only the root): the whole tree is kept.
    pub fn new(dirs: &[String]) -> Result<Option<SparseDirs>, SparseError> {
        let mut normalised = Vec::new();
        for dir in dirs {
            let mut path = PathBuf::new();
            for component in Path::new(dir.trim()).components() {
                match component {
                    Component::Normal(part) => path.push(part),
                    Component::CurDir => {}
                    Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                        return Err(SparseError::Invalid(dir.clone()));
                    }
                }
            }
            if path.as_os_str().is_empty() {
                return Ok(None);
            }
            normalised.push(path);
        }
        Ok((!normalised.is_empty()).then_some(SparseDirs(normalised)))
    }

    /// Every listed directory must exist in the checkout, so a typo is an error, not an empty artifact.
    pub fn check_exist(&self, root: &Path, revision: &str) -> Result<(), SparseError> {
        match self.0.iter().find(|dir| !root.join(dir).is_dir()) {
            Some(dir) => Err(SparseError::Missing { dir: dir.display().to_string(), revision: revision.to_string() }),
            None => Ok(()),
        }
    }

    /// Whether `relative` is inside a listed directory, or a directory on the way to one.
    pub fn keeps(&self, relative: &Path, is_dir: bool) -> bool {
        self.0.iter().any(|dir| relative.starts_with(dir) || (is_dir && dir.starts_with(relative)))
    }
}

/// The ignore rules, then the sparse directories.
pub struct SparseFilter<'a, F: ArchiveFilter> {
    pub inner: &'a F,
    pub sparse: Option<&'a SparseDirs>,
}

impl<F: ArchiveFilter> ArchiveFilter for SparseFilter<'_, F> {
    fn exclude(&self, relative: &Path, is_dir: bool) -> bool {
        self.sparse.is_some_and(|s| !s.keeps(relative, is_dir)) || self.inner.exclude(relative, is_dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dirs(list: &[&str]) -> Option<SparseDirs> {
        SparseDirs::new(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn only_the_listed_directories_and_their_parents() {
        let sparse = dirs(&["./apps/prod/", "infra"]).unwrap();
        assert!(sparse.keeps(Path::new("apps"), true));
        assert!(sparse.keeps(Path::new("apps/prod"), true));
        assert!(sparse.keeps(Path::new("apps/prod/deploy.yaml"), false));
        assert!(sparse.keeps(Path::new("infra/x/y.yaml"), false));
        assert!(!sparse.keeps(Path::new("apps/staging"), true));
        assert!(!sparse.keeps(Path::new("apps/README.md"), false));
        assert!(!sparse.keeps(Path::new("README.md"), false));
        assert!(!sparse.keeps(Path::new("infrastructure"), true), "a prefix of a name is not the directory");
    }

    #[test]
    fn the_root_or_nothing_keeps_everything_and_escapes_are_refused() {
        assert!(dirs(&[]).is_none());
        assert!(dirs(&["./"]).is_none());
        assert!(SparseDirs::new(&["../etc".to_string()]).is_err());
        assert!(SparseDirs::new(&["/abs".to_string()]).is_err());
    }
}
