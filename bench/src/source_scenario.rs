//! The source-controller alone: N distinct app repositories served over Git smart HTTP, N
//! GitRepositories created at once, and the time until every one has its artifact, beside a
//! same-run baseline of `git clone --depth 1` + `tar czf` + `sha256sum` with the same
//! concurrency. Then a second pass where nothing changed: every GitRepository is asked to
//! reconcile and only the cheap remote check should run (no clone), beside `git ls-remote`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, bail};
use futures::{StreamExt, TryStreamExt};
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::json;
use weir_api::annotations::RECONCILE_REQUESTED_AT;
use weir_api::conditions::{self, ConditionStatus, types};
use weir_api::source::GitRepository;
use weir_testenv::TestEnv;
use weir_testenv::controllers::Controllers;

use crate::floor;
use crate::proc_stats::{cpu_time, mib, peak_rss, rss};
use crate::source_baseline::{self, Timings};
use crate::source_repos;
use crate::support::{GitHttpServer, ServerAuth};

/// The figures of one run with N repositories.
#[derive(Debug, Default)]
pub struct SourceRun {
    pub n: usize,
    pub concurrency: usize,
    /// One artifact on the idle controller (the warm-up).
    pub single: Duration,
    /// From the first create until every GitRepository is Ready with an artifact.
    pub artifacts: Pass,
    pub artifacts_baseline: Timings,
    /// From the first reconcile request until every GitRepository has handled it.
    pub recheck: Pass,
    pub recheck_baseline: Timings,
    /// Artifacts written again in the recheck (should be none: nothing changed).
    pub rewritten: usize,
    /// The source-controller's peak resident memory over both passes, and its memory after.
    pub peak_rss: u64,
    pub rss_after: u64,
}

/// One pass of the source-controller over the N objects.
#[derive(Debug, Default)]
pub struct Pass {
    pub total: Duration,
    /// Per object, from the start of the pass until it was done.
    pub each: Vec<Duration>,
    /// CPU time the source-controller spent.
    pub cpu: Duration,
}

const WAIT_LIMIT: Duration = Duration::from_secs(1800);

