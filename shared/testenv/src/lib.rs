//! Test support for Weir: a real Kubernetes control plane for every test binary.
//!
//! The first test that calls [`TestEnv::shared`] starts etcd, kube-apiserver and
//! kube-controller-manager on free loopback ports (building them once per machine, see
//! `hack/controlplane.sh`), and installs Weir's CRDs. The control plane stops by itself when the
//! test process exits. Each test takes its own namespace from [`TestEnv::namespace`].
//!
//! To run against a cluster you already have (kind, k3d, a cloud cluster), set
//! `WEIR_USE_EXISTING_CLUSTER=1` and point `KUBECONFIG` at it. `WEIR_TEST_KUBECONFIG` names a
//! kubeconfig to use directly (for one control plane shared by several test binaries).

pub mod controllers;
mod controlplane;
mod crds;
pub mod git;
mod poll;
mod ports;
mod scrape;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::Context;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ObjectMeta, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use tokio::sync::OnceCell;

pub use controlplane::{binary_path, workspace_root};
pub use poll::eventually;
pub use ports::free_addr;
pub use scrape::scrape_metrics;

/// Label on every namespace a test creates, so leftovers on a long-lived cluster can be found.
pub const TEST_NAMESPACE_LABEL: &str = "weir.test/namespace";

/// A running API server with Weir's CRDs installed.
pub struct TestEnv {
    kubeconfig_path: PathBuf,
    config: kube::Config,
    server_version: (u32, u32),
    /// Keeps the control plane of this process alive; `None` when an existing cluster is used.
    _control_plane: Option<controlplane::ControlPlane>,
}

static SHARED: OnceCell<TestEnv> = OnceCell::const_new();
static NAMESPACE_COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestEnv {
    /// The test binary's control plane, started on first use. Panics with the reason when it
    /// cannot be had: a test without its API server must fail, never pass by skipping.
    pub async fn shared() -> &'static TestEnv {
        match SHARED.get_or_try_init(TestEnv::start).await {
            Ok(env) => env,
            Err(e) => panic!("the test control plane is not available: {e:#}"),
        }
    }

    /// A control plane of its own, stopped when the value is dropped: for a benchmark whose
    /// figures must not depend on what ran before it. With `WEIR_TEST_KUBECONFIG` or
    /// `WEIR_USE_EXISTING_CLUSTER`, that cluster is used again instead.
    pub async fn fresh() -> anyhow::Result<TestEnv> {
        TestEnv::start().await
    }

    async fn start() -> anyhow::Result<TestEnv> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let (kubeconfig_path, control_plane) = if let Ok(path) = std::env::var("WEIR_TEST_KUBECONFIG") {
            eprintln!("[weir-testenv] using the cluster in WEIR_TEST_KUBECONFIG={path}");
            (PathBuf::from(path), None)
        } else if std::env::var("WEIR_USE_EXISTING_CLUSTER").is_ok_and(|v| v == "1" || v == "true") {
            let path = std::env::var("KUBECONFIG")
                .context("WEIR_USE_EXISTING_CLUSTER is set but KUBECONFIG is not: point it at your cluster")?;
            eprintln!("[weir-testenv] using the existing cluster in KUBECONFIG={path}");
            (PathBuf::from(path), None)
        } else {
            let cp = tokio::task::spawn_blocking(controlplane::ControlPlane::start).await??;
            (cp.kubeconfig_path().to_path_buf(), Some(cp))
        };
        let config = load_config(&kubeconfig_path).await?;
        let client = kube::Client::try_from(config.clone())?;
        let info = client.apiserver_version().await.context("asking the API server for its version")?;
        let server_version = parse_version(&info.major, &info.minor)
            .with_context(|| format!("unexpected server version {}.{}", info.major, info.minor))?;
        crds::install(&client, server_version).await.context("installing Weir's CRDs")?;
        Ok(TestEnv { kubeconfig_path, config, server_version, _control_plane: control_plane })
    }

    /// A client with cluster-admin rights. Each call makes a new client: clients are bound to the
    /// tokio runtime they were made on, and every `#[tokio::test]` has its own runtime.
    pub fn client(&self) -> kube::Client {
        match kube::Client::try_from(self.config.clone()) {
            Ok(c) => c,
            Err(e) => panic!("building a client for the test cluster: {e}"),
        }
    }

    /// A kubeconfig file for child processes (controllers, the CLI).
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig_path
    }

    /// `(major, minor)` of the API server.
    pub fn server_version(&self) -> (u32, u32) {
        self.server_version
    }

    /// Creates a fresh namespace `<prefix>-<n>-<pid>` for one test.
    pub async fn namespace(&self, prefix: &str) -> String {
        let n = NAMESPACE_COUNTER.fetch_add(1, Ordering::SeqCst);
        let name = format!("{prefix}-{n}-{}", std::process::id());
        let ns = Namespace {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                labels: Some([(TEST_NAMESPACE_LABEL.to_string(), "true".to_string())].into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let api: Api<Namespace> = Api::all(self.client());
        if let Err(e) = api.create(&PostParams::default(), &ns).await {
            panic!("creating test namespace {name}: {e}");
        }
        name
    }
}

async fn load_config(path: &Path) -> anyhow::Result<kube::Config> {
    let kubeconfig = Kubeconfig::read_from(path).with_context(|| format!("reading {}", path.display()))?;
    kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .with_context(|| format!("loading {}", path.display()))
}

/// Parses the version an API server reports; minor versions may carry a `+` (GKE, EKS).
fn parse_version(major: &str, minor: &str) -> Option<(u32, u32)> {
    let digits = |s: &str| s.chars().take_while(char::is_ascii_digit).collect::<String>().parse().ok();
    Some((digits(major)?, digits(minor)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_server_versions() {
        assert_eq!(parse_version("1", "20"), Some((1, 20)));
        assert_eq!(parse_version("1", "27+"), Some((1, 27)));
        assert_eq!(parse_version("", "27"), None);
    }
}
