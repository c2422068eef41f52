//! The kubectl-style connection flags every command shares, and the client they give.

use std::path::PathBuf;

use anyhow::Context;
use kube::config::{KubeConfigOptions, Kubeconfig};

#[derive(clap::Args, Clone, Debug)]
pub struct ClusterArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster).
    #[arg(long, global = true, env = "KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, global = true)]
    pub context: Option<String>,
    /// The namespace the toolkit is installed in.
    #[arg(long = "namespace", short = 'n', global = true, default_value = "flux-system")]
    pub namespace: String,
    /// Act on every namespace instead of one.
    #[arg(long = "all-namespaces", short = 'A', global = true)]
    pub all_namespaces: bool,
    /// How long to wait for operations to finish, e.g. 5m or 90s.
    #[arg(long, global = true, default_value = "5m", value_parser = parse_timeout)]
    pub timeout: std::time::Duration,
}

fn parse_timeout(s: &str) -> Result<std::time::Duration, String> {
    weir_api::duration::parse_duration(s).map_err(|e| e.to_string())
}

impl ClusterArgs {
    /// The namespace to list in: `None` (all) with `-A`.
    pub fn list_scope(&self) -> Option<&str> {
        if self.all_namespaces { None } else { Some(&self.namespace) }
    }

    pub async fn client(&self) -> anyhow::Result<kube::Client> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let options = KubeConfigOptions { context: self.context.clone(), ..Default::default() };
        let config = match &self.kubeconfig {
            // KUBECONFIG may hold several paths separated by ':'; kube merges them.
            Some(path) if path.to_string_lossy().contains(':') => kube::Config::from_kubeconfig(&options).await?,
            Some(path) => {
                let kubeconfig =
                    Kubeconfig::read_from(path).with_context(|| format!("reading kubeconfig {}", path.display()))?;
                kube::Config::from_custom_kubeconfig(kubeconfig, &options).await?
            }
            None if self.context.is_some() => kube::Config::from_kubeconfig(&options).await?,
            None => kube::Config::infer().await.context("no kubeconfig found and not running in a cluster")?,
        };
        kube::Client::try_from(config).context("building the Kubernetes client")
    }
}
