//! `githubdispatch`: a `repository_dispatch` event on the repository in `spec.address`, so GitHub
//! Actions can react; `event_type` is `<Kind>/<name>.<namespace>`, the payload the event.

use serde_json::json;

use super::commit_status::Repository;
use super::{Endpoint, Notification, OutgoingRequest, ProviderError, message};

pub fn request(endpoint: &Endpoint, n: &Notification) -> Result<OutgoingRequest, ProviderError> {
    let repository = Repository::parse(&endpoint.address)?;
    let (owner, repo) = repository.owner_repo()?;
    let token = endpoint.token.as_deref().filter(|t| !t.is_empty()).ok_or(ProviderError::NoToken)?;
    let o = &n.event.involved_object;
    let event_type = format!(
        "{}/{}.{}",
        o.kind.as_deref().unwrap_or_default(),
        o.name.as_deref().unwrap_or_default(),
        o.namespace.as_deref().unwrap_or_default()
    );
    let mut event = n.event.clone();
    event.message = message(n);
    let payload = serde_json::to_value(&event).map_err(|e| ProviderError::Payload(e.to_string()))?;
    let url = format!("{}/repos/{owner}/{repo}/dispatches", repository.github_api());
    Ok(OutgoingRequest::json(url, &json!({"event_type": event_type, "client_payload": payload}))?
        .header("Authorization", format!("Bearer {token}"))
        .header("Accept", "application/vnd.github+json"))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use weir_api::notification::ProviderType;

    #[test]
    fn repository_dispatch() {
        let mut e = endpoint(ProviderType::GitHubDispatch, "https://github.com/org/repo");
        e.token = Some("ghp_1".into());
        let r = request(&e, &notification("info")).unwrap();
        assert_eq!(r.url, "https://api.github.com/repos/org/repo/dispatches");
        assert_eq!(r.header_value("Authorization"), Some("Bearer ghp_1"));
        let b = body(&r);
        assert_eq!(b["event_type"], "Kustomization/apps.flux-system");
        assert_eq!(b["client_payload"]["involvedObject"]["name"], "apps");
    }
}
