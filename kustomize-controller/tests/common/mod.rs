//! What the kustomize-controller's end-to-end tests share: the source-controller and
//! kustomize-controller binaries started against the test API server, a Git source served over
//! smart HTTP, and polling helpers that fail with the controllers' logs.

#![allow(dead_code)] // each test file uses its own part

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::{Client, Resource};
use tokio::process::{Child, Command};
use weir_api::conditions::{self, ConditionStatus, types};
use weir_api::kustomize::Kustomization;
use weir_api::source::GitRepository;
use weir_testenv::TestEnv;
use weir_testenv::free_addr;

// Git servers on loopback, for the tests' sources.
pub use weir_testenv::git as support;

pub const WAIT: Duration = Duration::from_secs(120);

pub struct Controllers {
    _children: Vec<Child>,
    logs: Vec<PathBuf>,
    _storage: tempfile::TempDir,
    kustomize_metrics: SocketAddr,
}

impl Controllers {
    pub fn start(env: &TestEnv, namespace: &str) -> Controllers {
        Controllers::start_with(env, namespace, &[])
    }

    /// Both controllers, watching only `namespace`; `kustomize_args` go to the kustomize-controller.
    pub fn start_with(env: &TestEnv, namespace: &str, kustomize_args: &[&str]) -> Controllers {
        let storage = tempfile::tempdir().unwrap();
        let storage_addr = free_addr();
        let common = |name: &str, metrics: SocketAddr| {
            let log = std::env::temp_dir().join(format!("weir-{name}-{namespace}.log"));
            let mut command = Command::new(if name == "source-controller" {
                weir_testenv::binary_path("source-controller")
            } else {
                PathBuf::from(env!("CARGO_BIN_EXE_kustomize-controller"))
            });
            command
                .arg(format!("--kubeconfig={}", env.kubeconfig_path().display()))
                .arg(format!("--health-addr={}", free_addr()))
                .arg(format!("--metrics-addr={metrics}"))
                .arg("--watch-all-namespaces=false")
                .arg("--log-level=debug")
                .env("RUNTIME_NAMESPACE", namespace)
                .env_remove("KUBECONFIG")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).unwrap())
                .kill_on_drop(true);
            (command, log)
        };
        let (mut source, source_log) = common("source-controller", free_addr());
        source
            .arg(format!("--storage-path={}", storage.path().display()))
            .arg(format!("--storage-addr={storage_addr}"))
            .arg(format!("--storage-adv-addr={storage_addr}"));
        let kustomize_metrics = free_addr();
        let (mut kustomize, kustomize_log) = common("kustomize-controller", kustomize_metrics);
        kustomize.args(kustomize_args);
        // Its artifact cache goes away with the test.
        kustomize.env("TMPDIR", storage.path());
        let children = vec![source.spawn().unwrap(), kustomize.spawn().unwrap()];
        Controllers { _children: children, logs: vec![source_log, kustomize_log], _storage: storage, kustomize_metrics }
    }

    /// The kustomize-controller's `/metrics` text.
    pub async fn kustomize_metrics(&self) -> Option<String> {
        weir_testenv::scrape_metrics(self.kustomize_metrics).await
    }

    pub fn logs(&self) -> String {
        self.logs
            .iter()
            .map(|p| format!("== {}\n{}", p.display(), std::fs::read_to_string(p).unwrap_or_default()))
            .collect()
    }
}

/// Polls until `check` gives a value, failing with the controllers' logs after `WAIT`.
pub async fn eventually<T, F, Fut>(controllers: &Controllers, what: &str, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    weir_testenv::eventually(what, WAIT, || format!("the controllers' logs:\n{}", controllers.logs()), check).await
}

/// Ready's status, reason and message, once the current generation is observed.
pub fn ready(ks: &Kustomization) -> Option<(ConditionStatus, String, String)> {
    let status = ks.status.as_ref()?;
    if status.observed_generation != ks.meta().generation {
        return None;
    }
    let ready = conditions::find(status.conditions.as_deref()?, types::READY)?;
    Some((ready.status, ready.reason.clone(), ready.message.clone()))
}

/// Waits until the Kustomization's Ready condition has `status` and `reason`; gives its message.
pub async fn ready_with(
    controllers: &Controllers,
    api: &Api<Kustomization>,
    name: &str,
    status: ConditionStatus,
    reason: &str,
) -> String {
    eventually(controllers, &format!("{name} is Ready={status:?} with {reason}"), || async {
        let ks = api.get(name).await.ok()?;
        let (s, r, message) = ready(&ks)?;
        (s == status && r == reason).then_some(message)
    })
    .await
}

pub async fn request_reconcile<K>(api: &Api<K>, name: &str, token: &str)
where
    K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let patch = serde_json::json!({ "metadata": { "annotations": { "reconcile.fluxcd.io/requestedAt": token } } });
    api.patch(name, &PatchParams::default(), &Patch::Merge(&patch)).await.unwrap();
}

/// A GitRepository `name` of the branch `main` at `url`.
pub async fn create_git_source(client: &Client, namespace: &str, name: &str, url: &str) -> Api<GitRepository> {
    let sources: Api<GitRepository> = Api::namespaced(client.clone(), namespace);
    let source: GitRepository = serde_json::from_value(serde_json::json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
        "metadata": {"name": name},
        "spec": {"url": url, "interval": "10m", "ref": {"branch": "main"}}
    }))
    .unwrap();
    sources.create(&PostParams::default(), &source).await.unwrap();
    sources
}

/// Creates a Kustomization `name` with `spec` over the defaults (interval 1m, prune, the
/// GitRepository `app`).
pub async fn create_kustomization(api: &Api<Kustomization>, name: &str, spec: serde_json::Value) {
    let mut full = serde_json::json!({"interval": "1m", "prune": true, "timeout": "1m",
        "sourceRef": {"kind": "GitRepository", "name": "app"}});
    full.as_object_mut().unwrap().extend(spec.as_object().unwrap().clone());
    let ks: Kustomization = serde_json::from_value(serde_json::json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": name}, "spec": full
    }))
    .unwrap();
    api.create(&PostParams::default(), &ks).await.unwrap();
}

pub fn config_map(name: &str, value: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  value: \"{value}\"\n")
}
