//! The objects a Receiver reconciles, and the annotation that asks their controllers to.

use kube::ResourceExt;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams};
use weir_api::annotations::RECONCILE_REQUESTED_AT;
use weir_api::notification::{Receiver, ReceiverResource};

use crate::objects::{api_resource, default_api_version};

/// One object to annotate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.kind, self.namespace, self.name)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("listing {kind} in {namespace}: {source}")]
    List { kind: String, namespace: String, source: kube::Error },
    #[error("annotating {target}: {source}")]
    Annotate { target: Target, source: kube::Error },
}

/// `a=1,b=2` for `matchLabels`.
pub fn label_selector(resource: &ReceiverResource) -> Option<String> {
    let labels = resource.match_labels.as_ref().filter(|l| !l.is_empty())?;
    Some(labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","))
}

/// The objects the Receiver's `resources` name: by name, or `*` with `matchLabels`.
pub async fn resolve(client: &kube::Client, receiver: &Receiver) -> Result<Vec<Target>, TargetError> {
    let receiver_namespace = receiver.namespace().unwrap_or_default();
    let mut targets = Vec::new();
    for resource in &receiver.spec.resources {
        let kind = resource.kind.as_str().to_string();
        let api_version =
            resource.api_version.clone().unwrap_or_else(|| default_api_version(resource.kind).to_string());
        let namespace = resource.namespace.clone().unwrap_or_else(|| receiver_namespace.clone());
        if resource.name != "*" {
            targets.push(Target { api_version, kind, namespace, name: resource.name.clone() });
            continue;
        }
        let api: Api<DynamicObject> =
            Api::namespaced_with(client.clone(), &namespace, &api_resource(&api_version, &kind));
        let mut params = ListParams::default();
        if let Some(selector) = label_selector(resource) {
            params = params.labels(&selector);
        }
        let list = api.list_metadata(&params).await.map_err(|source| TargetError::List {
            kind: kind.clone(),
            namespace: namespace.clone(),
            source,
        })?;
        for item in list.items {
            targets.push(Target {
                api_version: api_version.clone(),
                kind: kind.clone(),
                namespace: namespace.clone(),
                name: item.name_any(),
            });
        }
    }
    Ok(targets)
}

/// Sets `reconcile.fluxcd.io/requestedAt` to `value` (a merge patch: nothing else changes).
pub async fn request_reconcile(client: &kube::Client, target: &Target, value: &str) -> Result<(), TargetError> {
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), &target.namespace, &api_resource(&target.api_version, &target.kind));
    let patch = serde_json::json!({"metadata": {"annotations": {RECONCILE_REQUESTED_AT: value}}});
    api.patch(&target.name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map(|_| ())
        .map_err(|source| TargetError::Annotate { target: target.clone(), source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_api::notification::FluxKind;

    #[test]
    fn selectors() {
        let mut r = ReceiverResource {
            api_version: None,
            filter: None,
            kind: FluxKind::GitRepository,
            match_labels: None,
            name: "*".into(),
            namespace: None,
        };
        assert_eq!(label_selector(&r), None);
        r.match_labels = Some([("app".to_string(), "web".to_string()), ("team".to_string(), "a".to_string())].into());
        assert_eq!(label_selector(&r).as_deref(), Some("app=web,team=a"));
    }
}
