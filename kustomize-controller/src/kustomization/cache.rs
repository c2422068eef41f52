//! Extracted artifacts, once per digest and shared by every Kustomization that uses them: a
//! monorepo's commit is downloaded and unpacked once, not once per Kustomization. Entries are
//! read-only to builds and removed when unused for a while.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use weir_runtime::artifact::{ArtifactFetcher, FetchError};

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("artifact cache {path}: {source}")]
    Io { path: String, source: std::io::Error },
}

impl CacheError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, CacheError::Fetch(e) if e.is_not_found())
    }
}

pub struct ArtifactCache {
    root: PathBuf,
    fetcher: ArtifactFetcher,
    ttl: Duration,
    last_used: Mutex<HashMap<String, Instant>>,
}

/// A file-name-safe key for a digest (`sha256:abc` → `sha256-abc`).
pub fn key(digest: &str) -> String {
    digest.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect()
}

impl ArtifactCache {
    /// A cache in a fresh directory under `parent`, so that nothing of another process is reused.
    pub fn new(parent: &Path, fetcher: ArtifactFetcher, ttl: Duration) -> Result<Self, CacheError> {
        let root = parent.join(format!("weir-kustomize-artifacts-{}", std::process::id()));
        if root.exists() {
            let _ = std::fs::remove_dir_all(&root);
        }
        std::fs::create_dir_all(&root).map_err(|source| CacheError::Io { path: root.display().to_string(), source })?;
        Ok(ArtifactCache { root, fetcher, ttl, last_used: Mutex::new(HashMap::new()) })
    }

    fn touch(&self, key: &str) {
        let mut used = self.last_used.lock().unwrap_or_else(|p| p.into_inner());
        used.insert(key.to_string(), Instant::now());
    }

    /// The directory the artifact is extracted in: downloaded, verified against `digest` and
    /// unpacked on first use, reused after.
    pub async fn extracted(&self, url: &str, digest: &str) -> Result<PathBuf, CacheError> {
        let key = key(digest);
        let dir = self.root.join(&key);
        self.touch(&key);
        if dir.is_dir() {
            return Ok(dir);
        }
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| CacheError::Io { path, source }
        };
        let partial = tempfile::Builder::new().prefix(".partial-").tempdir_in(&self.root).map_err(io(&self.root))?;
        let unpacked = partial.path().join("artifact");
        self.fetcher.fetch(url, digest, &unpacked).await?;
        // Another reconcile may have finished the same digest first: theirs is as good.
        if let Err(error) = std::fs::rename(&unpacked, &dir)
            && !dir.is_dir()
        {
            return Err(io(&dir)(error));
        }
        Ok(dir)
    }

    /// Forgets the entries not used for the cache's time to live and returns their directories,
    /// to be removed off the async runtime.
    pub fn expired(&self) -> Vec<PathBuf> {
        let mut used = self.last_used.lock().unwrap_or_else(|p| p.into_inner());
        let stale: Vec<String> = used.iter().filter(|(_, t)| t.elapsed() > self.ttl).map(|(k, _)| k.clone()).collect();
        stale
            .into_iter()
            .map(|key| {
                used.remove(&key);
                self.root.join(key)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unused_entries_expire() {
        let parent = tempfile::tempdir().unwrap();
        let fetcher = ArtifactFetcher::new(Default::default()).unwrap();
        let cache = ArtifactCache::new(parent.path(), fetcher, Duration::ZERO).unwrap();
        cache.touch("sha256-a");
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(cache.expired(), [cache.root.join("sha256-a")]);
        assert!(cache.expired().is_empty());
    }

    #[test]
    fn keys_are_file_names() {
        assert_eq!(key("sha256:0a1b"), "sha256-0a1b");
        assert_eq!(key("../x"), "---x");
    }
}
