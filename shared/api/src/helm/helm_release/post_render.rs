//! Post-rendering of the manifests Helm renders (`spec.postRenderers`), and drift detection
//! against them (`spec.driftDetection`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::meta::{IgnoreRule, Image, Patch};

/// One post-renderer, applied in list order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PostRenderer {
    /// Kustomize patches and image overrides applied to the rendered manifests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kustomize: Option<Kustomize>,
}

/// The Kustomize post-renderer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Kustomize {
    /// Image name, tag and digest overrides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images: Option<Vec<Image>>,
    /// Strategic-merge and JSON 6902 patches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patches: Option<Vec<Patch>>,
}

/// Detection (and correction) of changes made in the cluster to the objects of the release.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DriftDetection {
    /// Fields that are not compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore: Option<Vec<IgnoreRule>>,
    /// What to do about drift; `disabled` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<DriftDetectionMode>,
}

impl DriftDetection {
    /// The mode in effect, `disabled` when unset.
    pub fn mode(&self) -> DriftDetectionMode {
        self.mode.unwrap_or_default()
    }
}

/// What the controller does about drift.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DriftDetectionMode {
    /// Detect drift and correct it by upgrading the release.
    Enabled,
    /// Detect drift and report it, without correcting it.
    Warn,
    /// Do not look for drift.
    #[default]
    Disabled,
}
