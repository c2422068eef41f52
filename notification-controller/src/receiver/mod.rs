//! Webhook receivers: an HTTP server on `--receiverAddr` that serves each Receiver at its
//! `status.webhookPath`, checks the request as the sender's type requires ([`verify`]), refuses
//! replayed deliveries ([`replay`]) and asks the selected objects to reconcile by setting
//! `reconcile.fluxcd.io/requestedAt` on them ([`targets`]).
//!
//! Answers: 200 when the objects were annotated (or the event was a ping or filtered out by
//! `spec.events`, which changes nothing), 401 for a bad signature or token, 400 for a payload the
//! type does not accept, 404 for an unknown path, 409 for a delivery id seen before, 413 for a
//! body over 3 MiB, 503 while the Receiver is suspended or not ready.

pub mod replay;
pub mod server;
pub mod targets;
pub mod verify;
