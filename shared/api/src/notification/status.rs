//! The status Weir gives Alerts and Providers, beyond Flux (whose v1beta3 objects have none): a
//! `Ready` condition saying whether events can be delivered, and the generation it was computed
//! from. Flux's controllers ignore the field, so the CRDs stay interchangeable.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::conditions::Condition;

/// Written by Weir's notification-controller.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationStatus {
    /// `Ready`: True when events can be delivered, False with the reason when they cannot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
    /// The `metadata.generation` last reconciled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}