pub async fn run(env: &TestEnv, n: usize, concurrency: usize) -> anyhow::Result<SourceRun> {
    let client = env.client();
    let namespace = format!("bench-source-{n}");
    floor::create_namespaces(&client, std::slice::from_ref(&namespace), 1).await?;

    let repos = tempfile::tempdir().context("creating the repositories' directory")?;
    let started = Instant::now();
    let root = repos.path().to_path_buf();
    tokio::task::spawn_blocking(move || source_repos::write_all(&root, n, 4)).await??;
    eprintln!("[source n={n}] wrote {n} repositories in {:.1}s", started.elapsed().as_secs_f64());
    let server = GitHttpServer::start(repos.path(), ServerAuth::None);
    let urls: Vec<String> = (0..n).map(|i| server.url(&source_repos::repo_name(i))).collect();

    let scratch = tempfile::tempdir().context("creating the baseline's directory")?;
    let artifacts_baseline = source_baseline::artifacts(&urls, concurrency, scratch.path()).await?;
    drop(scratch);
    eprintln!("[source n={n}] baseline clone+tar+sha256: {:.1}s", artifacts_baseline.total.as_secs_f64());

    let extra = vec![format!("--concurrent={concurrency}")];
    let controllers =
        Controllers::start(env, &namespace, &["source-controller"], &extra).context("starting source-controller")?;
    let pid = controllers.pids()[0];
    let api: Api<GitRepository> = Api::namespaced(client.clone(), &namespace);
    // The first one also waits for the controller to start; the second is the figure.
    one_artifact(&api, "warm-up", &urls[0], &controllers).await?;
    let single = one_artifact(&api, "single", &urls[0], &controllers).await?;
    eprintln!(
        "[source n={n}] one artifact on the idle controller: {}; RSS {} (peak {})",
        secs(single),
        mib(rss(pid)),
        mib(peak_rss(pid))
    );

    eprintln!("[source n={n}] creating {n} GitRepositories");
    let cpu_before = cpu_time(pid);
    let started = Instant::now();
    let waiting = tokio::spawn(wait_until(api.clone(), n, started, has_artifact));
    futures::stream::iter(urls.iter().enumerate())
        .map(|(i, url)| {
            let api = api.clone();
            let object = git_repository(&source_repos::repo_name(i), url);
            async move {
                api.create(&PostParams::default(), &object?).await?;
                anyhow::Ok(())
            }
        })
        .buffer_unordered(concurrency.max(1))
        .try_collect::<Vec<()>>()
        .await?;
    let each = finish(waiting, &controllers).await?;
    let artifacts = Pass { total: started.elapsed(), each, cpu: cpu_time(pid).saturating_sub(cpu_before) };
    eprintln!(
        "[source n={n}] Weir artifacts: {:.1}s; RSS {} (peak {})",
        artifacts.total.as_secs_f64(),
        mib(rss(pid)),
        mib(peak_rss(pid))
    );
    let storage = storage_path(pid)?;
    let written = artifact_mtimes(&api, &storage).await?;

    eprintln!("[source n={n}] requesting a reconcile of every GitRepository (nothing changed)");
    let token = format!("bench-recheck-{n}");
    let cpu_before = cpu_time(pid);
    let started = Instant::now();
    let expected = token.clone();
    let waiting = tokio::spawn(wait_until(api.clone(), n, started, move |o| handled(o, &expected)));
    let request = json!({"metadata": {"annotations": {RECONCILE_REQUESTED_AT: token}}});
    futures::stream::iter(0..n)
        .map(|i| {
            let (api, request) = (api.clone(), &request);
            async move { api.patch(&source_repos::repo_name(i), &PatchParams::default(), &Patch::Merge(request)).await }
        })
        .buffer_unordered(concurrency.max(1))
        .try_collect::<Vec<_>>()
        .await?;
    let each = finish(waiting, &controllers).await?;
    let recheck = Pass { total: started.elapsed(), each, cpu: cpu_time(pid).saturating_sub(cpu_before) };
    eprintln!("[source n={n}] Weir recheck: {:.1}s", recheck.total.as_secs_f64());
    let after = artifact_mtimes(&api, &storage).await?;
    let rewritten = written.iter().filter(|(name, time)| after.get(*name) != Some(*time)).count();
    let (peak_rss, rss_after) = (peak_rss(pid), rss(pid));

    let recheck_baseline = source_baseline::ls_remotes(&urls, concurrency).await?;
    eprintln!("[source n={n}] baseline ls-remote: {:.1}s", recheck_baseline.total.as_secs_f64());
    drop(controllers);
    drop(server);
    Ok(SourceRun {
        n,
        concurrency,
        single,
        artifacts,
        artifacts_baseline,
        recheck,
        recheck_baseline,
        rewritten,
        peak_rss,
        rss_after,
    })
}

fn ready(o: &GitRepository) -> bool {
    let conditions = o.status.as_ref().and_then(|s| s.conditions.as_deref()).unwrap_or_default();
    conditions::find(conditions, types::READY).is_some_and(|c| c.status == ConditionStatus::True)
}

fn has_artifact(o: &GitRepository) -> bool {
    ready(o) && o.status.as_ref().is_some_and(|s| s.artifact.is_some())
}

fn handled(o: &GitRepository, token: &str) -> bool {
    ready(o) && o.status.as_ref().and_then(|s| s.last_handled_reconcile_at.as_deref()) == Some(token)
}

fn git_repository(name: &str, url: &str) -> anyhow::Result<GitRepository> {
    let object = json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
        "metadata": {"name": name},
        "spec": {"url": url, "interval": "60m", "ref": {"branch": "main"}}});
    Ok(serde_json::from_value(object)?)
}

