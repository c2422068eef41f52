//! The deterministic tarball Flux's storage builds from a directory (`storage/archive.go`), so
//! that the digest depends on the content only:
//! - a sorted walk from the root (the root itself is the entry `.`); names relative to the root;
//! - directories and regular files only: symlinks, devices, sockets and FIFOs are skipped;
//!   a symlink that points outside the tree is refused (Flux skips it silently);
//! - uid/gid 0, empty user and group names, zero times;
//! - modes 0750 for directories, 0700 for files with any executable bit, 0600 for other files;
//! - gzip with a zero header time.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path};

use flate2::{Compression, GzBuilder};
use tar::{Builder, EntryType, Header};

pub const DIR_MODE: u32 = 0o750;
pub const EXE_FILE_MODE: u32 = 0o700;
pub const FILE_MODE: u32 = 0o600;

/// Decides what stays out of an archive: `exclude` gets each path relative to the root (with
/// `/` separators) and whether it is a directory. An excluded directory is not descended into,
/// as in gitignore, where a file below an excluded directory cannot be re-included.
pub trait ArchiveFilter: Sync {
    fn exclude(&self, relative: &Path, is_dir: bool) -> bool;
}

impl<F: Fn(&Path, bool) -> bool + Sync> ArchiveFilter for F {
    fn exclude(&self, relative: &Path, is_dir: bool) -> bool {
        self(relative, is_dir)
    }
}

/// Keeps everything.
pub struct NoFilter;

impl ArchiveFilter for NoFilter {
    fn exclude(&self, _: &Path, _: bool) -> bool {
        false
    }
}

/// Content an archive refuses, named by its path in the tree.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    #[error("symlink '{path}' points outside the tree, to '{target}'")]
    SymlinkOutside { path: String, target: String },
    #[error(
        "the content is larger than the limit of {} (--artifact-max-size): '{path}' brings it to {}",
        human_size(*limit),
        human_size(*total)
    )]
    TooLarge { limit: u64, path: String, total: u64 },
}

/// Why an archive could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error(transparent)]
    Io(#[from] io::Error),
    #[error(transparent)]
    Content(#[from] ContentError),
}

/// Writes `dir` as a tar.gz to `out` and returns `out` once the gzip stream is complete.
/// `max_size` bounds the bytes of file content taken in, when set.
pub fn write_tar_gz<W: Write>(
    dir: &Path,
    filter: &dyn ArchiveFilter,
    max_size: Option<u64>,
    out: W,
) -> Result<W, ArchiveError> {
    let gzip = GzBuilder::new().mtime(0).write(out, Compression::default());
    let mut tar = Builder::new(gzip);
    tar.append_data(&mut header(EntryType::Directory, DIR_MODE, 0), ".", io::empty())?;
    let mut walk = Walk { root: dir, filter, max_size, total: 0 };
    walk.append_children(&mut tar, Path::new(""))?;
    Ok(tar.into_inner()?.finish()?)
}

/// One archive's walk of its tree.
struct Walk<'a> {
    root: &'a Path,
    filter: &'a dyn ArchiveFilter,
    max_size: Option<u64>,
    /// Bytes of file content taken in so far.
    total: u64,
}

impl Walk<'_> {
    fn append_children<W: Write>(&mut self, tar: &mut Builder<W>, relative_dir: &Path) -> Result<(), ArchiveError> {
        let dir = self.root.join(relative_dir);
        let mut names = fs::read_dir(&dir)
            .and_then(|entries| entries.map(|entry| entry.map(|e| e.file_name())).collect::<io::Result<Vec<_>>>())
            .map_err(at(&dir))?;
        // Byte order, as Go's filepath.Walk.
        names.sort();
        for name in names {
            let relative = relative_dir.join(&name);
            let full = self.root.join(&relative);
            let metadata = fs::symlink_metadata(&full).map_err(at(&full))?;
            let kind = metadata.file_type();
            if kind.is_dir() {
                if self.filter.exclude(&relative, true) {
                    continue;
                }
                tar.append_data(&mut header(EntryType::Directory, DIR_MODE, 0), &relative, io::empty())?;
                self.append_children(tar, &relative)?;
            } else if kind.is_file() {
                if self.filter.exclude(&relative, false) {
                    continue;
                }
                let mode = if metadata.permissions().mode() & 0o111 != 0 { EXE_FILE_MODE } else { FILE_MODE };
                let file = File::open(&full).map_err(at(&full))?;
                // The length read at open time; a file that shrinks meanwhile is an error, one
                // that grows is cut, so the header always matches the data.
                let size = file.metadata().map_err(at(&full))?.len();
                self.count(&relative, size)?;
                let data = Exact { inner: file.take(size), remaining: size, path: &full };
                tar.append_data(&mut header(EntryType::Regular, mode, size), &relative, data).map_err(at(&full))?;
            } else if kind.is_symlink() && !self.filter.exclude(&relative, false) {
                // Skipped, as Flux does, unless it leads out of the tree: a repository that
                // reaches for the controller's own files is refused, not quietly trimmed.
                let target = fs::read_link(&full).map_err(at(&full))?;
                if points_outside(&relative, &target) {
                    return Err(ContentError::SymlinkOutside {
                        path: relative.display().to_string(),
                        target: target.display().to_string(),
                    }
                    .into());
                }
            }
            // Other non-regular files are skipped, as Flux does.
        }
        Ok(())
    }

    fn count(&mut self, relative: &Path, size: u64) -> Result<(), ContentError> {
        self.total = self.total.saturating_add(size);
        match self.max_size {
            Some(limit) if self.total > limit => {
                Err(ContentError::TooLarge { limit, path: relative.display().to_string(), total: self.total })
            }
            _ => Ok(()),
        }
    }
}

