//! The HelmRepository reconciler: for `type: default`, the repository's `index.yaml` becomes
//! the artifact (stored as JSON, revision `sha256:<hex>` of the downloaded index); for
//! `type: oci`, no artifact: Ready says whether the registry accepts the credentials.
//!
//! - `index`: HTTP downloads, index parsing and version choice (HelmChart uses them too);
//! - `reconcile`: credentials, storage, status and events.

pub mod index;
mod reconcile;

use std::sync::Arc;

use kube::runtime::controller::Action;
use weir_api::source::HelmRepository;

use crate::reconciler::State;
use crate::storage::Storage;
pub use reconcile::{KIND, ReconcileError, http_options, oci_credentials};

impl crate::reconciler::Reconciler for HelmRepository {
    type Error = ReconcileError;
    const KIND: &'static str = KIND;

    async fn apply(obj: Arc<HelmRepository>, state: &State) -> Result<Action, ReconcileError> {
        reconcile::apply(obj, state).await
    }
}

/// Runs the HelmRepository controller until `context.shutdown`.
pub async fn run(context: weir_runtime::Context, storage: Storage) -> anyhow::Result<()> {
    crate::reconciler::run::<HelmRepository>(&context, storage).await
}
