//! `notification.toolkit.fluxcd.io`: where events go (Provider, Alert, v1beta3) and webhooks that
//! trigger reconciliation (Receiver, v1).

pub mod alert;
pub mod provider;
pub mod receiver;
