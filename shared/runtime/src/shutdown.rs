//! The process's shutdown signal: SIGTERM or SIGINT cancel a [`CancellationToken`] that every part
//! of the controller clones and waits on. A second signal ends the process at once, as
//! controller-runtime does, for when a graceful shutdown hangs.

use tokio::signal::unix::{SignalKind, signal};
pub use tokio_util::sync::CancellationToken;

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
