//! What the CLI's tests share: running the `weir` binary against the test cluster, and writing
//! Flux objects and their status as a controller would.

#![allow(dead_code)]

use std::process::Output;

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::{Value, json};
use weir_testenv::TestEnv;

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Panics with both outputs unless the command succeeded.
    pub fn success(self) -> Run {
        assert_eq!(self.code, 0, "weir failed\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }

    pub fn failure(self) -> Run {
        assert_ne!(self.code, 0, "weir should have failed\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }
}

/// Runs `weir ARGS` against the test cluster, without colour, and waits for it.
pub async fn weir(env: &TestEnv, args: &[&str]) -> Run {
    weir_with_input(env, args, None).await
}

pub async fn weir_with_input(env: &TestEnv, args: &[&str], input: Option<&str>) -> Run {
    use tokio::io::AsyncWriteExt;
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_weir"));
    command
        .arg("--kubeconfig")
        .arg(env.kubeconfig_path())
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("KUBECONFIG")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let mut child = command.spawn().expect("starting the weir binary");
    let mut stdin = child.stdin.take().expect("stdin");
    if let Some(text) = input {
        stdin.write_all(text.as_bytes()).await.expect("writing to weir's stdin");
    }
    drop(stdin);
    Run::from(child.wait_with_output().await.expect("waiting for weir"))
}

pub fn resource(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural)
}

pub fn git_repositories() -> ApiResource {
    resource("source.toolkit.fluxcd.io", "v1", "GitRepository", "gitrepositories")
}

pub fn kustomizations() -> ApiResource {
    resource("kustomize.toolkit.fluxcd.io", "v1", "Kustomization", "kustomizations")
}

pub fn api(env: &TestEnv, ns: &str, resource: &ApiResource) -> Api<DynamicObject> {
    Api::namespaced_with(env.client(), ns, resource)
}

/// Creates (server-side apply) a Flux object from JSON.
pub async fn apply(env: &TestEnv, ns: &str, resource: &ApiResource, object: Value) {
    let name = object["metadata"]["name"].as_str().expect("a name").to_string();
    let object: DynamicObject = serde_json::from_value(object).expect("a valid object");
    api(env, ns, resource)
        .patch(&name, &PatchParams::apply("weir-test").force(), &Patch::Apply(&object))
        .await
        .unwrap_or_else(|e| panic!("applying {name}: {e}"));
}

pub fn git_repository(name: &str, branch: &str) -> Value {
    json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
        "metadata": {"name": name},
        "spec": {"url": "https://example.invalid/repo.git", "interval": "1m", "ref": {"branch": branch}}
    })
}

pub fn kustomization(name: &str, source: &str) -> Value {
    json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": name},
        "spec": {"interval": "5m", "path": "./apps", "prune": true,
                 "sourceRef": {"kind": "GitRepository", "name": source}}
    })
}

/// Writes a status as the controller would: Ready, a revision, and the handled request.
pub async fn set_status(
    env: &TestEnv,
    ns: &str,
    resource: &ApiResource,
    name: &str,
    ready: &str,
    message: &str,
    extra: Value,
) {
    let mut status = json!({
        "conditions": [{
            "type": "Ready", "status": ready, "reason": if ready == "True" { "Succeeded" } else { "Failed" },
            "message": message, "lastTransitionTime": "2024-01-01T00:00:00Z"
        }]
    });
    if let Value::Object(extra) = extra {
        for (k, v) in extra {
            status[k] = v;
        }
    }
    api(env, ns, resource)
        .patch_status(name, &PatchParams::default(), &Patch::Merge(&json!({"status": status})))
        .await
        .unwrap_or_else(|e| panic!("writing the status of {name}: {e}"));
}

pub fn artifact(revision: &str) -> Value {
    json!({
        "digest": "sha256:0000000000000000000000000000000000000000000000000000000000000000",
        "lastUpdateTime": "2024-01-01T00:00:00Z",
        "path": "gitrepository/ns/name/abc.tar.gz",
        "revision": revision,
        "url": "http://source-controller.flux-system.svc/gitrepository/ns/name/abc.tar.gz"
    })
}

/// The first line of `text` that contains `needle`, for column checks.
pub fn line_with<'a>(text: &'a str, needle: &str) -> &'a str {
    text.lines().find(|l| l.contains(needle)).unwrap_or_else(|| panic!("no line with {needle:?} in:\n{text}"))
}
