//! Flux's own benchmark shape: N apps, each pushed as a Flux artifact to an OCI registry on
//! loopback (Debian's docker-registry), each with its own OCIRepository and a Kustomization
//! (`wait`, `prune`, interval 60m) applying it into its own namespace.

use std::time::{Duration, Instant};

use anyhow::Context;
use futures::{StreamExt, TryStreamExt};
use kube::api::Api;
use serde_json::json;
use weir_api::kustomize::Kustomization;
use weir_api::source::OCIRepository;
use weir_testenv::TestEnv;
use weir_testenv::controllers::Controllers;

use crate::apiserver_requests::Tally;
use crate::bulk_create::create_all;
use crate::floor::{self, Floor};
use crate::mttp::{CONTROLLERS, Mttp, Shape};
use crate::proc_stats::peak_rss;
use crate::readiness::wait_all_ready;
use crate::registry::Registry;
use crate::workload::{app_objects, to_yaml_stream};

const TAG: &str = "latest";

pub async fn run(env: &TestEnv, n: usize, concurrency: usize, floor: Floor) -> anyhow::Result<Mttp> {
    let client = env.client();
    let home = format!("bench-oci-{n}");
    let apps: Vec<String> = (0..n).map(|i| format!("o{n}-app-{i}")).collect();
    eprintln!("[oci n={n}] creating {} namespaces", n + 1);
    floor::create_namespaces(&client, std::slice::from_ref(&home), 1).await?;
    floor::create_namespaces(&client, &apps, concurrency).await?;

    // `docker-registry` is a blocking start (it waits for the port): off the async runtime.
    let registry = tokio::task::spawn_blocking(Registry::start).await??;
    eprintln!("[oci n={n}] pushing {n} artifacts to {}", registry.addr);
    futures::stream::iter(0..n)
        .map(|i| {
            let app = to_yaml_stream(&app_objects(&format!("app-{i}"), None));
            let registry = &registry;
            async move { registry.push_artifact(&format!("apps/app-{i}"), TAG, &[("app.yaml", &app)]).await }
        })
        .buffer_unordered(concurrency)
        .try_collect::<Vec<()>>()
        .await?;

    let extra = vec![format!("--concurrent={concurrency}")];
    let controllers = Controllers::start(env, &home, &CONTROLLERS, &extra).context("starting the controllers")?;
    let pids = controllers.pids();

    eprintln!("[oci n={n}] creating {n} OCIRepositories and {n} Kustomizations");
    let requests_before = Tally::take(&client).await?;
    let started = Instant::now();
    let sources: Vec<_> = (0..n)
        .map(|i| {
            json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "OCIRepository",
                "metadata": {"name": format!("app-{i}")},
                "spec": {"url": registry.url(&format!("apps/app-{i}")), "interval": "60m", "ref": {"tag": TAG}}})
        })
        .collect();
    let kustomizations: Vec<_> = (0..n)
        .map(|i| {
            json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                "metadata": {"name": format!("app-{i}")},
                "spec": {"interval": "60m", "path": "./", "prune": true, "wait": true, "timeout": "5m",
                         "targetNamespace": apps[i], "sourceRef": {"kind": "OCIRepository", "name": format!("app-{i}")}}})
        })
        .collect();
    let source_api: Api<OCIRepository> = Api::namespaced(client.clone(), &home);
    let kustomization_api: Api<Kustomization> = Api::namespaced(client.clone(), &home);
    // Both kinds at once, as `kubectl apply` of N app packages would send them.
    tokio::try_join!(
        create_all(&source_api, sources, concurrency),
        create_all(&kustomization_api, kustomizations, concurrency),
    )?;
    wait_all_ready(&kustomization_api, n, None, Duration::from_secs(1800), &controllers).await?;
    let weir = started.elapsed();
    let peak = [peak_rss(pids[0]), peak_rss(pids[1])];
    eprintln!("[oci n={n}] Weir: {:.1}s", weir.as_secs_f64());
    let requests = Tally::take(&client).await?.since(&requests_before);
    drop(controllers);
    drop(registry);
    Ok(Mttp { shape: Shape::Oci, n, weir, floor, peak_rss: peak, requests })
}
