//! The HelmChart reconciler: a chart from a HelmRepository (an index over HTTP, or an OCI
//! registry) or from the artifact of a GitRepository or Bucket, with values files merged, stored
//! as a `.tgz` artifact whose revision is the chart version (`+<revision>` for the `Revision`
//! strategy of Git and Bucket sources).
//!
//! - `package`: values merging, version metadata and packaging (pure, blocking);
//! - `fetch`: getting the chart from each kind of source;
//! - `reconcile`: the pipeline, status and events.

mod fetch;
pub mod package;
mod reconcile;

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{self, ObjectRef};
use kube::runtime::{WatchStreamExt, watcher};
use weir_api::source::helm_chart::HelmChartSourceKind;
use weir_api::source::{Bucket, GitRepository, HelmChart, HelmRepository};

use crate::reconciler::State;
use crate::storage::Storage;
pub use reconcile::{KIND, ReconcileError};

impl crate::reconciler::Reconciler for HelmChart {
    type Error = ReconcileError;
    const KIND: &'static str = KIND;

    async fn apply(obj: Arc<HelmChart>, state: &State) -> Result<Action, ReconcileError> {
        reconcile::apply(obj, state).await
    }

    fn related(
        controller: Controller<HelmChart>,
        context: &weir_runtime::Context,
        charts: reflector::Store<HelmChart>,
    ) -> Controller<HelmChart> {
        let artifact = |a: Option<&weir_api::meta::Artifact>| a.map(|a| a.revision.clone());
        let controller = watch_source(
            controller,
            context,
            charts.clone(),
            HelmChartSourceKind::HelmRepository,
            move |o: &HelmRepository| artifact(o.status.as_ref().and_then(|s| s.artifact.as_ref())),
        );
        let controller = watch_source(
            controller,
            context,
            charts.clone(),
            HelmChartSourceKind::GitRepository,
            move |o: &GitRepository| artifact(o.status.as_ref().and_then(|s| s.artifact.as_ref())),
        );
        watch_source(controller, context, charts, HelmChartSourceKind::Bucket, move |o: &Bucket| {
            artifact(o.status.as_ref().and_then(|s| s.artifact.as_ref()))
        })
    }
}

/// Reconciles the HelmCharts of a source when its artifact revision changes, as Flux does.
fn watch_source<S>(
    controller: Controller<HelmChart>,
    context: &weir_runtime::Context,
    charts: reflector::Store<HelmChart>,
    kind: HelmChartSourceKind,
    revision: impl Fn(&S) -> Option<String> + Send + Sync + 'static,
) -> Controller<HelmChart>
where
    S: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static,
{
    let api: Api<S> = crate::reconciler::watched(context);
    let trigger =
        watcher(api, watcher::Config::default().any_semantic()).default_backoff().touched_objects().predicate_filter(
            move |source: &S| {
                let mut hasher = std::collections::hash_map::DefaultHasher::new();
                revision(source).hash(&mut hasher);
                Some(hasher.finish())
            },
            Default::default(),
        );
    controller.watches_stream(trigger, move |source: S| {
        let (namespace, name) = (source.namespace(), source.name_any());
        charts
            .state()
            .into_iter()
            .filter(|chart| {
                chart.spec.source_ref.kind == kind
                    && chart.spec.source_ref.name == name
                    && chart.namespace() == namespace
            })
            .map(|chart| ObjectRef::from_obj(chart.as_ref()))
            .collect::<Vec<_>>()
    })
}

/// Runs the HelmChart controller until `context.shutdown`.
pub async fn run(context: weir_runtime::Context, storage: Storage) -> anyhow::Result<()> {
    crate::reconciler::run::<HelmChart>(&context, storage).await
}
