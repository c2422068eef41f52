//! The Kustomization reconciler: a kube-runtime `Controller` that keeps the build of a source's
//! artifact applied to the cluster (FLUX-API.md §1.2, §3).
//!
//! - `source`: the referenced source and its artifact; `cache`: artifacts extracted once per digest;
//! - `layout`: `spec.path` confinement, the generated kustomization, the spec overlay (pure);
//! - `build`: kustomize build and owner labels (blocking);
//! - `reconcile`: the pipeline; `status`: conditions and the status patch.

mod build;
mod cache;
pub mod layout;
mod reconcile;
mod source;
mod status;

use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kube::api::Api;
use kube::runtime::controller::{self, Action, Controller};
use kube::runtime::finalizer::{self, Event as Finalizer};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Resource, ResourceExt};
use weir_api::annotations::FINALIZER;
use weir_api::kustomize::{Kustomization, SourceKind};
use weir_api::source::{GitRepository, OCIRepository};
use weir_apply::ResourceManager;
use weir_runtime::artifact::{ArtifactFetcher, FetchOptions};

use cache::ArtifactCache;

/// How long an extracted artifact is kept after its last use.
const CACHE_TTL: Duration = Duration::from_secs(600);

pub use reconcile::ReconcileError;

/// The controller's options from its flags.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `--no-cross-namespace-refs`: a `sourceRef` may only name a source in its own namespace.
    pub no_cross_namespace_refs: bool,
}

/// What every reconcile shares.
pub struct State {
    pub client: kube::Client,
    options: Options,
    cache: ArtifactCache,
    manager: ResourceManager,
    recorder: weir_runtime::events::EventRecorder,
    backoff: weir_runtime::requeue::Backoff,
}

fn api_for<K>(client: &kube::Client, namespace: Option<&str>) -> Api<K>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>,
{
    match namespace {
        Some(namespace) => Api::namespaced(client.clone(), namespace),
        None => Api::all(client.clone()),
    }
}

/// Runs the Kustomization controller until `context.shutdown`.
pub async fn run(context: weir_runtime::Context, options: Options) -> anyhow::Result<()> {
    let client = context.client.clone();
    let namespace = context.watch_namespace.as_deref();
    let fetcher = ArtifactFetcher::new(FetchOptions::from_env())?;
    let cache = ArtifactCache::new(&std::env::temp_dir(), fetcher, CACHE_TTL)?;
    let manager = ResourceManager::new(client.clone()).with_concurrency(usize::from(context.concurrency).max(1));
    let state = Arc::new(State {
        client: client.clone(),
        options,
        cache,
        manager,
        recorder: weir_runtime::events::EventRecorder::new(client.clone(), context.name, &context.events_addr),
        backoff: weir_runtime::requeue::Backoff::default(),
    });

    let (reader, writer) = reflector::store();
    let trigger = reflector(writer, watcher(api_for::<Kustomization>(&client, namespace), any()))
        .default_backoff()
        .applied_objects()
        .predicate_filter(|o: &Kustomization| weir_runtime::requeue::trigger_hash(o, FINALIZER), Default::default());
    // A source's new artifact revision wakes the Kustomizations that reference it.
    let git = watcher(api_for::<GitRepository>(&client, namespace), any())
        .default_backoff()
        .applied_objects()
        .predicate_filter(
            |s: &GitRepository| revision_hash(s.status.as_ref().and_then(|s| s.artifact.as_ref())),
            Default::default(),
        );
    let oci = watcher(api_for::<OCIRepository>(&client, namespace), any())
        .default_backoff()
        .applied_objects()
        .predicate_filter(
            |s: &OCIRepository| revision_hash(s.status.as_ref().and_then(|s| s.artifact.as_ref())),
            Default::default(),
        );
    let (git_store, oci_store) = (reader.clone(), reader.clone());

    let shutdown = context.shutdown.clone();
    tracing::info!(namespace = ?context.watch_namespace, concurrency = context.concurrency, "starting the Kustomization controller");
    Controller::for_stream(trigger, reader)
        .watches_stream(git, move |s| referencing(&git_store, SourceKind::GitRepository, &s))
        .watches_stream(oci, move |s| referencing(&oci_store, SourceKind::OCIRepository, &s))
        .with_config(controller::Config::default().concurrency(context.concurrency))
        .graceful_shutdown_on(async move { shutdown.cancelled().await })
        .run(reconcile, error_policy, state)
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(%error, "Kustomization reconcile");
            }
        })
        .await;
    Ok(())
}

