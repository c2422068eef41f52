//! What the controller remembers between reconciles of a Kustomization, in memory:
//! - the health wait in progress and the revision it checks, so that a new source revision
//!   cancels it (the reconcile then ends and the new revision is reconciled at once);
//! - the last built set and what it was built from, so that an unchanged artifact, spec and set
//!   of variables skip the fetch and the build: the apply still runs, and with its server-side
//!   dry-run it is the drift check;
//! - the last successful apply, so that a new revision that builds to the same set can skip it
//!   (see `skip`).

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use weir_apply::Object;
use weir_runtime::CancellationToken;

use super::skip::LastApply;

type Key = (String, String);

/// What a build depends on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildInputs {
    pub artifact_digest: String,
    pub generation: Option<i64>,
    pub variables_hash: u64,
    /// The decryption Secret's `uid/resourceVersion`: rotated keys rebuild.
    pub decryption: Option<String>,
}

impl BuildInputs {
    pub fn new(
        artifact_digest: &str,
        generation: Option<i64>,
        variables: &std::collections::BTreeMap<String, String>,
    ) -> Self {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        variables.hash(&mut hasher);
        BuildInputs {
            artifact_digest: artifact_digest.to_string(),
            generation,
            variables_hash: hasher.finish(),
            decryption: None,
        }
    }

    /// With the version of the keys `spec.decryption` reads.
    pub fn with_decryption(mut self, version: Option<&str>) -> Self {
        self.decryption = version.map(str::to_string);
        self
    }
}

/// A build's output, ready to apply, with the digest recorded in `status.history`. Kept as
/// compact JSON rather than parsed objects: one is remembered per Kustomization for the life of
/// the process, parsed values take several times the memory of their text, and parsing a set
/// back costs microseconds beside the apply's round trips.
#[derive(Clone)]
pub struct BuiltSet {
    json: Arc<[u8]>,
    pub digest: String,
}

impl BuiltSet {
    pub fn new(objects: &[Object], digest: String) -> Result<Self, String> {
        let values: Vec<&serde_json::Value> = objects.iter().map(|o| &o.value).collect();
        let json = serde_json::to_vec(&values).map_err(|e| format!("keeping the built objects: {e}"))?;
        Ok(BuiltSet { json: json.into(), digest })
    }

    /// The objects to apply, parsed again from the kept JSON.
    pub fn objects(&self) -> Result<Vec<Object>, String> {
        let values: Vec<serde_json::Value> =
            serde_json::from_slice(&self.json).map_err(|e| format!("reading the built objects back: {e}"))?;
        values.into_iter().map(|value| Object::new(value).map_err(|e| e.to_string())).collect()
    }
}

#[derive(Default)]
pub struct Runs {
    waits: Mutex<HashMap<Key, (String, CancellationToken)>>,
    built: Mutex<HashMap<Key, (BuildInputs, BuiltSet)>>,
    applied: Mutex<HashMap<Key, LastApply>>,
}

/// Unregisters a health wait when dropped, however the reconcile ends.
pub struct WaitGuard<'a> {
    runs: &'a Runs,
    key: Key,
    pub token: CancellationToken,
}

impl Drop for WaitGuard<'_> {
    fn drop(&mut self) {
        let mut waits = self.runs.waits.lock().unwrap_or_else(|p| p.into_inner());
        if waits.get(&self.key).is_some_and(|(_, t)| t.is_cancelled() || *t == self.token) {
            waits.remove(&self.key);
        }
    }
}

fn key(namespace: &str, name: &str) -> Key {
    (namespace.to_string(), name.to_string())
}

