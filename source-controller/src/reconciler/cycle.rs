//! What opens and closes every source reconcile, as Flux's reconcilers do it: skip a suspended
//! object, refuse a bad spec (Stalled), mark progress on a new generation or a
//! `reconcile.fluxcd.io/requestedAt` request, and at the end write the status (only when it
//! changed, under the `source-controller` field manager) and record the event of the outcome.

use std::collections::BTreeMap;
use std::sync::Arc;

use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::Action;
use weir_api::annotations::RECONCILE_REQUESTED_AT;
use weir_api::annotations::field_managers::SOURCE_CONTROLLER;
use weir_runtime::Metrics;
use weir_runtime::events::Severity;

use super::source::{SourceObject, SourceStatus};
use super::{SourceError, State, conditions};

/// The event of a reconcile that stored a new artifact.
pub struct NewArtifact<'a> {
    pub reason: &'a str,
    pub message: &'a str,
    pub revision: &'a str,
    pub metadata: BTreeMap<String, String>,
}

/// One reconcile of one object: the status it started from and where to write the next.
pub struct Cycle<K: SourceObject> {
    pub obj: Arc<K>,
    pub namespace: String,
    pub name: String,
    pub generation: Option<i64>,
    api: Api<K>,
    requested_at: Option<String>,
    before: K::Status,
    metrics: Arc<Metrics>,
}

impl<K: SourceObject> Cycle<K> {
    /// Reads what a reconcile starts from; `None` when `spec.suspend` stops it (logged).
    pub fn begin<E: SourceError>(obj: Arc<K>, state: &State) -> Result<Option<Cycle<K>>, E> {
        let namespace = obj.namespace().ok_or_else(E::no_namespace)?;
        let name = obj.name_any();
        state.metrics.record_suspended(&K::kind(&()), &namespace, &name, obj.suspended());
        if obj.suspended() {
            tracing::info!(%namespace, %name, "reconciliation is suspended for this object");
            return Ok(None);
        }
        Ok(Some(Cycle {
            name,
            api: Api::namespaced(state.client.clone(), &namespace),
            metrics: state.metrics.clone(),
            generation: obj.meta().generation,
            requested_at: obj.annotations().get(RECONCILE_REQUESTED_AT).cloned(),
            before: obj.status().cloned().unwrap_or_default(),
            namespace,
            obj,
        }))
    }

    /// Refuses the spec: Stalled with `reason` until the object changes.
    pub async fn stall(&self, reason: &str, message: &str) -> kube::Result<Action> {
        let mut next = self.before.clone();
        *next.observed_generation_mut() = self.generation;
        conditions::stalled(next.conditions_mut(), self.generation, reason, message);
        self.handle_request(&mut next);
        self.write(&next).await?;
        Ok(Action::await_change())
    }

    /// Marks the reconcile as in progress on a new generation or a new request (with what the
    /// kind adds then, through `progressing`), and returns the status to build the outcome on,
    /// the request recorded as handled.
    pub async fn start(&self, progressing: impl FnOnce(&mut K::Status)) -> kube::Result<K::Status> {
        let mut working = self.before.clone();
        let new_request =
            self.requested_at.is_some() && self.requested_at.as_deref() != self.before.last_handled_reconcile_at();
        if self.before.observed_generation() != self.generation || new_request {
            conditions::progressing(working.conditions_mut(), self.generation, "reconciliation in progress");
            progressing(&mut working);
            self.write(&working).await?;
        }
        self.handle_request(&mut working);
        Ok(working)
    }

    /// Whether `status`'s artifact is still in storage.
    pub fn in_storage(&self, state: &State, status: &K::Status) -> bool {
        status.artifact().is_some_and(|a| state.storage.artifact_exists(a))
    }

    /// Closes a successful reconcile: the status, the event of a new artifact, the backoff reset.
    /// The URLs are written afresh from the storage's advertised address
    /// ([`SourceStatus::refresh_urls`]).
    pub async fn succeeded(
        &self,
        state: &State,
        mut next: K::Status,
        new: Option<NewArtifact<'_>>,
    ) -> kube::Result<()> {
        next.refresh_urls(&state.storage);
        self.write(&next).await?;
        if let Some(new) = new {
            tracing::info!(namespace = %self.namespace, name = %self.name, revision = new.revision, "stored artifact");
            let obj = self.obj.as_ref();
            state.recorder.record(obj, Severity::Info, new.reason, new.message, Some(new.revision), new.metadata).await;
        }
        state.backoff.reset(&self.namespace, &self.name);
        Ok(())
    }

    /// Closes a failed reconcile: the error's condition and event when it has one, then the
    /// error itself, for the retry.
    pub async fn failed<E: SourceError>(&self, state: &State, mut next: K::Status, error: E) -> Result<Action, E> {
        if let Some((type_, reason)) = error.condition() {
            let message = error.to_string();
            let in_storage = self.in_storage(state, &next);
            next.mark_failed(self.generation, type_, reason, &message, in_storage);
            self.report_failure(state, &next, reason, &message).await?;
        }
        Err(error)
    }

    /// Writes the status of a failure the caller already marked, and records its event.
    pub async fn report_failure(
        &self,
        state: &State,
        next: &K::Status,
        reason: &str,
        message: &str,
    ) -> kube::Result<()> {
        self.write(next).await?;
        let obj = self.obj.as_ref();
        state.recorder.record(obj, Severity::Error, reason, message, None, BTreeMap::new()).await;
        Ok(())
    }

    /// Writes `next` when it differs from the status the reconcile started from.
    /// Records its Ready condition in the metrics either way, so a restarted controller reports
    /// objects whose status it had no need to write.
    async fn write(&self, next: &K::Status) -> kube::Result<()> {
        self.metrics.record_ready(&K::kind(&()), &self.namespace, &self.name, next.conditions());
        if *next == self.before {
            return Ok(());
        }
        weir_runtime::status::apply(&self.api, SOURCE_CONTROLLER, &self.name, next).await
    }

    fn handle_request(&self, status: &mut K::Status) {
        if let Some(requested_at) = &self.requested_at {
            *status.last_handled_reconcile_at_mut() = Some(requested_at.clone());
        }
    }
}
