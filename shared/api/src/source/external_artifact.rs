//! ExternalArtifact (`source.toolkit.fluxcd.io/v1`): an artifact produced by a third-party
//! controller, which writes its status; Kustomizations and HelmReleases can consume it.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::conditions::Condition;
use crate::meta::{Artifact, NamespacedObjectKindReference};
use crate::validation::{Validate, ValidationErrors, Validator};

/// Points at the object that produces the artifact.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "source.toolkit.fluxcd.io",
    version = "v1",
    kind = "ExternalArtifact",
    doc = "An artifact produced outside Flux's source kinds, by the controller named in sourceRef.",
    namespaced,
    status = "ExternalArtifactStatus",
    shortname = "ea",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-sources",
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    printcolumn(name = "Ready", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].status"#),
    printcolumn(name = "Status", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].message"#),
    printcolumn(name = "Source", type_ = "string", json_path = ".spec.sourceRef.name")
)]
#[serde(rename_all = "camelCase")]
pub struct ExternalArtifactSpec {
    /// The custom resource that produces this artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ref: Option<NamespacedObjectKindReference>,
}

/// Written by the producing controller.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExternalArtifactStatus {
    /// The latest artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<Artifact>,
    /// The producer's view of the artifact's state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
}

impl Validate for ExternalArtifact {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut v = Validator::new();
        if let Some(r) = &self.spec.source_ref {
            v.required("spec.sourceRef.kind", &r.kind);
            v.required("spec.sourceRef.name", &r.name);
        }
        v.finish()
    }
}
