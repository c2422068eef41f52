//! From one event to the notifications the Alerts ask for: which Alerts select the event (sources,
//! `matchLabels`, severity, inclusion and exclusion lists), how each shapes it (`eventMetadata`,
//! the object's `event.toolkit.fluxcd.io/` annotations, `summary`), and delivery to each Alert's
//! Provider. The selection rules are pure functions, tested without a server.

use std::collections::BTreeMap;
use std::sync::Arc;

use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::reflector::Store;
use regex::Regex;
use weir_api::event::{EVENT_ANNOTATION_PREFIX, Event, SEVERITY_ERROR, SEVERITY_INFO, SEVERITY_TRACE};
use weir_api::notification::{Alert, EventSeverity, Provider, matches_severity};

use crate::objects::{MetadataCache, ObjectMetadata};
use crate::providers::http::Sender;
use crate::providers::{self, Notification, endpoint};
use crate::resolved;

/// Whether one of the Alert's sources selects the event's object. `labels` are the object's
/// labels (needed only when a source has `matchLabels`).
pub fn source_matches(alert: &Alert, event: &Event, labels: Option<&BTreeMap<String, String>>) -> bool {
    let o = &event.involved_object;
    let alert_namespace = alert.namespace().unwrap_or_default();
    alert.spec.event_sources.iter().any(|source| {
        let namespace = source.namespace.as_deref().unwrap_or(&alert_namespace);
        let name_ok = source.name == "*" || o.name.as_deref() == Some(source.name.as_str());
        let api_ok = source.api_version.as_deref().is_none_or(|v| o.api_version.as_deref() == Some(v));
        let labels_ok = match (&source.match_labels, source.name == "*") {
            (Some(wanted), true) if !wanted.is_empty() => {
                labels.is_some_and(|have| wanted.iter().all(|(k, v)| have.get(k) == Some(v)))
            }
            _ => true,
        };
        o.kind.as_deref() == Some(source.kind.as_str())
            && o.namespace.as_deref() == Some(namespace)
            && name_ok
            && api_ok
            && labels_ok
    })
}

/// Whether the Alert's severity admits the event's: `info` alerts take every event, `error`
/// alerts only errors. (`trace` events then reach commit-status Providers only, see `deliver`.)
pub fn severity_matches(alert: &Alert, event: &Event) -> bool {
    let severity = match event.severity.as_str() {
        SEVERITY_INFO | SEVERITY_TRACE => EventSeverity::Info,
        SEVERITY_ERROR => EventSeverity::Error,
        _ => return false,
    };
    matches_severity(alert.spec.event_severity(), severity)
}

