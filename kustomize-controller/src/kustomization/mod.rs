//! The Kustomization reconciler: a kube-runtime `Controller` that keeps the build of a source's
//! artifact applied to the cluster (FLUX-API.md §1.2, §3).
//!
//! - `source`: the referenced source and its artifact; `cache`: artifacts extracted once per digest;
//! - `dependencies`: `dependsOn` readiness and cycles; `dependents`: the index of who depends on
//!   whom, for the dependents a dependency wakes;
//! - `variables`: the postBuild variables from `substitute` and `substituteFrom`;
//! - `decrypt`: `spec.decryption`, SOPS keys, generator sources and objects decrypted as Flux does;
//! - `build`: the owner labels set on the objects of `weir_kustomize::flux::build`;
//! - `clients`: who applies (the controller, an impersonated service account, a remote cluster);
//!   `workload_identity`: a remote cluster reached with a ServiceAccount token;
//! - `expressions`, `health_exprs`: CEL for `readyExpr` and `healthCheckExprs`;
//! - `runs`: health waits to cancel on a new revision, builds and applies to reuse; `history`:
//!   `status.history`; `skip`: when a new revision that builds to the same set skips the apply;
//! - `reconcile`: the pipeline; `status`: conditions and the status patch.

mod build;
mod cache;
mod clients;
mod decrypt;
mod dependencies;
mod dependents;
mod expressions;
mod health_exprs;
mod history;
mod reconcile;
mod runs;
mod skip;
mod source;
mod status;
mod variables;
mod workload_identity;

use std::fmt::Debug;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::serde::de::DeserializeOwned;
use kube::api::Api;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::finalizer::{self, Event as Finalizer};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Resource, ResourceExt};
use prometheus_client::metrics::counter::Counter;
use weir_api::annotations::FINALIZER;
use weir_api::conditions::{self, types};
use weir_api::kustomize::{Kustomization, SourceKind};
use weir_api::meta::Artifact;
use weir_api::source::{Bucket, ExternalArtifact, GitRepository, OCIRepository};
use weir_apply::ResourceManager;
use weir_runtime::artifact::{ArtifactFetcher, FetchOptions};
use weir_runtime::metrics::ReconcileResult;

use cache::ArtifactCache;
use clients::Clients;
use dependents::DependentsIndex;
use runs::Runs;

/// How long an extracted artifact is kept after its last use.
const CACHE_TTL: Duration = Duration::from_secs(600);

pub use reconcile::ReconcileError;

/// The controller's options from its flags.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `--no-cross-namespace-refs`: a `sourceRef` may only name a source in its own namespace.
    pub no_cross_namespace_refs: bool,
    /// `--requeue-dependency`: how soon a Kustomization whose dependencies are not ready looks
    /// again, should no dependency's change wake it first.
    pub requeue_dependency: Duration,
    /// `--default-service-account`: impersonated when `spec.serviceAccountName` is unset.
    pub default_service_account: Option<String>,
    /// `--default-kubeconfig-service-account`: the ServiceAccount of a `kubeConfig.configMapRef`
    /// whose ConfigMap names none.
    pub default_kubeconfig_service_account: Option<String>,
    /// `--kubeconfig`, the base of the impersonating clients.
    pub kubeconfig: Option<PathBuf>,
    /// `--skip-unchanged-revisions`: a new revision that builds to the set applied last, less than
    /// an interval ago, only records the revision (see `skip`).
    pub skip_unchanged_revisions: bool,
    /// `--sops-age-secret`: the controller-wide age keys, for `spec.decryption` without a
    /// `secretRef`.
    pub sops_age_secret: Option<String>,
    /// `--feature-gates`.
    pub feature_gates: crate::features::FeatureGates,
}

/// The kind, for metrics.
const KIND: &str = "Kustomization";

