//! Flux's time-to-production shape with Git: one monorepo served over smart HTTP, one
//! GitRepository, N Kustomizations (`wait`, `prune`, interval 60m) on N paths, each applying an
//! app into its own namespace. Then the monorepo storm: one path changes, and we see what that
//! costs, and how much the controllers hold when nothing changes.

use std::time::{Duration, Instant};

use anyhow::Context;
use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;
use weir_api::kustomize::Kustomization;
use weir_api::source::GitRepository;
use weir_testenv::TestEnv;
use weir_testenv::controllers::Controllers;

use crate::apiserver_requests::{self, Requests, Tally};
use crate::bulk_create::create_all;
use crate::floor::{self, Floor};
use crate::mttp::{CONTROLLERS, Mttp, Shape};
use crate::proc_stats::{cpu_time, peak_rss, rss};
use crate::readiness::{tail, wait_all_ready};
use crate::support::{GitHttpServer, Repo, ServerAuth};
use crate::timeline::Timeline;
use crate::workload::{app_objects, to_yaml_stream};

/// Server-side-apply dry runs of Ingresses: one per Kustomization that applies its app again
/// (the apply engine dry-runs every object that already exists, and nothing else dry-runs them).
const DRY_RUNS: Requests<'static> = Requests { verb: "APPLY", resource: "ingresses", dry_run: true };
/// Server-side applies of Ingresses: one per Kustomization that creates its app.
const APPLIES: Requests<'static> = Requests { verb: "APPLY", resource: "ingresses", dry_run: false };

/// The Git shape's figures at one N, with the storm and the idle watch when asked for.
#[derive(Debug)]
pub struct GitRun {
    pub mttp: Mttp,
    pub storm: Option<Storm>,
    pub idle: Option<Idle>,
}

/// What to do after the rollout.
#[derive(Debug, Clone, Copy, Default)]
pub struct After {
    pub storm: bool,
    /// Watch the idle controllers this long.
    pub idle: Option<Duration>,
}

#[derive(Debug, Default)]
pub struct Storm {
    /// From the reconcile request until the changed object is in the cluster.
    pub change_applied: Duration,
    /// From the reconcile request until every Kustomization has reconciled the new revision.
    pub all_reconciled: Duration,
    /// Kustomizations that reconciled the new revision.
    pub reconciled: usize,
    /// Kustomizations that sent their objects to the API server again: the server-side-apply
    /// dry runs of the apps' Ingresses in the storm (one per app and apply; nothing else
    /// dry-runs them), counted by the API server itself.
    pub reapplied: u64,
    /// Services really applied in the storm (only app-0's one changed).
    pub services_written: u64,
    /// CPU time the controllers spent on the storm.
    pub cpu: [Duration; 2],
    /// Ingresses applied in the rollout, where each of the N Kustomizations created its app
    /// once: N when every Kustomization applied exactly once.
    pub rollout_applies: u64,
}

/// The controllers after a quiet period.
#[derive(Debug, Default)]
pub struct Idle {
    pub watched: Duration,
    pub rss: [u64; 2],
    pub cpu: [Duration; 2],
}

pub async fn run(env: &TestEnv, n: usize, concurrency: usize, floor: Floor, after: After) -> anyhow::Result<GitRun> {
    let client = env.client();
    let home = format!("bench-git-{n}");
    let apps: Vec<String> = (0..n).map(|i| format!("g{n}-app-{i}")).collect();
    eprintln!("[git n={n}] creating {} namespaces", n + 1);
    floor::create_namespaces(&client, std::slice::from_ref(&home), 1).await?;
    floor::create_namespaces(&client, &apps, concurrency).await?;

    eprintln!("[git n={n}] writing the monorepo");
    let repo = Repo::new("mono");
    let files: Vec<(String, String)> = (0..n)
        .map(|i| (format!("apps/app-{i}/app.yaml"), to_yaml_stream(&app_objects(&format!("app-{i}"), None))))
        .collect();
    let refs: Vec<(&str, &str)> = files.iter().map(|(p, c)| (p.as_str(), c.as_str())).collect();
    repo.commit(&refs, "N apps");
    repo.push("main");
    let server = GitHttpServer::start(&repo.root, ServerAuth::None);

    let extra = vec![format!("--concurrent={concurrency}")];
    let controllers = Controllers::start(env, &home, &CONTROLLERS, &extra).context("starting the controllers")?;
    let pids = controllers.pids();

    eprintln!("[git n={n}] creating the GitRepository and {n} Kustomizations");
    let applies_before = apiserver_requests::count(&client, APPLIES).await?;
    let requests_before = Tally::take(&client).await?;
    let started = Instant::now();
    let repos: Api<GitRepository> = Api::namespaced(client.clone(), &home);
    let source = json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
        "metadata": {"name": "mono"}, "spec": {"url": server.url("mono"), "interval": "60m", "ref": {"branch": "main"}}});
    create_all(&repos, vec![source], 1).await?;
    let kustomizations: Api<Kustomization> = Api::namespaced(client.clone(), &home);
    let objects = (0..n)
        .map(|i| {
            json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                "metadata": {"name": format!("app-{i}")},
                "spec": {"interval": "60m", "path": format!("./apps/app-{i}"), "prune": true, "wait": true,
                         "timeout": "5m", "targetNamespace": apps[i],
                         "sourceRef": {"kind": "GitRepository", "name": "mono"}}})
        })
        .collect();
    create_all(&kustomizations, objects, concurrency).await?;
    wait_all_ready(&kustomizations, n, None, Duration::from_secs(1800), &controllers).await?;
    let weir = started.elapsed();
    let peak = [peak_rss(pids[0]), peak_rss(pids[1])];
    eprintln!("[git n={n}] Weir: {:.1}s", weir.as_secs_f64());
    let requests = Tally::take(&client).await?.since(&requests_before);
    let mttp = Mttp { shape: Shape::Git, n, weir, floor, peak_rss: peak, requests };
    let rollout_applies = apiserver_requests::count(&client, APPLIES).await?.saturating_sub(applies_before);

    let storm = if after.storm {
        let mut storm = run_storm(env, &repo, &repos, &kustomizations, &apps[0], n, &controllers).await?;
        storm.rollout_applies = rollout_applies;
        Some(storm)
    } else {
        None
    };
    let idle = match after.idle {
        Some(watched) => Some(watch_idle(&controllers, watched).await),
        None => None,
    };
    drop(server);
    Ok(GitRun { mttp, storm, idle })
}

