//! Garbage collection of an object's old artifacts, with Flux's rules (`storage/gc.go`):
//! - the artifacts are the regular files in the current artifact's directory, except symlinks
//!   (HelmRepository's `index.yaml`), `.lock` files and our hidden temp files;
//! - the current artifact is never deleted;
//! - the others older than the TTL are deleted;
//! - then, while more than `records` artifacts remain, the oldest others are deleted too.
//!
//! A deleted artifact's `<file>.lock`, if any, goes with it.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::{Retention, StorageError};

/// Flux's walk limit: a directory with more files than this is not collected in one go.
const WALK_LIMIT: usize = 1000;

pub fn collect(current: &Path, retention: Retention, now: SystemTime) -> Result<Vec<PathBuf>, StorageError> {
    let Some(dir) = current.parent() else { return Ok(Vec::new()) };
    let garbage = garbage(dir, current, retention, now)?;
    let mut deleted = Vec::with_capacity(garbage.len());
    for path in garbage {
        fs::remove_file(&path).map_err(StorageError::io("deleting", &path))?;
        let mut lock = path.clone().into_os_string();
        lock.push(".lock");
        let lock = PathBuf::from(lock);
        if fs::symlink_metadata(&lock).is_ok() {
            fs::remove_file(&lock).map_err(StorageError::io("deleting", &lock))?;
        }
        deleted.push(path);
    }
    Ok(deleted)
}

fn garbage(dir: &Path, current: &Path, retention: Retention, now: SystemTime) -> Result<Vec<PathBuf>, StorageError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(StorageError::Io { action: "listing", path: dir.to_path_buf(), source: error }),
    };
    let mut artifacts = Vec::new();
    for entry in entries.take(WALK_LIMIT) {
        let entry = entry.map_err(StorageError::io("listing", dir))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name.ends_with(".lock") {
            continue;
        }
        // DirEntry::metadata does not follow symlinks.
        let metadata = entry.metadata().map_err(StorageError::io("reading", &entry.path()))?;
        if !metadata.file_type().is_file() {
            continue;
        }
        let modified = metadata.modified().map_err(StorageError::io("reading", &entry.path()))?;
        artifacts.push((modified, entry.path()));
    }
    // Oldest first; the name breaks ties so the choice is stable.
    artifacts.sort();

    let (mut garbage, mut kept) = (Vec::new(), Vec::new());
    for (modified, path) in artifacts {
        let expired = now.duration_since(modified).is_ok_and(|age| age > retention.ttl);
        if path != current && expired { garbage.push(path) } else { kept.push(path) }
    }
    let mut remaining = kept.len();
    for path in kept {
        if remaining <= retention.records {
            break;
        }
        if path != current {
            garbage.push(path);
            remaining -= 1;
        }
    }
    Ok(garbage)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;
    use std::time::Duration;

    fn file(dir: &Path, name: &str, age: Duration, now: SystemTime) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, name).unwrap();
        File::options().append(true).open(&path).unwrap().set_modified(now - age).unwrap();
        path
    }

    fn names(paths: &[PathBuf]) -> Vec<String> {
        let mut names: Vec<String> =
            paths.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn keeps_the_current_and_the_newest_and_deletes_the_expired() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let now = SystemTime::now();
        let min = Duration::from_secs(60);
        // The current artifact is the oldest and expired: still kept.
        let current = file(d, "current.tar.gz", min * 10, now);
        file(d, "expired1.tar.gz", min * 5, now);
        file(d, "expired2.tar.gz", min * 4, now);
        file(d, "expired2.tar.gz.lock", min * 4, now);
        file(d, "fresh1.tar.gz", Duration::from_secs(3), now);
        file(d, "fresh2.tar.gz", Duration::from_secs(2), now);
        file(d, "fresh3.tar.gz", Duration::from_secs(1), now);
        file(d, ".current.tar.gz.123.tmp", min * 10, now);
        std::os::unix::fs::symlink("fresh3.tar.gz", d.join("index.yaml")).unwrap();

        let retention = Retention { ttl: min, records: 3 };
        let deleted = collect(&current, retention, now).unwrap();
        assert_eq!(names(&deleted), ["expired1.tar.gz", "expired2.tar.gz", "fresh1.tar.gz"]);
        let mut left: Vec<String> =
            fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        left.sort();
        assert_eq!(left, [".current.tar.gz.123.tmp", "current.tar.gz", "fresh2.tar.gz", "fresh3.tar.gz", "index.yaml"]);

        // Nothing more to do.
        assert!(collect(&current, retention, now).unwrap().is_empty());
    }

    #[test]
    fn young_artifacts_within_the_count_stay() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        file(dir.path(), "old.tar.gz", Duration::from_secs(10), now);
        let current = file(dir.path(), "new.tar.gz", Duration::from_secs(1), now);
        let retention = Retention { ttl: Duration::from_secs(60), records: 2 };
        assert!(collect(&current, retention, now).unwrap().is_empty());
        // With one record only the current one stays.
        let retention = Retention { ttl: Duration::from_secs(60), records: 1 };
        assert_eq!(names(&collect(&current, retention, now).unwrap()), ["old.tar.gz"]);
    }

    #[test]
    fn a_missing_directory_is_nothing_to_collect() {
        let dir = tempfile::tempdir().unwrap();
        let current = dir.path().join("gone/current.tar.gz");
        assert!(collect(&current, Retention::default(), SystemTime::now()).unwrap().is_empty());
    }
}