/// What every reconcile shares.
pub struct State {
    pub client: kube::Client,
    options: Options,
    cache: ArtifactCache,
    clients: Clients,
    recorder: weir_runtime::events::EventRecorder,
    backoff: weir_runtime::requeue::Backoff,
    runs: Runs,
    /// The watch cache of Kustomizations, for cycle detection.
    store: Store<Kustomization>,
    /// The watch caches of the sources, for their artifacts.
    sources: source::SourceStores,
    /// `weir_kustomization_unchanged_revisions_skipped_total`.
    skipped: Counter,
    metrics: Arc<weir_runtime::Metrics>,
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

/// A source kind a Kustomization can reference, and where its artifact is.
trait ArtifactSource:
    Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
    + Clone
    + DeserializeOwned
    + Debug
    + Send
    + Sync
    + 'static
{
    const KIND: SourceKind;
    fn artifact(&self) -> Option<&Artifact>;
}

macro_rules! artifact_source {
    ($($kind:ident),*) => {$(
        impl ArtifactSource for $kind {
            const KIND: SourceKind = SourceKind::$kind;
            fn artifact(&self) -> Option<&Artifact> {
                self.status.as_ref().and_then(|s| s.artifact.as_ref())
            }
        }
    )*};
}
artifact_source!(GitRepository, OCIRepository, Bucket, ExternalArtifact);

/// Adds a watch of the sources of kind `S`: a new artifact revision wakes the Kustomizations that
/// reference it and cancels their health waits for an older revision.
/// The watch also fills `cache`, the store `source::artifact_of` reads.
fn wake_on_new_artifacts<S: ArtifactSource>(
    controller: Controller<Kustomization>,
    client: &kube::Client,
    namespace: Option<&str>,
    state: Arc<State>,
    cache: reflector::store::Writer<S>,
) -> Controller<Kustomization> {
    let sources = watcher(api_for::<S>(client, namespace), any()).modify(|s: &mut S| s.managed_fields_mut().clear());
    let stream = reflector(cache, sources)
        .default_backoff()
        .applied_objects()
        .predicate_filter(|s: &S| revision_hash(s.artifact()), Default::default());
    controller.watches_stream(stream, move |source| {
        let referencing = referencing(&state.store, S::KIND, &source);
        if let Some(revision) = source.artifact().map(|a| a.revision.as_str()) {
            for r in &referencing {
                let namespace = r.namespace.as_deref().unwrap_or_default();
                if state.runs.new_revision(namespace, &r.name, revision) {
                    tracing::info!(%namespace, name = %r.name, %revision, "a new revision cancels the running health check");
                }
            }
        }
        referencing
    })
}

/// Runs the Kustomization controller until `context.shutdown`.
pub async fn run(context: weir_runtime::Context, options: Options) -> anyhow::Result<()> {
    let client = context.client.clone();
    let namespace = context.watch_namespace.as_deref();
    let fetcher = ArtifactFetcher::new(FetchOptions::from_env())?;
    let cache = ArtifactCache::new(&std::env::temp_dir(), fetcher, CACHE_TTL)?;
    let concurrency = usize::from(context.concurrency).max(1);
    let manager = ResourceManager::new(client.clone()).with_concurrency(concurrency);
    let base = clients::base_config(options.kubeconfig.as_ref()).await?;
    let identity = workload_identity::IdentityOptions {
        default_service_account: options.default_kubeconfig_service_account.clone(),
        object_level: options.feature_gates.enabled(crate::features::OBJECT_LEVEL_WORKLOAD_IDENTITY),
    };
    let clients =
        Clients::new(base, manager, options.default_service_account.clone(), concurrency).with_identity(identity);
    let (reader, writer) = reflector::store();
    let (git, git_cache) = reflector::store();
    let (oci, oci_cache) = reflector::store();
    let (bucket, bucket_cache) = reflector::store();
    let (external, external_cache) = reflector::store();
    let skipped = Counter::default();
    context.metrics.register(
        "weir_kustomization_unchanged_revisions_skipped",
        "New source revisions that built to the set applied last and skipped the apply",
        skipped.clone(),
    );
    let state = Arc::new(State {
        client: client.clone(),
        options,
        cache,
        clients,
        recorder: weir_runtime::events::EventRecorder::new(client.clone(), context.name, &context.events_addr),
        backoff: weir_runtime::requeue::Backoff::default(),
        runs: Runs::default(),
        store: reader.clone(),
        sources: source::SourceStores { git, oci, bucket, external },
        skipped,
        metrics: context.metrics.clone(),
    });

    let index = Arc::new(DependentsIndex::default());
    let indexing = index.clone();
    // The store holds every Kustomization for the process's life; managedFields (a good part of
    // an object with a status) is never read here, so it is dropped before the store keeps it.
    let kustomizations = watcher(api_for::<Kustomization>(&client, namespace), any())
        .modify(|k: &mut Kustomization| k.managed_fields_mut().clear())
        .inspect(move |event| {
            if let Ok(event) = event {
                indexing.observe(event);
            }
        });
    let trigger = reflector(writer, kustomizations)
        .default_backoff()
        .applied_objects()
        .predicate_filter(|o: &Kustomization| weir_runtime::requeue::trigger_hash(o, FINALIZER), Default::default());
    // A Kustomization that becomes Ready (or applies a new revision) wakes its dependents at once.
    let readiness = watcher(api_for::<Kustomization>(&client, namespace), any())
        .default_backoff()
        .applied_objects()
        .predicate_filter(readiness_hash, Default::default());

    tracing::info!(namespace = ?context.watch_namespace, concurrency = context.concurrency, "starting the Kustomization controller");
    let mut controller =
        Controller::for_stream(trigger, reader).watches_stream(readiness, move |ks| index.dependents(&ks));
    controller = wake_on_new_artifacts(controller, &client, namespace, state.clone(), git_cache);
    controller = wake_on_new_artifacts(controller, &client, namespace, state.clone(), oci_cache);
    controller = wake_on_new_artifacts(controller, &client, namespace, state.clone(), bucket_cache);
    controller = wake_on_new_artifacts(controller, &client, namespace, state.clone(), external_cache);
    weir_runtime::drive(controller, &context, reconcile, error_policy, state).await;
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
fn revision_hash(artifact: Option<&Artifact>) -> Option<u64> {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    artifact.map(|a| (&a.revision, &a.digest)).hash(&mut hasher);
    Some(hasher.finish())
}

/// Fires when what dependents check changes: Ready, the observed generation, the applied revision.
fn readiness_hash(ks: &Kustomization) -> Option<u64> {
    let status = ks.status.as_ref()?;
    let ready = status.conditions.as_deref().map(|list| conditions::is_true(list, types::READY));
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (ready, status.observed_generation, &status.last_applied_revision, ks.meta().generation).hash(&mut hasher);
    Some(hasher.finish())
}

async fn reconcile(obj: Arc<Kustomization>, state: Arc<State>) -> Result<Action, finalizer::Error<ReconcileError>> {
    let namespace = obj.namespace().unwrap_or_default();
    let name = obj.name_any();
    let api: Api<Kustomization> = Api::namespaced(state.client.clone(), &namespace);
    let started = std::time::Instant::now();
    let deleting = obj.meta().deletion_timestamp.is_some();
    let result = finalizer::finalizer(&api, FINALIZER, obj, |event| async {
        match event {
            Finalizer::Apply(obj) => reconcile::apply(obj, &state).await,
            Finalizer::Cleanup(obj) => reconcile::cleanup(obj, &state).await,
        }
    })
    .await;
    let outcome = if result.is_ok() { ReconcileResult::success } else { ReconcileResult::error };
    let deleted = deleting && result.is_ok();
    state.metrics.finish_reconcile(KIND, &namespace, &name, started.elapsed(), outcome, deleted);
    result
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
