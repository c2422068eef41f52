//! What stays out of an OCIRepository's extracted artifact. Unlike GitRepository, Flux applies no
//! default patterns here: only the artifact's own `.sourceignore` files (each scoped to its
//! directory) and then `spec.ignore`; the last matching pattern decides, as in gitignore.

use std::path::{Path, PathBuf};

use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};

use crate::storage::ArchiveFilter;

const IGNORE_FILE: &str = ".sourceignore";

/// A pattern that cannot be parsed or an ignore file that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("failed to load source ignore patterns from the artifact: {0}")]
pub struct IgnoreError(String);

/// The filter of an extracted layer.
pub struct LayerIgnore {
    /// (directory relative to the root, matcher), later entries win.
    scopes: Vec<(PathBuf, Gitignore)>,
}

impl LayerIgnore {
    /// Reads the `.sourceignore` files under `root` and adds `spec_ignore`.
    pub fn load(root: &Path, spec_ignore: Option<&str>) -> Result<Self, IgnoreError> {
        let mut scopes = Vec::new();
        collect(root, Path::new(""), &mut scopes)?;
        if let Some(text) = spec_ignore {
            scopes.push((PathBuf::new(), matcher(text, "spec.ignore")?));
        }
        Ok(LayerIgnore { scopes })
    }
}

fn collect(root: &Path, relative: &Path, scopes: &mut Vec<(PathBuf, Gitignore)>) -> Result<(), IgnoreError> {
    let dir = root.join(relative);
    let file = dir.join(IGNORE_FILE);
    if file.is_file() {
        let text =
            std::fs::read_to_string(&file).map_err(|e| IgnoreError(format!("reading {}: {e}", file.display())))?;
        scopes.push((relative.to_path_buf(), matcher(&text, &relative.join(IGNORE_FILE).display().to_string())?));
    }
    let mut subdirs = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(|e| IgnoreError(format!("reading {}: {e}", dir.display())))? {
        let entry = entry.map_err(|e| IgnoreError(format!("reading {}: {e}", dir.display())))?;
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            subdirs.push(entry.file_name());
        }
    }
    subdirs.sort();
    for name in subdirs {
        collect(root, &relative.join(name), scopes)?;
    }
    Ok(())
}

fn matcher(text: &str, origin: &str) -> Result<Gitignore, IgnoreError> {
    // Rooted at "/" so that patterns match paths relative to their scope.
    let mut builder = GitignoreBuilder::new("/");
    for line in text.lines() {
        builder.add_line(None, line).map_err(|e| IgnoreError(format!("invalid pattern in {origin}: {e}")))?;
    }
    builder.build().map_err(|e| IgnoreError(format!("invalid patterns in {origin}: {e}")))
}

impl ArchiveFilter for LayerIgnore {
    fn exclude(&self, relative: &Path, is_dir: bool) -> bool {
        for (dir, matcher) in self.scopes.iter().rev() {
            let Ok(inside) = relative.strip_prefix(dir) else { continue };
            if inside.as_os_str().is_empty() {
                continue;
            }
            match matcher.matched(Path::new("/").join(inside), is_dir) {
                Match::Ignore(_) => return true,
                Match::Whitelist(_) => return false,
                Match::None => {}
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_defaults_and_scoped_files() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("sub")).unwrap();
        std::fs::write(root.path().join("sub/.sourceignore"), "*.txt\n").unwrap();
        let filter = LayerIgnore::load(root.path(), Some("/secret.yaml\n")).unwrap();
        assert!(!filter.exclude(Path::new("logo.png"), false), "Flux's OCI artifacts keep images");
        assert!(!filter.exclude(Path::new("a.txt"), false));
        assert!(filter.exclude(Path::new("sub/a.txt"), false));
        assert!(filter.exclude(Path::new("secret.yaml"), false));
        assert!(!filter.exclude(Path::new("sub/secret.yaml"), false));
        let negated = LayerIgnore::load(root.path(), Some("!sub/keep.txt\n")).unwrap();
        assert!(!negated.exclude(Path::new("sub/keep.txt"), false));
    }
}
