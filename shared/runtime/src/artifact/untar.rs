//! Safe extraction of an artifact tarball into a new, empty directory:
//! - paths must stay inside: absolute paths and `..` are refused;
//! - symlinks and hard links are skipped (as Flux's consumers do), devices and FIFOs refused;
//! - the total size and the number of entries are capped;
//! - only contents and the executable bit survive: files become 0644 or 0755, directories
//!   0755, owners and times are those of the extracting process.
//!
//! Blocking: call it from `spawn_blocking`.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

use flate2::read::MultiGzDecoder;
use tar::EntryType;

/// What an extraction may produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UntarLimits {
    /// Bytes of file content, in total.
    pub max_size: u64,
    /// Files and directories, in total.
    pub max_files: u64,
}

impl Default for UntarLimits {
    /// 100 MiB, as Flux's `tar.Untar` default; 100 000 entries.
    fn default() -> Self {
        UntarLimits { max_size: 100 << 20, max_files: 100_000 }
    }
}

/// What an extraction produced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UntarSummary {
    pub files: u64,
    pub dirs: u64,
    pub bytes: u64,
    /// Symlinks and hard links left out.
    pub skipped_links: u64,
}

/// Why an archive was refused or could not be extracted.
#[derive(Debug, thiserror::Error)]
pub enum UntarError {
    #[error("reading the archive: {0}")]
    Read(#[source] io::Error),
    #[error("refusing the archive entry {path:?}: {reason}")]
    UnsafePath { path: String, reason: &'static str },
    #[error("refusing the archive entry {path:?}: {kind} entries are not allowed")]
    Forbidden { path: String, kind: &'static str },
    #[error("the archive expands to more than {limit} bytes (the untar size limit)")]
    TooLarge { limit: u64 },
    #[error("the archive has more than {limit} files and directories (the untar file count limit)")]
    TooManyFiles { limit: u64 },
    #[error("writing {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
}

/// Extracts the tar.gz `reader` into `dest`, which should be a new, empty directory.
pub fn untar_gz(reader: impl Read, dest: &Path, limits: UntarLimits) -> Result<UntarSummary, UntarError> {
    let mut archive = tar::Archive::new(MultiGzDecoder::new(reader));
    let mut summary = UntarSummary::default();
    for entry in archive.entries().map_err(UntarError::Read)? {
        let mut entry = entry.map_err(UntarError::Read)?;
        let raw = entry.path_bytes().into_owned();
        let name = String::from_utf8_lossy(&raw).into_owned();
        let kind = entry.header().entry_type();
        match kind {
            EntryType::Symlink | EntryType::Link => {
                summary.skipped_links += 1;
                continue;
            }
            // Metadata records the tar reader has already applied, or global ones we ignore.
            EntryType::XGlobalHeader | EntryType::XHeader | EntryType::GNULongName | EntryType::GNULongLink => {
                continue;
            }
            EntryType::Char | EntryType::Block => return Err(UntarError::Forbidden { path: name, kind: "device" }),
            EntryType::Fifo => return Err(UntarError::Forbidden { path: name, kind: "FIFO" }),
            EntryType::Regular | EntryType::Continuous | EntryType::Directory => {}
            _ => return Err(UntarError::Forbidden { path: name, kind: "special" }),
        }
        let relative = safe_relative(&raw, &name)?;
        if relative.as_os_str().is_empty() {
            continue; // `.`: the destination itself
        }
        if summary.files + summary.dirs >= limits.max_files {
            return Err(UntarError::TooManyFiles { limit: limits.max_files });
        }
        let path = dest.join(&relative);
        if kind == EntryType::Directory {
            create_dir(&path)?;
            summary.dirs += 1;
            continue;
        }
        let size = entry.header().size().map_err(UntarError::Read)?;
        if summary.bytes.saturating_add(size) > limits.max_size {
            return Err(UntarError::TooLarge { limit: limits.max_size });
        }
        let executable = entry.header().mode().map_err(UntarError::Read)? & 0o111 != 0;
        if let Some(parent) = path.parent() {
            create_dir(parent)?;
        }
        let written = write_file(&mut entry, &path, limits.max_size - summary.bytes, limits.max_size)?;
        let mode = if executable { 0o755 } else { 0o644 };
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).map_err(write_error(&path))?;
        summary.bytes += written;
        summary.files += 1;
    }
    Ok(summary)
}

/// The entry's path relative to the destination, refusing anything that would leave it.
fn safe_relative(raw: &[u8], name: &str) -> Result<PathBuf, UntarError> {
    let unsafe_path = |reason| UntarError::UnsafePath { path: name.to_string(), reason };
    if raw.contains(&0) {
        return Err(unsafe_path("the name contains NUL"));
    }
    let path = Path::new(std::ffi::OsStr::from_bytes(raw));
    let mut relative = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => relative.push(part),
            Component::CurDir => {}
            Component::ParentDir => return Err(unsafe_path("the path contains `..`")),
            Component::RootDir | Component::Prefix(_) => return Err(unsafe_path("the path is absolute")),
        }
    }
    Ok(relative)
}

fn create_dir(path: &Path) -> Result<(), UntarError> {
    fs::create_dir_all(path).map_err(write_error(path))?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).map_err(write_error(path))
}

