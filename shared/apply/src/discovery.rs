//! Kind → resource resolution through classic discovery, cached per group version.
//!
//! Servers before 1.26 have no aggregated discovery, so each group version is looked up on its
//! own the first time one of its kinds is needed (one request), then served from memory. A kind
//! missing from a cached group version is looked up again (it may have been added since), and
//! [`DiscoveryCache::invalidate`] drops everything, e.g. after CRDs were applied.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use kube::Client;
use kube::api::ApiResource;
use kube::core::GroupVersion;
use kube::discovery::{self, ApiCapabilities, Scope};

use crate::error::ApplyError;
use crate::object::ObjMeta;

/// How to reach objects of one kind.
#[derive(Clone, Debug)]
pub struct ResolvedKind {
    pub resource: ApiResource,
    pub namespaced: bool,
}

type Resources = Arc<Vec<(ApiResource, ApiCapabilities)>>;

/// A per-process discovery cache, cheap to clone and share.
#[derive(Clone)]
pub struct DiscoveryCache {
    client: Client,
    by_group_version: Arc<Mutex<HashMap<String, Resources>>>,
}

impl DiscoveryCache {
    pub fn new(client: Client) -> Self {
        DiscoveryCache { client, by_group_version: Arc::default() }
    }

    /// Forgets everything, so that kinds added or removed since are seen.
    pub fn invalidate(&self) {
        self.by_group_version.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }

    /// Resolves the kind of `meta`; an unknown kind is an error naming the object.
    pub async fn resolve(&self, meta: &ObjMeta) -> Result<ResolvedKind, ApplyError> {
        if let Some(found) = self.cached(&meta.api_version()).and_then(|r| find(&r, meta)) {
            return Ok(found);
        }
        // Not cached, or cached before the kind was added (a CRD applied elsewhere): ask again.
        let resources = self.fetch(meta).await?;
        self.by_group_version
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(meta.api_version(), resources.clone());
        find(&resources, meta).ok_or_else(|| unknown(meta))
    }

    fn cached(&self, api_version: &str) -> Option<Resources> {
        self.by_group_version.lock().unwrap_or_else(PoisonError::into_inner).get(api_version).cloned()
    }

    async fn fetch(&self, meta: &ObjMeta) -> Result<Resources, ApplyError> {
        let gv = GroupVersion::gv(&meta.group, &meta.version);
        match discovery::pinned_group(&self.client, &gv).await {
            Ok(group) => Ok(Arc::new(group.versioned_resources(&meta.version))),
            Err(kube::Error::Api(status)) if status.code == 404 => Err(unknown(meta)),
            Err(source) => {
                Err(ApplyError::Discovery { subject: meta.subject(), api_version: meta.api_version(), source })
            }
        }
    }
}

fn find(resources: &[(ApiResource, ApiCapabilities)], meta: &ObjMeta) -> Option<ResolvedKind> {
    resources
        .iter()
        .find(|(ar, _)| ar.kind == meta.kind)
        .map(|(ar, caps)| ResolvedKind { resource: ar.clone(), namespaced: caps.scope == Scope::Namespaced })
}

fn unknown(meta: &ObjMeta) -> ApplyError {
    ApplyError::UnknownKind { subject: meta.subject(), api_version: meta.api_version(), kind: meta.kind.clone() }
}
