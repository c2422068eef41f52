//! The deterministic tarball Flux's storage builds from a directory (`storage/archive.go`), so
//! that the digest depends on the content only:
//! - a sorted walk from the root (the root itself is the entry `.`); names relative to the root;
//! - directories and regular files only: symlinks, devices, sockets and FIFOs are skipped;
//! - uid/gid 0, empty user and group names, zero times;
//! - modes 0750 for directories, 0700 for files with any executable bit, 0600 for other files;
//! - gzip with a zero header time.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

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

/// Writes `dir` as a tar.gz to `out` and returns `out` once the gzip stream is complete.
pub fn write_tar_gz<W: Write>(dir: &Path, filter: &dyn ArchiveFilter, out: W) -> io::Result<W> {
    let gzip = GzBuilder::new().mtime(0).write(out, Compression::default());
    let mut tar = Builder::new(gzip);
    tar.append_data(&mut header(EntryType::Directory, DIR_MODE, 0), ".", io::empty())?;
    append_children(&mut tar, dir, Path::new(""), filter)?;
    tar.into_inner()?.finish()
}

fn append_children<W: Write>(
    tar: &mut Builder<W>,
    root: &Path,
    relative_dir: &Path,
    filter: &dyn ArchiveFilter,
) -> io::Result<()> {
    let dir = root.join(relative_dir);
    let mut names = fs::read_dir(&dir)
        .and_then(|entries| entries.map(|entry| entry.map(|e| e.file_name())).collect::<io::Result<Vec<_>>>())
        .map_err(at(&dir))?;
    // Byte order, as Go's filepath.Walk.
    names.sort();
    for name in names {
        let relative = relative_dir.join(&name);
        let full = root.join(&relative);
        let metadata = fs::symlink_metadata(&full).map_err(at(&full))?;
        let kind = metadata.file_type();
        if kind.is_dir() {
            if filter.exclude(&relative, true) {
                continue;
            }
            tar.append_data(&mut header(EntryType::Directory, DIR_MODE, 0), &relative, io::empty())?;
            append_children(tar, root, &relative, filter)?;
        } else if kind.is_file() {
            if filter.exclude(&relative, false) {
                continue;
            }
            let mode = if metadata.permissions().mode() & 0o111 != 0 { EXE_FILE_MODE } else { FILE_MODE };
            let file = File::open(&full).map_err(at(&full))?;
            // The length read at open time; a file that shrinks meanwhile is an error, one that
            // grows is cut, so the header always matches the data.
            let size = file.metadata().map_err(at(&full))?.len();
            let data = Exact { inner: file.take(size), remaining: size, path: &full };
            tar.append_data(&mut header(EntryType::Regular, mode, size), &relative, data).map_err(at(&full))?;
        }
        // Symlinks and other non-regular files are skipped, as Flux does.
    }
    Ok(())
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
        symlink("/etc/passwd", root.join("a/link")).unwrap();
        symlink("one.yaml", root.join("a/inside-link")).unwrap();
        let long = "l".repeat(120);
        fs::write(root.join(&long), "long name\n").unwrap();
        dir
    }

    fn build(dir: &Path, filter: &dyn ArchiveFilter) -> Vec<u8> {
        write_tar_gz(dir, filter, Vec::new()).unwrap()
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
}
