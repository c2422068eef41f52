//! Deleting stale objects: only those that carry the caller's owner labels, never those marked
//! `prune: disabled`.

use std::collections::BTreeMap;

use kube::api::{Api, DeleteParams, DynamicObject};

use crate::changeset::{Action, ChangeSet, ChangeSetEntry};
use crate::error::ApplyError;
use crate::manager::{ResourceManager, api_error};
use crate::object::{ObjMeta, Object};
use crate::policy::Policy;

/// Who owns what may be deleted.
#[derive(Clone, Debug, Default)]
pub struct DeleteOptions {
    /// Labels an object must carry, all of them with these values, to be deleted, e.g.
    /// `kustomize.toolkit.fluxcd.io/name` and `/namespace`. Empty: nothing is deleted.
    pub owner_labels: BTreeMap<String, String>,
}

/// What a prune did, and what it could not delete (to keep in the inventory and retry).
#[derive(Debug, Default)]
pub struct DeleteResult {
    pub change_set: ChangeSet,
    pub failed: Vec<(ObjMeta, ApplyError)>,
}

impl ResourceManager {
    /// Deletes `stale` objects (in the given order) with background propagation. Objects already
    /// gone, or of kinds no longer served, need nothing; objects without the owner labels or with
    /// `prune: disabled` are skipped.
    pub async fn delete_all(&self, stale: &[ObjMeta], opts: &DeleteOptions) -> DeleteResult {
        let mut result = DeleteResult::default();
        for meta in stale {
            match self.delete_one(meta, opts).await {
                Ok(Some(action)) => result.change_set.add(ChangeSetEntry::new(meta.clone(), action)),
                Ok(None) => {}
                Err(e) => result.failed.push((meta.clone(), e)),
            }
        }
        result
    }

    async fn delete_one(&self, meta: &ObjMeta, opts: &DeleteOptions) -> Result<Option<Action>, ApplyError> {
        let subject = meta.subject();
        let kind = match self.discovery.resolve(meta).await {
            Ok(k) => k,
            Err(ApplyError::UnknownKind { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let api: Api<DynamicObject> = if kind.namespaced {
            Api::namespaced_with(self.client.clone(), &meta.namespace, &kind.resource)
        } else {
            Api::all_with(self.client.clone(), &kind.resource)
        };
        let Some(live) = api.get_opt(&meta.name).await.map_err(|e| api_error(&subject, "get", e))? else {
            return Ok(None);
        };
        let live = Object { meta: meta.clone(), value: serde_json::to_value(live).unwrap_or_default() };
        let owned =
            !opts.owner_labels.is_empty() && opts.owner_labels.iter().all(|(k, v)| live.label(k) == Some(v.as_str()));
        if !owned || Policy::of(&live).prune_disabled {
            return Ok(Some(Action::Skipped));
        }
        match api.delete(&meta.name, &DeleteParams::background()).await {
            Ok(_) => Ok(Some(Action::Deleted)),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(None),
            Err(e) => Err(api_error(&subject, "delete", e)),
        }
    }
}
