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

use crate::reconciler::State;
use crate::storage::Storage;
pub use reconcile::{KIND, ReconcileError};

impl crate::reconciler::Reconciler for OCIRepository {
    type Error = ReconcileError;
    const KIND: &'static str = KIND;

    async fn apply(obj: Arc<OCIRepository>, state: &State) -> Result<Action, ReconcileError> {
        reconcile::apply(obj, state).await
    }
}

/// Runs the OCIRepository controller until `context.shutdown`.
pub async fn run(context: weir_runtime::Context, storage: Storage) -> anyhow::Result<()> {
    crate::reconciler::run::<OCIRepository>(&context, storage).await
}