/// One GitRepository on the idle controller, then deleted; returns how long its artifact took.
async fn one_artifact(
    api: &Api<GitRepository>,
    name: &str,
    url: &str,
    controllers: &Controllers,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let wanted = name.to_string();
    let waiting = tokio::spawn(wait_until(api.clone(), 1, started, move |o| o.name_any() == wanted && has_artifact(o)));
    api.create(&PostParams::default(), &git_repository(name, url)?)
        .await
        .with_context(|| format!("creating {name}"))?;
    finish(waiting, controllers).await?;
    let took = started.elapsed();
    api.delete(name, &Default::default()).await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while api.get_opt(name).await?.is_some() {
        if Instant::now() > deadline {
            bail!("the GitRepository {name} was not deleted within 60s:\n{}", tail(&controllers.logs()));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(took)
}

/// The controller's `--storage-path`, from its command line.
fn storage_path(pid: u32) -> anyhow::Result<PathBuf> {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).context("reading source-controller's command line")?;
    cmdline
        .split(|b| *b == 0)
        .find_map(|arg| arg.strip_prefix(b"--storage-path="))
        .map(|path| PathBuf::from(String::from_utf8_lossy(path).into_owned()))
        .context("source-controller runs without --storage-path")
}

/// When each object's artifact file was last written, by name (the artifact's time in status
/// has whole seconds only, too coarse to tell a rewrite).
async fn artifact_mtimes(api: &Api<GitRepository>, storage: &Path) -> anyhow::Result<HashMap<String, SystemTime>> {
    let list = api.list(&Default::default()).await.context("listing the GitRepositories")?;
    let mut times = HashMap::new();
    for object in &list.items {
        let Some(artifact) = object.status.as_ref().and_then(|s| s.artifact.as_ref()) else { continue };
        let file = storage.join(&artifact.path);
        let modified = std::fs::metadata(&file).and_then(|m| m.modified());
        times.insert(object.name_any(), modified.with_context(|| format!("reading {}", file.display()))?);
    }
    Ok(times)
}

/// Waits (watching, so that each time is exact) until `n` objects satisfy `done`; returns
/// when each did, measured from `started`.
async fn wait_until(
    api: Api<GitRepository>,
    n: usize,
    started: Instant,
    done: impl Fn(&GitRepository) -> bool,
) -> anyhow::Result<Vec<Duration>> {
    let mut finished: HashMap<String, Duration> = HashMap::new();
    let mut last_report = Instant::now();
    let watching = async {
        let mut events = std::pin::pin!(watcher(api, watcher::Config::default()).default_backoff().applied_objects());
        while let Some(event) = events.next().await {
            let object = match event {
                Ok(object) => object,
                Err(error) => {
                    eprintln!("  watch error (retrying): {error}");
                    continue;
                }
            };
            if done(&object) {
                finished.entry(object.name_any()).or_insert_with(|| started.elapsed());
            }
            if finished.len() >= n {
                return Ok(());
            }
            if last_report.elapsed() > Duration::from_secs(10) {
                eprintln!("  {}/{n} done after {:.0}s", finished.len(), started.elapsed().as_secs_f64());
                last_report = Instant::now();
            }
        }
        bail!("the watch of the GitRepositories ended")
    };
    match tokio::time::timeout(WAIT_LIMIT, watching).await {
        Ok(result) => result?,
        Err(_) => bail!("only {} of {n} GitRepositories were done after {WAIT_LIMIT:?}", finished.len()),
    }
    Ok(finished.into_values().collect())
}

async fn finish(
    waiting: tokio::task::JoinHandle<anyhow::Result<Vec<Duration>>>,
    controllers: &Controllers,
) -> anyhow::Result<Vec<Duration>> {
    match waiting.await {
        Ok(Ok(each)) => Ok(each),
        Ok(Err(error)) => bail!("{error:#}\n{}", tail(&controllers.logs())),
        Err(join) => bail!("the wait failed: {join}"),
    }
}

fn tail(logs: &str) -> String {
    let lines: Vec<&str> = logs.lines().collect();
    lines[lines.len().saturating_sub(60)..].join("\n")
}

/// The p-th percentile (0..=100) of `times`.
fn percentile(times: &[Duration], p: usize) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    match sorted.len() {
        0 => Duration::ZERO,
        len => sorted[((len - 1) * p.min(100)).div_ceil(100)],
    }
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 10.0 { format!("{:.0}ms", s * 1000.0) } else { format!("{s:.1}s") }
}

