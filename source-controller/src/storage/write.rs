//! Atomic artifact writes: bytes go to a hidden temp file in the destination's directory while
//! their sha256 and length are computed, then fsync, `0600` and rename over the destination.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use sha2::{Digest, Sha256};
use tempfile::TempPath;

use super::StorageError;

/// What was written: `sha256:<hex>` and the byte count.
pub struct Written {
    pub digest: String,
    pub size: u64,
}

/// A temp file being written; removed when dropped without [`persist`](Self::persist).
pub struct AtomicFile {
    file: BufWriter<File>,
    path: TempPath,
    hasher: Sha256,
    size: u64,
}

impl AtomicFile {
    /// A temp file beside `dest`, so that the final rename stays on one filesystem. Its name
    /// starts with a dot: garbage collection and the file server ignore such files.
    pub fn create_next_to(dest: &Path) -> Result<Self, StorageError> {
        let dir = dest.parent().unwrap_or(Path::new("."));
        let prefix = format!(".{}.", dest.file_name().and_then(|n| n.to_str()).unwrap_or("artifact"));
        let temp = tempfile::Builder::new()
            .prefix(&prefix)
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(StorageError::io("creating a temp file in", dir))?;
        let (file, path) = temp.into_parts();
        Ok(AtomicFile { file: BufWriter::with_capacity(64 * 1024, file), path, hasher: Sha256::new(), size: 0 })
    }

    /// Flushes and syncs the file, then renames it to `dest` and syncs the directory.
    pub fn persist(self, dest: &Path) -> Result<Written, StorageError> {
        let file = self.file.into_inner().map_err(|e| StorageError::Io {
            action: "writing",
            path: dest.to_path_buf(),
            source: e.into_error(),
        })?;
        file.sync_all().map_err(StorageError::io("syncing", dest))?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(StorageError::io("chmod", dest))?;
        drop(file);
        self.path.persist(dest).map_err(|e| StorageError::Io {
            action: "renaming the temp file to",
            path: dest.to_path_buf(),
            source: e.error,
        })?;
        if let Some(dir) = dest.parent() {
            // Best effort: the rename itself is durable once the directory is.
            let _ = File::open(dir).and_then(|d| d.sync_all());
        }
        Ok(Written { digest: format!("sha256:{:x}", self.hasher.finalize()), size: self.size })
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_abandoned_write_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("a.tar.gz");
        let mut file = AtomicFile::create_next_to(&dest).unwrap();
        file.write_all(b"partial").unwrap();
        drop(file);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn persisted_files_are_0600() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("a.tar.gz");
        let mut file = AtomicFile::create_next_to(&dest).unwrap();
        file.write_all(b"x").unwrap();
        let written = file.persist(&dest).unwrap();
        assert_eq!(written.size, 1);
        let mode = std::fs::metadata(&dest).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
