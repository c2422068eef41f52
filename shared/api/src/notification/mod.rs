//! `notification.toolkit.fluxcd.io`: where events go (Provider, Alert, v1beta3) and webhooks that
//! trigger reconciliation (Receiver, v1).

pub mod alert;
pub mod provider;
pub mod receiver;
pub mod status;

pub use alert::{Alert, AlertSpec, CrossNamespaceObjectReference, EventSeverity, FluxKind, matches_severity};
pub use provider::{Provider, ProviderSpec, ProviderType};
pub use receiver::{
    OidcProvider, OidcValidation, OidcVariable, Receiver, ReceiverResource, ReceiverSpec, ReceiverStatus, ReceiverType,
    webhook_path,
};
pub use status::NotificationStatus;
