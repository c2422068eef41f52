//! The command-line flags every Flux controller accepts, with Flux's names and defaults.
//!
//! Flux parses flags with Go's pflag, so Weir accepts its forms too: `--flag=false` for booleans,
//! Go durations (`35s`, `1m30s`), and listen addresses like `:8080` meaning all interfaces.

use std::ffi::OsString;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::{ArgAction, Args, Parser, ValueEnum};

// Flags shared by all controllers; embed with `#[command(flatten)]`. (A `//` comment: clap would
// make a doc comment the help text of every controller.) `--enable-leader-election` defaults to
// false, as in Flux's binaries; Flux's (and Weir's) Deployments pass it explicitly.
#[derive(Args, Clone, Debug, PartialEq)]
pub struct CommonFlags {
    /// The address the metric endpoint binds to (`0` disables it).
    #[arg(long, default_value = ":8080", value_name = "ADDR")]
    pub metrics_addr: ListenAddr,

    /// The address the health endpoints bind to (`0` disables them).
    #[arg(long, default_value = ":9440", value_name = "ADDR")]
    pub health_addr: ListenAddr,

    /// Enable leader election: only the instance holding the Lease runs reconcilers.
    #[arg(long, default_value = "false", default_missing_value = "true", num_args = 0..=1,
          require_equals = true, action = ArgAction::Set, value_parser = BoolishValueParser::new())]
    pub enable_leader_election: bool,

    /// How long non-leaders wait before they may take over an unrenewed lease.
    #[arg(long, default_value = "35s", value_parser = parse_duration, value_name = "DURATION")]
    pub leader_election_lease_duration: Duration,

    /// How long the leader keeps retrying to renew before it gives up leadership.
    #[arg(long, default_value = "30s", value_parser = parse_duration, value_name = "DURATION")]
    pub leader_election_renew_deadline: Duration,

    /// How often leader election clients retry.
    #[arg(long, default_value = "5s", value_parser = parse_duration, value_name = "DURATION")]
    pub leader_election_retry_period: Duration,

    /// The number of concurrent reconciles per kind (each controller sets its own default).
    #[arg(long, default_value = "4", value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrent: u16,

    /// The minimum level of log messages.
    #[arg(long, default_value = "info", value_enum, ignore_case = true)]
    pub log_level: LogLevel,

    /// The log format: one JSON object per line, or human-readable text.
    #[arg(long, default_value = "json", value_enum, ignore_case = true)]
    pub log_encoding: LogEncoding,

    /// Watch objects in all namespaces; when false, only the runtime namespace.
    #[arg(long, default_value = "true", default_missing_value = "true", num_args = 0..=1,
          require_equals = true, action = ArgAction::Set, value_parser = BoolishValueParser::new())]
    pub watch_all_namespaces: bool,

    /// Where events are sent (the notification-controller's event endpoint); the
    /// notification-controller listens on this address.
    #[arg(long, default_value = "", value_name = "ADDR")]
    pub events_addr: String,

    /// A kubeconfig file; otherwise $KUBECONFIG, ~/.kube/config, then the in-cluster config.
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,

    /// The maximum queries per second to the Kubernetes API server (accepted for Flux
    /// compatibility, not enforced yet).
    #[arg(long, default_value = "50", value_name = "QPS")]
    pub kube_api_qps: f32,

    /// The maximum burst of queries to the Kubernetes API server (accepted for Flux
    /// compatibility, not enforced yet).
    #[arg(long, default_value = "300", value_name = "N")]
    pub kube_api_burst: u32,
}

/// `--log-level`: Flux's levels, plus `trace` and `warn`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl LogLevel {
    /// The matching `tracing` level.
    pub fn as_tracing(self) -> tracing::Level {
        match self {
            LogLevel::Trace => tracing::Level::TRACE,
            LogLevel::Debug => tracing::Level::DEBUG,
            LogLevel::Info => tracing::Level::INFO,
            LogLevel::Warn => tracing::Level::WARN,
            LogLevel::Error => tracing::Level::ERROR,
        }
    }
}

/// `--log-encoding`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogEncoding {
    Json,
    Console,
}

/// A listen address in Go's notation: `:8080` (all interfaces), `127.0.0.1:8080`, `[::1]:8080`,
/// `localhost:8080`; `0` or the empty string disables the listener, as in controller-runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListenAddr {
    Disabled,
    At(SocketAddr),
}

