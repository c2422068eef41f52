//! The floor: the least a tool can do to get the same objects into the cluster. A plain client
//! server-side-applies them with the same concurrency, with no rendering, no drift check, no
//! health wait and no status. Weir's time over this is the overhead it adds.
//!
//! Its clock stops when the last apply returns, before kube-controller-manager has done its part
//! (ReplicaSets, Deployment status, Endpoints, ServiceAccount tokens), which Weir's `wait: true`
//! must wait for on the same API server. The time until every Deployment is Available is
//! measured too, so that the report can tell the two costs apart.

use std::time::{Duration, Instant};

use std::collections::HashSet;

use anyhow::Context;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::discovery::ApiResource;
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::Value;

use crate::apiserver_requests::{RequestMix, Tally};
use crate::workload::app_objects;

/// The floor's two times, both from the first apply.
#[derive(Debug, Clone)]
pub struct Floor {
    /// Until the last apply returned.
    pub applied: Duration,
    /// Until kube-controller-manager had made every Deployment Available.
    pub settled: Duration,
    /// What the API server was asked until then.
    pub requests: RequestMix,
}

/// The floor for `n` apps: their 4N objects applied into `n` fresh namespaces of their own
/// (created beforehand, untimed).
pub async fn measure(client: &kube::Client, n: usize, concurrency: usize) -> anyhow::Result<Floor> {
    let namespaces: Vec<String> = (0..n).map(|i| format!("f{n}-app-{i}")).collect();
    create_namespaces(client, &namespaces, concurrency).await?;
    let objects: Vec<Value> =
        namespaces.iter().enumerate().flat_map(|(i, ns)| app_objects(&format!("app-{i}"), Some(ns))).collect();
    let before = Tally::take(client).await?;
    let started = Instant::now();
    let applied = apply_all(client, objects, concurrency).await?;
    all_available(client, n, Duration::from_secs(1800)).await?;
    let settled = started.elapsed();
    let requests = Tally::take(client).await?.since(&before);
    Ok(Floor { applied, settled, requests })
}

/// Waits, on a watch, until `n` Deployments are Available at their current generation.
async fn all_available(client: &kube::Client, n: usize, timeout: Duration) -> anyhow::Result<()> {
    let mut available = HashSet::new();
    let mut events =
        std::pin::pin!(watcher(Api::<Deployment>::all(client.clone()), Default::default()).touched_objects());
    let watching = async {
        while let Some(deployment) = events.try_next().await.context("watching Deployments")? {
            let key = (deployment.metadata.namespace.clone(), deployment.metadata.name.clone());
            if is_available(&deployment) {
                available.insert(key);
            } else {
                available.remove(&key);
            }
            if available.len() >= n {
                return Ok(());
            }
        }
        anyhow::bail!("the Deployment watch ended")
    };
    tokio::time::timeout(timeout, watching)
        .await
        .with_context(|| format!("waiting for {n} Deployments to be Available"))?
}

fn is_available(deployment: &Deployment) -> bool {
    let Some(status) = &deployment.status else { return false };
    status.observed_generation == deployment.metadata.generation
        && status
            .conditions
            .iter()
            .flatten()
            .any(|c| c.type_.as_deref() == Some("Available") && c.status.as_deref() == Some("True"))
}

/// Applies every object, `concurrency` at a time; returns the wall time.
pub async fn apply_all(client: &kube::Client, objects: Vec<Value>, concurrency: usize) -> anyhow::Result<Duration> {
    let params = PatchParams::apply("weir-bench-floor").force();
    let started = Instant::now();
    futures::stream::iter(objects.into_iter().map(Ok))
        .try_for_each_concurrent(concurrency, |object| {
            let (client, params) = (client.clone(), params.clone());
            async move { apply_one(&client, &params, object).await }
        })
        .await?;
    Ok(started.elapsed())
}

async fn apply_one(client: &kube::Client, params: &PatchParams, object: Value) -> anyhow::Result<()> {
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    let kind = object["kind"].as_str().unwrap_or_default();
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let resource = ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, kind));
    let name = object["metadata"]["name"].as_str().unwrap_or_default().to_string();
    let namespace = object["metadata"]["namespace"].as_str().unwrap_or_default().to_string();
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &namespace, &resource);
    api.patch(&name, params, &Patch::Apply(&object))
        .await
        .with_context(|| format!("applying {kind} {namespace}/{name}"))?;
    Ok(())
}

/// Creates the namespaces, `concurrency` at a time (not timed: both sides get them beforehand).
pub async fn create_namespaces(client: &kube::Client, names: &[String], concurrency: usize) -> anyhow::Result<()> {
    let objects: Vec<Value> = names
        .iter()
        .map(|n| serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}}))
        .collect();
    let resource = ApiResource::from_gvk(&GroupVersionKind::gvk("", "v1", "Namespace"));
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
    let params = PatchParams::apply("weir-bench").force();
    futures::stream::iter(objects)
        .map(|o| {
            let (api, params) = (api.clone(), params.clone());
            async move {
                let name = o["metadata"]["name"].as_str().unwrap_or_default().to_string();
                api.patch(&name, &params, &Patch::Apply(&o)).await.with_context(|| format!("creating namespace {name}"))
            }
        })
        .buffer_unordered(concurrency)
        .try_collect::<Vec<_>>()
        .await?;
    Ok(())
}
