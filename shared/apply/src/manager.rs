//! The resource manager: applies sets of objects in stages; each stage is first planned whole
//! (discovery → dry run → takeover → drift) and then only what is new or drifted is written.

use std::time::Duration;

use futures::{StreamExt, stream};
use kube::Client;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use weir_api::annotations::field_managers;

use crate::changeset::{Action, ChangeSet, ChangeSetEntry};
use crate::discovery::DiscoveryCache;
use crate::drift::has_drifted;
use crate::error::{ApplyError, SetError};
use crate::health::WaitOptions;
use crate::object::{ObjMeta, Object};
use crate::object_apply::Planned;
use crate::sort::{sort_objects, split_stages};

/// Options of one apply run.
#[derive(Clone, Debug)]
pub struct ApplyOptions {
    /// Recreate every object whose change is rejected as immutable (the Kustomization's `force`);
    /// objects annotated `kustomize.toolkit.fluxcd.io/force: Enabled` are recreated regardless.
    pub force: bool,
    /// Namespace for namespaced objects that set none; without it they are an error.
    pub default_namespace: Option<String>,
    /// How long to wait for CRDs and Namespaces of the first stage, and for recreated objects
    /// to be gone.
    pub wait_timeout: Duration,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions { force: false, default_namespace: None, wait_timeout: Duration::from_secs(60) }
    }
}

/// Applies, diffs, deletes and waits for sets of objects, under one field manager.
#[derive(Clone)]
pub struct ResourceManager {
    pub(crate) client: Client,
    pub(crate) discovery: DiscoveryCache,
    pub(crate) field_manager: String,
    pub(crate) takeover_managers: Vec<String>,
    concurrency: usize,
}

impl ResourceManager {
    /// A manager named `kustomize-controller` that takes over `kubectl*` and `before-first-apply`
    /// fields and applies four objects at a time.
    pub fn new(client: Client) -> Self {
        ResourceManager {
            discovery: DiscoveryCache::new(client.clone()),
            client,
            field_manager: field_managers::KUSTOMIZE_CONTROLLER.to_string(),
            takeover_managers: field_managers::DRIFT_TAKEOVER.iter().map(|m| m.to_string()).collect(),
            concurrency: 4,
        }
    }

    pub fn with_field_manager(mut self, name: impl Into<String>) -> Self {
        self.field_manager = name.into();
        self
    }

    /// More managers (prefixes) whose fields are taken over, like Flux's `--override-manager`.
    pub fn with_takeover_managers(mut self, extra: impl IntoIterator<Item = String>) -> Self {
        self.takeover_managers.extend(extra);
        self
    }

    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Shares a discovery cache (one per process) instead of this manager's own.
    pub fn with_discovery(mut self, discovery: DiscoveryCache) -> Self {
        self.discovery = discovery;
        self
    }

    pub fn discovery(&self) -> &DiscoveryCache {
        &self.discovery
    }

    pub fn field_manager(&self) -> &str {
        &self.field_manager
    }

    /// Applies `objects` in Flux's stages: CRDs, Namespaces and ClusterRoles first (then waits
    /// for them and refreshes discovery), then `*Class` kinds, then the rest. A stage with a
    /// failed object stops the run; the error carries what was applied until then.
    pub async fn apply_all_staged(
        &self,
        mut objects: Vec<Object>,
        opts: &ApplyOptions,
    ) -> Result<ChangeSet, ApplyError> {
        sort_objects(&mut objects);
        reject_duplicates(&objects)?;
        let [definitions, classes, rest] = split_stages(objects);
        let mut change_set = ChangeSet::default();
        if !definitions.is_empty() {
            let metas: Vec<ObjMeta> = definitions.iter().map(|o| o.meta.clone()).collect();
            let served = served_kinds(&definitions);
            let applied = self.apply_stage(definitions, opts, &mut change_set).await?;
            let waited: Vec<ObjMeta> = metas.into_iter().filter(|m| applied.contains(m)).collect();
            let wait = WaitOptions { timeout: opts.wait_timeout, ..WaitOptions::default() };
            self.wait_for(&waited, &wait, &CancellationToken::new()).await?;
            if applied.iter().any(|m| m.kind == "CustomResourceDefinition") {
                // Changed CRDs may have added, removed or re-scoped kinds.
                self.discovery.invalidate();
            }
            self.await_discovery(&served, opts.wait_timeout).await?;
        }
        for stage in [classes, rest] {
            if !stage.is_empty() {
                self.apply_stage(stage, opts, &mut change_set).await?;
            }
        }
        Ok(change_set)
    }