async fn run_storm(
    env: &TestEnv,
    repo: &Repo,
    repos: &Api<GitRepository>,
    kustomizations: &Api<Kustomization>,
    first_app_namespace: &str,
    n: usize,
    controllers: &Controllers,
) -> anyhow::Result<Storm> {
    let client = env.client();
    let pids = controllers.pids();
    let writes = Requests { verb: "APPLY", resource: "services", dry_run: false };
    let mut changed = app_objects("app-0", None);
    changed[2]["metadata"]["annotations"] = json!({"bench.weir.dev/changed": "yes"});
    let files = [("apps/app-0/app.yaml", to_yaml_stream(&changed))];
    let refs: Vec<(&str, &str)> = files.iter().map(|(p, c)| (*p, c.as_str())).collect();
    let commit = repo.commit(&refs, "change one app");
    repo.push("main");
    let cpu_before = [cpu_time(pids[0]), cpu_time(pids[1])];
    let (dry_runs_before, writes_before) =
        (apiserver_requests::count(&client, DRY_RUNS).await?, apiserver_requests::count(&client, writes).await?);
    let service = Timeline::watch(Api::<Service>::namespaced(client.clone(), first_app_namespace), "app-0");
    let started = Instant::now();
    // What a push webhook does: ask the source to reconcile now.
    let request = json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": format!("storm-{n}")}}});
    repos.patch("mono", &PatchParams::default(), &Patch::Merge(&request)).await?;
    let arrived = service
        .first(started, Duration::from_secs(600), "the change", |s| {
            s.metadata.annotations.as_ref().is_some_and(|a| a.contains_key("bench.weir.dev/changed"))
        })
        .await
        .with_context(|| tail(&controllers.logs()))?;
    let change_applied = arrived.saturating_duration_since(started);
    let reconciled =
        wait_all_ready(kustomizations, n, Some(commit.trim()), Duration::from_secs(1800), controllers).await?;
    let all_reconciled = started.elapsed();
    let cpu = [cpu_time(pids[0]) - cpu_before[0], cpu_time(pids[1]) - cpu_before[1]];
    let reapplied = apiserver_requests::count(&client, DRY_RUNS).await?.saturating_sub(dry_runs_before);
    let services_written = apiserver_requests::count(&client, writes).await?.saturating_sub(writes_before);
    eprintln!(
        "[git n={n}] storm: change in {:.1}s, all {reconciled} reconciled in {:.1}s, {reapplied} re-applied, \
         {services_written} Service writes",
        change_applied.as_secs_f64(),
        all_reconciled.as_secs_f64()
    );
    Ok(Storm { change_applied, all_reconciled, reconciled, reapplied, services_written, cpu, rollout_applies: 0 })
}

async fn watch_idle(controllers: &Controllers, watched: Duration) -> Idle {
    let pids = controllers.pids();
    let quiet_start = [cpu_time(pids[0]), cpu_time(pids[1])];
    tokio::time::sleep(watched).await;
    let cpu = [cpu_time(pids[0]) - quiet_start[0], cpu_time(pids[1]) - quiet_start[1]];
    Idle { watched, rss: [rss(pids[0]), rss(pids[1])], cpu }
}
