//! The GitRepository reconciler end to end: the source-controller binary against a real API
//! server, fetching from git smart HTTP (basic auth) on loopback, serving its artifacts, which
//! weir-runtime's consumer downloads, verifies and unpacks.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use weir_testenv::git as support;

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DeleteParams, ObjectMeta, Patch, PatchParams, PostParams};
use tokio::process::{Child, Command};
use weir_api::conditions::{self, types};
use weir_api::meta::LocalObjectReference;
use weir_api::source::git_repository::GitRepositoryRef;
use weir_api::source::{GitRepository, GitRepositorySpec};
use weir_runtime::artifact::{ArtifactFetcher, FetchOptions};
use weir_testenv::{TestEnv, free_addr};

use support::{GitHttpServer, Repo, ServerAuth};

const WAIT: Duration = Duration::from_secs(90);

struct SourceController {
    /// Killed on drop.
    child: Child,
    log: PathBuf,
    storage: tempfile::TempDir,
    storage_addr: SocketAddr,
    metrics_addr: SocketAddr,
}

impl SourceController {
    fn start(env: &TestEnv, namespace: &str) -> SourceController {
        Self::start_on(env, namespace, tempfile::tempdir().unwrap())
    }

    /// A controller on `storage`, which another one may have filled; its log starts empty.
    fn start_on(env: &TestEnv, namespace: &str, storage: tempfile::TempDir) -> SourceController {
        Self::launch(env, namespace, storage, &[])
    }

    /// A controller with `extra` flags besides the test's own.
    fn start_with(env: &TestEnv, namespace: &str, extra: &[&str]) -> SourceController {
        Self::launch(env, namespace, tempfile::tempdir().unwrap(), extra)
    }

    fn launch(env: &TestEnv, namespace: &str, storage: tempfile::TempDir, extra: &[&str]) -> SourceController {
        let storage_addr = free_addr();
        let metrics_addr = free_addr();
        let log = std::env::temp_dir().join(format!("weir-source-controller-{namespace}.log"));
        let child = Command::new(env!("CARGO_BIN_EXE_source-controller"))
            .arg(format!("--kubeconfig={}", env.kubeconfig_path().display()))
            .arg(format!("--health-addr={}", free_addr()))
            .arg(format!("--metrics-addr={metrics_addr}"))
            .arg(format!("--storage-path={}", storage.path().display()))
            .arg(format!("--storage-addr={storage_addr}"))
            .arg(format!("--storage-adv-addr={storage_addr}"))
            .arg("--watch-all-namespaces=false")
            // Only the current artifact is kept, so garbage collection shows at once.
            .arg("--artifact-retention-records=1")
            .arg("--log-level=debug")
            .args(extra)
            .env("RUNTIME_NAMESPACE", namespace)
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        SourceController { child, log, storage, storage_addr, metrics_addr }
    }

