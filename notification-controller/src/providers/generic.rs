//! `generic` and `generic-hmac`: the event itself as JSON, with the Secret's `headers`, and for
//! `generic-hmac` an `X-Signature: sha256=<hex HMAC of the body under the token>` header.

use super::{Endpoint, Notification, OutgoingRequest, ProviderError, http_url, message};
use crate::signature::{Algorithm, hex, hmac};

pub fn request(endpoint: &Endpoint, n: &Notification, signed: bool) -> Result<OutgoingRequest, ProviderError> {
    let url = http_url(endpoint)?;
    let mut event = n.event.clone();
    event.message = message(n);
    if n.resolved {
        event.metadata.insert("resolved".into(), "true".into());
    }
    let body = serde_json::to_value(&event).map_err(|e| ProviderError::Payload(e.to_string()))?;
    let mut request = OutgoingRequest::json(url.as_str(), &body)?;
    for (name, value) in &endpoint.headers {
        request = request.header(name, value.clone());
    }
    if signed {
        let token = endpoint.token.as_deref().filter(|t| !t.is_empty()).ok_or(ProviderError::NoToken)?;
        let signature = hex(&hmac(Algorithm::Sha256, token.as_bytes(), &request.body));
        request = request.header("X-Signature", format!("sha256={signature}"));
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
    fn posts_the_event_with_headers() {
        let mut e = endpoint(ProviderType::Generic, "https://hooks.example.com/flux");
        e.headers.insert("X-Team".into(), "platform".into());
        let r = request(&e, &notification("error"), false).unwrap();
        assert_eq!(r.url, "https://hooks.example.com/flux");
        assert_eq!(r.header_value("x-team"), Some("platform"));
        assert!(r.header_value("X-Signature").is_none());
        let body = body(&r);
        assert_eq!(body["involvedObject"]["kind"], "Kustomization");
        assert_eq!(body["severity"], "error");
        assert_eq!(body["metadata"]["revision"], "main@sha1:0123456789abcdef0123456789abcdef01234567");
    }

    #[test]
    fn hmac_signs_the_exact_body() {
        let mut e = endpoint(ProviderType::GenericHmac, "https://hooks.example.com/flux");
        assert_eq!(request(&e, &notification("info"), true), Err(ProviderError::NoToken));
        e.token = Some("s3cret".into());
        let r = request(&e, &notification("info"), true).unwrap();
        let expected = format!("sha256={}", hex(&hmac(Algorithm::Sha256, b"s3cret", &r.body)));
        assert_eq!(r.header_value("X-Signature"), Some(expected.as_str()));
    }
}
