//! The OCIRepository reconciler: resolves a tag, semver range or digest in a registry, checks
//! cosign signatures when asked, and publishes the selected layer as an artifact (extracted and
//! re-archived, or copied) with Flux's revision `<tag>@sha256:<hex>`.
//!
//! - `pull`: resolving references and pulling layers;
//! - `ignore`: what stays out of an extracted layer;
//! - `reconcile`: credentials, verification, storage, status and events.

pub mod ignore;
pub mod pull;
mod reconcile;

use std::sync::Arc;

use kube::runtime::controller::Action;
use weir_api::source::OCIRepository;

use crate::storage::Storage;
pub use reconcile::{KIND, ReconcileError};

/// What every reconcile shares.
pub struct State {
    pub client: kube::Client,
    pub storage: Storage,
    recorder: weir_runtime::events::EventRecorder,
    backoff: weir_runtime::requeue::Backoff,
}

impl crate::reconciler::Reconciler for State {
    type Object = OCIRepository;
    type Error = ReconcileError;
    const KIND: &'static str = KIND;

    async fn apply(&self, obj: Arc<OCIRepository>) -> Result<Action, ReconcileError> {
        reconcile::apply(obj, self).await
    }

    async fn cleanup(&self, obj: Arc<OCIRepository>) -> Result<Action, ReconcileError> {
        reconcile::cleanup(obj, self).await
    }

    fn backoff(&self) -> &weir_runtime::requeue::Backoff {
        &self.backoff
    }
}

/// Runs the OCIRepository controller until `context.shutdown`.
pub async fn run(context: weir_runtime::Context, storage: Storage) -> anyhow::Result<()> {
    let client = context.client.clone();
    let state = State {
        recorder: weir_runtime::events::EventRecorder::new(client.clone(), context.name, &context.events_addr),
        client,
        storage,
        backoff: weir_runtime::requeue::Backoff::default(),
    };
    crate::reconciler::run(&context, state).await
}
