//! Flux's time-to-production shape with Git: one monorepo served over smart HTTP, one
//! GitRepository, N Kustomizations (`wait`, `prune`, interval 60m) on N paths, each applying an
//! app into its own namespace. Then the monorepo storm: one path changes, and we see what that
//! costs, and how much the controllers hold when nothing changes.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;
use weir_api::conditions::{self, types};
use weir_api::kustomize::Kustomization;
use weir_api::source::GitRepository;
use weir_testenv::TestEnv;
use weir_testenv::controllers::Controllers;

use crate::floor;
use crate::proc_stats::{cpu_time, peak_rss, rss};
use crate::support::{GitHttpServer, Repo, ServerAuth};
use crate::workload::{app_objects, to_yaml_stream};

const CONTROLLERS: [&str; 2] = ["source-controller", "kustomize-controller"];

/// The figures of one run with N apps.
#[derive(Debug, Default)]
pub struct GitRun {
    pub n: usize,
    pub weir: Duration,
    pub floor: Duration,
    /// Peak RSS of source- and kustomize-controller during the run.
    pub peak_rss: [u64; 2],
    pub storm: Option<Storm>,
}

#[derive(Debug, Default)]
pub struct Storm {
    /// From the push until the changed object is in the cluster.
    pub change_applied: Duration,
    /// From the push until every Kustomization has reconciled the new revision.
    pub all_reconciled: Duration,
    /// Kustomizations that reconciled the new revision.
    pub reconciled: usize,
    /// CPU time the controllers spent on the storm.
    pub cpu: [Duration; 2],
    /// Resident memory after a quiet minute, and the CPU it took.
    pub idle_rss: [u64; 2],
    pub idle_cpu: [Duration; 2],
}

pub async fn run(env: &TestEnv, n: usize, concurrency: usize, storm: bool, idle: Duration) -> anyhow::Result<GitRun> {
    let client = env.client();
    let home = format!("bench-git-{n}");
    let apps: Vec<String> = (0..n).map(|i| format!("g{n}-app-{i}")).collect();
    let floor_namespaces: Vec<String> = (0..n).map(|i| format!("f{n}-app-{i}")).collect();
    eprintln!("[git n={n}] creating {} namespaces", 2 * n + 1);
    floor::create_namespaces(&client, std::slice::from_ref(&home), 1).await?;
    floor::create_namespaces(&client, &apps, concurrency).await?;
    floor::create_namespaces(&client, &floor_namespaces, concurrency).await?;

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
    let started = Instant::now();
    let repos: Api<GitRepository> = Api::namespaced(client.clone(), &home);
    let source = json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
        "metadata": {"name": "mono"}, "spec": {"url": server.url("mono"), "interval": "60m", "ref": {"branch": "main"}}});
    repos.create(&PostParams::default(), &serde_json::from_value(source)?).await?;
    let kustomizations: Api<Kustomization> = Api::namespaced(client.clone(), &home);
    futures::stream::iter(0..n)
        .map(|i| {
            let (api, target) = (kustomizations.clone(), apps[i].clone());
            async move {
                let ks = json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                    "metadata": {"name": format!("app-{i}")},
                    "spec": {"interval": "60m", "path": format!("./apps/app-{i}"), "prune": true, "wait": true,
                             "timeout": "5m", "targetNamespace": target,
                             "sourceRef": {"kind": "GitRepository", "name": "mono"}}});
                api.create(&PostParams::default(), &serde_json::from_value(ks)?)
                    .await
                    .map(|_| ())
                    .map_err(anyhow::Error::from)
            }
        })
        .buffer_unordered(concurrency)
        .try_collect::<Vec<()>>()
        .await?;
    wait_all_ready(&kustomizations, n, None, Duration::from_secs(1800), &controllers).await?;
    let weir = started.elapsed();
    let peak = [peak_rss(pids[0]), peak_rss(pids[1])];
    eprintln!("[git n={n}] Weir: {:.1}s", weir.as_secs_f64());

    let objects: Vec<_> = (0..n).flat_map(|i| app_objects(&format!("app-{i}"), Some(&floor_namespaces[i]))).collect();
    let floor = floor::apply_all(&client, objects, concurrency).await?;
    eprintln!("[git n={n}] floor: {:.1}s", floor.as_secs_f64());

    let storm = if storm {
        Some(run_storm(env, &repo, &repos, &kustomizations, &apps[0], n, &controllers, idle).await?)
    } else {
        None
    };
    drop(server);
    Ok(GitRun { n, weir, floor, peak_rss: peak, storm })
}

