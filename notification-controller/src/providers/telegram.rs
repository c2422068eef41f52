//! `telegram`: the Bot API's `sendMessage` to the chat in `spec.channel`, the bot token from the
//! Secret. `spec.address` overrides the API server (e.g. a local Bot API server).

use serde_json::json;

use super::{Endpoint, Notification, OutgoingRequest, ProviderError, http_url, message, object_title};

pub const API: &str = "https://api.telegram.org";

pub fn request(endpoint: &Endpoint, n: &Notification) -> Result<OutgoingRequest, ProviderError> {
    let token = endpoint.token.as_deref().filter(|t| !t.is_empty()).ok_or(ProviderError::NoToken)?;
    let chat = endpoint.channel.as_deref().filter(|c| !c.is_empty()).ok_or(ProviderError::NoChannel)?;
    let base = if endpoint.address.is_empty() { API.to_string() } else { http_url(endpoint)?.to_string() };
    let mut text = format!("{}\n{}", object_title(&n.event), message(n));
    for (k, v) in &n.event.metadata {
        text.push_str(&format!("\n{k}: {v}"));
    }
    let url = format!("{}/bot{token}/sendMessage", base.trim_end_matches('/'));
    OutgoingRequest::json(url, &json!({"chat_id": chat, "text": text}))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use weir_api::notification::ProviderType;

    #[test]
    fn send_message() {
        let mut e = endpoint(ProviderType::Telegram, "");
        e.token = Some("123:ABC".into());
        assert_eq!(request(&e, &notification("info")), Err(ProviderError::NoChannel));
        e.channel = Some("-100200".into());
        let r = request(&e, &notification("info")).unwrap();
        assert_eq!(r.url, "https://api.telegram.org/bot123:ABC/sendMessage");
        let b = body(&r);
        assert_eq!(b["chat_id"], "-100200");
        assert!(b["text"].as_str().unwrap().starts_with("kustomization/apps.flux-system\nDeployment"));
    }
}
