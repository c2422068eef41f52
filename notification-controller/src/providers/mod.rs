//! Providers: one module per destination type, each turning a notification into the HTTP request
//! its service expects (pure, so each payload is unit-tested), and [`http::Sender`], which sends
//! them through one shared client (or a dedicated one when a Provider has its own TLS or proxy).
//!
//! [`endpoint`] resolves a Provider and its Secrets into an [`Endpoint`]; the Provider reconciler
//! uses the same function, so what makes a Provider not Ready is exactly what would stop delivery.

pub mod alertmanager;
pub mod commit_status;
pub mod endpoint;
pub mod generic;
pub mod githubdispatch;
pub mod googlechat;
pub mod http;
pub mod matrix;
pub mod msteams;
pub mod slack;
pub mod telegram;

use std::collections::BTreeMap;
use std::time::Duration;

use weir_api::event::Event;
use weir_api::notification::ProviderType;

/// Flux's delivery timeout when `spec.timeout` is unset.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

/// A Provider resolved with its Secrets: everything needed to deliver.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Endpoint {
    pub type_: Option<ProviderType>,
    /// `name`, `namespace` and the first dash-separated part of the UID name commit statuses.
    pub name: String,
    pub namespace: String,
    pub uid: String,
    /// `spec.address`, or the Secret's `address` key which takes precedence.
    pub address: String,
    pub channel: Option<String>,
    pub username: Option<String>,
    /// The Secret's `token` key.
    pub token: Option<String>,
    /// The Secret's `username` and `password` keys, both set.
    pub basic_auth: Option<(String, String)>,
    /// The Secret's `headers` key (a YAML map), sent by the generic types.
    pub headers: BTreeMap<String, String>,
    pub proxy: Option<Proxy>,
    pub tls: Option<Tls>,
    pub timeout: Duration,
}

/// An HTTP(S) proxy, from `proxySecretRef` or the deprecated `spec.proxy`.
#[derive(Clone, Debug, PartialEq)]
pub struct Proxy {
    pub address: String,
    pub username: Option<String>,
    pub password: Option<String>,
}

/// PEM material from `certSecretRef`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tls {
    pub ca: Option<Vec<u8>>,
    pub cert: Option<Vec<u8>>,
    pub key: Option<Vec<u8>>,
}

/// What is delivered: the event as the Alert shaped it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Notification {
    /// The event, its metadata cleaned and merged with the Alert's.
    pub event: Event,
    /// Weir's opt-in resolved notification: the error this object reported earlier has cleared.
    pub resolved: bool,
}

/// One HTTP request to a destination.
#[derive(Clone, Debug, PartialEq)]
pub struct OutgoingRequest {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Sent as HTTP basic authentication.
    pub basic_auth: Option<(String, String)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Post,
    Put,
}

