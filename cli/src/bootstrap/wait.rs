//! Waiting until the sync objects have applied the pushed commit.

use std::time::{Duration, Instant};

use anyhow::bail;
use kube::api::Api;
use weir_api::conditions::{self, ConditionStatus, types};
use weir_api::kustomize::Kustomization;
use weir_api::source::GitRepository;

/// Waits until the GitRepository has an artifact of `commit` and the Kustomization applied it.
pub async fn until_synced(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    commit: &str,
    timeout: Duration,
) -> anyhow::Result<()> {
    let repos: Api<GitRepository> = Api::namespaced(client.clone(), namespace);
    let kustomizations: Api<Kustomization> = Api::namespaced(client.clone(), namespace);
    let started = Instant::now();
    let mut said = (false, false);
    loop {
        let repo = repos.get_opt(name).await?;
        let fetched = repo
            .as_ref()
            .and_then(|r| r.status.as_ref()?.artifact.as_ref())
            .is_some_and(|a| a.revision.ends_with(commit));
        if fetched && !said.0 {
            eprintln!("✔ GitRepository {namespace}/{name} fetched {commit} ({}s)", started.elapsed().as_secs());
            said.0 = true;
        }
        let ks = kustomizations.get_opt(name).await?;
        let status = ks.as_ref().and_then(|k| k.status.as_ref());
        let applied = status.and_then(|s| s.last_applied_revision.as_deref()).is_some_and(|r| r.ends_with(commit));
        let ready = status.and_then(|s| conditions::find(s.conditions.as_deref()?, types::READY));
        if applied && ready.is_some_and(|c| c.status == ConditionStatus::True) {
            eprintln!("✔ Kustomization {namespace}/{name} applied {commit} ({}s)", started.elapsed().as_secs());
            return Ok(());
        }
        if started.elapsed() > timeout {
            let why = ready
                .map(|c| c.message.clone())
                .unwrap_or_else(|| "no status yet: are the controllers running?".into());
            bail!(
                "the cluster did not apply {commit} within {timeout:?}: {why}\n(see `weir get all` and `weir events`)"
            );
        }
        if !said.1 {
            eprintln!("◎ waiting for the controllers to fetch and apply {commit}");
            said.1 = true;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
