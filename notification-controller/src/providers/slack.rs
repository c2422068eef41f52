//! `slack`, `rocket` and `discord`: Slack's attachment payload. Slack takes it on an incoming
//! webhook, or on `chat.postMessage` with the token as a bearer; Rocket.Chat's incoming webhooks
//! take the same payload; Discord takes it on the webhook's `/slack` endpoint.

use serde_json::{Value, json};

use super::{Endpoint, Notification, OutgoingRequest, ProviderError, http_url, is_error, message, object_title};

/// Slack's API endpoint for token-authenticated posts.
pub const CHAT_POST_MESSAGE: &str = "https://slack.com/api/chat.postMessage";

/// The Slack-compatible payload: one attachment coloured by severity, the metadata as fields.
pub fn payload(endpoint: &Endpoint, n: &Notification) -> Value {
    let fields: Vec<Value> =
        n.event.metadata.iter().map(|(k, v)| json!({"title": k, "value": v, "short": false})).collect();
    let mut payload = json!({
        "attachments": [{
            "color": if is_error(n) { "danger" } else { "good" },
            "author_name": object_title(&n.event),
            "text": message(n),
            "mrkdwn_in": ["text"],
            "fields": fields,
        }],
    });
    if let Some(channel) = endpoint.channel.as_deref().filter(|c| !c.is_empty()) {
        payload["channel"] = json!(channel);
    }
    if let Some(username) = endpoint.username.as_deref().filter(|u| !u.is_empty()) {
        payload["username"] = json!(username);
    }
    payload
}

pub fn slack(endpoint: &Endpoint, n: &Notification) -> Result<OutgoingRequest, ProviderError> {
    let token = endpoint.token.as_deref().filter(|t| !t.is_empty());
    let url = match (endpoint.address.is_empty(), token) {
        (true, Some(_)) => CHAT_POST_MESSAGE.to_string(),
        _ => http_url(endpoint)?.to_string(),
    };
    if token.is_some() && endpoint.channel.as_deref().is_none_or(str::is_empty) {
        // chat.postMessage needs to know where to post; incoming webhooks are bound to a channel.
        return Err(ProviderError::NoChannel);
    }
    let request = OutgoingRequest::json(url, &payload(endpoint, n))?;
    Ok(match token {
        Some(token) => request.header("Authorization", format!("Bearer {token}")),
        None => request,
    })
}

pub fn rocket(endpoint: &Endpoint, n: &Notification) -> Result<OutgoingRequest, ProviderError> {
    OutgoingRequest::json(http_url(endpoint)?.as_str(), &payload(endpoint, n))
}

pub fn discord(endpoint: &Endpoint, n: &Notification) -> Result<OutgoingRequest, ProviderError> {
    let mut url = http_url(endpoint)?;
    if !url.path().trim_end_matches('/').ends_with("/slack") {
        let path = format!("{}/slack", url.path().trim_end_matches('/'));
        url.set_path(&path);
    }
    OutgoingRequest::json(url.as_str(), &payload(endpoint, n))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use weir_api::notification::ProviderType;

    #[test]
    fn slack_webhook_payload() {
        let mut e = endpoint(ProviderType::Slack, "https://hooks.slack.com/services/T/B/X");
        e.channel = Some("#alerts".into());
        e.username = Some("flux".into());
        let r = slack(&e, &notification("error")).unwrap();
        assert_eq!(r.url, "https://hooks.slack.com/services/T/B/X");
        assert!(r.header_value("Authorization").is_none());
        let b = body(&r);
        assert_eq!(b["channel"], "#alerts");
        assert_eq!(b["username"], "flux");
        assert_eq!(b["attachments"][0]["color"], "danger");
        assert_eq!(b["attachments"][0]["author_name"], "kustomization/apps.flux-system");
        assert_eq!(b["attachments"][0]["text"], "Deployment/apps/web configured");
        assert_eq!(b["attachments"][0]["fields"][0]["title"], "revision");
    }

    #[test]
    fn slack_token_uses_chat_post_message() {
        let mut e = endpoint(ProviderType::Slack, "");
        e.token = Some("xoxb-1".into());
        assert_eq!(slack(&e, &notification("info")), Err(ProviderError::NoChannel));
        e.channel = Some("C123".into());
        let r = slack(&e, &notification("info")).unwrap();
        assert_eq!(r.url, CHAT_POST_MESSAGE);
        assert_eq!(r.header_value("Authorization"), Some("Bearer xoxb-1"));
        assert_eq!(body(&r)["attachments"][0]["color"], "good");
    }

    #[test]
    fn discord_appends_slack_once() {
        let e = endpoint(ProviderType::Discord, "https://discord.com/api/webhooks/1/abc");
        assert_eq!(discord(&e, &notification("info")).unwrap().url, "https://discord.com/api/webhooks/1/abc/slack");
        let e = endpoint(ProviderType::Discord, "https://discord.com/api/webhooks/1/abc/slack");
        assert_eq!(discord(&e, &notification("info")).unwrap().url, "https://discord.com/api/webhooks/1/abc/slack");
        let r = rocket(&endpoint(ProviderType::Rocket, "https://rocket.example.com/hooks/x"), &notification("info"));
        assert!(body(&r.unwrap())["attachments"].is_array());
    }
}