impl ListenAddr {
    /// The socket address, or `None` when disabled.
    pub fn socket_addr(self) -> Option<SocketAddr> {
        match self {
            ListenAddr::Disabled => None,
            ListenAddr::At(addr) => Some(addr),
        }
    }
}

impl FromStr for ListenAddr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() || s == "0" {
            return Ok(ListenAddr::Disabled);
        }
        let bad = || format!("invalid address {s:?}: expected [HOST]:PORT, e.g. :8080 or 127.0.0.1:8080");
        let (host, port) = s.rsplit_once(':').ok_or_else(bad)?;
        let port: u16 = port.parse().map_err(|_| bad())?;
        let ip = match host.trim_start_matches('[').trim_end_matches(']') {
            "" => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            "localhost" => IpAddr::V4(Ipv4Addr::LOCALHOST),
            ip => ip.parse().map_err(|_| bad())?,
        };
        Ok(ListenAddr::At(SocketAddr::new(ip, port)))
    }
}

impl fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListenAddr::Disabled => f.write_str("0"),
            ListenAddr::At(addr) => addr.fmt(f),
        }
    }
}

/// Parses a Go duration: a sequence of decimal numbers with units `ns`, `us`/`µs`, `ms`, `s`, `m`,
/// `h`, such as `35s`, `1m30s`, `1.5h` or `0`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("invalid duration {s:?}: expected e.g. 30s, 1m30s, 500ms");
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let mut rest = s;
    let mut total = 0f64;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let number_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(bad)?;
        let (number, tail) = rest.split_at(number_len);
        let value: f64 = number.parse().map_err(|_| bad())?;
        let unit_len = tail.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let seconds = match unit {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        total += value * seconds;
        rest = tail;
    }
    Duration::try_from_secs_f64(total).map_err(|_| bad())
}

/// Parses the process arguments into `T`, with some flag defaults replaced first: each controller
/// gives its own `--concurrent` default this way, e.g. `parse_with_defaults::<Flags>(&[("concurrent", "2")])`.
/// Prints help, the version, or clap's error message and exits, like `Parser::parse`.
pub fn parse_with_defaults<T: Parser>(defaults: &[(&'static str, &'static str)]) -> T {
    try_parse_from_with_defaults(std::env::args_os(), defaults).unwrap_or_else(|e| e.exit())
}

