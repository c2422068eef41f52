//! Who depends on whom, indexed from the Kustomization watch: a dependency that becomes Ready
//! finds its dependents in one lookup, instead of a scan of every Kustomization in the cache on
//! each Ready transition.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use kube::ResourceExt;
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use weir_api::kustomize::Kustomization;

/// `(namespace, name)` of a Kustomization.
type Key = (String, String);

#[derive(Default)]
pub struct DependentsIndex {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// dependency → the Kustomizations whose `dependsOn` names it.
    dependents: HashMap<Key, HashSet<Key>>,
    /// dependent → the dependencies it was indexed under, to undo on change or deletion.
    dependencies: HashMap<Key, Vec<Key>>,
    /// The objects seen since a relist began (`Init`), to drop the others at `InitDone`.
    relisted: Option<HashSet<Key>>,
}

fn key_of(ks: &Kustomization) -> Key {
    (ks.namespace().unwrap_or_default(), ks.name_any())
}

impl Inner {
    fn remove(&mut self, dependent: &Key) {
        for dependency in self.dependencies.remove(dependent).unwrap_or_default() {
            if let Some(set) = self.dependents.get_mut(&dependency) {
                set.remove(dependent);
                if set.is_empty() {
                    self.dependents.remove(&dependency);
                }
            }
        }
    }

    fn upsert(&mut self, ks: &Kustomization) {
        let dependent = key_of(ks);
        self.remove(&dependent);
        let dependencies: Vec<Key> = ks
            .spec
            .depends_on
            .iter()
            .flatten()
            .map(|d| (d.namespace_or(&dependent.0).to_string(), d.name.clone()))
            .collect();
        for dependency in &dependencies {
            self.dependents.entry(dependency.clone()).or_default().insert(dependent.clone());
        }
        if !dependencies.is_empty() {
            self.dependencies.insert(dependent.clone(), dependencies);
        }
        if let Some(seen) = &mut self.relisted {
            seen.insert(dependent);
        }
    }
}

impl DependentsIndex {
    /// Follows one event of the Kustomization watch.
    pub fn observe(&self, event: &watcher::Event<Kustomization>) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        match event {
            watcher::Event::Apply(ks) | watcher::Event::InitApply(ks) => inner.upsert(ks),
            watcher::Event::Delete(ks) => inner.remove(&key_of(ks)),
            watcher::Event::Init => inner.relisted = Some(HashSet::new()),
            watcher::Event::InitDone => {
                // Those not relisted were deleted while the watch was down.
                let seen = inner.relisted.take().unwrap_or_default();
                let gone: Vec<Key> = inner.dependencies.keys().filter(|k| !seen.contains(*k)).cloned().collect();
                for dependent in gone {
                    inner.remove(&dependent);
                }
            }
        }
    }

    /// The Kustomizations that depend on `dependency`: woken when it becomes Ready.
    pub fn dependents(&self, dependency: &Kustomization) -> Vec<ObjectRef<Kustomization>> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner
            .dependents
            .get(&key_of(dependency))
            .into_iter()
            .flatten()
            .map(|(namespace, name)| ObjectRef::new(name).within(namespace))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::Resource;
    use watcher::Event;

    fn ks(namespace: &str, name: &str, depends_on: serde_json::Value) -> Kustomization {
        let spec = serde_json::json!({"interval": "1m", "prune": true, "dependsOn": depends_on,
            "sourceRef": {"kind": "GitRepository", "name": "repo"}});
        let mut k = Kustomization::new(name, serde_json::from_value(spec).unwrap());
        k.meta_mut().namespace = Some(namespace.into());
        k
    }

    fn names(index: &DependentsIndex, dependency: &Kustomization) -> Vec<String> {
        let mut names: Vec<String> =
            index.dependents(dependency).into_iter().map(|r| format!("{}/{}", r.namespace.unwrap(), r.name)).collect();
        names.sort();
        names
    }

    #[test]
    fn dependents_are_found_across_namespaces_and_follow_changes() {
        let index = DependentsIndex::default();
        let infra = ks("apps", "infra", serde_json::json!([]));
        for k in [
            ks("apps", "same-ns", serde_json::json!([{"name": "infra"}])),
            ks("other", "cross-ns", serde_json::json!([{"name": "infra", "namespace": "apps"}])),
            ks("other", "wrong-ns", serde_json::json!([{"name": "infra"}])),
            ks("apps", "none", serde_json::json!([])),
        ] {
            index.observe(&Event::Apply(k));
        }
        assert_eq!(names(&index, &infra), ["apps/same-ns", "other/cross-ns"]);

        // A dependent that drops the dependency, and one that is deleted.
        index.observe(&Event::Apply(ks("apps", "same-ns", serde_json::json!([{"name": "other"}]))));
        index.observe(&Event::Delete(ks("other", "cross-ns", serde_json::json!([]))));
        assert!(names(&index, &infra).is_empty());
        assert_eq!(names(&index, &ks("apps", "other", serde_json::json!([]))), ["apps/same-ns"]);
    }

    #[test]
    fn a_relist_drops_what_was_deleted_while_the_watch_was_down() {
        let index = DependentsIndex::default();
        let infra = ks("apps", "infra", serde_json::json!([]));
        index.observe(&Event::Apply(ks("apps", "kept", serde_json::json!([{"name": "infra"}]))));
        index.observe(&Event::Apply(ks("apps", "deleted", serde_json::json!([{"name": "infra"}]))));
        index.observe(&Event::Init);
        index.observe(&Event::InitApply(ks("apps", "kept", serde_json::json!([{"name": "infra"}]))));
        assert_eq!(names(&index, &infra), ["apps/deleted", "apps/kept"], "not dropped before the relist ends");
        index.observe(&Event::InitDone);
        assert_eq!(names(&index, &infra), ["apps/kept"]);
    }
}
