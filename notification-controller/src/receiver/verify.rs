//! How each Receiver type authenticates a webhook and which event it carries. Pure: the inputs
//! are the token, the headers and the body.

use axum::http::HeaderMap;
use weir_api::notification::ReceiverType;

use crate::signature::{Algorithm, constant_time_eq, hex, hmac, verify_prefixed};

/// What to do with an authenticated request.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Reconcile the targets.
    Trigger,
    /// Answer 200 and change nothing (a ping, or an event `spec.events` does not list).
    Ignore(String),
}

/// Why a request is refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// 401: the caller did not prove it knows the token.
    #[error("{0}")]
    Unauthorized(String),
    /// 400: not a payload of this type.
    #[error("{0}")]
    BadRequest(String),
    /// 501: Weir cannot check this type's requests.
    #[error("{0}")]
    Unsupported(String),
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Whether `event` is allowed by `spec.events` (all when empty; compared case-insensitively).
fn allowed(events: &[String], event: &str) -> bool {
    events.is_empty() || events.iter().any(|e| e.eq_ignore_ascii_case(event))
}

fn filtered(events: &[String], event: &str) -> Option<Verdict> {
    (!allowed(events, event)).then(|| Verdict::Ignore(format!("event {event:?} is not in spec.events")))
}

fn json(body: &[u8], what: &str) -> Result<serde_json::Value, Rejection> {
    serde_json::from_slice(body).map_err(|e| Rejection::BadRequest(format!("decoding the {what} payload: {e}")))
}

