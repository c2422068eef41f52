//! Errors of the apply engine; each names the object it is about and says what to do.

use std::fmt;

use crate::changeset::ChangeSet;

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("{subject}: {reason}")]
    InvalidObject { subject: String, reason: String },
    #[error("{subject}: the API server does not serve kind {kind} in {api_version} (is its CRD installed?)")]
    UnknownKind { subject: String, api_version: String, kind: String },
    #[error("{subject}: discovery of {api_version} failed: {source}")]
    Discovery {
        subject: String,
        api_version: String,
        #[source]
        source: kube::Error,
    },
    #[error("{subject}: namespace not specified for a namespaced kind")]
    MissingNamespace { subject: String },
    #[error(
        "{subject}: immutable field {field} changed; it cannot be changed in place: annotate the object \
         with kustomize.toolkit.fluxcd.io/force: Enabled (or enable force) to delete and recreate it"
    )]
    Immutable {
        subject: String,
        /// The field path(s) the server names, e.g. `spec.template`.
        field: String,
        /// The server's full message.
        message: String,
    },
    #[error(
        "{subject}: {message}; on Kubernetes before 1.21 server-side apply needs `protocol` (e.g. TCP) \
         on every entry of spec.ports"
    )]
    PortProtocolMissing { subject: String, message: String },
    #[error("{subject}: {operation} failed: {source}")]
    Api {
        subject: String,
        operation: &'static str,
        #[source]
        source: kube::Error,
    },
    #[error("{0}")]
    Set(Box<SetError>),
    #[error("timed out after {timeout:?} waiting for: {}", pending.join(", "))]
    Timeout { timeout: std::time::Duration, pending: Vec<String> },
    #[error("health check cancelled while waiting for: {}", pending.join(", "))]
    Cancelled { pending: Vec<String> },
    #[error("{subject} failed: {message}")]
    Failed { subject: String, message: String },
}

impl ApplyError {
    /// Classifies an API error of a (dry-run) apply: immutable fields and the 1.20 Service port
    /// protocol get their own messages, anything else names the operation.
    pub(crate) fn from_apply(subject: &str, operation: &'static str, source: kube::Error) -> ApplyError {
        if let kube::Error::Api(status) = &source {
            let message = status.message.clone();
            if status.code == 422 && is_immutable(&message) {
                let fields: Vec<&str> = status
                    .details
                    .iter()
                    .flat_map(|d| &d.causes)
                    .filter(|c| is_immutable(&c.message) && !c.field.is_empty())
                    .map(|c| c.field.as_str())
                    .collect();
                let field = if fields.is_empty() { field_of(&message) } else { fields.join(", ") };
                return ApplyError::Immutable { subject: subject.to_string(), field, message };
            }
            if message.contains("omits key field") && message.contains("protocol") {
                return ApplyError::PortProtocolMissing { subject: subject.to_string(), message };
            }
        }
        ApplyError::Api { subject: subject.to_string(), operation, source }
    }

    pub(crate) fn is_immutable(&self) -> bool {
        matches!(self, ApplyError::Immutable { .. })
    }
}

/// Messages the API server uses when a field cannot be updated in place.
fn is_immutable(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("field is immutable") || m.contains("cannot change") || m.contains("may not change once set")
}

/// The field in a message like `Kind "name" is invalid: spec.x: Invalid value: …`.
fn field_of(message: &str) -> String {
    message
        .split_once(" is invalid: ")
        .and_then(|(_, rest)| rest.split_once(": "))
        .map(|(field, _)| field.to_string())
        .unwrap_or_else(|| "(unnamed)".to_string())
}

/// Some objects of a set failed; what succeeded before the failure is kept for status and events.
#[derive(Debug)]
pub struct SetError {
    pub applied: ChangeSet,
    pub failures: Vec<ApplyError>,
}

impl fmt::Display for SetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let messages: Vec<String> = self.failures.iter().map(ToString::to_string).collect();
        write!(f, "{}", messages.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_immutable_messages() {
        assert!(is_immutable(
            r#"Service "a" is invalid: spec.clusterIP: Invalid value: "10.0.0.1": field is immutable"#
        ));
        assert!(is_immutable("Job.batch \"j\" is invalid: spec.template: Invalid value: ...: field is immutable"));
        assert!(!is_immutable("the server could not find the requested resource"));
        assert_eq!(
            field_of(r#"Job.batch "j" is invalid: spec.template: Invalid value: core.PodTemplateSpec{}"#),
            "spec.template"
        );
        assert_eq!(field_of("something else"), "(unnamed)");
    }
}
