//! The source step: the Kustomization's `sourceRef` and the artifact it currently serves.

use kube::Api;
use kube::runtime::reflector::{ObjectRef, Store};
use weir_api::kustomize::{Kustomization, SourceKind};
use weir_api::meta::Artifact;
use weir_api::source::{Bucket, ExternalArtifact, GitRepository, OCIRepository};

use super::ArtifactSource;

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("Source '{kind}/{namespace}/{name}' not found")]
    NotFound { kind: &'static str, namespace: String, name: String },
    #[error("Source '{kind}/{namespace}/{name}' is not ready, artifact not found")]
    NoArtifact { kind: &'static str, namespace: String, name: String },
    #[error("cross-namespace references are not allowed: can't access '{kind}/{namespace}/{name}'")]
    CrossNamespace { kind: &'static str, namespace: String, name: String },
    #[error("getting the source: {0}")]
    Kube(#[from] kube::Error),
}

/// The watch caches of the source kinds, filled by the watches that wake Kustomizations on new
/// artifacts. Reading an artifact here instead of from the API server saves a request per
/// reconcile, as Flux's cached client does.
#[derive(Clone)]
pub struct SourceStores {
    pub git: Store<GitRepository>,
    pub oci: Store<OCIRepository>,
    pub bucket: Store<Bucket>,
    pub external: Store<ExternalArtifact>,
}

/// The artifact of the Kustomization's source; another namespace's only when `cross_namespace`.
/// The watch cache answers when it has the artifact; otherwise (not watched, not seen yet, no
/// artifact yet) the API server does, so a missing source is never reported from a stale cache.
pub async fn artifact_of(
    client: &kube::Client,
    stores: &SourceStores,
    obj: &Kustomization,
    own_namespace: &str,
    cross_namespace: bool,
) -> Result<Artifact, SourceError> {
    let reference = &obj.spec.source_ref;
    let namespace = reference.namespace_or(own_namespace).to_string();
    let name = reference.name.clone();
    let kind = reference.kind.as_str();
    if !cross_namespace && namespace != own_namespace {
        return Err(SourceError::CrossNamespace { kind, namespace, name });
    }
    let artifact = match reference.kind {
        SourceKind::GitRepository => lookup(client, &stores.git, &namespace, &name).await?,
        SourceKind::OCIRepository => lookup(client, &stores.oci, &namespace, &name).await?,
        SourceKind::ExternalArtifact => lookup(client, &stores.external, &namespace, &name).await?,
        SourceKind::Bucket => lookup(client, &stores.bucket, &namespace, &name).await?,
    };
    match artifact {
        None => Err(SourceError::NotFound { kind, namespace, name }),
        Some(None) => Err(SourceError::NoArtifact { kind, namespace, name }),
        Some(Some(artifact)) => Ok(artifact),
    }
}

/// `Some(artifact)` of the named source, from the cache or else the API server; `None` when the
/// source does not exist.
async fn lookup<S: ArtifactSource>(
    client: &kube::Client,
    store: &Store<S>,
    namespace: &str,
    name: &str,
) -> Result<Option<Option<Artifact>>, kube::Error> {
    if let Some(cached) = store.get(&ObjectRef::new(name).within(namespace))
        && let Some(artifact) = cached.artifact()
    {
        return Ok(Some(Some(artifact.clone())));
    }
    let api: Api<S> = Api::namespaced(client.clone(), namespace);
    Ok(api.get_opt(name).await?.map(|s| s.artifact().cloned()))
}