fn any() -> watcher::Config {
    watcher::Config::default().any_semantic()
}

/// The Kustomizations whose `sourceRef` names `source`.
fn referencing<S: Resource>(
    store: &Store<Kustomization>,
    kind: SourceKind,
    source: &S,
) -> Vec<ObjectRef<Kustomization>> {
    let (Some(namespace), name) = (source.meta().namespace.as_deref(), source.meta().name.as_deref().unwrap_or(""))
    else {
        return Vec::new();
    };
    store
        .state()
        .iter()
        .filter(|ks| {
            let own = ks.namespace().unwrap_or_default();
            let r = &ks.spec.source_ref;
            r.kind == kind && r.name == name && r.namespace_or(&own) == namespace
        })
        .map(|ks| ObjectRef::from_obj(ks.as_ref()))
        .collect()
}

/// Fires when the artifact's revision changes (and on first sight).
fn revision_hash(artifact: Option<&weir_api::meta::Artifact>) -> Option<u64> {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    artifact.map(|a| (&a.revision, &a.digest)).hash(&mut hasher);
    Some(hasher.finish())
}

async fn reconcile(obj: Arc<Kustomization>, state: Arc<State>) -> Result<Action, finalizer::Error<ReconcileError>> {
    let namespace = obj.namespace().unwrap_or_default();
    let api: Api<Kustomization> = Api::namespaced(state.client.clone(), &namespace);
    finalizer::finalizer(&api, FINALIZER, obj, |event| async {
        match event {
            Finalizer::Apply(obj) => reconcile::apply(obj, &state).await,
            Finalizer::Cleanup(obj) => reconcile::cleanup(obj, &state).await,
        }
    })
    .await
}

fn error_policy(obj: Arc<Kustomization>, error: &finalizer::Error<ReconcileError>, state: Arc<State>) -> Action {
    let namespace = obj.namespace().unwrap_or_default();
    let name = obj.name_any();
    let delay = state.backoff.next(&namespace, &name);
    tracing::warn!(%namespace, %name, error = %error, retry_in = ?delay, "Kustomization reconcile failed");
    Action::requeue(delay)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ks(namespace: &str, name: &str, source: serde_json::Value) -> Kustomization {
        let mut ks = Kustomization::new(
            name,
            serde_json::from_value(serde_json::json!({"interval": "1m", "prune": true, "sourceRef": source})).unwrap(),
        );
        ks.meta_mut().namespace = Some(namespace.into());
        ks
    }

    #[test]
    fn sources_map_to_the_kustomizations_that_reference_them() {
        let (reader, mut writer) = reflector::store::<Kustomization>();
        for k in [
            ks("apps", "same-ns", serde_json::json!({"kind": "GitRepository", "name": "repo"})),
            ks("other", "cross-ns", serde_json::json!({"kind": "GitRepository", "name": "repo", "namespace": "apps"})),
            ks("apps", "other-kind", serde_json::json!({"kind": "OCIRepository", "name": "repo"})),
            ks("other", "other-ns", serde_json::json!({"kind": "GitRepository", "name": "repo"})),
        ] {
            writer.apply_watcher_event(&watcher::Event::Apply(k));
        }
        let mut source = GitRepository::new("repo", Default::default());
        source.meta_mut().namespace = Some("apps".into());
        let mut names: Vec<String> =
            referencing(&reader, SourceKind::GitRepository, &source).into_iter().map(|r| r.name).collect();
        names.sort();
        assert_eq!(names, ["cross-ns", "same-ns"]);
    }
}
