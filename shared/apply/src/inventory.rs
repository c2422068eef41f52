//! The inventory of applied objects, with Flux's ids, and what left it between two runs.

use std::collections::HashSet;

use weir_api::meta::{ResourceInventory, ResourceRef};

use crate::changeset::ChangeSet;
use crate::object::ObjMeta;
use crate::sort::compare;

fn entry(meta: &ObjMeta) -> ResourceRef {
    ResourceRef::new(&meta.namespace, &meta.name, &meta.group, &meta.kind, &meta.version)
}

/// The inventory of every object in a change set (skipped ones too: they still belong to the
/// set, so they must not be pruned), sorted by id as Flux stores it.
pub fn inventory_from(change_set: &ChangeSet) -> ResourceInventory {
    let mut entries: Vec<ResourceRef> = change_set.entries.iter().map(|e| entry(&e.object)).collect();
    entries.sort();
    entries.dedup_by(|a, b| a.id == b.id);
    ResourceInventory { entries }
}

/// The objects an inventory names; malformed ids are left out.
pub fn object_refs(inventory: &ResourceInventory) -> Vec<ObjMeta> {
    inventory
        .entries
        .iter()
        .filter_map(|r| {
            let id = r.parse_id()?;
            Some(ObjMeta {
                group: id.group.to_string(),
                version: r.v.clone(),
                kind: id.kind.to_string(),
                namespace: id.namespace.to_string(),
                name: id.name.to_string(),
            })
        })
        .collect()
}

/// Objects in `old` that are not in `new` (compared by id: a version change is not a removal),
/// in deletion order: the reverse of apply order, so that Namespaces and CRDs go last.
pub fn inventory_diff(old: &ResourceInventory, new: &ResourceInventory) -> Vec<ObjMeta> {
    let kept: HashSet<&str> = new.entries.iter().map(|e| e.id.as_str()).collect();
    let stale =
        ResourceInventory { entries: old.entries.iter().filter(|e| !kept.contains(e.id.as_str())).cloned().collect() };
    let mut metas = object_refs(&stale);
    metas.sort_by(|a, b| compare(b, a));
    metas
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::changeset::{Action, ChangeSetEntry};

    fn meta(group: &str, version: &str, kind: &str, ns: &str, name: &str) -> ObjMeta {
        ObjMeta {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            namespace: ns.into(),
            name: name.into(),
        }
    }

    #[test]
    fn builds_flux_ids() {
        let mut cs = ChangeSet::default();
        cs.add(ChangeSetEntry::new(meta("apps", "v1", "Deployment", "default", "podinfo"), Action::Created));
        cs.add(ChangeSetEntry::new(meta("", "v1", "Namespace", "", "apps"), Action::Skipped));
        let inv = inventory_from(&cs);
        assert_eq!(
            inv.entries,
            vec![
                ResourceRef::new("", "apps", "", "Namespace", "v1"),
                ResourceRef::new("default", "podinfo", "apps", "Deployment", "v1")
            ]
        );
        assert_eq!(inv.entries[1].id, "default_podinfo_apps_Deployment");
        assert_eq!(inv.entries[0].id, "_apps__Namespace");
        assert_eq!(
            object_refs(&inv),
            vec![meta("", "v1", "Namespace", "", "apps"), meta("apps", "v1", "Deployment", "default", "podinfo")]
        );
    }

    #[test]
    fn diffs_by_id_in_deletion_order() {
        let old = ResourceInventory {
            entries: vec![
                ResourceRef::new("", "apps", "", "Namespace", "v1"),
                ResourceRef::new("apps", "a", "", "ConfigMap", "v1"),
                ResourceRef::new("apps", "d", "apps", "Deployment", "v1"),
                ResourceRef::new("apps", "h", "autoscaling", "HorizontalPodAutoscaler", "v2beta2"),
            ],
        };
        let new = ResourceInventory {
            entries: vec![
                ResourceRef::new("apps", "d", "apps", "Deployment", "v1"),
                ResourceRef::new("apps", "h", "autoscaling", "HorizontalPodAutoscaler", "v2"),
            ],
        };
        let stale: Vec<String> = inventory_diff(&old, &new).iter().map(ObjMeta::subject).collect();
        assert_eq!(stale, ["ConfigMap/apps/a", "Namespace/apps"]);
        assert!(inventory_diff(&new, &new).is_empty());
    }
}