/// Whether the message passes the inclusion list (when set) and no exclusion: exclusion wins.
/// An invalid expression is an error (the Alert's status reports it).
pub fn message_allowed(alert: &Alert, message: &str) -> Result<bool, regex::Error> {
    for expression in alert.spec.exclusion_list.iter().flatten() {
        if Regex::new(expression)?.is_match(message) {
            return Ok(false);
        }
    }
    match &alert.spec.inclusion_list {
        Some(list) if !list.is_empty() => {
            for expression in list {
                if Regex::new(expression)?.is_match(message) {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        _ => Ok(true),
    }
}

/// The event as this Alert forwards it: the event's own metadata wins over the object's
/// `event.toolkit.fluxcd.io/<key>` annotations, which win over `eventMetadata`, which wins over
/// `summary`.
pub fn shape(alert: &Alert, event: &Event, annotations: Option<&BTreeMap<String, String>>) -> Event {
    let mut metadata = BTreeMap::new();
    if let Some(summary) = alert.spec.summary.as_deref().filter(|s| !s.is_empty()) {
        metadata.insert("summary".to_string(), summary.to_string());
    }
    for (k, v) in alert.spec.event_metadata.iter().flatten() {
        metadata.insert(k.clone(), v.clone());
    }
    for (k, v) in annotations.into_iter().flatten() {
        if let Some(key) = k.strip_prefix(EVENT_ANNOTATION_PREFIX).filter(|key| !key.is_empty()) {
            metadata.insert(key.to_string(), v.clone());
        }
    }
    metadata.extend(event.metadata.clone());
    Event { metadata, ..event.clone() }
}

/// Delivers events to Providers.
pub struct Dispatcher {
    client: kube::Client,
    sender: Sender,
    objects: MetadataCache,
    resolved: resolved::Tracker,
    /// The Alerts, kept current by the Alert controller's reflector.
    alerts: Store<Alert>,
    /// `--no-cross-namespace-refs`: Alerts only see events of objects in their own namespace.
    no_cross_namespace_refs: bool,
}

impl Dispatcher {
    pub fn new(
        client: kube::Client,
        alerts: Store<Alert>,
        no_cross_namespace_refs: bool,
    ) -> Result<Dispatcher, providers::http::SendError> {
        Ok(Dispatcher {
            no_cross_namespace_refs,
            objects: MetadataCache::new(client.clone()),
            client,
            sender: Sender::new()?,
            resolved: resolved::Tracker::default(),
            alerts,
        })
    }

    /// Sends the event to every Provider whose Alert selects it. Failures are logged: the
    /// sender of the event has been answered already, as in Flux.
    pub async fn dispatch(self: Arc<Self>, event: Event) {
        if self.alerts.state().is_empty() {
            // Right after start the reflector may still be listing.
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), self.alerts.wait_until_ready()).await;
        }
        let alerts = self.alerts.state();
        let mut metadata: Option<Option<ObjectMetadata>> = None;
        for alert in alerts {
            let alert = Alert::clone(&alert);
            if alert.spec.suspend == Some(true) {
                continue;
            }
            if self.no_cross_namespace_refs && alert.namespace() != event.involved_object.namespace {
                continue;
            }
            let needs_labels =
                alert.spec.event_sources.iter().any(|s| s.match_labels.as_ref().is_some_and(|m| !m.is_empty()));
            if metadata.is_none() && needs_labels {
                metadata = Some(self.object_metadata(&event).await);
            }
            let labels = metadata.as_ref().and_then(|m| m.as_ref()).map(|m| &m.labels);
            if !source_matches(&alert, &event, labels) {
                continue;
            }
            let resolved =
                if resolved::enabled(&alert) { self.resolved.observe(&alert_key(&alert), &event) } else { None };
            let forward = severity_matches(&alert, &event)
                && match message_allowed(&alert, &event.message) {
                    Ok(allowed) => allowed,
                    Err(error) => {
                        tracing::warn!(alert = %alert_key(&alert), %error, "invalid regular expression in the Alert");
                        false
                    }
                };
            if !forward && resolved.is_none() {
                continue;
            }
            if metadata.is_none() {
                metadata = Some(self.object_metadata(&event).await);
            }
            let annotations = metadata.as_ref().and_then(|m| m.as_ref()).map(|m| &m.annotations);
            let mut notifications = Vec::new();
            if forward {
                notifications.push(Notification { event: shape(&alert, &event, annotations), resolved: false });
            }
            if let Some(cleared) = resolved {
                notifications.push(Notification { event: shape(&alert, &cleared, annotations), resolved: true });
            }
            let this = self.clone();
            let trace = event.severity == SEVERITY_TRACE;
            tokio::spawn(async move { this.deliver(alert, notifications, trace).await });
        }
    }

    async fn object_metadata(&self, event: &Event) -> Option<ObjectMetadata> {
        let o = &event.involved_object;
        let (Some(api_version), Some(kind), Some(namespace), Some(name)) =
            (o.api_version.as_deref(), o.kind.as_deref(), o.namespace.as_deref(), o.name.as_deref())
        else {
            return None;
        };
        self.objects.get(api_version, kind, namespace, name).await
    }

    async fn deliver(&self, alert: Alert, notifications: Vec<Notification>, trace: bool) {
        let namespace = alert.namespace().unwrap_or_default();
        let providers: Api<Provider> = Api::namespaced(self.client.clone(), &namespace);
        let name = &alert.spec.provider_ref.name;
        let provider = match providers.get_opt(name).await {
            Ok(Some(p)) => p,
            Ok(None) => {
                tracing::warn!(alert = %alert_key(&alert), provider = %name, "the Alert's Provider does not exist; event dropped");
                return;
            }
            Err(error) => {
                tracing::error!(alert = %alert_key(&alert), provider = %name, %error, "reading the Provider");
                return;
            }
        };
        if provider.spec.suspend == Some(true) || (trace && !provider.spec.type_.is_commit_status()) {
            return;
        }
        let endpoint = match endpoint::resolve(&self.client, &provider).await {
            Ok(e) => e,
            Err(error) => {
                tracing::warn!(provider = %format!("{namespace}/{name}"), %error, "the Provider cannot deliver; event dropped");
                return;
            }
        };
        for notification in notifications {
            let request = match providers::build(&endpoint, &notification) {
                Ok(Some(r)) => r,
                Ok(None) => continue,
                Err(error) => {
                    tracing::warn!(provider = %format!("{namespace}/{name}"), %error, "building the notification");
                    continue;
                }
            };
            match self.sender.send(&endpoint, &request).await {
                Ok(()) => tracing::debug!(provider = %format!("{namespace}/{name}"), "notification sent"),
                Err(error) => {
                    tracing::error!(provider = %format!("{namespace}/{name}"), %error, "sending the notification failed")
                }
            }
        }
    }
}

fn alert_key(alert: &Alert) -> String {
    format!("{}/{}", alert.namespace().unwrap_or_default(), alert.name_any())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn alert(spec: serde_json::Value) -> Alert {
        let mut a: Alert = serde_json::from_value(json!({
            "apiVersion": "notification.toolkit.fluxcd.io/v1beta3", "kind": "Alert",
            "metadata": {"name": "a", "namespace": "flux-system"}, "spec": spec
        }))
        .unwrap();
        a.metadata.namespace = Some("flux-system".into());
        a
    }

    fn event(kind: &str, name: &str, namespace: &str, severity: &str, message: &str) -> Event {
        let mut e = Event { severity: severity.into(), message: message.into(), ..Event::default() };
        e.involved_object.kind = Some(kind.into());
        e.involved_object.name = Some(name.into());
        e.involved_object.namespace = Some(namespace.into());
        e.involved_object.api_version = Some("kustomize.toolkit.fluxcd.io/v1".into());
        e
    }

    #[test]
    fn sources_by_kind_name_namespace_and_labels() {
        let a = alert(json!({"providerRef": {"name": "p"}, "eventSources": [
            {"kind": "Kustomization", "name": "apps"},
            {"kind": "GitRepository", "name": "*", "namespace": "other", "matchLabels": {"team": "a"}},
        ]}));
        assert!(source_matches(&a, &event("Kustomization", "apps", "flux-system", "info", ""), None));
        assert!(
            !source_matches(&a, &event("Kustomization", "apps", "default", "info", ""), None),
            "namespace defaults to the Alert's"
        );
        assert!(!source_matches(&a, &event("Kustomization", "infra", "flux-system", "info", ""), None));
        assert!(!source_matches(&a, &event("HelmRelease", "apps", "flux-system", "info", ""), None));
        let repo = event("GitRepository", "any", "other", "info", "");
        let team_a = BTreeMap::from([("team".to_string(), "a".to_string())]);
        let team_b = BTreeMap::from([("team".to_string(), "b".to_string())]);
        assert!(source_matches(&a, &repo, Some(&team_a)));
        assert!(!source_matches(&a, &repo, Some(&team_b)));
        assert!(!source_matches(&a, &repo, None), "matchLabels needs the object's labels");
    }

    #[test]
    fn severities() {
        let info = alert(json!({"providerRef": {"name": "p"}, "eventSources": []}));
        let error = alert(json!({"providerRef": {"name": "p"}, "eventSources": [], "eventSeverity": "error"}));
        let e = |s| event("Kustomization", "a", "flux-system", s, "");
        assert!(severity_matches(&info, &e("info")) && severity_matches(&info, &e("error")));
        assert!(!severity_matches(&error, &e("info")) && severity_matches(&error, &e("error")));
        assert!(severity_matches(&info, &e("trace")) && !severity_matches(&error, &e("trace")));
    }

    #[test]
    fn exclusion_wins_over_inclusion() {
        let a = alert(json!({"providerRef": {"name": "p"}, "eventSources": [],
            "inclusionList": [".*succeeded.*", "^Deployment"], "exclusionList": ["timeout"]}));
        assert!(message_allowed(&a, "Reconciliation succeeded").unwrap());
        assert!(message_allowed(&a, "Deployment/apps/web configured").unwrap());
        assert!(!message_allowed(&a, "Health check failed").unwrap());
        assert!(!message_allowed(&a, "Reconciliation succeeded after timeout").unwrap());
        let bad = alert(json!({"providerRef": {"name": "p"}, "eventSources": [], "exclusionList": ["("]}));
        assert!(message_allowed(&bad, "x").is_err());
        let open = alert(json!({"providerRef": {"name": "p"}, "eventSources": []}));
        assert!(message_allowed(&open, "anything").unwrap());
    }

    #[test]
    fn metadata_precedence() {
        let a = alert(json!({"providerRef": {"name": "p"}, "eventSources": [], "summary": "prod cluster",
            "eventMetadata": {"env": "prod", "revision": "alert-loses", "cluster": "eu"}}));
        let mut e = event("Kustomization", "a", "flux-system", "info", "m");
        e.metadata.insert("revision".into(), "main@sha1:abc".into());
        let annotations = BTreeMap::from([
            ("event.toolkit.fluxcd.io/cluster".to_string(), "eu-west-1".to_string()),
            ("other.io/ignored".to_string(), "x".to_string()),
        ]);
        let shaped = shape(&a, &e, Some(&annotations));
        assert_eq!(shaped.metadata.get("summary").unwrap(), "prod cluster");
        assert_eq!(shaped.metadata.get("env").unwrap(), "prod");
        assert_eq!(shaped.metadata.get("revision").unwrap(), "main@sha1:abc");
        assert_eq!(shaped.metadata.get("cluster").unwrap(), "eu-west-1");
        assert!(!shaped.metadata.contains_key("ignored"));
    }
}
