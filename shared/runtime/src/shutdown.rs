//! The process's shutdown signal: SIGTERM or SIGINT cancel a [`CancellationToken`] that every part
//! of the controller clones and waits on. A second signal ends the process at once, as
//! controller-runtime does, for when a graceful shutdown hangs; [`bounded`] gives work a grace
//! period after the first and then abandons it, so that a stuck reconcile cannot hold the process.

use std::future::Future;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};
pub use tokio_util::sync::CancellationToken;

/// Runs `work` to its end, or until `grace` has passed since `shutdown` was cancelled, whichever
/// comes first. Returns `None` when the work was abandoned (and dropped).
pub async fn bounded<T>(work: impl Future<Output = T>, shutdown: &CancellationToken, grace: Duration) -> Option<T> {
    let deadline = async {
        shutdown.cancelled().await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        output = work => Some(output),
        () = deadline => None,
    }
}

/// Listens for SIGTERM and SIGINT and returns the token they cancel.
pub fn on_signals() -> std::io::Result<CancellationToken> {
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        tracing::info!(signal = name, "shutdown signal received, stopping");
        cancel.cancel();
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        tracing::error!(signal = name, "second shutdown signal received, exiting at once");
        std::process::exit(1);
    });
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_is_abandoned_only_after_the_grace_period() {
        let shutdown = CancellationToken::new();
        assert_eq!(bounded(async { 7 }, &shutdown, Duration::from_secs(60)).await, Some(7));

        let cancel = shutdown.clone();
        let started = std::time::Instant::now();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            cancel.cancel();
        });
        let grace = Duration::from_millis(200);
        assert_eq!(bounded(std::future::pending::<()>(), &shutdown, grace).await, None);
        let elapsed = started.elapsed();
        assert!(elapsed >= Duration::from_millis(300), "abandoned too early, after {elapsed:?}");
        assert!(elapsed < Duration::from_secs(5), "abandoned too late, after {elapsed:?}");
    }
}
