//! `matrix`: an `m.room.message` PUT into the room in `spec.channel`, with the access token as a
//! bearer and a transaction id derived from the content, so a retried send is not posted twice.

use serde_json::json;

use super::{Endpoint, Method, Notification, OutgoingRequest, ProviderError, encode_segment, http_url, is_error};
use super::{message, object_title};

pub fn request(endpoint: &Endpoint, n: &Notification) -> Result<OutgoingRequest, ProviderError> {
    let base = http_url(endpoint)?;
    let token = endpoint.token.as_deref().filter(|t| !t.is_empty()).ok_or(ProviderError::NoToken)?;
    let room = endpoint.channel.as_deref().filter(|c| !c.is_empty()).ok_or(ProviderError::NoChannel)?;
    let mut text = format!("{} {}\n{}", if is_error(n) { "🔴" } else { "🔵" }, object_title(&n.event), message(n));
    if !n.event.metadata.is_empty() {
        text.push_str("\nMetadata:");
        for (k, v) in &n.event.metadata {
            text.push_str(&format!("\n{k}: {v}"));
        }
    }
    let payload = json!({"msgtype": "m.text", "body": text});
    let txn = crate::signature::sha256_hex(format!("{}{}", n.event.timestamp, text).as_bytes());
    let url = format!(
        "{}/_matrix/client/r0/rooms/{}/send/m.room.message/{}",
        base.as_str().trim_end_matches('/'),
        encode_segment(room),
        txn
    );
    let mut request = OutgoingRequest::json(url, &payload)?.header("Authorization", format!("Bearer {token}"));
    request.method = Method::Put;
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use weir_api::notification::ProviderType;

    #[test]
    fn puts_a_text_message_into_the_room() {
        let mut e = endpoint(ProviderType::Matrix, "https://matrix.example.org/");
        e.channel = Some("!abc:example.org".into());
        assert_eq!(request(&e, &notification("info")), Err(ProviderError::NoToken));
        e.token = Some("syt_1".into());
        let r = request(&e, &notification("error")).unwrap();
        assert_eq!(r.method, Method::Put);
        assert!(r.url.starts_with(
            "https://matrix.example.org/_matrix/client/r0/rooms/%21abc%3Aexample.org/send/m.room.message/"
        ));
        assert_eq!(r.header_value("Authorization"), Some("Bearer syt_1"));
        let b = body(&r);
        assert_eq!(b["msgtype"], "m.text");
        assert!(b["body"].as_str().unwrap().contains("kustomization/apps.flux-system"));
        assert!(b["body"].as_str().unwrap().contains("revision: main@sha1:"));
    }
}
