//! Flux objects by kind: their default API versions, and a short-lived cache of their labels and
//! annotations, which Alerts (`matchLabels`, `event.toolkit.fluxcd.io/` annotations) need for
//! every event but which rarely change.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use kube::api::{Api, ApiResource, DynamicObject};
use kube::core::GroupVersionKind;
use weir_api::notification::FluxKind;

/// How long looked-up metadata is reused.
const TTL: Duration = Duration::from_secs(30);

/// The API version used for a kind when a reference does not name one.
pub fn default_api_version(kind: FluxKind) -> &'static str {
    match kind {
        FluxKind::GitRepository
        | FluxKind::OciRepository
        | FluxKind::HelmRepository
        | FluxKind::HelmChart
        | FluxKind::Bucket
        | FluxKind::ExternalArtifact => "source.toolkit.fluxcd.io/v1",
        FluxKind::Kustomization => "kustomize.toolkit.fluxcd.io/v1",
        FluxKind::HelmRelease => "helm.toolkit.fluxcd.io/v2",
        FluxKind::ImageRepository | FluxKind::ImagePolicy | FluxKind::ImageUpdateAutomation => {
            "image.toolkit.fluxcd.io/v1"
        }
        FluxKind::ArtifactGenerator => "source.extensions.fluxcd.io/v1beta1",
    }
}

/// The API resource of `kind` at `api_version` (`group/version`).
pub fn api_resource(api_version: &str, kind: &str) -> ApiResource {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, kind))
}

/// Labels and annotations of one object.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ObjectMetadata {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

type Key = (String, String, String, String);

/// Metadata looked up from the API server, kept for a few seconds.
pub struct MetadataCache {
    client: kube::Client,
    entries: Mutex<HashMap<Key, (Instant, Option<ObjectMetadata>)>>,
}

impl MetadataCache {
    pub fn new(client: kube::Client) -> MetadataCache {
        MetadataCache { client, entries: Mutex::new(HashMap::new()) }
    }

    /// The object's metadata, `None` when it does not exist (or cannot be read: logged).
    pub async fn get(&self, api_version: &str, kind: &str, namespace: &str, name: &str) -> Option<ObjectMetadata> {
        let key = (api_version.to_string(), kind.to_string(), namespace.to_string(), name.to_string());
        {
            let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((at, value)) = entries.get(&key)
                && at.elapsed() < TTL
            {
                return value.clone();
            }
        }
        let resource = api_resource(api_version, kind);
        let api: Api<DynamicObject> = Api::namespaced_with(self.client.clone(), namespace, &resource);
        let value = match api.get_metadata_opt(name).await {
            Ok(found) => found.map(|o| ObjectMetadata {
                labels: o.metadata.labels.unwrap_or_default(),
                annotations: o.metadata.annotations.unwrap_or_default(),
            }),
            Err(error) => {
                tracing::warn!(%error, %kind, %namespace, %name, "reading the involved object's labels");
                None
            }
        };
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|_, (at, _)| at.elapsed() < TTL);
        entries.insert(key, (Instant::now(), value.clone()));
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_of_flux_kinds() {
        let r = api_resource(default_api_version(FluxKind::GitRepository), "GitRepository");
        assert_eq!(
            (r.group.as_str(), r.version.as_str(), r.plural.as_str()),
            ("source.toolkit.fluxcd.io", "v1", "gitrepositories")
        );
        let r = api_resource(default_api_version(FluxKind::ImagePolicy), "ImagePolicy");
        assert_eq!(r.plural, "imagepolicies");
        assert_eq!(api_resource("helm.toolkit.fluxcd.io/v2", "HelmRelease").plural, "helmreleases");
    }
}
