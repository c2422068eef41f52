//! Validation of untyped objects: decode by `apiVersion`/`kind`, then run the kind's `validate()`.
//! Used wherever objects arrive as YAML or JSON (the CLI, tests) rather than from a typed watch.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::validation::Validate;
use crate::{helm, kustomize, notification, source};

/// Why an object is not valid: it does not decode into its kind, or its spec breaks a rule.
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    #[error("{api_version}/{kind} is not a kind Weir knows")]
    UnknownKind { api_version: String, kind: String },
    #[error("{kind} {name}: {source}")]
    Decode { kind: String, name: String, source: serde_json::Error },
    #[error("{kind} {name}: {source}")]
    Invalid { kind: String, name: String, source: crate::ValidationErrors },
}

/// Decodes `object` into the Weir kind its `apiVersion` and `kind` name, then validates it.
pub fn validate_value(object: &Value) -> Result<(), ObjectError> {
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    let kind = object["kind"].as_str().unwrap_or_default();
    match (api_version, kind) {
        ("source.toolkit.fluxcd.io/v1", "GitRepository") => check::<source::GitRepository>(object),
        ("source.toolkit.fluxcd.io/v1", "OCIRepository") => check::<source::OCIRepository>(object),
        ("source.toolkit.fluxcd.io/v1", "HelmRepository") => check::<source::HelmRepository>(object),
        ("source.toolkit.fluxcd.io/v1", "HelmChart") => check::<source::HelmChart>(object),
        ("source.toolkit.fluxcd.io/v1", "Bucket") => check::<source::Bucket>(object),
        ("source.toolkit.fluxcd.io/v1", "ExternalArtifact") => check::<source::ExternalArtifact>(object),
        ("kustomize.toolkit.fluxcd.io/v1", "Kustomization") => check::<kustomize::Kustomization>(object),
        ("helm.toolkit.fluxcd.io/v2", "HelmRelease") => check::<helm::HelmRelease>(object),
        ("notification.toolkit.fluxcd.io/v1beta3", "Provider") => check::<notification::Provider>(object),
        ("notification.toolkit.fluxcd.io/v1beta3", "Alert") => check::<notification::Alert>(object),
        ("notification.toolkit.fluxcd.io/v1", "Receiver") => check::<notification::Receiver>(object),
        _ => Err(ObjectError::UnknownKind { api_version: api_version.into(), kind: kind.into() }),
    }
}

fn check<K: DeserializeOwned + Validate>(object: &Value) -> Result<(), ObjectError> {
    let kind = object["kind"].as_str().unwrap_or_default().to_string();
    let name = object["metadata"]["name"].as_str().unwrap_or("<unnamed>").to_string();
    let typed: K = serde_json::from_value(object.clone()).map_err(|source| ObjectError::Decode {
        kind: kind.clone(),
        name: name.clone(),
        source,
    })?;
    typed.validate().map_err(|source| ObjectError::Invalid { kind, name, source })
}
