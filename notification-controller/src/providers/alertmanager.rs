//! `alertmanager`: a list of one alert for Alertmanager's `POST /api/v2/alerts`. The labels
//! identify the object and reason (so Alertmanager groups and dedupes them), the message goes in
//! the annotations; a resolved notification sets `endsAt`, which resolves the alert.

use std::collections::BTreeMap;

use serde_json::json;

use super::{Endpoint, Notification, OutgoingRequest, ProviderError, http_url, message};

pub fn request(endpoint: &Endpoint, n: &Notification) -> Result<OutgoingRequest, ProviderError> {
    let e = &n.event;
    let o = &e.involved_object;
    let kind = o.kind.as_deref().unwrap_or_default();
    let mut labels: BTreeMap<String, String> = e.metadata.clone();
    labels.remove("summary");
    labels.insert("alertname".into(), format!("Flux{kind}{}", e.reason));
    labels.insert("severity".into(), e.severity.clone());
    labels.insert("reason".into(), e.reason.clone());
    labels.insert("kind".into(), kind.to_string());
    labels.insert("name".into(), o.name.clone().unwrap_or_default());
    labels.insert("namespace".into(), o.namespace.clone().unwrap_or_default());
    let mut annotations = BTreeMap::from([("message".to_string(), message(n))]);
    if let Some(summary) = e.metadata.get("summary") {
        annotations.insert("summary".into(), summary.clone());
    }
    let mut alert = json!({"labels": labels, "annotations": annotations, "startsAt": e.timestamp});
    if n.resolved {
        alert["endsAt"] = json!(e.timestamp);
    }
    let mut request = OutgoingRequest::json(http_url(endpoint)?.as_str(), &json!([alert]))?;
    if let Some(token) = endpoint.token.as_deref().filter(|t| !t.is_empty()) {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    request.basic_auth = endpoint.basic_auth.clone();
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use weir_api::notification::ProviderType;

    #[test]
    fn one_alert_with_labels_and_message() {
        let e = endpoint(ProviderType::Alertmanager, "http://alertmanager:9093/api/v2/alerts");
        let mut n = notification("error");
        n.event.reason = "HealthCheckFailed".into();
        n.event.metadata.insert("summary".into(), "prod".into());
        let b = body(&request(&e, &n).unwrap());
        let alert = &b[0];
        assert_eq!(alert["labels"]["alertname"], "FluxKustomizationHealthCheckFailed");
        assert_eq!(alert["labels"]["severity"], "error");
        assert_eq!(alert["labels"]["name"], "apps");
        assert!(alert["labels"].get("summary").is_none());
        assert_eq!(alert["annotations"]["summary"], "prod");
        assert_eq!(alert["annotations"]["message"], "Deployment/apps/web configured");
        assert_eq!(alert["startsAt"], "2026-11-22T02:00:00Z");
        assert!(alert.get("endsAt").is_none());
        n.resolved = true;
        assert_eq!(body(&request(&e, &n).unwrap())[0]["endsAt"], "2026-11-22T02:00:00Z");
    }
}
