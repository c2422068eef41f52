//! The source benchmark's baseline: what a shell script does to turn a Git repository into an
//! artifact (`git clone --depth 1`, `tar czf` without `.git`, `sha256sum`, then the checkout removed), and to check for a
//! new commit (`git ls-remote`), with the same concurrency as the source-controller.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::{StreamExt, TryStreamExt};
use tokio::process::Command;

/// The wall time of a whole pass and of each repository in it.
#[derive(Debug, Clone, Default)]
pub struct Timings {
    pub total: Duration,
    pub each: Vec<Duration>,
}

/// Clones, archives and digests every URL, `concurrency` at a time, in `scratch`.
pub async fn artifacts(urls: &[String], concurrency: usize, scratch: &Path) -> anyhow::Result<Timings> {
    run_all(urls, concurrency, |i, url| async move {
        let checkout = scratch.join(format!("checkout-{i}"));
        let tarball = scratch.join(format!("artifact-{i}.tar.gz"));
        run(Command::new("git").args(["clone", "-q", "--depth", "1", "--branch", "main", &url]).arg(&checkout)).await?;
        run(Command::new("tar").arg("czf").arg(&tarball).arg("--exclude=.git").arg("-C").arg(&checkout).arg("."))
            .await?;
        run(Command::new("sha256sum").arg(&tarball)).await?;
        // As the controller removes its checkout: deleted inodes make the next creates dearer
        // on some filesystems (ext4 without a journal), so both sides pay the same.
        tokio::fs::remove_dir_all(&checkout).await.with_context(|| format!("removing {}", checkout.display()))
    })
    .await
}

/// Lists `refs/heads/main` of every URL, `concurrency` at a time.
pub async fn ls_remotes(urls: &[String], concurrency: usize) -> anyhow::Result<Timings> {
    run_all(urls, concurrency, |_, url| async move {
        run(Command::new("git").args(["ls-remote", &url, "refs/heads/main"])).await
    })
    .await
}

async fn run_all<F, Fut>(urls: &[String], concurrency: usize, one: F) -> anyhow::Result<Timings>
where
    F: Fn(usize, String) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let started = Instant::now();
    let each = futures::stream::iter(urls.iter().cloned().enumerate())
        .map(|(i, url)| {
            let work = one(i, url);
            async move {
                let began = Instant::now();
                work.await?;
                anyhow::Ok(began.elapsed())
            }
        })
        .buffer_unordered(concurrency.max(1))
        .try_collect::<Vec<_>>()
        .await?;
    Ok(Timings { total: started.elapsed(), each })
}

/// Runs the command to completion; its output is discarded unless it fails.
async fn run(command: &mut Command) -> anyhow::Result<()> {
    let described = format!("{:?}", command.as_std());
    let output = command
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .with_context(|| format!("running {described}"))?;
    if !output.status.success() {
        bail!("{described} failed: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(())
}