/// Whether the symlink at `link` (relative to the root) resolves outside the root, judged on
/// the names alone: an absolute target, or more `..` than there are directories above it.
fn points_outside(link: &Path, target: &Path) -> bool {
    let mut depth = link.components().count().saturating_sub(1);
    for component in target.components() {
        match component {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => match depth.checked_sub(1) {
                Some(up) => depth = up,
                None => return true,
            },
            Component::RootDir | Component::Prefix(_) => return true,
        }
    }
    false
}

/// `1.5 GiB`, `100 MiB`, `512 B`: sizes as a person reads them.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    let text = format!("{value:.1}");
    format!("{} {}", text.strip_suffix(".0").unwrap_or(&text), UNITS[unit])
}

/// Names the file in an IO error, so that the storage error says which one failed.
fn at(path: &Path) -> impl FnOnce(io::Error) -> io::Error + '_ {
    move |error| io::Error::new(error.kind(), format!("{}: {error}", path.display()))
}

fn header(kind: EntryType, mode: u32, size: u64) -> Header {
    // GNU headers: names over 100 bytes get a `././@LongLink` entry, which every tar reads.
    let mut header = Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_size(size);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header
}

/// A reader that fails when it ends before `remaining` bytes.
struct Exact<'a, R> {
    inner: R,
    remaining: u64,
    path: &'a Path,
}