    /// Kills the process and waits until it is gone; the storage stays.
    async fn stop(mut self) -> tempfile::TempDir {
        self.child.kill().await.unwrap();
        self.storage
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The Prometheus text of `/metrics`.
    async fn metrics(&self) -> Option<String> {
        weir_testenv::scrape_metrics(self.metrics_addr).await
    }
}

fn secret(name: &str, username: &str, password: &str) -> Secret {
    let data: BTreeMap<String, ByteString> = [
        ("username".to_string(), ByteString(username.as_bytes().to_vec())),
        ("password".to_string(), ByteString(password.as_bytes().to_vec())),
    ]
    .into();
    Secret {
        metadata: ObjectMeta { name: Some(name.into()), ..Default::default() },
        data: Some(data),
        ..Default::default()
    }
}

fn git_repository(name: &str, url: &str, reference: GitRepositoryRef) -> GitRepository {
    let spec = GitRepositorySpec {
        url: url.to_string(),
        interval: "10m".into(),
        reference: Some(reference),
        secret_ref: Some(LocalObjectReference { name: "git-auth".into() }),
        ..Default::default()
    };
    GitRepository::new(name, spec)
}

/// Polls until `check` gives a value, failing with the controller's log after `WAIT`.
async fn eventually<T, F, Fut>(controller: &SourceController, what: &str, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    weir_testenv::eventually(what, WAIT, || format!("the controller's log:\n{}", controller.log()), check).await
}

fn ready(obj: &GitRepository) -> Option<(bool, String, String)> {
    let status = obj.status.as_ref()?;
    let list = status.conditions.as_deref()?;
    let ready = conditions::find(list, types::READY)?;
    if ready.status == weir_api::conditions::ConditionStatus::Unknown {
        return None;
    }
    let is_true = ready.status == weir_api::conditions::ConditionStatus::True;
    Some((is_true, ready.reason.clone(), ready.message.clone()))
}

async fn wait_ready(controller: &SourceController, api: &Api<GitRepository>, name: &str) -> GitRepository {
    eventually(controller, &format!("{name} is Ready"), || async {
        let obj = api.get(name).await.ok()?;
        let (is_true, _, _) = ready(&obj)?;
        let current = obj.status.as_ref()?.observed_generation == obj.metadata.generation;
        (is_true && current).then_some(obj)
    })
    .await
}

/// Downloads the artifact with the consumer's client and returns the unpacked directory.
async fn download(obj: &GitRepository) -> tempfile::TempDir {
    let artifact = obj.status.as_ref().unwrap().artifact.as_ref().unwrap();
    let dest = tempfile::tempdir().unwrap();
    let fetcher = ArtifactFetcher::new(FetchOptions::default()).unwrap();
    fetcher.fetch(&artifact.url, &artifact.digest, dest.path()).await.unwrap();
    dest
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

async fn request_reconcile(api: &Api<GitRepository>, name: &str, token: &str) {
    let patch = serde_json::json!({ "metadata": { "annotations": { "reconcile.fluxcd.io/requestedAt": token } } });
    api.patch(name, &PatchParams::default(), &Patch::Merge(&patch)).await.unwrap();
}

#[tokio::test]
async fn git_repositories_become_artifacts() {
    let env = TestEnv::shared().await;
    let namespace = env.namespace("gitrepo").await;
    let client = env.client();

    let repo = Repo::new("podinfo");
    let first = repo.commit(&[("deploy/app.yaml", "version: 1.0.0\n"), ("logo.png", "png")], "first");
    repo.annotated_tag("v1.0.0");
    repo.push("main");
    let second = repo.commit(&[("deploy/app.yaml", "version: 1.1.0\n")], "second");
    repo.lightweight_tag("v1.1.0");
    repo.push("main");
    let pull = repo.commit(&[("deploy/app.yaml", "version: pr\n")], "pull request");
    repo.push("HEAD:refs/pull/1/head");
    support::git(&repo.work, &["reset", "-q", "--hard", &second]);
    let server = GitHttpServer::start(
        &repo.root,
        ServerAuth::Basic { username: "flux".into(), password: "correct-horse".into() },
    );
    let url = server.url("podinfo");

    let secrets: Api<Secret> = Api::namespaced(client.clone(), &namespace);
    secrets.create(&PostParams::default(), &secret("git-auth", "flux", "correct-horse")).await.unwrap();
    let controller = SourceController::start(env, &namespace);
    let api: Api<GitRepository> = Api::namespaced(client.clone(), &namespace);

    let cases = [
        (
            "branch",
            GitRepositoryRef { branch: Some("main".into()), ..Default::default() },
            format!("main@sha1:{second}"),
            "version: 1.1.0\n",
        ),
        (
            "tag",
            GitRepositoryRef { tag: Some("v1.0.0".into()), ..Default::default() },
            format!("v1.0.0@sha1:{first}"),
            "version: 1.0.0\n",
        ),
        (
            "semver",
            GitRepositoryRef { semver: Some(">=1.0.0 <2".into()), ..Default::default() },
            format!("v1.1.0@sha1:{second}"),
            "version: 1.1.0\n",
        ),
        (
            "commit",
            GitRepositoryRef { commit: Some(first.clone()), ..Default::default() },
            format!("sha1:{first}"),
            "version: 1.0.0\n",
        ),
        (
            "name",
            GitRepositoryRef { name: Some("refs/pull/1/head".into()), ..Default::default() },
            format!("refs/pull/1/head@sha1:{pull}"),
            "version: pr\n",
        ),
    ];
    for (name, reference, _, _) in &cases {
        api.create(&PostParams::default(), &git_repository(name, &url, reference.clone())).await.unwrap();
    }
    for (name, _, revision, content) in &cases {
        let obj = wait_ready(&controller, &api, name).await;
        let status = obj.status.as_ref().unwrap();
        let artifact = status.artifact.as_ref().unwrap();
        assert_eq!(&artifact.revision, revision, "{name}");
        let commit = revision.rsplit(':').next().unwrap();
        assert_eq!(artifact.path, format!("gitrepository/{namespace}/{name}/{commit}.tar.gz"));
        assert!(artifact.digest.starts_with("sha256:"), "{}", artifact.digest);
        let (_, reason, message) = ready(&obj).unwrap();
        assert_eq!(reason, "Succeeded");
        assert_eq!(message, format!("stored artifact for revision '{revision}'"));
        assert!(conditions::is_true(status.conditions.as_deref().unwrap(), types::ARTIFACT_IN_STORAGE));
        let dir = download(&obj).await;
        assert_eq!(read(dir.path(), "deploy/app.yaml"), *content, "{name}");
        assert!(!dir.path().join("logo.png").exists(), "images are ignored by default");
        assert!(!dir.path().join(".git").exists());
        assert!(obj.metadata.finalizers.as_deref().unwrap_or_default().iter().any(|f| f == "finalizers.fluxcd.io"));
    }

    // spec.ignore replaces the defaults and is echoed as observedIgnore.
    let mut custom =
        git_repository("ignore", &url, GitRepositoryRef { branch: Some("main".into()), ..Default::default() });
    custom.spec.ignore = Some("/deploy/\n".into());
    api.create(&PostParams::default(), &custom).await.unwrap();
    let obj = wait_ready(&controller, &api, "ignore").await;
    assert_eq!(obj.status.as_ref().unwrap().observed_ignore.as_deref(), Some("/deploy/\n"));
    let dir = download(&obj).await;
    assert!(!dir.path().join("deploy").exists());
    assert_eq!(read(dir.path(), "logo.png"), "png", "the defaults are replaced");

    // A suspended object gets no work.
    let mut suspended = git_repository("suspended", &url, GitRepositoryRef::default());
    suspended.spec.suspend = Some(true);
    api.create(&PostParams::default(), &suspended).await.unwrap();
    eventually(&controller, "the suspended object is reported", || async {
        let log = controller.log();
        log.lines().any(|l| l.contains("reconciliation is suspended") && l.contains("\"suspended\"")).then_some(())
    })
    .await;
    let status = api.get("suspended").await.unwrap().status.unwrap_or_default();
    assert!(status.artifact.is_none() && status.conditions.is_none(), "{status:?}");

    // Kubernetes Events (events.k8s.io/v1) for the new artifacts.
    let events: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(client.clone(), &namespace);
    let note = eventually(&controller, "a NewArtifact event is recorded", || async {
        let list = events.list(&Default::default()).await.ok()?;
        list.items.into_iter().find_map(|e| {
            let about_branch = e.regarding.as_ref()?.name.as_deref() == Some("branch");
            (about_branch && e.reason.as_deref() == Some("NewArtifact")).then_some(e.note.unwrap_or_default())
        })
    })
    .await;
    assert_eq!(note, format!("stored artifact for revision 'main@sha1:{second}'"));

    // A new commit, picked up on request.
    let third = repo.commit(&[("deploy/app.yaml", "version: 1.2.0\n")], "third");
    repo.push("main");
    request_reconcile(&api, "branch", "first-request").await;
    let obj = eventually(&controller, "the branch has the new revision", || async {
        let obj = api.get("branch").await.ok()?;
        let status = obj.status.as_ref()?;
        let done = status.last_handled_reconcile_at.as_deref() == Some("first-request");
        (done && status.artifact.as_ref()?.revision == format!("main@sha1:{third}")).then_some(obj)
    })
    .await;
    assert_eq!(read(download(&obj).await.path(), "deploy/app.yaml"), "version: 1.2.0\n");
    let good_artifact = obj.status.as_ref().unwrap().artifact.clone().unwrap();
    let branch_dir = controller.storage.path().join(format!("gitrepository/{namespace}/branch"));
    let files: Vec<String> = std::fs::read_dir(&branch_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files, [format!("{third}.tar.gz")], "the previous artifact was garbage collected");

    // Wrong credentials: Ready=False naming authentication, the artifact kept.
    secrets.replace("git-auth", &PostParams::default(), &secret("git-auth", "flux", "wrong-horse")).await.unwrap();
    request_reconcile(&api, "branch", "second-request").await;
    let (obj, message) = eventually(&controller, "the branch fails to authenticate", || async {
        let obj = api.get("branch").await.ok()?;
        let (is_true, reason, message) = ready(&obj)?;
        (!is_true && reason == "AuthenticationFailed").then_some((obj, message))
    })
    .await;
    assert!(message.to_lowercase().contains("authentication"), "{message}");
    assert!(!message.contains("wrong-horse") && !controller.log().contains("wrong-horse"), "credentials leaked");
    let status = obj.status.as_ref().unwrap();
    assert_eq!(status.artifact.as_ref().unwrap().revision, good_artifact.revision, "the last artifact stays");
    assert!(conditions::is_true(status.conditions.as_deref().unwrap(), types::FETCH_FAILED));
    assert!(controller.storage.path().join(&good_artifact.path).is_file());
    download(&obj).await;

    // A ref that does not exist.
    let missing = GitRepositoryRef { branch: Some("does-not-exist".into()), ..Default::default() };
    secrets.replace("git-auth", &PostParams::default(), &secret("git-auth", "flux", "correct-horse")).await.unwrap();
    api.create(&PostParams::default(), &git_repository("missing", &url, missing)).await.unwrap();
    let message = eventually(&controller, "the missing branch is reported", || async {
        let obj = api.get("missing").await.ok()?;
        let (is_true, reason, message) = ready(&obj)?;
        (!is_true && reason == "GitOperationFailed").then_some(message)
    })
    .await;
    assert!(message.contains("does-not-exist"), "{message}");

    // Deleting removes the storage directory, then the object.
    let dir = controller.storage.path().join(format!("gitrepository/{namespace}/tag"));
    assert!(dir.is_dir());
    api.delete("tag", &DeleteParams::default()).await.unwrap();
    eventually(&controller, "the tag repository is gone with its storage", || async {
        (api.get_opt("tag").await.ok()?.is_none() && !dir.exists()).then_some(())
    })
    .await;
    drop(controller);
}

#[tokio::test]
async fn includes_are_copied_in_and_followed() {
    let env = TestEnv::shared().await;
    let namespace = env.namespace("gitrepo-include").await;
    let client = env.client();

    let app = Repo::new("app");
    app.commit(&[("deploy/app.yaml", "app: 1\n")], "app");
    app.push("main");
    let lib = Repo::new("lib");
    lib.commit(&[("manifests/lib.yaml", "lib: 1\n"), ("README.md", "not copied\n")], "lib");
    lib.push("main");
    let app_server = GitHttpServer::start(&app.root, ServerAuth::None);
    let lib_server = GitHttpServer::start(&lib.root, ServerAuth::None);
    let controller = SourceController::start(env, &namespace);
    let api: Api<GitRepository> = Api::namespaced(client.clone(), &namespace);
    let main = GitRepositoryRef { branch: Some("main".into()), ..Default::default() };

    // The includer first: its include does not exist yet.
    let mut includer = git_repository("app", &app_server.url("app"), main.clone());
    includer.spec.secret_ref = None;
    includer.spec.include = Some(vec![weir_api::source::git_repository::GitRepositoryInclude {
        repository: LocalObjectReference { name: "lib".into() },
        from_path: Some("manifests".into()),
        to_path: Some("vendor/lib".into()),
    }]);
    api.create(&PostParams::default(), &includer).await.unwrap();
    let message = eventually(&controller, "the missing include is reported", || async {
        let obj = api.get("app").await.ok()?;
        let list = obj.status?.conditions?;
        let unavailable = conditions::find(&list, types::INCLUDE_UNAVAILABLE)?;
        (unavailable.reason == "NotFound").then(|| unavailable.message.clone())
    })
    .await;
    assert!(message.contains("'lib'"), "{message}");

    let mut included = git_repository("lib", &lib_server.url("lib"), main);
    included.spec.secret_ref = None;
    api.create(&PostParams::default(), &included).await.unwrap();
    let lib_obj = wait_ready(&controller, &api, "lib").await;
    let obj = wait_ready(&controller, &api, "app").await;
    let status = obj.status.as_ref().unwrap();
    let lib_artifact = lib_obj.status.as_ref().unwrap().artifact.clone().unwrap();
    assert_eq!(status.included_artifacts.as_deref(), Some(std::slice::from_ref(&lib_artifact)));
    assert_eq!(status.observed_include, obj.spec.include);
    assert!(conditions::find(status.conditions.as_deref().unwrap(), types::INCLUDE_UNAVAILABLE).is_none());
    let dir = download(&obj).await;
    assert_eq!(read(dir.path(), "deploy/app.yaml"), "app: 1\n");
    assert_eq!(read(dir.path(), "vendor/lib/lib.yaml"), "lib: 1\n");
    assert!(!dir.path().join("vendor/lib/README.md").exists(), "only fromPath is copied");

    // A new artifact of the included repository wakes the includer, which rebuilds.
    let lib_next = lib.commit(&[("manifests/lib.yaml", "lib: 2\n")], "lib 2");
    lib.push("main");
    request_reconcile(&api, "lib", "lib-next").await;
    let obj = eventually(&controller, "the includer follows the included repository", || async {
        let obj = api.get("app").await.ok()?;
        let included = obj.status.as_ref()?.included_artifacts.clone()?;
        (included.first()?.revision == format!("main@sha1:{lib_next}")).then_some(obj)
    })
    .await;
    assert_eq!(read(download(&obj).await.path(), "vendor/lib/lib.yaml"), "lib: 2\n");

    // Flux's reconcile duration metric, per object.
    let series =
        format!(r#"gotk_reconcile_duration_seconds_count{{kind="GitRepository",name="app",namespace="{namespace}"}}"#);
    eventually(&controller, "the reconcile duration is exported", || async {
        controller.metrics().await.filter(|text| text.contains(&series)).map(|_| ())
    })
    .await;
    drop(controller);
}

#[tokio::test]
async fn ssh_credentials_come_from_the_secret() {
    let env = TestEnv::shared().await;
    let namespace = env.namespace("gitrepo-ssh").await;
    let client = env.client();
    let server = support::SshServer::start();
    let repo = Repo::new("over-ssh");
    let commit = repo.commit(&[("deploy/app.yaml", "ssh: true\n")], "first");
    repo.push("main");

    let secret_with = |known_hosts: String| {
        let data: BTreeMap<String, ByteString> = [
            ("identity".to_string(), ByteString(server.client_key())),
            ("known_hosts".to_string(), ByteString(known_hosts.into_bytes())),
        ]
        .into();
        Secret {
            metadata: ObjectMeta { name: Some("git-auth".into()), ..Default::default() },
            data: Some(data),
            ..Default::default()
        }
    };
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &namespace);
    secrets.create(&PostParams::default(), &secret_with(server.known_hosts())).await.unwrap();
    let controller = SourceController::start(env, &namespace);
    let api: Api<GitRepository> = Api::namespaced(client.clone(), &namespace);
    let main = GitRepositoryRef { branch: Some("main".into()), ..Default::default() };
    api.create(&PostParams::default(), &git_repository("ssh", &server.url(&repo.bare), main)).await.unwrap();
    let obj = wait_ready(&controller, &api, "ssh").await;
    assert_eq!(obj.status.as_ref().unwrap().artifact.as_ref().unwrap().revision, format!("main@sha1:{commit}"));
    assert_eq!(read(download(&obj).await.path(), "deploy/app.yaml"), "ssh: true\n");

    // Another host key in known_hosts: refused, the artifact kept.
    let other = tempfile::tempdir().unwrap();
    let impostor = std::fs::read_to_string(support::keygen(other.path(), "impostor").with_extension("pub")).unwrap();
    let wrong = format!("[127.0.0.1]:{} {}", server.port, impostor.trim());
    secrets.replace("git-auth", &PostParams::default(), &secret_with(wrong)).await.unwrap();
    request_reconcile(&api, "ssh", "wrong-host-key").await;
    let message = eventually(&controller, "the wrong host key is refused", || async {
        let obj = api.get("ssh").await.ok()?;
        let (is_true, _, message) = ready(&obj)?;
        let handled = obj.status.as_ref()?.last_handled_reconcile_at.as_deref() == Some("wrong-host-key");
        (!is_true && handled).then_some(message)
    })
    .await;
    assert!(message.contains("host key") && message.contains("known_hosts"), "{message}");
    let obj = api.get("ssh").await.unwrap();
    assert_eq!(obj.status.unwrap().artifact.unwrap().revision, format!("main@sha1:{commit}"), "the artifact stays");
    drop(controller);
}

/// One repository with one commit (`deploy/app.yaml` is `app: 1`), served over smart HTTP,
/// and the GitRepository `app` following its `main` in a namespace of its own.
struct OneApp {
    namespace: String,
    api: Api<GitRepository>,
    repo: Repo,
    _server: GitHttpServer,
}

impl OneApp {
    async fn create(env: &TestEnv, name: &str) -> OneApp {
        let namespace = env.namespace(&format!("gitrepo-{name}")).await;
        let repo = Repo::new(name);
        repo.commit(&[("deploy/app.yaml", "app: 1\n")], "first");
        repo.push("main");
        let server = GitHttpServer::start(&repo.root, ServerAuth::None);
        let secrets: Api<Secret> = Api::namespaced(env.client(), &namespace);
        secrets.create(&PostParams::default(), &secret("git-auth", "flux", "unused")).await.unwrap();
        let api: Api<GitRepository> = Api::namespaced(env.client(), &namespace);
        let main = GitRepositoryRef { branch: Some("main".into()), ..Default::default() };
        api.create(&PostParams::default(), &git_repository("app", &server.url(name), main)).await.unwrap();
        OneApp { namespace, api, repo, _server: server }
    }
}

#[tokio::test]
async fn a_restarted_controller_keeps_its_artifacts_and_corrects_their_urls() {
    let env = TestEnv::shared().await;
    let app = OneApp::create(env, "restart").await;
    let (namespace, api) = (app.namespace.clone(), app.api.clone());

    let controller = SourceController::start(env, &namespace);
    let before = wait_ready(&controller, &api, "app").await.status.unwrap().artifact.unwrap();
    let storage = controller.stop().await;

    // Another process on the same storage, advertising another address.
    let controller = SourceController::start_on(env, &namespace, storage);
    let new_url = format!("http://{}/{}", controller.storage_addr, before.path);
    assert_ne!(before.url, new_url);
    let obj = eventually(&controller, "the artifact's URL follows the new address", || async {
        let obj = api.get("app").await.ok()?;
        (obj.status.as_ref()?.artifact.as_ref()?.url == new_url).then_some(obj)
    })
    .await;
    let after = obj.status.as_ref().unwrap().artifact.clone().unwrap();
    assert_eq!(
        (&after.revision, &after.digest, &after.path, &after.last_update_time),
        (&before.revision, &before.digest, &before.path, &before.last_update_time),
        "the stored artifact was kept, not rebuilt"
    );
    assert!(!controller.log().contains("stored artifact"), "the restart rebuilt the artifact:\n{}", controller.log());
    assert_eq!(read(download(&obj).await.path(), "deploy/app.yaml"), "app: 1\n");
}

#[tokio::test]
async fn refused_content_is_reported_and_the_last_artifact_stays() {
    let env = TestEnv::shared().await;
    let app = OneApp::create(env, "content").await;
    let (namespace, api, repo) = (app.namespace.clone(), app.api.clone(), &app.repo);
    let controller = SourceController::start_with(env, &namespace, &["--artifact-max-size=4096"]);
    let good = wait_ready(&controller, &api, "app").await.status.unwrap().artifact.unwrap();

    // A symlink that leads out of the tree.
    std::os::unix::fs::symlink("../../../etc/passwd", repo.work.join("deploy/passwd")).unwrap();
    repo.commit(&[], "a symlink out of the tree");
    repo.push("main");
    request_reconcile(&api, "app", "symlink").await;
    let message = refused(&controller, &api, "symlink").await;
    let expected = "symlink 'deploy/passwd' points outside the tree, to '../../../etc/passwd'";
    assert!(message.contains(expected), "{message}");

    // More content than --artifact-max-size.
    std::fs::remove_file(repo.work.join("deploy/passwd")).unwrap();
    repo.commit(&[("assets/big.bin", &"x".repeat(8192))], "too much content");
    repo.push("main");
    request_reconcile(&api, "app", "size").await;
    let message = refused(&controller, &api, "size").await;
    let expected = "larger than the limit of 4 KiB (--artifact-max-size): 'assets/big.bin' brings it to 8 KiB";
    assert!(message.contains(expected), "{message}");

    // The last good artifact stayed published all along.
    let obj = api.get("app").await.unwrap();
    let artifact = obj.status.as_ref().unwrap().artifact.clone().unwrap();
    assert_eq!((&artifact.revision, &artifact.digest), (&good.revision, &good.digest));
    assert_eq!(read(download(&obj).await.path(), "deploy/app.yaml"), "app: 1\n");

    // The failure shows in the condition metric, on the False series only; deleting the
    // object removes its series.
    let object = format!(r#"kind="GitRepository",name="app",namespace="{namespace}""#);
    let ready = |status: &str| format!(r#"gotk_reconcile_condition{{{object},type="Ready",status="{status}"}} 1"#);
    let text = controller.metrics().await.unwrap();
    assert!(text.contains(&ready("False")) && !text.contains(&ready("True")), "{text}");
    assert!(text.contains(&format!("gotk_suspend_status{{{object}}} 0")), "{text}");
    api.delete("app", &DeleteParams::default()).await.unwrap();
    eventually(&controller, "the deleted object's series are gone", || async {
        controller.metrics().await.filter(|text| !text.contains(&object)).map(|_| ())
    })
    .await;
}

/// The message of Ready=False with reason ArchiveOperationFailed, once the request `token` is
/// handled.
async fn refused(controller: &SourceController, api: &Api<GitRepository>, token: &str) -> String {
    eventually(controller, &format!("the content is refused ({token})"), || async {
        let obj = api.get("app").await.ok()?;
        let handled = obj.status.as_ref()?.last_handled_reconcile_at.as_deref() == Some(token);
        let (is_true, reason, message) = ready(&obj)?;
        (handled && !is_true && reason == "ArchiveOperationFailed").then_some(message)
    })
    .await
}
