//! Weir's notification-controller: receives events and forwards them to Providers as Alerts say,
//! and serves webhook Receivers.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser};
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
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut flags: Flags = weir_runtime::parse_with_defaults(DEFAULTS);
    flags.notification.events_addr = match flags.common.events_addr.parse() {
        Ok(addr) => addr,
        Err(message) => Flags::command().error(clap::error::ErrorKind::ValueValidation, message).exit(),
    };
    weir_runtime::run_controller(NAME, flags.common, |context| async move {
        tracing::debug!(flags = ?flags.notification, "notification-controller flags");
        weir_runtime::no_reconcilers(context).await
    })
    .await
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
        for arg in ["--receiverAddr=127.0.0.1:1", "--receiver-addr=127.0.0.1:1"] {
            let flags: Flags = try_parse_from_with_defaults([NAME, arg], DEFAULTS).unwrap();
            assert_eq!(flags.notification.receiver_addr, "127.0.0.1:1".parse().unwrap());
        }
    }
}
