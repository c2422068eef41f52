//! What stays out of a GitRepository's artifact, with Flux's rules (`pkg/sourceignore` and the
//! storage's `SourceIgnoreFilter`):
//! - the patterns are those of every `.sourceignore` file in the tree (each scoped to its own
//!   directory), then `spec.ignore`;
//! - with no pattern at all, Flux's defaults apply (VCS files, images and archives, CI configs);
//! - with any pattern, the VCS patterns and then those patterns apply (the other defaults go);
//! - as in gitignore, the last pattern that matches a path decides.
//!
//! Matching uses the `ignore` crate's gitignore implementation (ripgrep's, gitignore-exact
//! including negation, anchoring and `**`); each source of patterns is one matcher rooted at its
//! directory, evaluated last to first.

use std::path::{Path, PathBuf};

use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};

use crate::storage::ArchiveFilter;

/// The name of the ignore files read from the tree.
pub const IGNORE_FILE: &str = ".sourceignore";
/// Version-control files: always excluded.
pub const EXCLUDE_VCS: &[&str] = &[".git/", ".gitignore", ".gitmodules", ".gitattributes"];
/// Flux's other defaults: images, archives, CI configurations and tool files.
pub const EXCLUDE_DEFAULTS: &[&str] = &[
    "*.jpg",
    "*.jpeg",
    "*.gif",
    "*.png",
    "*.wmv",
    "*.flv",
    "*.tar.gz",
    "*.zip",
    ".github/",
    ".circleci/",
    ".travis.yml",
    ".gitlab-ci.yml",
    "appveyor.yml",
    ".drone.yml",
    "cloudbuild.yaml",
    "codeship-services.yml",
    "codeship-steps.yml",
    "**/.goreleaser.yml",
    "**/.sops.yaml",
    "**/.flux.yaml",
];

/// A pattern that cannot be parsed, or an ignore file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum IgnoreError {
    #[error("reading {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("invalid ignore pattern in {origin}: {message}")]
    Pattern { origin: String, message: String },
}

/// One source of patterns, scoped to the directory (relative to the root) it applies to.
struct Scoped {
    dir: PathBuf,
    matcher: Gitignore,
}

/// The archive filter of a GitRepository's checkout.
pub struct SourceIgnore {
    /// In precedence order: later entries win.
    scopes: Vec<Scoped>,
}

impl SourceIgnore {
    /// Reads the `.sourceignore` files under `root` (not under `.git`) and adds `spec_ignore`.
    pub fn load(root: &Path, spec_ignore: Option<&str>) -> Result<Self, IgnoreError> {
        let mut files = Vec::new();
        collect_ignore_files(root, Path::new(""), &mut files)?;
        let mut user = Vec::new();
        for (dir, text) in &files {
            let origin = dir.join(IGNORE_FILE).display().to_string();
            if let Some(scope) = scope(dir, text.lines(), &origin)? {
                user.push(scope);
            }
        }
        if let Some(text) = spec_ignore
            && let Some(scope) = scope(Path::new(""), text.lines(), "spec.ignore")?
        {
            user.push(scope);
        }
        Self::with(user)
    }

    /// The filter of an in-memory set of patterns at the root (for tests and callers without files).
    pub fn from_patterns(spec_ignore: Option<&str>) -> Result<Self, IgnoreError> {
        let user = match spec_ignore {
            Some(text) => scope(Path::new(""), text.lines(), "spec.ignore")?.into_iter().collect(),
            None => Vec::new(),
        };
        Self::with(user)
    }

    fn with(user: Vec<Scoped>) -> Result<Self, IgnoreError> {
        let mut scopes = Vec::new();
        scopes.extend(scope(Path::new(""), EXCLUDE_VCS.iter().copied(), "defaults")?);
        if user.is_empty() {
            scopes.extend(scope(Path::new(""), EXCLUDE_DEFAULTS.iter().copied(), "defaults")?);
        }
        scopes.extend(user);
        Ok(SourceIgnore { scopes })
    }

    /// Whether `relative` (to the root) is excluded.
    pub fn is_excluded(&self, relative: &Path, is_dir: bool) -> bool {
        for scoped in self.scopes.iter().rev() {
            let Ok(inside) = relative.strip_prefix(&scoped.dir) else { continue };
            if inside.as_os_str().is_empty() {
                continue;
            }
            match scoped.matcher.matched(inside, is_dir) {
                Match::Ignore(_) => return true,
                Match::Whitelist(_) => return false,
                Match::None => {}
            }
        }
        false
    }
}

impl ArchiveFilter for SourceIgnore {
    fn exclude(&self, relative: &Path, is_dir: bool) -> bool {
        self.is_excluded(relative, is_dir)
    }
}