#[allow(clippy::too_many_arguments)]
async fn run_storm(
    env: &TestEnv,
    repo: &Repo,
    repos: &Api<GitRepository>,
    kustomizations: &Api<Kustomization>,
    first_app_namespace: &str,
    n: usize,
    controllers: &Controllers,
    idle: Duration,
) -> anyhow::Result<Storm> {
    let pids = controllers.pids();
    let cpu_before = [cpu_time(pids[0]), cpu_time(pids[1])];
    let mut changed = app_objects("app-0", None);
    changed[2]["metadata"]["annotations"] = json!({"bench.weir.dev/changed": "yes"});
    let files = [("apps/app-0/app.yaml", to_yaml_stream(&changed))];
    let refs: Vec<(&str, &str)> = files.iter().map(|(p, c)| (*p, c.as_str())).collect();
    let commit = repo.commit(&refs, "change one app");
    repo.push("main");
    let started = Instant::now();
    // What a push webhook does: ask the source to reconcile now.
    let request = json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": format!("storm-{n}")}}});
    repos.patch("mono", &PatchParams::default(), &Patch::Merge(&request)).await?;
    let services: Api<Service> = Api::namespaced(env.client(), first_app_namespace);
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let service = services.get_opt("app-0").await?;
        if service.and_then(|s| s.metadata.annotations).is_some_and(|a| a.contains_key("bench.weir.dev/changed")) {
            break;
        }
        if Instant::now() > deadline {
            let present = services.list(&ListParams::default()).await?.items.len();
            bail!(
                "the changed Service never arrived ({present} Services in {first_app_namespace}):\n{}",
                tail(&controllers.logs())
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let change_applied = started.elapsed();
    let reconciled =
        wait_all_ready(kustomizations, n, Some(commit.trim()), Duration::from_secs(1800), controllers).await?;
    let all_reconciled = started.elapsed();
    let cpu = [cpu_time(pids[0]) - cpu_before[0], cpu_time(pids[1]) - cpu_before[1]];
    eprintln!(
        "[git n={n}] storm: change in {:.1}s, all {reconciled} reconciled in {:.1}s",
        change_applied.as_secs_f64(),
        all_reconciled.as_secs_f64()
    );
    let quiet_start = [cpu_time(pids[0]), cpu_time(pids[1])];
    tokio::time::sleep(idle).await;
    let idle_cpu = [cpu_time(pids[0]) - quiet_start[0], cpu_time(pids[1]) - quiet_start[1]];
    Ok(Storm { change_applied, all_reconciled, reconciled, cpu, idle_rss: [rss(pids[0]), rss(pids[1])], idle_cpu })
}

/// Waits until `n` Kustomizations are Ready (with `revision_suffix` applied when given);
/// returns how many match.
async fn wait_all_ready(
    api: &Api<Kustomization>,
    n: usize,
    revision_suffix: Option<&str>,
    limit: Duration,
    controllers: &Controllers,
) -> anyhow::Result<usize> {
    let deadline = Instant::now() + limit;
    let mut last_report = Instant::now();
    loop {
        let list = api.list(&ListParams::default()).await?;
        let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
        let ready = list
            .items
            .iter()
            .filter(|ks| {
                let Some(status) = ks.status.as_ref() else { return false };
                let revision_ok = revision_suffix
                    .is_none_or(|suffix| status.last_applied_revision.as_deref().is_some_and(|r| r.ends_with(suffix)));
                let condition = status.conditions.as_deref().and_then(|c| conditions::find(c, types::READY));
                if let Some(c) = condition {
                    *reasons.entry(c.reason.clone()).or_default() += 1;
                }
                revision_ok && condition.is_some_and(|c| c.status == weir_api::conditions::ConditionStatus::True)
            })
            .count();
        if ready >= n {
            return Ok(ready);
        }
        if Instant::now() > deadline {
            bail!("only {ready} of {n} Kustomizations became Ready ({reasons:?}):\n{}", tail(&controllers.logs()));
        }
        if last_report.elapsed() > Duration::from_secs(10) {
            eprintln!("  {ready}/{n} ready {reasons:?}");
            last_report = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn tail(logs: &str) -> String {
    let lines: Vec<&str> = logs.lines().collect();
    lines[lines.len().saturating_sub(60)..].join("\n")
}
