//! A resource being built: the object plus what the build needs to remember about it.

use serde_json::{Map, Value};

use crate::resid::ResId;

#[derive(Debug, Clone)]
pub struct Resource {
    pub obj: Value,
    /// Where it came from (file, or the kustomization whose generator made it), for errors.
    pub origin: String,
    /// Every name it has had, oldest first; references to any of them are updated at the end.
    pub previous_names: Vec<String>,
    /// Every namespace it has had, oldest first (parallel to nothing; used for reference matching).
    pub previous_namespaces: Vec<String>,
    /// The prefixes and suffixes applied to its name, innermost first; they tell apart two
    /// resources with the same original name coming from different bases.
    pub prefixes: Vec<String>,
    pub suffixes: Vec<String>,
    /// Generated with a content-hash suffix still to append.
    pub needs_hash: bool,
    /// Made by a generator (kind ConfigMap or Secret), so later generators may merge into it.
    pub generated: bool,
}

impl Resource {
    pub fn new(obj: Value, origin: String) -> Self {
        Resource {
            obj,
            origin,
            previous_names: Vec::new(),
            previous_namespaces: Vec::new(),
            prefixes: Vec::new(),
            suffixes: Vec::new(),
            needs_hash: false,
            generated: false,
        }
    }

    pub fn id(&self) -> ResId {
        ResId::of(&self.obj)
    }

    pub fn kind(&self) -> &str {
        crate::resid::str_at(&self.obj, &["kind"])
    }

    pub fn name(&self) -> &str {
        crate::resid::str_at(&self.obj, &["metadata", "name"])
    }

    pub fn namespace(&self) -> &str {
        crate::resid::str_at(&self.obj, &["metadata", "namespace"])
    }

    /// Whether this resource's id is `id`, without building its own id (duplicate checks run for
    /// every resource added).
    pub fn has_id(&self, id: &ResId) -> bool {
        let (group, version) = crate::resid::split_api_version(crate::resid::str_at(&self.obj, &["apiVersion"]));
        self.name() == id.name
            && self.kind() == id.kind
            && self.namespace() == id.namespace
            && group == id.group
            && version == id.version
    }

    /// All names this resource answers to: earlier ones and the current one.
    pub fn all_names(&self) -> impl Iterator<Item = &str> {
        self.previous_names.iter().map(String::as_str).chain(std::iter::once(self.name()))
    }

    pub fn all_namespaces(&self) -> impl Iterator<Item = &str> {
        self.previous_namespaces.iter().map(String::as_str).chain(std::iter::once(self.namespace()))
    }

    /// Renames, remembering the old name.
    pub fn set_name(&mut self, name: String) {
        let old = self.name().to_string();
        if old == name {
            return;
        }
        self.previous_names.push(old);
        metadata_mut(&mut self.obj).insert("name".into(), Value::String(name));
    }

    pub fn set_namespace(&mut self, namespace: String) {
        let old = self.namespace().to_string();
        if old == namespace {
            return;
        }
        self.previous_namespaces.push(old);
        metadata_mut(&mut self.obj).insert("namespace".into(), Value::String(namespace));
    }

    pub fn labels(&self) -> Option<&Map<String, Value>> {
        self.obj.get("metadata")?.get("labels")?.as_object()
    }

    pub fn annotations(&self) -> Option<&Map<String, Value>> {
        self.obj.get("metadata")?.get("annotations")?.as_object()
    }
}

/// `metadata` of an object, created when missing.
pub fn metadata_mut(obj: &mut Value) -> &mut Map<String, Value> {
    child_map(obj, "metadata")
}

/// The mapping under `key`, created (replacing a non-mapping) when missing.
pub fn child_map<'a>(obj: &'a mut Value, key: &str) -> &'a mut Map<String, Value> {
    if !obj.is_object() {
        *obj = Value::Object(Map::new());
    }
    let Value::Object(map) = obj else { unreachable!("made an object above") };
    let child = map.entry(key.to_string()).or_insert_with(|| Value::Object(Map::new()));
    if !child.is_object() {
        *child = Value::Object(Map::new());
    }
    match child {
        Value::Object(m) => m,
        _ => unreachable!("made an object above"),
    }
}

/// Adds `r` to `acc`, refusing a second resource with the same id (naming both origins).
pub fn add_unique(acc: &mut Vec<Resource>, r: Resource) -> Result<(), crate::error::BuildError> {
    let id = r.id();
    if let Some(existing) = acc.iter().find(|x| x.has_id(&id)) {
        return Err(crate::error::BuildError::DuplicateId {
            id: id.to_string(),
            first: existing.origin.clone(),
            second: r.origin.clone(),
        });
    }
    acc.push(r);
    Ok(())
}

/// [`add_unique`] for many resources at once: the ids already in `acc` are indexed once, so a
/// large file or base does not cost a scan of `acc` per resource.
pub fn add_all_unique(
    acc: &mut Vec<Resource>,
    resources: impl IntoIterator<Item = Resource>,
) -> Result<(), crate::error::BuildError> {
    let mut seen: std::collections::HashMap<ResId, usize> = acc.iter().enumerate().map(|(i, r)| (r.id(), i)).collect();
    for r in resources {
        let id = r.id();
        if let Some(&existing) = seen.get(&id) {
            return Err(crate::error::BuildError::DuplicateId {
                id: id.to_string(),
                first: acc[existing].origin.clone(),
                second: r.origin.clone(),
            });
        }
        seen.insert(id, acc.len());
        acc.push(r);
    }
    Ok(())
}