pub fn verify(
    type_: ReceiverType,
    token: &str,
    events: &[String],
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Verdict, Rejection> {
    let bad_signature = |what: &str| Rejection::Unauthorized(format!("invalid {what}"));
    match type_ {
        ReceiverType::Generic => Ok(Verdict::Trigger),
        ReceiverType::GenericHmac => {
            let signature = header(headers, "X-Signature").ok_or_else(|| bad_signature("X-Signature: missing"))?;
            if verify_prefixed(signature, token.as_bytes(), body) {
                Ok(Verdict::Trigger)
            } else {
                Err(bad_signature("X-Signature"))
            }
        }
        ReceiverType::GitHub => {
            let signature = header(headers, "X-Hub-Signature-256")
                .or_else(|| header(headers, "X-Hub-Signature"))
                .ok_or_else(|| bad_signature("X-Hub-Signature-256: missing"))?;
            if !verify_prefixed(signature, token.as_bytes(), body) {
                return Err(bad_signature("X-Hub-Signature-256"));
            }
            let event = header(headers, "X-GitHub-Event").unwrap_or_default();
            if event == "ping" {
                return Ok(Verdict::Ignore("pong".into()));
            }
            Ok(filtered(events, event).unwrap_or(Verdict::Trigger))
        }
        ReceiverType::GitLab => {
            let given = header(headers, "X-Gitlab-Token").unwrap_or_default();
            if !constant_time_eq(given.as_bytes(), token.as_bytes()) {
                return Err(bad_signature("X-Gitlab-Token"));
            }
            let event = header(headers, "X-Gitlab-Event").unwrap_or_default();
            Ok(filtered(events, event).unwrap_or(Verdict::Trigger))
        }
        ReceiverType::Bitbucket => {
            let signature =
                header(headers, "X-Hub-Signature").ok_or_else(|| bad_signature("X-Hub-Signature: missing"))?;
            if !verify_prefixed(signature, token.as_bytes(), body) {
                return Err(bad_signature("X-Hub-Signature"));
            }
            let event = header(headers, "X-Event-Key").unwrap_or_default();
            if event == "diagnostics:ping" {
                return Ok(Verdict::Ignore("pong".into()));
            }
            Ok(filtered(events, event).unwrap_or(Verdict::Trigger))
        }
        ReceiverType::Harbor => {
            let given = header(headers, "Authorization").unwrap_or_default();
            if constant_time_eq(given.as_bytes(), token.as_bytes()) {
                Ok(Verdict::Trigger)
            } else {
                Err(bad_signature("Authorization"))
            }
        }
        ReceiverType::Nexus => {
            let given = header(headers, "X-Nexus-Webhook-Signature").unwrap_or_default();
            let expected = hex(&hmac(Algorithm::Sha1, token.as_bytes(), body));
            if !constant_time_eq(given.to_ascii_lowercase().as_bytes(), expected.as_bytes()) {
                return Err(bad_signature("X-Nexus-Webhook-Signature"));
            }
            let event = header(headers, "X-Nexus-Webhook-ID").unwrap_or_default();
            Ok(filtered(events, event).unwrap_or(Verdict::Trigger))
        }
        // These senders cannot sign: the secret path is the authentication; the payload must
        // still be theirs.
        ReceiverType::DockerHub => {
            let payload = json(body, "Docker Hub")?;
            if payload["repository"]["repo_name"].is_string() || payload["repository"]["name"].is_string() {
                Ok(Verdict::Trigger)
            } else {
                Err(Rejection::BadRequest("not a Docker Hub push payload: repository is missing".into()))
            }
        }
        ReceiverType::Quay => {
            let payload = json(body, "Quay")?;
            if payload["docker_url"].is_string() && payload["updated_tags"].is_array() {
                Ok(Verdict::Trigger)
            } else {
                Err(Rejection::BadRequest("not a Quay push payload: docker_url or updated_tags is missing".into()))
            }
        }
        ReceiverType::Acr => {
            let payload = json(body, "ACR")?;
            if payload["target"]["repository"].is_string() {
                Ok(Verdict::Trigger)
            } else {
                Err(Rejection::BadRequest("not an ACR payload: target.repository is missing".into()))
            }
        }
        ReceiverType::CdEvents => {
            let event = header(headers, "Ce-Type")
                .ok_or_else(|| Rejection::BadRequest("a CDEvent needs the Ce-Type header".into()))?;
            let payload = json(body, "CDEvents")?;
            if !payload["context"].is_object() {
                return Err(Rejection::BadRequest("not a CDEvent: context is missing".into()));
            }
            Ok(filtered(events, event).unwrap_or(Verdict::Trigger))
        }
        ReceiverType::Gcr | ReceiverType::GenericOidc => Err(Rejection::Unsupported(format!(
            "receiver type {} needs OIDC token verification, which Weir does not implement yet",
            type_.as_str()
        ))),
    }
}

/// Whether Weir can check this type's requests.
pub fn is_supported(type_: ReceiverType) -> bool {
    !matches!(type_, ReceiverType::Gcr | ReceiverType::GenericOidc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    fn sign(algorithm: Algorithm, prefix: &str, token: &str, body: &[u8]) -> String {
        format!("{prefix}={}", hex(&hmac(algorithm, token.as_bytes(), body)))
    }

    #[test]
    fn github_signature_events_and_ping() {
        let body = br#"{"ref":"refs/heads/main"}"#;
        let good = sign(Algorithm::Sha256, "sha256", "tok", body);
        let push = headers(&[("X-Hub-Signature-256", &good), ("X-GitHub-Event", "push")]);
        assert_eq!(verify(ReceiverType::GitHub, "tok", &[], &push, body), Ok(Verdict::Trigger));
        assert_eq!(verify(ReceiverType::GitHub, "tok", &["push".into()], &push, body), Ok(Verdict::Trigger));
        assert!(matches!(
            verify(ReceiverType::GitHub, "tok", &["release".into()], &push, body),
            Ok(Verdict::Ignore(_))
        ));
        assert!(matches!(verify(ReceiverType::GitHub, "other", &[], &push, body), Err(Rejection::Unauthorized(_))));
        assert!(matches!(verify(ReceiverType::GitHub, "tok", &[], &push, b"{}"), Err(Rejection::Unauthorized(_))));
        let legacy =
            headers(&[("X-Hub-Signature", &sign(Algorithm::Sha1, "sha1", "tok", body)), ("X-GitHub-Event", "ping")]);
        assert_eq!(verify(ReceiverType::GitHub, "tok", &[], &legacy, body), Ok(Verdict::Ignore("pong".into())));
        assert!(matches!(
            verify(ReceiverType::GitHub, "tok", &[], &HeaderMap::new(), body),
            Err(Rejection::Unauthorized(_))
        ));
    }

    #[test]
    fn token_headers() {
        let gitlab = headers(&[("X-Gitlab-Token", "tok"), ("X-Gitlab-Event", "Push Hook")]);
        assert_eq!(verify(ReceiverType::GitLab, "tok", &["Push Hook".into()], &gitlab, b""), Ok(Verdict::Trigger));
        assert!(matches!(verify(ReceiverType::GitLab, "tok2", &[], &gitlab, b""), Err(Rejection::Unauthorized(_))));
        let harbor = headers(&[("Authorization", "tok")]);
        assert_eq!(verify(ReceiverType::Harbor, "tok", &[], &harbor, b"{}"), Ok(Verdict::Trigger));
        assert!(verify(ReceiverType::Harbor, "tok", &[], &HeaderMap::new(), b"{}").is_err());
    }

    #[test]
    fn hmac_types() {
        let body = b"payload";
        let h = headers(&[("X-Signature", &sign(Algorithm::Sha512, "sha512", "k", body))]);
        assert_eq!(verify(ReceiverType::GenericHmac, "k", &[], &h, body), Ok(Verdict::Trigger));
        assert!(verify(ReceiverType::GenericHmac, "k", &[], &h, b"other").is_err());
        let h = headers(&[
            ("X-Hub-Signature", &sign(Algorithm::Sha256, "sha256", "k", body)),
            ("X-Event-Key", "repo:refs_changed"),
        ]);
        assert_eq!(verify(ReceiverType::Bitbucket, "k", &[], &h, body), Ok(Verdict::Trigger));
        let nexus_sig = hex(&hmac(Algorithm::Sha1, b"k", body));
        let h =
            headers(&[("X-Nexus-Webhook-Signature", &nexus_sig), ("X-Nexus-Webhook-ID", "rm:repository:component")]);
        assert_eq!(verify(ReceiverType::Nexus, "k", &[], &h, body), Ok(Verdict::Trigger));
        assert!(verify(ReceiverType::Nexus, "x", &[], &h, body).is_err());
    }

    #[test]
    fn payload_types() {
        let none = HeaderMap::new();
        let hub = br#"{"push_data":{"tag":"1.0"},"repository":{"repo_name":"org/app"}}"#;
        assert_eq!(verify(ReceiverType::DockerHub, "", &[], &none, hub), Ok(Verdict::Trigger));
        assert!(matches!(verify(ReceiverType::DockerHub, "", &[], &none, b"{}"), Err(Rejection::BadRequest(_))));
        let quay = br#"{"docker_url":"quay.io/org/app","updated_tags":["1.0"]}"#;
        assert_eq!(verify(ReceiverType::Quay, "", &[], &none, quay), Ok(Verdict::Trigger));
        assert!(verify(ReceiverType::Quay, "", &[], &none, b"not json").is_err());
        let ce = headers(&[("Ce-Type", "dev.cdevents.change.merged.0.1.2")]);
        let body = br#"{"context":{"id":"1"},"subject":{}}"#;
        assert_eq!(verify(ReceiverType::CdEvents, "", &[], &ce, body), Ok(Verdict::Trigger));
        assert!(matches!(verify(ReceiverType::CdEvents, "", &["other".into()], &ce, body), Ok(Verdict::Ignore(_))));
        assert!(matches!(verify(ReceiverType::Gcr, "", &[], &none, b"{}"), Err(Rejection::Unsupported(_))));
    }
}
