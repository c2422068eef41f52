//! `msteams`: an Adaptive Card in a `message`, what Teams workflows (Power Automate) webhooks take.

use serde_json::{Value, json};

use super::{Endpoint, Notification, OutgoingRequest, ProviderError, http_url, is_error, message, object_title};

pub fn request(endpoint: &Endpoint, n: &Notification) -> Result<OutgoingRequest, ProviderError> {
    let facts: Vec<Value> = n.event.metadata.iter().map(|(k, v)| json!({"title": k, "value": v})).collect();
    let mut body = vec![
        json!({
            "type": "TextBlock",
            "text": object_title(&n.event),
            "weight": "bolder",
            "size": "medium",
            "color": if is_error(n) { "attention" } else { "good" },
            "wrap": true,
        }),
        json!({"type": "TextBlock", "text": message(n), "wrap": true}),
    ];
    if !facts.is_empty() {
        body.push(json!({"type": "FactSet", "facts": facts}));
    }
    let payload = json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": body,
            },
        }],
    });
    OutgoingRequest::json(http_url(endpoint)?.as_str(), &payload)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use weir_api::notification::ProviderType;

    #[test]
    fn adaptive_card() {
        let e = endpoint(ProviderType::MsTeams, "https://prod.westeurope.logic.azure.com/workflows/1");
        let b = body(&request(&e, &notification("error")).unwrap());
        assert_eq!(b["type"], "message");
        let card = &b["attachments"][0];
        assert_eq!(card["contentType"], "application/vnd.microsoft.card.adaptive");
        assert_eq!(card["content"]["type"], "AdaptiveCard");
        assert_eq!(card["content"]["body"][0]["color"], "attention");
        assert_eq!(card["content"]["body"][1]["text"], "Deployment/apps/web configured");
        assert_eq!(card["content"]["body"][2]["facts"][0]["title"], "revision");
    }
}
