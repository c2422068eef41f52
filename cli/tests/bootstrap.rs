//! `weir bootstrap git` against a real API server, a Git server over smart HTTP and the
//! source- and kustomize-controller binaries: the repository gets the manifests, the cluster
//! follows the repository, and a second run changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

// Git servers on loopback, for bootstrap to push to.
use weir_testenv::git as support;

use std::process::Output;
use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Api, Patch, PatchParams};
use weir_api::source::GitRepository;
use weir_testenv::TestEnv;
use weir_testenv::controllers::Controllers;

use support::{GitHttpServer, Repo, ServerAuth, git};

fn bootstrap(env: &TestEnv, namespace: &str, url: &str) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["bootstrap", "git", "--url", url, "--username", "weir", "--path", "clusters/test"])
        .args(["--components", "source-controller,kustomize-controller", "--timeout", "3m", "-n", namespace])
        .arg(format!("--kubeconfig={}", env.kubeconfig_path().display()))
        .env("GIT_PASSWORD", "s3cret")
        .output()
        .unwrap()
}

fn commits(repo: &Repo) -> usize {
    git(&repo.bare, &["rev-list", "--count", "main"]).trim().parse().unwrap()
}

#[tokio::test]
async fn bootstrap_over_http_is_idempotent_and_the_cluster_follows_the_repository() {
    let env = TestEnv::shared().await;
    let namespace = env.namespace("bootstrap").await;
    let repo = Repo::new("fleet");
    let auth = ServerAuth::Basic { username: "weir".into(), password: "s3cret".into() };
    let server = GitHttpServer::start(&repo.root, auth);
    let controllers = Controllers::start(env, &namespace, &["source-controller", "kustomize-controller"], &[]).unwrap();
    let url = server.url("fleet");

    let first = bootstrap(env, &namespace, &url);
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(first.status.success(), "bootstrap failed:\n{stderr}\n{}", controllers.logs());
    assert!(stderr.contains("bootstrap finished"), "{stderr}");
    assert_eq!(commits(&repo), 1);
    let sync = git(&repo.bare, &["show", "main:clusters/test/flux-system/gotk-sync.yaml"]);
    assert!(sync.contains("kind: GitRepository") && sync.contains(&url), "{sync}");
    let kustomization = git(&repo.bare, &["show", "main:clusters/test/flux-system/kustomization.yaml"]);
    assert!(kustomization.contains("gotk-components.yaml"), "{kustomization}");
    let secret = Api::<Secret>::namespaced(env.client(), &namespace).get("flux-system").await.unwrap();
    assert!(secret.data.unwrap().contains_key("password"));

    let second = bootstrap(env, &namespace, &url);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(second.status.success(), "second bootstrap failed:\n{stderr}\n{}", controllers.logs());
    assert_eq!(commits(&repo), 1, "an unchanged bootstrap must not commit");

    // What is committed next to the sync directory is applied.
    git(&repo.work, &["pull", "-q", "origin", "main"]);
    let manifest = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hello\n  namespace: {namespace}\ndata:\n  greeting: hi\n"
    );
    repo.commit(&[("clusters/test/apps/hello.yaml", &manifest)], "add hello");
    repo.push("main");
    let repos: Api<GitRepository> = Api::namespaced(env.client(), &namespace);
    let request = serde_json::json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "now"}}});
    repos.patch("flux-system", &PatchParams::default(), &Patch::Merge(&request)).await.unwrap();
    let configmaps: Api<ConfigMap> = Api::namespaced(env.client(), &namespace);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(cm) = configmaps.get_opt("hello").await.unwrap() {
            assert_eq!(cm.data.unwrap()["greeting"], "hi");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "hello was never applied:\n{}", controllers.logs());
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn bootstrap_over_ssh_with_a_checked_host_key() {
    let env = TestEnv::shared().await;
    let namespace = env.namespace("bootstrap-ssh").await;
    let repo = Repo::new("fleet");
    let sshd = support::SshServer::start();
    let keys = tempfile::tempdir().unwrap();
    let (key, known_hosts) = (keys.path().join("identity"), keys.path().join("known_hosts"));
    std::fs::write(&key, sshd.client_key()).unwrap();
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    std::fs::write(&known_hosts, format!("{}\n", sshd.known_hosts())).unwrap();
    let controllers = Controllers::start(env, &namespace, &["source-controller", "kustomize-controller"], &[]).unwrap();

    let url = sshd.url(&repo.bare);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["bootstrap", "git", "--url", &url, "--path", "clusters/ssh"])
        .args(["--components", "source-controller,kustomize-controller", "--timeout", "3m", "-n", &namespace])
        .arg("--private-key-file")
        .arg(&key)
        .arg("--ssh-known-hosts-file")
        .arg(&known_hosts)
        .arg(format!("--kubeconfig={}", env.kubeconfig_path().display()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "bootstrap over SSH failed:\n{stderr}\n{}\n{}", sshd.log(), controllers.logs());
    assert_eq!(commits(&repo), 1);
    let secret = Api::<Secret>::namespaced(env.client(), &namespace).get("flux-system").await.unwrap();
    let data = secret.data.unwrap();
    assert!(data.contains_key("identity") && data.contains_key("known_hosts"));
}

#[tokio::test]
async fn bootstrap_refuses_ssh_without_host_keys() {
    let env = TestEnv::shared().await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["bootstrap", "git", "--url", "ssh://git@127.0.0.1:1/fleet.git"])
        .arg(format!("--kubeconfig={}", env.kubeconfig_path().display()))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--ssh-known-hosts-file"), "{stderr}");
}