impl OutgoingRequest {
    /// A POST of `body` as JSON.
    pub fn json(url: impl Into<String>, body: &serde_json::Value) -> Result<OutgoingRequest, ProviderError> {
        let body = serde_json::to_vec(body).map_err(|e| ProviderError::Payload(e.to_string()))?;
        Ok(OutgoingRequest {
            method: Method::Post,
            url: url.into(),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body,
            basic_auth: None,
        })
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> OutgoingRequest {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// The value of the first header with this name (case-insensitive).
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Why a notification cannot be turned into a request.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ProviderError {
    #[error("provider type {0} is not supported by Weir's notification-controller")]
    Unsupported(&'static str),
    #[error("the provider has no address: set spec.address or the Secret's address key")]
    NoAddress,
    #[error("invalid address {address:?}: {reason}")]
    InvalidAddress { address: String, reason: String },
    #[error("the provider needs a token: set the token key of the Secret in spec.secretRef")]
    NoToken,
    #[error("the provider needs a channel: set spec.channel")]
    NoChannel,
    #[error("encoding the payload: {0}")]
    Payload(String),
}

/// The request that delivers `notification` to `endpoint`, or `None` when this type skips it
/// (commit statuses of events without a revision).
pub fn build(endpoint: &Endpoint, notification: &Notification) -> Result<Option<OutgoingRequest>, ProviderError> {
    let Some(type_) = endpoint.type_ else { return Err(ProviderError::Unsupported("unknown")) };
    let request = match type_ {
        ProviderType::Generic => generic::request(endpoint, notification, false)?,
        ProviderType::GenericHmac => generic::request(endpoint, notification, true)?,
        ProviderType::Slack => slack::slack(endpoint, notification)?,
        ProviderType::Rocket => slack::rocket(endpoint, notification)?,
        ProviderType::Discord => slack::discord(endpoint, notification)?,
        ProviderType::MsTeams => msteams::request(endpoint, notification)?,
        ProviderType::GoogleChat => googlechat::request(endpoint, notification)?,
        ProviderType::Matrix => matrix::request(endpoint, notification)?,
        ProviderType::Telegram => telegram::request(endpoint, notification)?,
        ProviderType::Alertmanager => alertmanager::request(endpoint, notification)?,
        ProviderType::GitHubDispatch => githubdispatch::request(endpoint, notification)?,
        ProviderType::GitHub | ProviderType::GitLab | ProviderType::Gitea | ProviderType::Bitbucket => {
            return commit_status::request(type_, endpoint, notification);
        }
        other => return Err(ProviderError::Unsupported(other.as_str())),
    };
    Ok(Some(request))
}

/// Whether Weir can deliver to this type.
pub fn is_supported(type_: ProviderType) -> bool {
    matches!(
        type_,
        ProviderType::Generic
            | ProviderType::GenericHmac
            | ProviderType::Slack
            | ProviderType::Rocket
            | ProviderType::Discord
            | ProviderType::MsTeams
            | ProviderType::GoogleChat
            | ProviderType::Matrix
            | ProviderType::Telegram
            | ProviderType::Alertmanager
            | ProviderType::GitHubDispatch
            | ProviderType::GitHub
            | ProviderType::GitLab
            | ProviderType::Gitea
            | ProviderType::Bitbucket
    )
}

/// `kustomization/apps.flux-system`: how Flux names the involved object in chat messages.
pub fn object_title(event: &Event) -> String {
    let o = &event.involved_object;
    format!(
        "{}/{}.{}",
        o.kind.as_deref().unwrap_or_default().to_lowercase(),
        o.name.as_deref().unwrap_or_default(),
        o.namespace.as_deref().unwrap_or_default()
    )
}

/// The message, prefixed when this is a resolved notification.
pub fn message(notification: &Notification) -> String {
    if notification.resolved {
        format!("Resolved: {}", notification.event.message)
    } else {
        notification.event.message.clone()
    }
}

/// Whether the notification reports a failure that has not cleared.
pub fn is_error(notification: &Notification) -> bool {
    notification.event.is_error() && !notification.resolved
}

/// The endpoint's address parsed as an HTTP(S) URL.
pub fn http_url(endpoint: &Endpoint) -> Result<reqwest::Url, ProviderError> {
    if endpoint.address.is_empty() {
        return Err(ProviderError::NoAddress);
    }
    let invalid = |reason: String| ProviderError::InvalidAddress { address: endpoint.address.clone(), reason };
    let url = reqwest::Url::parse(&endpoint.address).map_err(|e| invalid(e.to_string()))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(invalid(format!("scheme {} is not http or https", url.scheme())));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("no host".into()));
    }
    Ok(url)
}

/// Percent-encodes one URL path segment (RFC 3986 unreserved characters stay).
pub fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    /// A Kustomization error event with a revision, as kustomize-controller sends it (cleaned).
    pub fn notification(severity: &str) -> Notification {
        let mut event = Event {
            severity: severity.into(),
            timestamp: "2026-11-22T02:00:00Z".into(),
            message: "Deployment/apps/web configured".into(),
            reason: "ReconciliationSucceeded".into(),
            reporting_controller: "kustomize-controller".into(),
            ..Event::default()
        };
        event.involved_object.kind = Some("Kustomization".into());
        event.involved_object.name = Some("apps".into());
        event.involved_object.namespace = Some("flux-system".into());
        event.involved_object.api_version = Some("kustomize.toolkit.fluxcd.io/v1".into());
        event.metadata.insert("revision".into(), "main@sha1:0123456789abcdef0123456789abcdef01234567".into());
        Notification { event, resolved: false }
    }

    pub fn endpoint(type_: ProviderType, address: &str) -> Endpoint {
        Endpoint {
            type_: Some(type_),
            name: "p".into(),
            namespace: "flux-system".into(),
            uid: "1a2b3c4d-0000-1111-2222-333344445555".into(),
            address: address.into(),
            timeout: DEFAULT_TIMEOUT,
            ..Endpoint::default()
        }
    }

    pub fn body(request: &OutgoingRequest) -> serde_json::Value {
        serde_json::from_slice(&request.body).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;

    #[test]
    fn titles_and_addresses() {
        assert_eq!(object_title(&notification("info").event), "kustomization/apps.flux-system");
        let mut e = endpoint(ProviderType::Generic, "");
        assert_eq!(http_url(&e), Err(ProviderError::NoAddress));
        e.address = "ftp://x".into();
        assert!(matches!(http_url(&e), Err(ProviderError::InvalidAddress { .. })));
        e.address = "not a url".into();
        assert!(matches!(http_url(&e), Err(ProviderError::InvalidAddress { .. })));
        e.address = "https://hooks.example.com/x".into();
        assert!(http_url(&e).is_ok());
        assert_eq!(encode_segment("!room:example.org"), "%21room%3Aexample.org");
    }

    #[test]
    fn unsupported_types_say_so() {
        let e = endpoint(ProviderType::PagerDuty, "https://events.pagerduty.com");
        assert_eq!(build(&e, &notification("info")), Err(ProviderError::Unsupported("pagerduty")));
        assert!(!is_supported(ProviderType::PagerDuty));
        assert!(is_supported(ProviderType::Gitea));
    }
}
