//! The GitRepository reconciler: a kube-runtime `Controller` that turns each GitRepository into
//! a tarball artifact of the checked-out ref (FLUX-API.md §1.1, §2).
//!
//! - `reference`: which ref to follow and Flux's revision strings (pure);
//! - `ignore`: what stays out of the artifact (pure, plus reading `.sourceignore` files);
//! - `git`: listing refs and checking out with gitoxide (blocking); `scratch`: the repository `ls_remote` connects through;
//! - `include`: other GitRepositories' artifacts copied in; `submodules`: `recurseSubmodules`; `sparse`: `sparseCheckout` as an archive filter;
//! - `ssh`: the `ssh` command and key files of one SSH operation; `http_options`: TLS and proxy;
//!   `tls`: the system roots' TLS configuration, built once;
//! - `verify`: `spec.verify`, the OpenPGP signatures of the commit and tag checked out;
//! - `fetch`: the Git steps off the async runtime within `spec.timeout`; `limit`: how many fetch at once;
//! - `reconcile`: the pipeline; `status`: conditions and the status patch.

pub mod fetch;
pub mod git;
pub mod http_options;
pub mod ignore;
pub mod include;
mod limit;
mod reconcile;
pub mod reference;
mod scratch;
pub mod sparse;
pub mod ssh;
mod status;
pub mod submodules;
pub mod verify;

use std::sync::Arc;

use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::{reflector, watcher};
use weir_api::source::GitRepository;

use crate::reconciler::State;
use crate::storage::Storage;
pub use reconcile::{KIND, ReconcileError};
pub use scratch::remove as remove_scratch;

impl crate::reconciler::Reconciler for GitRepository {
    type Error = ReconcileError;
    const KIND: &'static str = KIND;

    async fn apply(obj: Arc<GitRepository>, state: &State) -> Result<Action, ReconcileError> {
        reconcile::apply(obj, state).await
    }

    /// A new artifact of an included GitRepository wakes the ones that include it.
    fn related(
        controller: Controller<GitRepository>,
        context: &weir_runtime::Context,
        objects: reflector::Store<GitRepository>,
    ) -> Controller<GitRepository> {
        let api: Api<GitRepository> = crate::reconciler::watched(context);
        controller.watches(api, watcher::Config::default().any_semantic(), move |changed: GitRepository| {
            includers(&objects.state(), &changed)
        })
    }
}

/// Runs the GitRepository controller until `context.shutdown`.
pub async fn run(context: weir_runtime::Context, storage: Storage) -> anyhow::Result<()> {
    crate::reconciler::run::<GitRepository>(&context, storage).await
}

/// The GitRepositories that include `changed` (same namespace).
fn includers(all: &[Arc<GitRepository>], changed: &GitRepository) -> Vec<reflector::ObjectRef<GitRepository>> {
    let namespace = changed.namespace();
    let name = changed.name_any();
    all.iter()
        .filter(|o| o.namespace() == namespace)
        .filter(|o| o.spec.include.iter().flatten().any(|i| i.repository.name == name))
        .map(|o| reflector::ObjectRef::from_obj(o.as_ref()))
        .collect()
}
