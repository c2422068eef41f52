//! The one bare repository per process that `ls_remote` connects through. gix lists a remote's
//! refs only from a repository (which holds the remote's configuration); creating one per call
//! wrote some 25 files and directories (hook templates, config, the filesystem probe) on every
//! reconcile, most of the no-change pass's time. Listing refs writes nothing into it, so
//! concurrent reconciles share it: each thread opens it once and hands out clones.

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::Mutex;

/// The directory of the shared repository, created on first use; a failed creation (say, a
/// full disk) is retried on the next call rather than remembered. Removed by [`remove`] when
/// the process stops.
static SCRATCH: Mutex<Option<tempfile::TempDir>> = Mutex::new(None);

thread_local! {
    // gix's handles are not `Send` (gix is built without its `parallel` feature): one per thread.
    static OPENED: RefCell<Option<gix::Repository>> = const { RefCell::new(None) };
}

/// A handle on the process's scratch repository. The handle's configuration is its own copy:
/// callers may change it in memory without affecting others.
pub fn repository() -> Result<gix::Repository, String> {
    OPENED.with_borrow_mut(|opened| {
        if let Some(repo) = opened.as_ref() {
            return Ok(repo.clone());
        }
        let path = directory()?;
        let options = {
            use gix::sec::trust::DefaultForLevel;
            gix::open::Options::default_for_level(gix::sec::Trust::Full)
        };
        let repo = gix::open_opts(&path, options)
            .map_err(|e| format!("opening the scratch repository {}: {e}", path.display()))?;
        *opened = Some(repo.clone());
        Ok(repo)
    })
}

/// Deletes the shared repository; called once the controllers have stopped. A later
/// `repository()` would create a new one, but handles opened before keep the old path.
pub fn remove() {
    let mut slot = SCRATCH.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    // Dropping the TempDir deletes the directory.
    slot.take();
}

/// The shared repository's directory, created (as `gix::init_bare` does) on first use.
fn directory() -> Result<PathBuf, String> {
    let mut slot = SCRATCH.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(dir) = slot.as_ref() {
        return Ok(dir.path().to_path_buf());
    }
    let dir = tempfile::Builder::new()
        .prefix("weir-git-scratch-")
        .tempdir()
        .map_err(|e| format!("creating the scratch repository's directory: {e}"))?;
    gix::init_bare(dir.path())
        .map_err(|e| format!("creating the scratch repository in {}: {e}", dir.path().display()))?;
    let path = dir.path().to_path_buf();
    *slot = Some(dir);
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_thread_shares_one_repository() {
        let first = repository().unwrap();
        let again = repository().unwrap();
        let other = std::thread::spawn(|| repository().unwrap().git_dir().to_path_buf()).join().unwrap();
        assert_eq!(first.git_dir(), again.git_dir());
        assert_eq!(first.git_dir(), other);
        assert!(first.git_dir().join("HEAD").is_file());
    }
}
