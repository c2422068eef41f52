//! What every Weir controller process needs: Flux-compatible flags, logging, the Kubernetes
//! client, metrics, health probes, leader election and shutdown, wired by [`run_controller`]; and
//! the [`artifact`] client every consumer of sources uses.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod artifact;
pub mod client;
pub mod controller;
pub mod events;
pub mod flags;
pub mod identity;
pub mod leader;
pub mod logging;
pub mod malloc;
pub mod metrics;
pub mod probes;
pub mod requeue;
pub mod shutdown;
pub mod status;

use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

pub use controller::drive;
pub use flags::{CommonFlags, ListenAddr, parse_with_defaults};
pub use malloc::run_main;
pub use metrics::Metrics;
pub use shutdown::CancellationToken;

use leader::{LeaderElector, LeaderError, LeaderTiming};

/// Weir's version, shown by `weir_build_info`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// How long the reconcilers get to finish after the shutdown signal, as in controller-runtime.
const GRACEFUL_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// How long one kind's running reconciles get after the shutdown signal before [`drive`]
/// abandons them, within [`GRACEFUL_SHUTDOWN_TIMEOUT`] so that servers can stop after them.
pub const RECONCILE_GRACE: Duration = Duration::from_secs(10);

/// What a controller's reconcilers are given.
#[derive(Clone)]
pub struct Context {
    /// The controller's name, e.g. `source-controller` (also its field manager).
    pub name: &'static str,
    pub client: kube::Client,
    pub metrics: Arc<Metrics>,
    /// Cancelled on SIGTERM/SIGINT: the reconcilers then finish and return.
    pub shutdown: CancellationToken,
    /// `--concurrent`: reconciles at once per kind.
    pub concurrency: u16,
    /// `None` to watch all namespaces, else the only namespace to watch (`--watch-all-namespaces=false`).
    pub watch_namespace: Option<String>,
    /// `--events-addr`.
    pub events_addr: String,
}

/// Why a controller process stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("installing the signal handlers: {0}")]
    Signals(#[source] std::io::Error),
    #[error(transparent)]
    Client(#[from] client::ClientError),
    #[error(transparent)]
    Listen(#[from] probes::BindError),
    #[error(transparent)]
    LeaderElection(#[from] LeaderError),
    #[error("the reconcilers failed: {0:#}")]
    Reconcilers(anyhow::Error),
}

/// Runs a controller process: logging, client, probes and metrics, leader election, and the
/// `reconcilers` future (started only while this instance is the leader), until SIGTERM/SIGINT.
/// Returns success after a clean shutdown, failure (logged) otherwise, e.g. on a lost lease.
pub async fn run_controller<F, Fut>(name: &'static str, flags: CommonFlags, reconcilers: F) -> ExitCode
where
    F: FnOnce(Context) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    logging::init(flags.log_level, flags.log_encoding);
    tracing::info!(version = VERSION, "starting {name}");
    match run(name, flags, reconcilers).await {
        Ok(()) => {
            tracing::info!("{name} stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!(error = %logging::chain(&error), "{name} stopped with an error");
            ExitCode::FAILURE
        }
    }
}

async fn run<F, Fut>(name: &'static str, flags: CommonFlags, reconcilers: F) -> Result<(), Error>
where
    F: FnOnce(Context) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let timing = LeaderTiming::new(
        flags.leader_election_lease_duration,
        flags.leader_election_renew_deadline,
        flags.leader_election_retry_period,
    )?;
    let shutdown = shutdown::on_signals().map_err(Error::Signals)?;
    let client = client::build(flags.kubeconfig.as_deref()).await?;
    let election = flags.enable_leader_election.then(|| {
        let lease = format!("{name}-leader-election");
        LeaderElector::new(
            client.clone(),
            &identity::runtime_namespace(),
            &lease,
            identity::instance_identity(),
            timing,
        )
    });
    let metrics = Arc::new(Metrics::new(VERSION));
    let readiness = probes::Readiness::default();
    let stop_servers = CancellationToken::new();
    let servers =
        probes::serve(flags.health_addr, flags.metrics_addr, metrics.clone(), readiness.clone(), stop_servers.clone())
            .await?;
    tokio::spawn(probes::wait_for_api_server(client.clone(), readiness, shutdown.clone()));

    let context = Context {
        name,
        client,
        metrics,
        shutdown,
        concurrency: flags.concurrent,
        watch_namespace: (!flags.watch_all_namespaces).then(identity::runtime_namespace),
        events_addr: flags.events_addr,
    };
    let result = lead(election, context, reconcilers).await;
    stop_servers.cancel();
    servers.join().await;
    result
}

/// Runs the reconcilers while this instance leads (always, without election), then releases.
async fn lead<F, Fut>(mut election: Option<LeaderElector>, context: Context, reconcilers: F) -> Result<(), Error>
where
    F: FnOnce(Context) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let shutdown = context.shutdown.clone();
    let metrics = context.metrics.clone();
    if let Some(elector) = &mut election
        && !elector.acquire(&shutdown).await
    {
        elector.release().await;
        return Ok(());
    }
    metrics.set_leader(true);
    let result = tokio::select! {
        result = until_drained(reconcilers(context), &shutdown) => result.map_err(Error::Reconcilers),
        // Not ours any more: stop at once, without releasing.
        lost = hold(election.as_mut()) => return Err(lost.into()),
    };
    metrics.set_leader(false);
    if let Some(elector) = &mut election {
        elector.release().await;
    }
    result
}

/// Renews the lease until it is lost; without election, never returns.
async fn hold(election: Option<&mut LeaderElector>) -> LeaderError {
    match election {
        Some(elector) => elector.hold().await,
        None => std::future::pending().await,
    }
}

/// Runs the reconcilers until they return, giving them a grace period after the shutdown signal.
async fn until_drained(
    work: impl Future<Output = anyhow::Result<()>>,
    shutdown: &CancellationToken,
) -> anyhow::Result<()> {
    match shutdown::bounded(work, shutdown, GRACEFUL_SHUTDOWN_TIMEOUT).await {
        Some(result) => result,
        None => {
            tracing::warn!("the reconcilers did not stop within {GRACEFUL_SHUTDOWN_TIMEOUT:?} of the shutdown signal");
            Ok(())
        }
    }
}

/// The future for controllers without reconcilers yet: waits for shutdown.
pub async fn no_reconcilers(context: Context) -> anyhow::Result<()> {
    tracing::info!("no reconcilers yet");
    context.shutdown.cancelled().await;
    Ok(())
}