fn per(total: Duration, n: usize) -> Duration {
    total / u32::try_from(n.max(1)).unwrap_or(u32::MAX)
}

/// The results as a Markdown section.
pub fn markdown(runs: &[SourceRun]) -> String {
    let mut out = String::new();
    let Some(first) = runs.first() else { return out };
    out.push_str(&format!(
        "\n### source-controller: GitRepository artifacts\n\nN distinct small app repositories (7 files in 4 directories, 3 commits) \
         served by `git http-backend` on loopback; N GitRepositories created at once, source-controller \
         `--concurrent={}` (Flux's default is 2). Baseline in the same run, same concurrency: \
         `git clone --depth 1` + `tar czf` + `sha256sum` per repository, then the checkout removed. Per artifact = total / N; the latency columns are per object, from the \
         start of the pass (Weir) or of its own job (baseline). Targets: per artifact no slower than the baseline; \
         peak RSS at most 32Mi at N = 1000.\n\n",
        first.concurrency
    ));
    out.push_str(
        "| N | one artifact, idle | Weir total | per artifact | latency p50 / max | baseline total | per artifact | job p50 / max | Weir / baseline | CPU | peak RSS |\n",
    );
    out.push_str("|---|---|---|---|---|---|---|---|---|---|---|\n");
    for run in runs {
        let (weir, base) = (&run.artifacts, &run.artifacts_baseline);
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} / {} | {} | {} | {} / {} | {:.2} | {} | {} |\n",
            run.n,
            secs(run.single),
            secs(weir.total),
            secs(per(weir.total, run.n)),
            secs(percentile(&weir.each, 50)),
            secs(percentile(&weir.each, 100)),
            secs(base.total),
            secs(per(base.total, run.n)),
            secs(percentile(&base.each, 50)),
            secs(percentile(&base.each, 100)),
            ratio(weir.total, base.total),
            secs(weir.cpu),
            mib(run.peak_rss),
        ));
    }
    out.push_str(
        "\nNothing changed, every GitRepository asked to reconcile (`reconcile.fluxcd.io/requestedAt`): the cheap \
         remote check (list the remote's refs, no clone), beside `git ls-remote` of the same branch.\n\n",
    );
    out.push_str("| N | Weir total | per object | artifacts rewritten | baseline ls-remote | per object | Weir / baseline | CPU | RSS after |\n");
    out.push_str("|---|---|---|---|---|---|---|---|---|\n");
    for run in runs {
        let (weir, base) = (&run.recheck, &run.recheck_baseline);
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {:.2} | {} | {} |\n",
            run.n,
            secs(weir.total),
            secs(per(weir.total, run.n)),
            run.rewritten,
            secs(base.total),
            secs(per(base.total, run.n)),
            ratio(weir.total, base.total),
            secs(weir.cpu),
            mib(run.rss_after),
        ));
    }
    out
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(0.001)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_the_table() {
        let times: Vec<Duration> = (1..=10).map(Duration::from_secs).collect();
        assert_eq!(percentile(&times, 50), Duration::from_secs(6));
        assert_eq!(percentile(&times, 100), Duration::from_secs(10));
        assert_eq!(percentile(&times, 0), Duration::from_secs(1));
        assert_eq!(percentile(&[], 50), Duration::ZERO);
        assert_eq!(secs(Duration::from_millis(1234)), "1234ms");
        assert_eq!(secs(Duration::from_secs(12)), "12.0s");
        let run = SourceRun {
            n: 10,
            concurrency: 20,
            artifacts: Pass { total: Duration::from_secs(20), each: times.clone(), cpu: Duration::from_secs(3) },
            artifacts_baseline: Timings { total: Duration::from_secs(10), each: times },
            peak_rss: 16 * 1024 * 1024,
            ..SourceRun::default()
        };
        let text = markdown(&[run]);
        assert!(text.contains("| 10 | 0ms | 20.0s | 2000ms | 6000ms / 10.0s | 10.0s | 1000ms |"), "{text}");
        assert!(text.contains("| 2.00 |") && text.contains("16Mi"), "{text}");
        assert!(markdown(&[]).is_empty());
    }
}