/// [`parse_with_defaults`] over the given arguments (the first is the program name).
pub fn try_parse_from_with_defaults<T, I, A>(
    args: I,
    defaults: &[(&'static str, &'static str)],
) -> Result<T, clap::Error>
where
    T: Parser,
    I: IntoIterator<Item = A>,
    A: Into<OsString> + Clone,
{
    let mut command = T::command();
    for (id, value) in defaults {
        command = command.mut_arg(*id, |arg| arg.default_value(*value));
    }
    let mut matches = command.try_get_matches_from_mut(args)?;
    T::from_arg_matches_mut(&mut matches).map_err(|e| e.format(&mut command))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Parser, Debug)]
    #[command(name = "test-controller")]
    struct Flags {
        #[command(flatten)]
        common: CommonFlags,
    }

    fn parse(args: &[&str]) -> Result<CommonFlags, clap::Error> {
        let args = std::iter::once("test-controller").chain(args.iter().copied());
        try_parse_from_with_defaults::<Flags, _, _>(args, &[("concurrent", "2")]).map(|f| f.common)
    }

    #[test]
    fn defaults_are_fluxs() {
        let flags = parse(&[]).unwrap();
        assert_eq!(flags.metrics_addr, ListenAddr::At("0.0.0.0:8080".parse().unwrap()));
        assert_eq!(flags.health_addr, ListenAddr::At("0.0.0.0:9440".parse().unwrap()));
        assert!(!flags.enable_leader_election);
        assert_eq!(flags.leader_election_lease_duration, Duration::from_secs(35));
        assert_eq!(flags.leader_election_renew_deadline, Duration::from_secs(30));
        assert_eq!(flags.leader_election_retry_period, Duration::from_secs(5));
        assert_eq!(flags.concurrent, 2, "the controller's own default");
        assert_eq!(flags.log_level, LogLevel::Info);
        assert_eq!(flags.log_encoding, LogEncoding::Json);
        assert!(flags.watch_all_namespaces);
        assert_eq!(flags.events_addr, "");
        assert_eq!(flags.kubeconfig, None);
        assert_eq!(flags.kube_api_qps, 50.0);
        assert_eq!(flags.kube_api_burst, 300);
    }

    #[test]
    fn booleans_take_pflag_forms() {
        assert!(parse(&["--enable-leader-election"]).unwrap().enable_leader_election);
        assert!(parse(&["--enable-leader-election=true"]).unwrap().enable_leader_election);
        assert!(!parse(&["--enable-leader-election=false"]).unwrap().enable_leader_election);
        assert!(!parse(&["--watch-all-namespaces=false"]).unwrap().watch_all_namespaces);
        assert!(parse(&["--watch-all-namespaces"]).unwrap().watch_all_namespaces);
        // A bare boolean does not swallow the next flag.
        let flags = parse(&["--enable-leader-election", "--concurrent", "8"]).unwrap();
        assert!(flags.enable_leader_election);
        assert_eq!(flags.concurrent, 8);
    }

    #[test]
    fn values_take_both_forms() {
        let flags = parse(&[
            "--metrics-addr=127.0.0.1:18080",
            "--health-addr",
            "[::1]:19440",
            "--leader-election-lease-duration=1m30s",
            "--log-level=debug",
            "--log-encoding",
            "console",
            "--kubeconfig=/tmp/kc",
            "--events-addr=http://notification-controller.flux-system.svc.cluster.local./",
        ])
        .unwrap();
        assert_eq!(flags.metrics_addr, ListenAddr::At("127.0.0.1:18080".parse().unwrap()));
        assert_eq!(flags.health_addr, ListenAddr::At("[::1]:19440".parse().unwrap()));
        assert_eq!(flags.leader_election_lease_duration, Duration::from_secs(90));
        assert_eq!(flags.log_level, LogLevel::Debug);
        assert_eq!(flags.log_encoding, LogEncoding::Console);
        assert_eq!(flags.kubeconfig, Some(PathBuf::from("/tmp/kc")));
        assert!(flags.events_addr.starts_with("http://notification-controller"));
    }

    #[test]
    fn log_levels() {
        for (arg, level) in [
            ("trace", LogLevel::Trace),
            ("debug", LogLevel::Debug),
            ("info", LogLevel::Info),
            ("error", LogLevel::Error),
            ("INFO", LogLevel::Info),
        ] {
            assert_eq!(parse(&["--log-level", arg]).unwrap().log_level, level);
        }
        assert!(parse(&["--log-level", "verbose"]).is_err());
        assert_eq!(LogLevel::Debug.as_tracing(), tracing::Level::DEBUG);
    }

    #[test]
    fn unknown_flags_and_bad_values_are_errors() {
        let err = parse(&["--no-such-flag"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::UnknownArgument);
        assert!(parse(&["--concurrent=0"]).is_err());
        assert!(parse(&["--metrics-addr=8080"]).is_err());
        assert!(parse(&["--enable-leader-election=maybe"]).is_err());
        assert!(parse(&["--leader-election-retry-period=5"]).is_err());
    }

    #[test]
    fn listen_addresses() {
        let at = |s: &str| ListenAddr::At(s.parse().unwrap());
        assert_eq!(":8080".parse::<ListenAddr>().unwrap(), at("0.0.0.0:8080"));
        assert_eq!("127.0.0.1:9440".parse::<ListenAddr>().unwrap(), at("127.0.0.1:9440"));
        assert_eq!("localhost:9090".parse::<ListenAddr>().unwrap(), at("127.0.0.1:9090"));
        assert_eq!("[::]:9090".parse::<ListenAddr>().unwrap(), at("[::]:9090"));
        assert_eq!("0".parse::<ListenAddr>().unwrap(), ListenAddr::Disabled);
        assert_eq!("".parse::<ListenAddr>().unwrap(), ListenAddr::Disabled);
        assert_eq!(ListenAddr::Disabled.socket_addr(), None);
        for bad in ["8080", ":http", "example.com:80", ":70000", "1.2.3:80"] {
            assert!(bad.parse::<ListenAddr>().is_err(), "{bad} should not parse");
        }
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_duration("35s").unwrap(), Duration::from_secs(35));
        assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1.5h").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert_eq!(parse_duration("250us").unwrap(), Duration::from_micros(250));
        for bad in ["", "5", "s", "5x", "-5s", "1m30"] {
            assert!(parse_duration(bad).is_err(), "{bad} should not parse");
        }
    }
}
