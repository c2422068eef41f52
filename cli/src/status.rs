//! What the CLI reads from a Flux object's status: Ready, its message, the revision, suspension.

use serde_json::Value;

/// The Ready condition of an object, `Unknown` when it has none yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Readiness {
    pub status: String,
    pub reason: String,
    pub message: String,
}

pub fn ready(object: &Value) -> Readiness {
    let conditions = object.pointer("/status/conditions").and_then(Value::as_array);
    let ready = conditions.and_then(|cs| cs.iter().find(|c| c["type"] == "Ready"));
    match ready {
        Some(c) => Readiness {
            status: c["status"].as_str().unwrap_or("Unknown").to_string(),
            reason: c["reason"].as_str().unwrap_or_default().to_string(),
            message: c["message"].as_str().unwrap_or_default().to_string(),
        },
        None => {
            Readiness { status: "Unknown".into(), reason: String::new(), message: "waiting to be reconciled".into() }
        }
    }
}

pub fn is_suspended(object: &Value) -> bool {
    object.pointer("/spec/suspend").and_then(Value::as_bool).unwrap_or(false)
}

/// The revision an object has reached: the artifact's for sources, the last applied for
/// Kustomizations, the chart version of the latest release for HelmReleases.
pub fn revision(object: &Value) -> String {
    let candidates = [
        "/status/artifact/revision",
        "/status/lastAppliedRevision",
        "/status/history/0/chartVersion",
        "/status/lastAttemptedRevision",
    ];
    candidates
        .iter()
        .find_map(|p| object.pointer(p).and_then(Value::as_str).filter(|s| !s.is_empty()))
        .unwrap_or_default()
        .to_string()
}

pub fn last_handled(object: &Value) -> Option<&str> {
    object.pointer("/status/lastHandledReconcileAt").and_then(Value::as_str)
}

pub fn name(object: &Value) -> &str {
    object.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default()
}

pub fn namespace(object: &Value) -> &str {
    object.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or_default()
}

pub fn created(object: &Value) -> Option<&str> {
    object.pointer("/metadata/creationTimestamp").and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_ready_revision_and_suspension() {
        let obj = json!({
            "spec": {"suspend": true},
            "status": {
                "conditions": [
                    {"type": "Reconciling", "status": "True", "reason": "Progressing", "message": "x"},
                    {"type": "Ready", "status": "False", "reason": "BuildFailed", "message": "kustomize build failed"}
                ],
                "lastAppliedRevision": "main@sha1:abc"
            }
        });
        assert_eq!(ready(&obj).status, "False");
        assert_eq!(ready(&obj).message, "kustomize build failed");
        assert_eq!(revision(&obj), "main@sha1:abc");
        assert!(is_suspended(&obj));
        assert_eq!(ready(&json!({})).status, "Unknown");
    }

    #[test]
    fn revisions_of_each_kind() {
        let source = json!({"status": {"artifact": {"revision": "v1@sha256:aa"}}});
        assert_eq!(revision(&source), "v1@sha256:aa");
        let release = json!({"status": {"history": [{"chartVersion": "6.5.0"}], "lastAttemptedRevision": "6.4.0"}});
        assert_eq!(revision(&release), "6.5.0");
        assert_eq!(revision(&json!({"status": {}})), "");
    }
}
