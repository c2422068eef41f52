//! The four controller processes against a real API server: probes, metrics, leader election on a
//! Lease, a second instance that waits and takes over, and a clean exit on SIGTERM.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;
use kube::api::{Patch, PatchParams};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use weir_testenv::{TestEnv, free_addr};

const READY_TIMEOUT: Duration = Duration::from_secs(60);
const EXIT_TIMEOUT: Duration = Duration::from_secs(20);

#[tokio::test]
async fn source_controller_runs_and_stops_cleanly() {
    runs_and_stops_cleanly("source-controller").await;
}

#[tokio::test]
async fn kustomize_controller_runs_and_stops_cleanly() {
    runs_and_stops_cleanly("kustomize-controller").await;
}

#[tokio::test]
async fn helm_controller_runs_and_stops_cleanly() {
    runs_and_stops_cleanly("helm-controller").await;
}

#[tokio::test]
async fn notification_controller_runs_and_stops_cleanly() {
    runs_and_stops_cleanly("notification-controller").await;
}

/// Ready, healthy, metrics served, the Lease held; on SIGTERM exit 0 and the Lease released.
async fn runs_and_stops_cleanly(name: &'static str) {
    let env = TestEnv::shared().await;
    let namespace = env.namespace(name).await;
    let mut controller = Controller::start(env, name, &namespace, &[]).await;
    controller.wait_ready().await;
    assert_eq!(controller.get(controller.health, "/healthz").await, Some((200, "ok".to_string())));
    let metrics = controller.metrics().await;
    assert!(metrics.contains("weir_build_info{version="), "{metrics}");
    assert!(has_line(&metrics, "weir_leader 1"), "{metrics}");
    let holder = lease_holder(env, &namespace, name).await;
    assert!(!holder.is_empty(), "the lease of {name} has no holder");

    let status = controller.stop().await;
    assert_eq!(status.code(), Some(0), "{name} exit status; its log:\n{}", controller.log());
    assert_eq!(lease_holder(env, &namespace, name).await, "", "the lease was not released");
    assert!(controller.log().contains("released the leader lease"), "{}", controller.log());
}

/// While the first instance runs the second waits (`weir_leader 0`), and takes over as soon as
/// the first stops.
#[tokio::test]
async fn a_second_instance_waits_and_takes_over() {
    let env = TestEnv::shared().await;
    let namespace = env.namespace("takeover").await;
    let name = "source-controller";
    let mut first = Controller::start(env, name, &namespace, &[]).await;
    first.wait_ready().await;
    let leads = |c: &Controller| {
        let c = c.metrics;
        move || async move { http_get(c, "/metrics").await.is_some_and(|(_, body)| has_line(&body, "weir_leader 1")) }
    };
    eventually("the first instance leads", leads(&first)).await;
    let first_holder = lease_holder(env, &namespace, name).await;

    let mut second = Controller::start(env, name, &namespace, &[]).await;
    second.wait_ready().await;
    let log = second.log.clone();
    eventually("the second instance says it waits", move || {
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        async move { log.contains("the lease is held by another instance") }
    })
    .await;
    assert!(has_line(&second.metrics().await, "weir_leader 0"), "{}", second.log());
    assert_eq!(lease_holder(env, &namespace, name).await, first_holder);

    let status = first.stop().await;
    assert_eq!(status.code(), Some(0), "first instance's log:\n{}", first.log());
    // Released, so no waiting for the lease to expire (35s): the watch wakes the second at once.
    within(Duration::from_secs(10), "the second instance takes over", leads(&second)).await;
    let second_holder = lease_holder(env, &namespace, name).await;
    assert!(!second_holder.is_empty() && second_holder != first_holder, "holder {second_holder:?}");

    let status = second.stop().await;
    assert_eq!(status.code(), Some(0), "second instance's log:\n{}", second.log());
}

/// A leader that finds the Lease taken by someone else stops at once with a failure.
#[tokio::test]
async fn losing_the_lease_stops_the_process() {
    let env = TestEnv::shared().await;
    let namespace = env.namespace("lost").await;
    let name = "helm-controller";
    let fast = [
        "--leader-election-lease-duration=4s",
        "--leader-election-renew-deadline=3s",
        "--leader-election-retry-period=1s",
    ];
    let mut controller = Controller::start(env, name, &namespace, &fast).await;
    controller.wait_ready().await;
    let metrics = controller.metrics;
    eventually("the instance leads", move || async move {
        http_get(metrics, "/metrics").await.is_some_and(|(_, body)| has_line(&body, "weir_leader 1"))
    })
    .await;

    let now = k8s_openapi::jiff::Timestamp::now();
    let intruder = serde_json::json!({ "spec": { "holderIdentity": "intruder", "renewTime": format!("{now:.6}") } });
    let leases: Api<Lease> = Api::namespaced(env.client(), &namespace);
    leases.patch(&lease_name(name), &PatchParams::default(), &Patch::Merge(&intruder)).await.unwrap();

    let status = tokio::time::timeout(EXIT_TIMEOUT, controller.child.wait())
        .await
        .unwrap_or_else(|_| panic!("{name} did not stop after losing its lease; its log:\n{}", controller.log()))
        .unwrap();
    assert_eq!(status.code(), Some(1), "{}", controller.log());
    assert!(controller.log().contains("leader election lost"), "{}", controller.log());
    assert_eq!(lease_holder(env, &namespace, name).await, "intruder", "a lost lease must not be released");
}

