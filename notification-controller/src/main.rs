//! Weir's notification-controller: receives events and forwards them to Providers as Alerts say,
//! and serves webhook Receivers.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, CommandFactory, Parser};
use kube::runtime::reflector;
use notification_controller::dispatch::Dispatcher;
use notification_controller::ratelimit::RateLimiter;
use notification_controller::receiver::{replay::ReplayGuard, server::ReceiverServer};
use notification_controller::{events_server, reconcilers};
use weir_runtime::flags::parse_duration;
use weir_runtime::{CommonFlags, ListenAddr};

const NAME: &str = "notification-controller";
/// Here `--events-addr` is where this controller listens for events.
const DEFAULTS: &[(&str, &str)] = &[("concurrent", "4"), ("events_addr", ":9090")];

#[derive(Parser, Debug)]
#[command(name = NAME, version, about = "Weir's notification-controller (Flux notification.toolkit.fluxcd.io)")]
struct Flags {
    #[command(flatten)]
    common: CommonFlags,
    #[command(flatten)]
    notification: NotificationFlags,
}

#[derive(Args, Debug)]
struct NotificationFlags {
    /// The address the webhook receiver endpoint binds to.
    #[arg(long = "receiver-addr", alias = "receiverAddr", default_value = ":9292", value_name = "ADDR")]
    receiver_addr: ListenAddr,
    /// The address the event endpoint binds to (from `--events-addr`).
    #[arg(skip = ListenAddr::Disabled)]
    events_addr: ListenAddr,
    /// How long a duplicate event (same object, message, revision and token) is dropped for;
    /// 0 disables the rate limiting.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    rate_limit_interval: Duration,
    /// Refuse Alerts and Receivers that reference objects in other namespaces.
    #[arg(long, default_value = "false", default_missing_value = "true", num_args = 0..=1, require_equals = true,
          action = clap::ArgAction::Set, value_parser = clap::builder::BoolishValueParser::new())]
    no_cross_namespace_refs: bool,
}

fn main() -> ExitCode {
    weir_runtime::run_main(NAME, controller_main())
}

async fn controller_main() -> ExitCode {
    let mut flags: Flags = weir_runtime::parse_with_defaults(DEFAULTS);
    flags.notification.events_addr = match flags.common.events_addr.parse() {
        Ok(addr) => addr,
        Err(message) => Flags::command().error(clap::error::ErrorKind::ValueValidation, message).exit(),
    };
    weir_runtime::run_controller(NAME, flags.common, |context| async move { run(context, flags.notification).await })
        .await
}

/// The event server, the webhook server and the three reconcilers. As in source-controller, the
/// servers run on the leader only: a follower has no reconcilers keeping the Receivers' store.
async fn run(context: weir_runtime::Context, flags: NotificationFlags) -> anyhow::Result<()> {
    tracing::debug!(flags = ?flags, "notification-controller flags");
    let mut servers = Vec::new();
    let (alerts, alert_writer) = reflector::store();
    if let Some(addr) = flags.events_addr.socket_addr() {
        let dispatcher = Dispatcher::new(context.client.clone(), alerts, flags.no_cross_namespace_refs)
            .context("creating the notification HTTP client")?;
        let router = events_server::router(RateLimiter::new(flags.rate_limit_interval), Arc::new(dispatcher));
        let (bound, task) = events_server::spawn(addr, router, context.shutdown.clone())
            .await
            .with_context(|| format!("starting the event server on {addr}"))?;
        tracing::info!(addr = %bound, "event server listening");
        servers.push(task);
    }
    let (receivers, writer) = reflector::store();
    if let Some(addr) = flags.receiver_addr.socket_addr() {
        let server = Arc::new(ReceiverServer {
            client: context.client.clone(),
            receivers,
            replays: ReplayGuard::default(),
            no_cross_namespace_refs: flags.no_cross_namespace_refs,
        });
        let router = notification_controller::receiver::server::router(server);
        let (bound, task) = events_server::spawn(addr, router, context.shutdown.clone())
            .await
            .with_context(|| format!("starting the webhook receiver server on {addr}"))?;
        tracing::info!(addr = %bound, "webhook receiver server listening");
        servers.push(task);
    }
    let result = tokio::try_join!(
        reconcilers::alert::run(context.clone(), alert_writer),
        reconcilers::provider::run(context.clone()),
        reconcilers::receiver::run(context.clone(), writer),
    );
    for task in servers {
        let _ = task.await;
    }
    result.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_runtime::flags::try_parse_from_with_defaults;

    #[test]
    fn flux_defaults_and_spellings() {
        let flags: Flags = try_parse_from_with_defaults([NAME], DEFAULTS).unwrap();
        assert_eq!(flags.common.concurrent, 4);
        assert_eq!(flags.common.events_addr, ":9090");
        assert_eq!(flags.notification.receiver_addr, ":9292".parse().unwrap());
        assert_eq!(flags.notification.rate_limit_interval, Duration::from_secs(300));
        let flags: Flags = try_parse_from_with_defaults([NAME, "--rate-limit-interval=0s"], DEFAULTS).unwrap();
        assert_eq!(flags.notification.rate_limit_interval, Duration::ZERO);
        assert!(!flags.notification.no_cross_namespace_refs);
        let flags: Flags = try_parse_from_with_defaults([NAME, "--no-cross-namespace-refs"], DEFAULTS).unwrap();
        assert!(flags.notification.no_cross_namespace_refs);
        for arg in ["--receiverAddr=127.0.0.1:1", "--receiver-addr=127.0.0.1:1"] {
            let flags: Flags = try_parse_from_with_defaults([NAME, arg], DEFAULTS).unwrap();
            assert_eq!(flags.notification.receiver_addr, "127.0.0.1:1".parse().unwrap());
        }
    }
}
