//! Validation of untyped objects: decode by `apiVersion`/`kind`, then run the kind's `validate()`.
//! Used wherever objects arrive as YAML or JSON (the CLI, tests) rather than from a typed watch.

use serde::Serialize;
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
    dispatch(object, Validated)
}

/// Decodes `object` into its Weir kind and encodes it again: what Weir would write back. Fields
/// the kind does not know are dropped, so comparing the result with the input finds them.
pub fn round_trip(object: &Value) -> Result<Value, ObjectError> {
    dispatch(object, RoundTripped)
}

/// Something done to an object once its kind's Rust type is known.
trait KindVisitor {
    type Output;
    fn visit<K: DeserializeOwned + Serialize + Validate>(self, object: &Value) -> Result<Self::Output, ObjectError>;
}

fn dispatch<V: KindVisitor>(object: &Value, visitor: V) -> Result<V::Output, ObjectError> {
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    let kind = object["kind"].as_str().unwrap_or_default();
    match (api_version, kind) {
        ("source.toolkit.fluxcd.io/v1", "GitRepository") => visitor.visit::<source::GitRepository>(object),
        ("source.toolkit.fluxcd.io/v1", "OCIRepository") => visitor.visit::<source::OCIRepository>(object),
        ("source.toolkit.fluxcd.io/v1", "HelmRepository") => visitor.visit::<source::HelmRepository>(object),
        ("source.toolkit.fluxcd.io/v1", "HelmChart") => visitor.visit::<source::HelmChart>(object),
        ("source.toolkit.fluxcd.io/v1", "Bucket") => visitor.visit::<source::Bucket>(object),
        ("source.toolkit.fluxcd.io/v1", "ExternalArtifact") => visitor.visit::<source::ExternalArtifact>(object),
        ("kustomize.toolkit.fluxcd.io/v1", "Kustomization") => visitor.visit::<kustomize::Kustomization>(object),
        ("helm.toolkit.fluxcd.io/v2", "HelmRelease") => visitor.visit::<helm::HelmRelease>(object),
        ("notification.toolkit.fluxcd.io/v1beta3", "Provider") => visitor.visit::<notification::Provider>(object),
        ("notification.toolkit.fluxcd.io/v1beta3", "Alert") => visitor.visit::<notification::Alert>(object),
        ("notification.toolkit.fluxcd.io/v1", "Receiver") => visitor.visit::<notification::Receiver>(object),
        _ => Err(ObjectError::UnknownKind { api_version: api_version.into(), kind: kind.into() }),
    }
}

fn decode<K: DeserializeOwned>(object: &Value) -> Result<K, ObjectError> {
    serde_json::from_value(object.clone()).map_err(|source| ObjectError::Decode {
        kind: kind_of(object),
        name: name_of(object),
        source,
    })
}

fn kind_of(object: &Value) -> String {
    object["kind"].as_str().unwrap_or_default().to_string()
}

fn name_of(object: &Value) -> String {
    object["metadata"]["name"].as_str().unwrap_or("<unnamed>").to_string()
}

struct Validated;

impl KindVisitor for Validated {
    type Output = ();
    fn visit<K: DeserializeOwned + Serialize + Validate>(self, object: &Value) -> Result<(), ObjectError> {
        decode::<K>(object)?.validate().map_err(|source| ObjectError::Invalid {
            kind: kind_of(object),
            name: name_of(object),
            source,
        })
    }
}

struct RoundTripped;

impl KindVisitor for RoundTripped {
    type Output = Value;
    fn visit<K: DeserializeOwned + Serialize + Validate>(self, object: &Value) -> Result<Value, ObjectError> {
        let typed = decode::<K>(object)?;
        serde_json::to_value(&typed).map_err(|source| ObjectError::Decode {
            kind: kind_of(object),
            name: name_of(object),
            source,
        })
    }
}