    /// Waits until discovery serves the kinds of the CRDs just applied: an Established CRD can
    /// take a moment to show up in discovery.
    async fn await_discovery(&self, kinds: &[ObjMeta], timeout: Duration) -> Result<(), ApplyError> {
        let deadline = tokio::time::Instant::now() + timeout;
        for kind in kinds {
            loop {
                match self.discovery.resolve(kind).await {
                    Ok(_) => break,
                    Err(ApplyError::UnknownKind { .. }) if tokio::time::Instant::now() < deadline => {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }

    /// Applies one set of objects, sorted, without stages.
    pub async fn apply_all(&self, mut objects: Vec<Object>, opts: &ApplyOptions) -> Result<ChangeSet, ApplyError> {
        sort_objects(&mut objects);
        reject_duplicates(&objects)?;
        let mut change_set = ChangeSet::default();
        self.apply_stage(objects, opts, &mut change_set).await?;
        Ok(change_set)
    }

    /// Applies a stage with bounded concurrency; returns the objects that were created or
    /// configured (what is worth waiting for).
    async fn apply_stage(
        &self,
        objects: Vec<Object>,
        opts: &ApplyOptions,
        change_set: &mut ChangeSet,
    ) -> Result<Vec<ObjMeta>, ApplyError> {
        let plans: Vec<Result<Planned, ApplyError>> =
            stream::iter(objects).map(|o| self.plan(o, opts)).buffered(self.concurrency).collect().await;
        let (plans, failures): (Vec<_>, Vec<_>) = plans.into_iter().partition(Result::is_ok);
        if !failures.is_empty() {
            // Nothing of the stage is written; what needed no write is reported as it is.
            for plan in plans.into_iter().flatten() {
                if let Planned::Done(entry) = plan {
                    change_set.add(entry);
                }
            }
            let failures = failures.into_iter().filter_map(Result::err).collect();
            return Err(ApplyError::Set(Box::new(SetError { applied: change_set.clone(), failures })));
        }
        let results: Vec<Result<ChangeSetEntry, ApplyError>> = stream::iter(plans.into_iter().flatten())
            .map(|planned| self.execute(planned, opts))
            .buffered(self.concurrency)
            .collect()
            .await;
        let mut failures = Vec::new();
        let mut changed = Vec::new();
        for r in results {
            match r {
                Ok(entry) => {
                    if matches!(entry.action, Action::Created | Action::Configured) {
                        changed.push(entry.object.clone());
                    }
                    change_set.add(entry);
                }
                Err(e) => failures.push(e),
            }
        }
        if failures.is_empty() {
            Ok(changed)
        } else {
            Err(ApplyError::Set(Box::new(SetError { applied: change_set.clone(), failures })))
        }
    }

    /// Applies one object: planned (skipped, dry-run applied, taken over) and written only
    /// when it is new or drifted.
    pub async fn apply(&self, object: Object, opts: &ApplyOptions) -> Result<ChangeSetEntry, ApplyError> {
        let planned = self.plan(object, opts).await?;
        self.execute(planned, opts).await
    }

    /// What applying `object` would do, without changing the cluster: the action, the live
    /// object (if any) and the dry-run result.
    pub async fn diff(
        &self,
        object: Object,
        opts: &ApplyOptions,
    ) -> Result<(ChangeSetEntry, Option<Value>, Value), ApplyError> {
        let (object, api) = self.locate(object, opts.default_namespace.as_deref()).await?;
        let subject = object.meta.subject();
        let live = api.get_opt(&object.meta.name).await.map_err(|e| api_error(&subject, "get", e))?.map(to_value);
        let dry_run = api
            .patch(&object.meta.name, &self.apply_params().dry_run(), &Patch::Apply(&object.value))
            .await
            .map(to_value)
            .map_err(|e| ApplyError::from_apply(&subject, "dry-run apply", e))?;
        let action = match &live {
            None => Action::Created,
            Some(current) if has_drifted(current, &dry_run) => Action::Configured,
            Some(_) => Action::Unchanged,
        };
        Ok((ChangeSetEntry::new(object.meta, action), live, dry_run))
    }

    pub(crate) fn apply_params(&self) -> PatchParams {
        PatchParams::apply(&self.field_manager).force()
    }

    /// Resolves the object's kind and fixes its namespace: required for namespaced kinds
    /// (defaulted from the options), dropped for cluster-scoped ones.
    pub(crate) async fn locate(
        &self,
        mut object: Object,
        default_namespace: Option<&str>,
    ) -> Result<(Object, Api<DynamicObject>), ApplyError> {
        let kind = self.discovery.resolve(&object.meta).await?;
        let api = if kind.namespaced {
            if object.meta.namespace.is_empty() {
                let Some(ns) = default_namespace.filter(|n| !n.is_empty()) else {
                    return Err(ApplyError::MissingNamespace { subject: object.meta.subject() });
                };
                object.set_namespace(Some(ns));
            }
            Api::namespaced_with(self.client.clone(), &object.meta.namespace, &kind.resource)
        } else {
            if !object.meta.namespace.is_empty() {
                object.set_namespace(None);
            }
            Api::all_with(self.client.clone(), &kind.resource)
        };
        Ok((object, api))
    }
}

/// The kinds (one per served version) that the CRDs among `objects` define.
fn served_kinds(objects: &[Object]) -> Vec<ObjMeta> {
    let crds =
        objects.iter().filter(|o| o.meta.group == "apiextensions.k8s.io" && o.meta.kind == "CustomResourceDefinition");
    crds.flat_map(|crd| {
        let spec = &crd.value["spec"];
        let group = spec["group"].as_str().unwrap_or_default().to_string();
        let kind = spec["names"]["kind"].as_str().unwrap_or_default().to_string();
        let versions = spec["versions"].as_array().cloned().unwrap_or_default();
        versions.into_iter().filter(|v| v["served"].as_bool().unwrap_or(false)).filter_map(move |v| {
            Some(ObjMeta {
                group: group.clone(),
                version: v["name"].as_str()?.to_string(),
                kind: kind.clone(),
                namespace: String::new(),
                name: crd.meta.name.clone(),
            })
        })
    })
    .filter(|m| !m.group.is_empty() && !m.kind.is_empty())
    .collect()
}

/// Two objects with the same identity would be applied concurrently and fight.
fn reject_duplicates(sorted: &[Object]) -> Result<(), ApplyError> {
    let same = |a: &Object, b: &Object| {
        a.meta.group == b.meta.group
            && a.meta.kind == b.meta.kind
            && a.meta.namespace == b.meta.namespace
            && a.meta.name == b.meta.name
    };
    match sorted.windows(2).find(|w| same(&w[0], &w[1])) {
        Some(w) => Err(ApplyError::InvalidObject {
            subject: w[0].meta.subject(),
            reason: "appears more than once in the set".into(),
        }),
        None => Ok(()),
    }
}

pub(crate) fn api_error(subject: &str, operation: &'static str, source: kube::Error) -> ApplyError {
    ApplyError::Api { subject: subject.to_string(), operation, source }
}

pub(crate) fn to_value(object: DynamicObject) -> Value {
    serde_json::to_value(object).unwrap_or(Value::Null)
}
