//! What happened to each object of a set, printed as Flux prints it.

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use crate::object::ObjMeta;

/// What applying or deleting did to one object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Created,
    Configured,
    Unchanged,
    Deleted,
    Skipped,
}

impl Action {
    /// Flux's word for the action.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Created => "created",
            Action::Configured => "configured",
            Action::Unchanged => "unchanged",
            Action::Deleted => "deleted",
            Action::Skipped => "skipped",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeSetEntry {
    pub object: ObjMeta,
    /// `Kind/namespace/name`.
    pub subject: String,
    pub action: Action,
    /// The object as the API server returned it when it was applied, or as it was read when it
    /// needed no apply: its health at that moment, without asking again.
    pub observed: Option<Arc<Value>>,
}

impl ChangeSetEntry {
    pub fn new(object: ObjMeta, action: Action) -> Self {
        ChangeSetEntry { subject: object.subject(), object, action, observed: None }
    }

    pub fn observed(mut self, object: Value) -> Self {
        self.observed = Some(Arc::new(object));
        self
    }
}

impl fmt::Display for ChangeSetEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.subject, self.action)
    }
}

/// One entry per object, in the order the objects were handled.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChangeSet {
    pub entries: Vec<ChangeSetEntry>,
}

impl ChangeSet {
    pub fn add(&mut self, entry: ChangeSetEntry) {
        self.entries.push(entry);
    }

    pub fn append(&mut self, other: ChangeSet) {
        self.entries.extend(other.entries);
    }

    /// The action taken on the object with this subject, if it is in the set.
    pub fn action_of(&self, subject: &str) -> Option<Action> {
        self.entries.iter().find(|e| e.subject == subject).map(|e| e.action)
    }

    /// Entries that changed the cluster (created, configured or deleted), for events.
    pub fn changes(&self) -> impl Iterator<Item = &ChangeSetEntry> {
        self.entries.iter().filter(|e| matches!(e.action, Action::Created | Action::Configured | Action::Deleted))
    }
}

impl fmt::Display for ChangeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.entries.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(kind: &str, ns: &str, name: &str) -> ObjMeta {
        ObjMeta {
            group: "apps".into(),
            version: "v1".into(),
            kind: kind.into(),
            namespace: ns.into(),
            name: name.into(),
        }
    }

    #[test]
    fn renders_like_flux() {
        let mut cs = ChangeSet::default();
        cs.add(ChangeSetEntry::new(meta("Deployment", "default", "podinfo"), Action::Configured));
        cs.add(ChangeSetEntry::new(meta("Namespace", "", "apps"), Action::Created));
        cs.add(ChangeSetEntry::new(meta("ConfigMap", "default", "x"), Action::Unchanged));
        assert_eq!(
            cs.to_string(),
            "Deployment/default/podinfo configured\nNamespace/apps created\nConfigMap/default/x unchanged"
        );
        assert_eq!(cs.changes().count(), 2);
        assert_eq!(cs.action_of("Namespace/apps"), Some(Action::Created));
    }
}