/// Copies at most `budget` bytes; more is the size limit's error. (The tar reader already stops
/// at the size in the header, which was checked: this is a second line of defence.)
fn write_file(entry: &mut impl Read, path: &Path, budget: u64, limit: u64) -> Result<u64, UntarError> {
    let mut file = File::create(path).map_err(write_error(path))?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut written = 0u64;
    loop {
        let n = entry.read(&mut buf).map_err(UntarError::Read)?;
        if n == 0 {
            break;
        }
        written += n as u64;
        if written > budget {
            return Err(UntarError::TooLarge { limit });
        }
        file.write_all(&buf[..n]).map_err(write_error(path))?;
    }
    file.flush().map_err(write_error(path))?;
    Ok(written)
}

fn write_error(path: &Path) -> impl FnOnce(io::Error) -> UntarError + '_ {
    move |source| UntarError::Write { path: path.to_path_buf(), source }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use tar::Header;

    /// A raw entry: the name is written as is, without the tar crate's path checks.
    fn entry(name: &str, kind: EntryType, mode: u32, data: &[u8]) -> (Header, Vec<u8>) {
        let mut header = Header::new_gnu();
        header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_size(data.len() as u64);
        if kind == EntryType::Symlink || kind == EntryType::Link {
            header.set_link_name("/etc/passwd").unwrap();
        }
        header.set_cksum();
        (header, data.to_vec())
    }

    fn tar_gz(entries: &[(Header, Vec<u8>)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::default()));
        for (header, data) in entries {
            builder.append(header, &data[..]).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    fn untar(bytes: &[u8], limits: UntarLimits) -> (tempfile::TempDir, Result<UntarSummary, UntarError>) {
        let dest = tempfile::tempdir().unwrap();
        let result = untar_gz(bytes, dest.path(), limits);
        (dest, result)
    }

    #[test]
    fn extracts_contents_and_the_executable_bit_only() {
        let bytes = tar_gz(&[
            entry(".", EntryType::Directory, 0o750, b""),
            entry("dir", EntryType::Directory, 0o700, b""),
            entry("dir/run.sh", EntryType::Regular, 0o700, b"#!/bin/sh\n"),
            entry("./dir/data.yaml", EntryType::Regular, 0o4777 & !0o111, b"a: 1\n"),
            entry("implicit/parent.txt", EntryType::Regular, 0o600, b"x"),
            entry("link", EntryType::Symlink, 0o777, b""),
            entry("hard", EntryType::Link, 0o777, b""),
        ]);
        let (dest, result) = untar(&bytes, UntarLimits::default());
        let summary = result.unwrap();
        assert_eq!(summary, UntarSummary { files: 3, dirs: 1, bytes: 16, skipped_links: 2 });
        let d = dest.path();
        let mode = |p: &str| fs::metadata(d.join(p)).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode("dir"), 0o755);
        assert_eq!(mode("dir/run.sh"), 0o755);
        assert_eq!(mode("dir/data.yaml"), 0o644);
        assert_eq!(fs::read(d.join("dir/data.yaml")).unwrap(), b"a: 1\n");
        assert_eq!(fs::read(d.join("implicit/parent.txt")).unwrap(), b"x");
        assert!(fs::symlink_metadata(d.join("link")).is_err());
        assert!(fs::symlink_metadata(d.join("hard")).is_err());
    }

    #[test]
    fn refuses_paths_that_leave_the_destination() {
        for name in ["../evil", "a/../../evil", "/etc/evil", "a/b/../../../evil"] {
            let bytes = tar_gz(&[entry(name, EntryType::Regular, 0o644, b"x")]);
            let (dest, result) = untar(&bytes, UntarLimits::default());
            let error = result.unwrap_err();
            assert!(matches!(error, UntarError::UnsafePath { .. }), "{name}: {error}");
            assert!(error.to_string().contains(name), "{error}");
            assert!(!dest.path().parent().unwrap().join("evil").exists());
        }
    }

    #[test]
    fn refuses_devices_and_fifos() {
        for kind in [EntryType::Char, EntryType::Block, EntryType::Fifo] {
            let bytes = tar_gz(&[entry("dev", kind, 0o644, b"")]);
            let error = untar(&bytes, UntarLimits::default()).1.unwrap_err();
            assert!(matches!(error, UntarError::Forbidden { .. }), "{error}");
        }
    }

    #[test]
    fn caps_size_and_count() {
        let big = vec![7u8; 2048];
        let bytes = tar_gz(&[entry("a", EntryType::Regular, 0o644, &big), entry("b", EntryType::Regular, 0o644, &big)]);
        let error = untar(&bytes, UntarLimits { max_size: 3000, max_files: 10 }).1.unwrap_err();
        assert!(matches!(error, UntarError::TooLarge { limit: 3000 }), "{error}");
        assert!(error.to_string().contains("size limit"), "{error}");

        let error = untar(&bytes, UntarLimits { max_size: 1 << 20, max_files: 1 }).1.unwrap_err();
        assert!(matches!(error, UntarError::TooManyFiles { limit: 1 }), "{error}");
        assert!(error.to_string().contains("file count limit"), "{error}");

        assert!(untar(&bytes, UntarLimits { max_size: 4096, max_files: 2 }).1.is_ok());
    }

    #[test]
    fn a_corrupt_archive_is_a_read_error() {
        let error = untar(b"not gzip at all", UntarLimits::default()).1.unwrap_err();
        assert!(matches!(error, UntarError::Read(_)), "{error}");
    }
}
