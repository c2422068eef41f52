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

use crate::storage::Storage;
pub use reconcile::{KIND, ReconcileError, http_options, oci_credentials};

/// What every reconcile shares.
pub struct State {
    pub client: kube::Client,
    pub storage: Storage,
    recorder: weir_runtime::events::EventRecorder,
    backoff: weir_runtime::requeue::Backoff,
}

impl crate::reconciler::Reconciler for State {
    type Object = HelmRepository;
    type Error = ReconcileError;
    const KIND: &'static str = KIND;

    async fn apply(&self, obj: Arc<HelmRepository>) -> Result<Action, ReconcileError> {
        reconcile::apply(obj, self).await
    }

    async fn cleanup(&self, obj: Arc<HelmRepository>) -> Result<Action, ReconcileError> {
        reconcile::cleanup(obj, self).await
    }

    fn backoff(&self) -> &weir_runtime::requeue::Backoff {
        &self.backoff
    }
}

/// Runs the HelmRepository controller until `context.shutdown`.
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