/// A controller process with its own free ports and its log in a file.
struct Controller {
    name: &'static str,
    child: Child,
    health: SocketAddr,
    metrics: SocketAddr,
    log: PathBuf,
}

impl Controller {
    async fn start(env: &TestEnv, name: &'static str, namespace: &str, extra: &[&str]) -> Controller {
        let binary = tokio::task::spawn_blocking(move || weir_testenv::binary_path(name)).await.unwrap();
        let (health, metrics) = (free_addr(), free_addr());
        let mut args = vec![
            format!("--kubeconfig={}", env.kubeconfig_path().display()),
            format!("--health-addr={health}"),
            format!("--metrics-addr={metrics}"),
            "--enable-leader-election".to_string(),
            "--log-level=debug".to_string(),
        ];
        match name {
            "source-controller" => args.push(format!("--storage-addr={}", free_addr())),
            "notification-controller" => {
                args.push(format!("--events-addr={}", free_addr()));
                args.push(format!("--receiver-addr={}", free_addr()));
            }
            _ => {}
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        let log = std::env::temp_dir().join(format!("weir-e2e-{namespace}-{}-{}.log", name, metrics.port()));
        let log_file = std::fs::File::create(&log).unwrap();
        let child = Command::new(&binary)
            .args(&args)
            .env("RUNTIME_NAMESPACE", namespace)
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
        Controller { name, child, health, metrics, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    async fn get(&self, addr: SocketAddr, path: &str) -> Option<(u16, String)> {
        http_get(addr, path).await
    }

    async fn metrics(&self) -> String {
        match self.get(self.metrics, "/metrics").await {
            Some((200, body)) => body,
            other => panic!("{} /metrics answered {other:?}; its log:\n{}", self.name, self.log()),
        }
    }

    async fn wait_ready(&mut self) {
        let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
        loop {
            if let Some((200, _)) = self.get(self.health, "/readyz").await {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("{} exited with {status} before it was ready; its log:\n{}", self.name, self.log());
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} not ready in time; its log:\n{}",
                self.name,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGTERM, then the exit status.
    async fn stop(&mut self) -> ExitStatus {
        let pid = self.child.id().expect("the controller is running").to_string();
        let killed = std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(killed.success(), "kill -TERM {pid}");
        match tokio::time::timeout(EXIT_TIMEOUT, self.child.wait()).await {
            Ok(status) => status.unwrap(),
            Err(_) => panic!("{} did not exit within {EXIT_TIMEOUT:?} of SIGTERM; its log:\n{}", self.name, self.log()),
        }
    }
}

fn lease_name(controller: &str) -> String {
    format!("{controller}-leader-election")
}

/// The Lease's holder, empty when released; panics when there is no Lease.
async fn lease_holder(env: &TestEnv, namespace: &str, controller: &str) -> String {
    let leases: Api<Lease> = Api::namespaced(env.client(), namespace);
    let lease = leases.get(&lease_name(controller)).await.unwrap();
    lease.spec.and_then(|spec| spec.holder_identity).unwrap_or_default()
}

/// Whether a metrics text has this exact line (help texts could contain the words too).
fn has_line(text: &str, line: &str) -> bool {
    text.lines().any(|l| l == line)
}

/// A plain HTTP/1.1 GET: the status code and body, or `None` when nothing answers.
async fn http_get(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await.ok()?;
        let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).await.ok()?;
        let (head, body) = response.split_once("\r\n\r\n")?;
        let status = head.split_whitespace().nth(1)?.parse().ok()?;
        Some((status, body.to_string()))
    };
    tokio::time::timeout(Duration::from_secs(5), exchange).await.ok().flatten()
}

async fn eventually<F, Fut>(what: &str, check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    within(READY_TIMEOUT, what, check).await;
}

async fn within<F, Fut>(timeout: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    weir_testenv::eventually(what, timeout, String::new, || {
        let done = check();
        async move { done.await.then_some(()) }
    })
    .await
}