impl<R: Read> Read for Exact<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && self.remaining > 0 && !buf.is_empty() {
            let message = format!("{} shrank while it was archived", self.path.display());
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, message));
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("b/deep")).unwrap();
        fs::create_dir_all(root.join("a")).unwrap();
        fs::write(root.join("z.yaml"), "z: 1\n").unwrap();
        fs::write(root.join("a/one.yaml"), "one\n").unwrap();
        fs::write(root.join("b/deep/run.sh"), "#!/bin/sh\n").unwrap();
        fs::set_permissions(root.join("b/deep/run.sh"), fs::Permissions::from_mode(0o755)).unwrap();
        fs::set_permissions(root.join("z.yaml"), fs::Permissions::from_mode(0o664)).unwrap();
        symlink("one.yaml", root.join("a/inside-link")).unwrap();
        symlink("../b/deep", root.join("a/inside-dir-link")).unwrap();
        let long = "l".repeat(120);
        fs::write(root.join(&long), "long name\n").unwrap();
        dir
    }

    fn build(dir: &Path, filter: &dyn ArchiveFilter) -> Vec<u8> {
        write_tar_gz(dir, filter, None, Vec::new()).unwrap()
    }

    /// (name, type, mode, uid, gid, mtime, uname, gname, content)
    type Row = (String, EntryType, u32, u64, u64, u64, Vec<u8>, Vec<u8>, Vec<u8>);

    fn read_back(bytes: &[u8]) -> Vec<Row> {
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
        archive
            .entries()
            .unwrap()
            .map(|entry| {
                let mut entry = entry.unwrap();
                let name = entry.path().unwrap().to_string_lossy().into_owned();
                let h = entry.header().clone();
                let mut content = Vec::new();
                entry.read_to_end(&mut content).unwrap();
                (
                    name,
                    h.entry_type(),
                    h.mode().unwrap(),
                    h.uid().unwrap(),
                    h.gid().unwrap(),
                    h.mtime().unwrap(),
                    h.username_bytes().unwrap_or_default().to_vec(),
                    h.groupname_bytes().unwrap_or_default().to_vec(),
                    content,
                )
            })
            .collect()
    }

    #[test]
    fn the_same_tree_gives_the_same_bytes() {
        let first = tree();
        let second = tree();
        let a = build(first.path(), &NoFilter);
        // Different times, same content.
        File::options()
            .append(true)
            .open(second.path().join("z.yaml"))
            .unwrap()
            .set_modified(std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(12345))
            .unwrap();
        let b = build(second.path(), &NoFilter);
        assert_eq!(a, b);
        assert_eq!(a, build(first.path(), &NoFilter));
        fs::write(second.path().join("z.yaml"), "z: 2\n").unwrap();
        assert_ne!(a, build(second.path(), &NoFilter));
    }

    #[test]
    fn headers_are_normalized_and_symlinks_skipped() {
        let dir = tree();
        let rows = read_back(&build(dir.path(), &NoFilter));
        let names: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
        let long = "l".repeat(120);
        assert_eq!(names, [".", "a", "a/one.yaml", "b", "b/deep", "b/deep/run.sh", long.as_str(), "z.yaml"]);
        for (name, kind, mode, uid, gid, mtime, uname, gname, content) in &rows {
            assert_eq!((*uid, *gid, *mtime), (0, 0, 0), "{name}");
            assert!(uname.is_empty() && gname.is_empty(), "{name}");
            let expected = match name.as_str() {
                "." | "a" | "b" | "b/deep" => (EntryType::Directory, DIR_MODE),
                "b/deep/run.sh" => (EntryType::Regular, EXE_FILE_MODE),
                _ => (EntryType::Regular, FILE_MODE),
            };
            assert_eq!((*kind, *mode), expected, "{name}");
            if name == "a/one.yaml" {
                assert_eq!(content, b"one\n");
            }
        }
    }

    #[test]
    fn the_filter_is_honoured() {
        let dir = tree();
        let filter = |path: &Path, is_dir: bool| (is_dir && path == Path::new("b")) || path.ends_with("z.yaml");
        let rows = read_back(&build(dir.path(), &filter));
        let names: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
        let long = "l".repeat(120);
        assert_eq!(names, [".", "a", "a/one.yaml", long.as_str()]);
    }

    #[test]
    fn a_symlink_out_of_the_tree_is_refused_unless_ignored() {
        for target in ["/etc/passwd", "../../outside", "../b/../../outside", "./../../x"] {
            let dir = tree();
            symlink(target, dir.path().join("a/escape")).unwrap();
            let error = write_tar_gz(dir.path(), &NoFilter, None, Vec::new()).unwrap_err();
            assert_eq!(error.to_string(), format!("symlink 'a/escape' points outside the tree, to '{target}'"));
            let ignored = |path: &Path, _: bool| path.ends_with("escape");
            assert!(write_tar_gz(dir.path(), &ignored, None, Vec::new()).is_ok(), "{target}");
        }
    }

    #[test]
    fn links_are_judged_by_name() {
        assert!(!points_outside(Path::new("a/link"), Path::new("../b")));
        assert!(!points_outside(Path::new("a/b/link"), Path::new("../../c/./d")));
        assert!(!points_outside(Path::new("a/link"), Path::new("./../x")));
        assert!(points_outside(Path::new("link"), Path::new("..")));
        assert!(points_outside(Path::new("a/link"), Path::new("b/../../..")));
        assert!(points_outside(Path::new("a/link"), Path::new("/a")));
    }

    #[test]
    fn the_size_limit_names_the_file_that_crosses_it() {
        let dir = tree();
        // The tree holds 29 bytes of content; "b/deep/run.sh" (10) comes after "a/one.yaml" (4).
        assert!(write_tar_gz(dir.path(), &NoFilter, Some(29), Vec::new()).is_ok());
        let error = write_tar_gz(dir.path(), &NoFilter, Some(13), Vec::new()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the content is larger than the limit of 13 B (--artifact-max-size): 'b/deep/run.sh' brings it to 14 B"
        );
        assert!(matches!(error, ArchiveError::Content(ContentError::TooLarge { total: 14, .. })));
    }

    #[test]
    fn sizes_read_as_a_person_writes_them() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1024), "1 KiB");
        assert_eq!(human_size(100 << 20), "100 MiB");
        assert_eq!(human_size(3 << 29), "1.5 GiB");
    }
}