impl Runs {
    /// Registers the health wait of `namespace/name` for `revision`.
    pub fn start_wait(&self, namespace: &str, name: &str, revision: &str) -> WaitGuard<'_> {
        let token = CancellationToken::new();
        let mut waits = self.waits.lock().unwrap_or_else(|p| p.into_inner());
        waits.insert(key(namespace, name), (revision.to_string(), token.clone()));
        WaitGuard { runs: self, key: key(namespace, name), token }
    }

    /// The source of `namespace/name` now serves `revision`: a wait for another one is cancelled.
    /// True when one was.
    pub fn new_revision(&self, namespace: &str, name: &str, revision: &str) -> bool {
        let waits = self.waits.lock().unwrap_or_else(|p| p.into_inner());
        match waits.get(&key(namespace, name)) {
            Some((waiting_for, token)) if waiting_for != revision && !token.is_cancelled() => {
                token.cancel();
                true
            }
            _ => false,
        }
    }

    /// The set built from exactly `inputs` last time, if it was.
    pub fn built(&self, namespace: &str, name: &str, inputs: &BuildInputs) -> Option<BuiltSet> {
        let built = self.built.lock().unwrap_or_else(|p| p.into_inner());
        built.get(&key(namespace, name)).filter(|(i, _)| i == inputs).map(|(_, set)| set.clone())
    }

    pub fn remember_build(&self, namespace: &str, name: &str, inputs: BuildInputs, set: BuiltSet) {
        let mut built = self.built.lock().unwrap_or_else(|p| p.into_inner());
        built.insert(key(namespace, name), (inputs, set));
    }

    pub fn forget(&self, namespace: &str, name: &str) {
        let mut built = self.built.lock().unwrap_or_else(|p| p.into_inner());
        built.remove(&key(namespace, name));
        self.forget_apply(namespace, name);
    }

    /// The last successful apply of `namespace/name`, if it is remembered.
    pub fn last_apply(&self, namespace: &str, name: &str) -> Option<LastApply> {
        let applied = self.applied.lock().unwrap_or_else(|p| p.into_inner());
        applied.get(&key(namespace, name)).cloned()
    }

    pub fn remember_apply(&self, namespace: &str, name: &str, apply: LastApply) {
        let mut applied = self.applied.lock().unwrap_or_else(|p| p.into_inner());
        applied.insert(key(namespace, name), apply);
    }

    /// After a failure the cluster may hold a partial apply: the next revision applies in full.
    pub fn forget_apply(&self, namespace: &str, name: &str) {
        let mut applied = self.applied.lock().unwrap_or_else(|p| p.into_inner());
        applied.remove(&key(namespace, name));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_revision_cancels_the_wait_for_another() {
        let runs = Runs::default();
        let guard = runs.start_wait("apps", "web", "main@sha1:1");
        assert!(!runs.new_revision("apps", "web", "main@sha1:1"), "the same revision goes on");
        assert!(!runs.new_revision("apps", "other", "main@sha1:2"));
        assert!(!guard.token.is_cancelled());
        assert!(runs.new_revision("apps", "web", "main@sha1:2"));
        assert!(guard.token.is_cancelled());
        drop(guard);
        assert!(runs.waits.lock().unwrap().is_empty());
    }

    #[test]
    fn builds_are_reused_only_for_the_same_inputs() {
        let runs = Runs::default();
        let vars = std::collections::BTreeMap::from([("a".to_string(), "1".to_string())]);
        let inputs = BuildInputs::new("sha256:1", Some(1), &vars);
        runs.remember_build("apps", "web", inputs.clone(), BuiltSet::new(&[], "d".into()).unwrap());
        assert!(runs.built("apps", "web", &inputs).is_some());
        assert!(runs.built("apps", "web", &BuildInputs::new("sha256:2", Some(1), &vars)).is_none());
        assert!(runs.built("apps", "web", &BuildInputs::new("sha256:1", Some(2), &vars)).is_none());
        let other = std::collections::BTreeMap::from([("a".to_string(), "2".to_string())]);
        assert!(runs.built("apps", "web", &BuildInputs::new("sha256:1", Some(1), &other)).is_none());
        runs.forget("apps", "web");
        assert!(runs.built("apps", "web", &inputs).is_none());
    }

    #[test]
    fn applies_are_remembered_until_forgotten() {
        let runs = Runs::default();
        let apply = LastApply {
            digest: "sha256:a".into(),
            generation: Some(1),
            at: std::time::Instant::now(),
            checked_health: true,
        };
        runs.remember_apply("apps", "web", apply.clone());
        assert_eq!(runs.last_apply("apps", "web"), Some(apply.clone()));
        assert_eq!(runs.last_apply("apps", "other"), None);
        runs.forget_apply("apps", "web");
        assert_eq!(runs.last_apply("apps", "web"), None);
        runs.remember_apply("apps", "web", apply);
        runs.forget("apps", "web");
        assert_eq!(runs.last_apply("apps", "web"), None, "deletion forgets the apply too");
    }
}
