//! Weir's source-controller: GitRepository, OCIRepository, HelmRepository, HelmChart and Bucket
//! become artifacts served over HTTP.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser};
use source_controller::storage::{self, Retention, Storage};
use weir_runtime::flags::parse_duration;
use weir_runtime::{CommonFlags, ListenAddr};

const NAME: &str = "source-controller";
const DEFAULTS: &[(&str, &str)] = &[("concurrent", "2")];

#[derive(Parser, Debug)]
#[command(name = NAME, version, about = "Weir's source-controller (Flux source.toolkit.fluxcd.io)")]
struct Flags {
    #[command(flatten)]
    common: CommonFlags,
    #[command(flatten)]
    source: SourceFlags,
}

#[derive(Args, Debug)]
struct SourceFlags {
    /// The local storage path.
    #[arg(long, env = "STORAGE_PATH", default_value = "/data")]
    storage_path: PathBuf,
    /// The address the static file server binds to.
    #[arg(long, env = "STORAGE_ADDR", default_value = ":9090")]
    storage_addr: ListenAddr,
    /// The advertised address of the static file server.
    #[arg(long, env = "STORAGE_ADV_ADDR", default_value = "")]
    storage_adv_addr: String,
    /// How long a stale artifact is kept before garbage collection.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    artifact_retention_ttl: Duration,
    /// How many artifacts of an object are kept.
    #[arg(long, default_value = "2")]
    artifact_retention_records: u32,
    /// The most bytes of file content (before compression) an artifact archived from a Git
    /// checkout or an OCI layer may hold; 0 for no limit. Not a Flux flag: Flux has no bound,
    /// so a repository that grows by accident fills the storage and every consumer's disk.
    #[arg(long, default_value_t = DEFAULT_ARTIFACT_MAX_SIZE)]
    artifact_max_size: u64,
}

/// 1 GiB: far above any set of manifests, low enough to stop a repository of binaries.
const DEFAULT_ARTIFACT_MAX_SIZE: u64 = 1 << 30;

fn main() -> ExitCode {
    weir_runtime::run_main(NAME, controller_main())
}

async fn controller_main() -> ExitCode {
    let flags: Flags = weir_runtime::parse_with_defaults(DEFAULTS);
    let code = weir_runtime::run_controller(NAME, flags.common, |context| async move {
        tracing::debug!(flags = ?flags.source, "source-controller flags");
        let storage = open_storage(&flags.source)?;
        // As in Flux, only the leader serves: the storage is the leader's own (an emptyDir by
        // default), so a follower would only answer 404s. The server stops with the process.
        let server = match flags.source.storage_addr.socket_addr() {
            Some(addr) => {
                let root = storage.root().to_path_buf();
                let (_, task) = storage::server::spawn(addr, root, context.shutdown.clone())
                    .await
                    .with_context(|| format!("starting the artifact file server on {addr}"))?;
                Some(task)
            }
            None => None,
        };
        let result = tokio::try_join!(
            source_controller::git_repository::run(context.clone(), storage.clone()),
            source_controller::oci_repository::run(context.clone(), storage.clone()),
            source_controller::helm_repository::run(context.clone(), storage.clone()),
            source_controller::helm_chart::run(context.clone(), storage.clone()),
        )
        .map(|_| ());
        if let Some(task) = server {
            let _ = task.await;
        }
        result
    })
    .await;
    source_controller::git_repository::remove_scratch();
    code
}

/// The storage with its advertised address: `--storage-adv-addr`, else derived from
/// `--storage-addr` as Flux does.
fn open_storage(flags: &SourceFlags) -> anyhow::Result<Storage> {
    let adv_addr = match (flags.storage_adv_addr.as_str(), flags.storage_addr.socket_addr()) {
        ("", Some(addr)) => storage::default_adv_addr(addr),
        ("", None) => "localhost".to_string(),
        (adv_addr, _) => adv_addr.to_string(),
    };
    let records = usize::try_from(flags.artifact_retention_records).unwrap_or(usize::MAX);
    let retention = Retention { ttl: flags.artifact_retention_ttl, records };
    let max_size = (flags.artifact_max_size > 0).then_some(flags.artifact_max_size);
    Ok(Storage::new(&flags.storage_path, adv_addr, retention)
        .context("opening the artifact storage")?
        .with_max_size(max_size))
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_runtime::flags::try_parse_from_with_defaults;

    #[test]
    fn flux_defaults() {
        let flags: Flags = try_parse_from_with_defaults([NAME], DEFAULTS).unwrap();
        assert_eq!(flags.common.concurrent, 2);
        assert_eq!(flags.source.storage_addr, ":9090".parse().unwrap());
        assert_eq!(flags.source.artifact_retention_ttl, Duration::from_secs(60));
        assert_eq!(flags.source.artifact_retention_records, 2);
        assert_eq!(flags.source.artifact_max_size, 1 << 30);
    }

    #[test]
    fn the_adv_addr_defaults_to_the_storage_addr() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().display().to_string();
        let flags: Flags = try_parse_from_with_defaults([NAME, "--storage-path", &path], DEFAULTS).unwrap();
        assert_eq!(open_storage(&flags.source).unwrap().url_for("a/b"), "http://localhost:9090/a/b");
        let args = [NAME, "--storage-path", &path, "--storage-adv-addr", "source-controller.flux-system.svc"];
        let flags: Flags = try_parse_from_with_defaults(args, DEFAULTS).unwrap();
        assert_eq!(open_storage(&flags.source).unwrap().url_for("a/b"), "http://source-controller.flux-system.svc/a/b");
    }
}