/// The patterns of one source as a matcher; `None` when it has none (only blanks and comments).
fn scope<'a>(dir: &Path, lines: impl Iterator<Item = &'a str>, origin: &str) -> Result<Option<Scoped>, IgnoreError> {
    // The root only serves to strip absolute paths; ours are relative, so any absolute root does.
    let mut builder = GitignoreBuilder::new("/");
    let mut any = false;
    for line in lines {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        builder
            .add_line(None, line)
            .map_err(|e| IgnoreError::Pattern { origin: origin.to_string(), message: e.to_string() })?;
        any = true;
    }
    if !any {
        return Ok(None);
    }
    let matcher =
        builder.build().map_err(|e| IgnoreError::Pattern { origin: origin.to_string(), message: e.to_string() })?;
    Ok(Some(Scoped { dir: dir.to_path_buf(), matcher }))
}

/// Every `.sourceignore` below `root`, parents before children, siblings in name order.
fn collect_ignore_files(root: &Path, relative: &Path, out: &mut Vec<(PathBuf, String)>) -> Result<(), IgnoreError> {
    let dir = root.join(relative);
    let file = dir.join(IGNORE_FILE);
    match std::fs::read_to_string(&file) {
        Ok(text) => out.push((relative.to_path_buf(), text)),
        Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::IsADirectory) => {}
        Err(source) => return Err(IgnoreError::Read { path: file, source }),
    }
    let entries = std::fs::read_dir(&dir).map_err(|source| IgnoreError::Read { path: dir.clone(), source })?;
    let mut subdirs = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| IgnoreError::Read { path: dir.clone(), source })?;
        // DirEntry::file_type does not follow symlinks: a link to a directory is not descended.
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && entry.file_name() != ".git" {
            subdirs.push(entry.file_name());
        }
    }
    subdirs.sort();
    for name in subdirs {
        collect_ignore_files(root, &relative.join(name), out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excluded(filter: &SourceIgnore, path: &str) -> bool {
        let is_dir = path.ends_with('/');
        filter.is_excluded(Path::new(path.trim_end_matches('/')), is_dir)
    }

    #[test]
    fn defaults_exclude_vcs_ci_images_and_archives() {
        let filter = SourceIgnore::from_patterns(None).unwrap();
        for path in [
            ".git/",
            ".gitignore",
            "sub/.gitattributes",
            ".github/",
            "logo.png",
            "docs/img/a.jpeg",
            "release.tar.gz",
            "bundle.zip",
            ".travis.yml",
            "deep/dir/.sops.yaml",
            ".flux.yaml",
        ] {
            assert!(excluded(&filter, path), "{path} should be excluded");
        }
        for path in ["apps/", "apps/deploy.yaml", "README.md", "travis.yml", "github/", "kustomization.yaml"] {
            assert!(!excluded(&filter, path), "{path} should be kept");
        }
    }

    #[test]
    fn spec_ignore_replaces_the_defaults_but_not_vcs() {
        let filter = SourceIgnore::from_patterns(Some("# comment\n/*\n!/deploy\n\n*.md\n")).unwrap();
        assert!(excluded(&filter, ".git/"));
        assert!(excluded(&filter, "apps/"));
        assert!(excluded(&filter, "README.md"));
        assert!(!excluded(&filter, "deploy/"));
        assert!(!excluded(&filter, "deploy/logo.png"), "the image default is replaced");
        assert!(excluded(&filter, "deploy/notes.md"));
    }

    #[test]
    fn sourceignore_files_are_scoped_to_their_directory() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("apps/secret")).unwrap();
        std::fs::create_dir_all(root.join("other")).unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(root.join(".sourceignore"), "*.txt\n").unwrap();
        std::fs::write(root.join("apps/.sourceignore"), "/secret/\n!keep.txt\n").unwrap();
        std::fs::write(root.join(".git/.sourceignore"), "*\n").unwrap();
        let filter = SourceIgnore::load(root, Some("other/drop.yaml")).unwrap();
        assert!(excluded(&filter, "notes.txt"));
        assert!(excluded(&filter, "apps/secret/"));
        assert!(!excluded(&filter, "other/secret/"), "apps' anchored pattern stays in apps");
        assert!(!excluded(&filter, "apps/keep.txt"), "the deeper file re-includes");
        assert!(excluded(&filter, "other/keep.txt"));
        assert!(excluded(&filter, "other/drop.yaml"));
        assert!(!excluded(&filter, "other/stay.yaml"));
        assert!(!excluded(&filter, "logo.png"), "patterns in the tree replace the defaults");
        assert!(excluded(&filter, ".git/"));
    }
}
