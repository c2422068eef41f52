//! Weir's notification-controller: the event server that forwards events to Providers as Alerts
//! select them, the webhook Receivers that ask Flux objects to reconcile, and the reconcilers that
//! keep the status of Alerts, Providers and Receivers.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod dispatch;
pub mod events_server;
pub mod objects;
pub mod providers;
pub mod ratelimit;
pub mod receiver;
pub mod reconcilers;
pub mod resolved;
pub mod signature;
