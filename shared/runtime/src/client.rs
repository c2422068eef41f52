//! The Kubernetes client: from `--kubeconfig` when given, else kube's inference ($KUBECONFIG,
//! ~/.kube/config, then the in-cluster service account).

use std::path::{Path, PathBuf};

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

/// Why no client could be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("reading the --kubeconfig file: {source}")]
    ReadKubeconfig { path: PathBuf, source: kube::config::KubeconfigError },
    #[error("loading the --kubeconfig file {path}: {source}")]
    LoadKubeconfig { path: PathBuf, source: kube::config::KubeconfigError },
    #[error(
        "finding the Kubernetes API server: {0} \
         (pass --kubeconfig, set KUBECONFIG, or run in a pod with a service account)"
    )]
    Infer(#[source] kube::config::InferConfigError),
    #[error("creating the Kubernetes client: {0}")]
    Build(#[source] kube::Error),
}

/// Makes rustls use ring. Needed once per process when more than one crypto provider is
/// compiled in (see DEPENDENCIES.md, "TLS pitfall"); a provider installed earlier is kept.
pub fn install_crypto_provider() {
    let _already_installed = rustls::crypto::ring::default_provider().install_default();
}

/// Builds the client from the flag's kubeconfig path, or by inference when there is none.
pub async fn build(kubeconfig: Option<&Path>) -> Result<Client, ClientError> {
    install_crypto_provider();
    let config = match kubeconfig {
        Some(path) => {
            let file = Kubeconfig::read_from(path)
                .map_err(|source| ClientError::ReadKubeconfig { path: path.to_path_buf(), source })?;
            Config::from_custom_kubeconfig(file, &KubeConfigOptions::default())
                .await
                .map_err(|source| ClientError::LoadKubeconfig { path: path.to_path_buf(), source })?
        }
        None => Config::infer().await.map_err(ClientError::Infer)?,
    };
    Client::try_from(config).map_err(ClientError::Build)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_missing_kubeconfig_names_the_file() {
        let Err(err) = build(Some(Path::new("/nonexistent/kubeconfig"))).await else {
            panic!("a missing kubeconfig must be an error");
        };
        let text = err.to_string();
        assert!(text.contains("/nonexistent/kubeconfig"), "{text}");
    }
}
