//! `googlechat`: a card message for a Google Chat space's incoming webhook.

use serde_json::{Value, json};

use super::{Endpoint, Notification, OutgoingRequest, ProviderError, http_url, is_error, message, object_title};

pub fn request(endpoint: &Endpoint, n: &Notification) -> Result<OutgoingRequest, ProviderError> {
    let mut sections = vec![json!({"widgets": [{"textParagraph": {"text": message(n)}}]})];
    let facts: Vec<Value> =
        n.event.metadata.iter().map(|(k, v)| json!({"keyValue": {"topLabel": k, "content": v}})).collect();
    if !facts.is_empty() {
        sections.push(json!({"widgets": facts}));
    }
    let payload = json!({
        "cards": [{
            "header": {
                "title": object_title(&n.event),
                "subtitle": if is_error(n) { "error" } else { "info" },
            },
            "sections": sections,
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
    fn card_with_header_and_facts() {
        let e = endpoint(ProviderType::GoogleChat, "https://chat.googleapis.com/v1/spaces/X/messages?key=k");
        let r = request(&e, &notification("info")).unwrap();
        assert_eq!(r.url, "https://chat.googleapis.com/v1/spaces/X/messages?key=k");
        let b = body(&r);
        assert_eq!(b["cards"][0]["header"]["title"], "kustomization/apps.flux-system");
        assert_eq!(
            b["cards"][0]["sections"][0]["widgets"][0]["textParagraph"]["text"],
            "Deployment/apps/web configured"
        );
        assert_eq!(b["cards"][0]["sections"][1]["widgets"][0]["keyValue"]["topLabel"], "revision");
    }
}
