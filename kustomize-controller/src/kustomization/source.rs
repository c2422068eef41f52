//! The source step: the Kustomization's `sourceRef` and the artifact it currently serves.

use kube::Api;
use weir_api::kustomize::{Kustomization, SourceKind};
use weir_api::meta::Artifact;
use weir_api::source::{Bucket, ExternalArtifact, GitRepository, OCIRepository};

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

/// The artifact of the Kustomization's source; another namespace's only when `cross_namespace`.
pub async fn artifact_of(
    client: &kube::Client,
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
        SourceKind::GitRepository => {
            let api: Api<GitRepository> = Api::namespaced(client.clone(), &namespace);
            api.get_opt(&name).await?.map(|s| s.status.and_then(|s| s.artifact))
        }
        SourceKind::OCIRepository => {
            let api: Api<OCIRepository> = Api::namespaced(client.clone(), &namespace);
            api.get_opt(&name).await?.map(|s| s.status.and_then(|s| s.artifact))
        }
        SourceKind::ExternalArtifact => {
            let api: Api<ExternalArtifact> = Api::namespaced(client.clone(), &namespace);
            api.get_opt(&name).await?.map(|s| s.status.and_then(|s| s.artifact))
        }
        SourceKind::Bucket => {
            let api: Api<Bucket> = Api::namespaced(client.clone(), &namespace);
            api.get_opt(&name).await?.map(|s| s.status.and_then(|s| s.artifact))
        }
    };
    match artifact {
        None => Err(SourceError::NotFound { kind, namespace, name }),
        Some(None) => Err(SourceError::NoArtifact { kind, namespace, name }),
        Some(Some(artifact)) => Ok(artifact),
    }
}
