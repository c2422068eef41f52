//! The artifact contract end to end on loopback: the storage archives a tree, its HTTP server
//! serves it, and weir-runtime's consumer downloads, verifies and unpacks it.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::fs;
use std::net::SocketAddr;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;

use source_controller::storage::{self, NoFilter, ObjectRef, Retention, Storage};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;
use weir_runtime::artifact::{ArtifactFetcher, FetchError, FetchOptions};

const REVISION: &str = "main@sha1:5394cb7f48332b2de7c17dd8b8384bbc84b7e738";

fn source_tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join("apps/podinfo")).unwrap();
    fs::create_dir_all(root.join("empty")).unwrap();
    fs::write(root.join("apps/podinfo/kustomization.yaml"), "resources: [deploy.yaml]\n").unwrap();
    fs::write(root.join("apps/podinfo/deploy.yaml"), "kind: Deployment\n").unwrap();
    fs::write(root.join("hook.sh"), "#!/bin/sh\necho hi\n").unwrap();
    fs::set_permissions(root.join("hook.sh"), fs::Permissions::from_mode(0o775)).unwrap();
    // A symlink inside the tree is left out, as Flux leaves it out; one leading out is refused.
    symlink("../hook.sh", root.join("apps/link")).unwrap();
    dir
}

/// Every file and directory under `root`: relative path → (is dir, executable, content).
fn snapshot(root: &Path) -> BTreeMap<PathBuf, (bool, bool, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, (bool, bool, Vec<u8>)>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let metadata = fs::symlink_metadata(&path).unwrap();
            let relative = path.strip_prefix(root).unwrap().to_path_buf();
            if metadata.is_dir() {
                out.insert(relative, (true, false, Vec::new()));
                walk(root, &path, out);
            } else if metadata.is_file() {
                let executable = metadata.permissions().mode() & 0o111 != 0;
                out.insert(relative, (false, executable, fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

struct Served {
    storage: Storage,
    addr: SocketAddr,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
    _root: tempfile::TempDir,
}

async fn served() -> Served {
    let root = tempfile::tempdir().unwrap();
    // Advertised under the in-cluster name; consumers reach it through SOURCE_CONTROLLER_LOCALHOST.
    let storage =
        Storage::new(root.path(), "source-controller.flux-system.svc.cluster.local.", Retention::default()).unwrap();
    let stop = CancellationToken::new();
    let (addr, task) =
        storage::server::spawn("127.0.0.1:0".parse().unwrap(), root.path().to_path_buf(), stop.clone()).await.unwrap();
    Served { storage, addr, stop, task, _root: root }
}

fn fetcher(addr: SocketAddr) -> ArtifactFetcher {
    ArtifactFetcher::new(FetchOptions { localhost: Some(addr.to_string()), ..FetchOptions::default() }).unwrap()
}

#[tokio::test]
async fn produced_artifacts_are_fetched_verified_and_unpacked() {
    let server = served().await;
    let tree = source_tree();
    let object = ObjectRef::new("GitRepository", "flux-system", "podinfo");
    let artifact = server
        .storage
        .archive_dir(object, "5394cb7f48332b2de7c17dd8b8384bbc84b7e738.tar.gz", REVISION, tree.path(), &NoFilter)
        .unwrap();
    assert_eq!(artifact.path, "gitrepository/flux-system/podinfo/5394cb7f48332b2de7c17dd8b8384bbc84b7e738.tar.gz");
    assert_eq!(artifact.url, format!("http://source-controller.flux-system.svc.cluster.local./{}", artifact.path));
    assert_eq!(artifact.revision, REVISION);
    assert!(artifact.digest.starts_with("sha256:") && artifact.digest.len() == 7 + 64);
    let on_disk = fs::read(server.storage.local_path(&artifact).unwrap()).unwrap();
    assert_eq!(artifact.size, Some(on_disk.len() as i64));

    // Same tree, same digest.
    let again = server.storage.archive_dir(object, "again.tar.gz", REVISION, tree.path(), &NoFilter).unwrap();
    assert_eq!(again.digest, artifact.digest);

    let dest = tempfile::tempdir().unwrap();
    let summary = fetcher(server.addr).fetch(&artifact.url, &artifact.digest, dest.path()).await.unwrap();
    assert_eq!(summary.files, 3);
    let mut expected = snapshot(tree.path());
    assert!(expected.remove(Path::new("apps/link")).is_none(), "symlinks are not in the snapshot");
    assert_eq!(snapshot(dest.path()), expected);
    assert!(fs::symlink_metadata(dest.path().join("apps/link")).is_err(), "the symlink was not archived");
    let hook = fs::metadata(dest.path().join("hook.sh")).unwrap().permissions().mode();
    assert_eq!(hook & 0o777, 0o755);

    server.stop.cancel();
    server.task.await.unwrap();
}

#[tokio::test]
async fn a_wrong_digest_or_a_missing_file_is_reported() {
    let server = served().await;
    let tree = source_tree();
    let object = ObjectRef::new("OCIRepository", "default", "app");
    let artifact =
        server.storage.archive_dir(object, "abc.tar.gz", "latest@sha256:abc", tree.path(), &NoFilter).unwrap();
    let fetcher = fetcher(server.addr);
    let wrong = format!("sha256:{}", "0".repeat(64));
    let dest = tempfile::tempdir().unwrap();
    let error = fetcher.fetch(&artifact.url, &wrong, dest.path()).await.unwrap_err();
    assert!(matches!(error, FetchError::DigestMismatch { .. }), "{error}");
    let message = error.to_string();
    assert!(message.contains(&wrong) && message.contains(&artifact.digest), "{message}");
    assert_eq!(fs::read_dir(dest.path()).unwrap().count(), 0, "nothing unpacked");

    let missing = artifact.url.replace("abc.tar.gz", "def.tar.gz");
    let error = fetcher.fetch(&missing, &artifact.digest, dest.path()).await.unwrap_err();
    assert!(error.is_not_found(), "{error}");
    assert!(error.to_string().contains("not found"), "{error}");

    // After garbage collection of the object, the artifact is gone too.
    server.storage.remove_object(object).unwrap();
    let error = fetcher.fetch(&artifact.url, &artifact.digest, dest.path()).await.unwrap_err();
    assert!(error.is_not_found(), "{error}");
}

/// Sends a raw request (so that the path reaches the server unnormalized) and returns the status
/// and the headers, lowercased.
async fn raw_request(addr: SocketAddr, method: &str, path: &str) -> (u16, String, Vec<u8>) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete response head");
    let head = String::from_utf8_lossy(&response[..split]).to_lowercase();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, head, response[split + 4..].to_vec())
}

#[tokio::test]
async fn the_server_serves_files_only_and_never_leaves_the_root() {
    let server = served().await;
    let object = ObjectRef::new("HelmChart", "default", "podinfo");
    let artifact = server.storage.store(object, "podinfo-6.0.3.tgz", "6.0.3", &b"chart bytes"[..]).unwrap();
    let dir = server.storage.local_path(&artifact).unwrap().parent().unwrap().to_path_buf();
    let link = server.storage.link(&artifact, "index.yaml").unwrap();
    assert_eq!(link, "http://source-controller.flux-system.svc.cluster.local./helmchart/default/podinfo/index.yaml");
    // Replacing a link is atomic and idempotent.
    server.storage.link(&artifact, "index.yaml").unwrap();
    symlink("/etc/passwd", dir.join("passwd")).unwrap();
    let addr = server.addr;

    let (status, head, body) = raw_request(addr, "GET", &format!("/{}", artifact.path)).await;
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("content-length: 11"), "{head}");
    assert_eq!(body, b"chart bytes");
    let (status, head, body) = raw_request(addr, "HEAD", &format!("/{}", artifact.path)).await;
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("content-length: 11"), "{head}");
    assert!(body.is_empty());
    // A symlink inside the root is followed; one leaving it is not.
    let (status, _, body) = raw_request(addr, "GET", "/helmchart/default/podinfo/index.yaml").await;
    assert_eq!((status, body.as_slice()), (200, &b"chart bytes"[..]));
    assert_eq!(raw_request(addr, "GET", "/helmchart/default/podinfo/passwd").await.0, 404);

    for (path, expected) in [
        ("/", 404),
        ("/helmchart", 404),
        ("/helmchart/default/podinfo/", 404),
        ("/helmchart/default/podinfo/missing.tgz", 404),
        ("/etc/passwd", 404),
        ("//etc/passwd", 404),
        ("/../../../../etc/passwd", 400),
        ("/helmchart/../../../etc/passwd", 400),
        ("/%2e%2e/%2e%2e/etc/passwd", 400),
        ("/helmchart/%2E%2E%2F%2E%2E%2Fetc/passwd", 400),
        ("/helmchart/..%5c..%5cetc/passwd", 400),
    ] {
        let (status, head, _) = raw_request(addr, "GET", path).await;
        assert_eq!(status, expected, "GET {path}: {head}");
    }
    let (status, head, _) = raw_request(addr, "POST", &format!("/{}", artifact.path)).await;
    assert_eq!(status, 405, "{head}");

    // The server stops on the shutdown token. (Connecting again is no proof either way: another
    // test may bind the freed port at once.)
    server.stop.cancel();
    tokio::time::timeout(std::time::Duration::from_secs(10), server.task)
        .await
        .expect("the server stops within 10 s of the shutdown token")
        .unwrap();
}

#[test]
fn the_tar_cli_reads_the_artifacts() {
    let have = |tool: &str| Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success());
    if !have("tar") || !have("gzip") {
        println!("SKIPPED: the tar and gzip commands are not installed");
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let storage = Storage::new(root.path(), "localhost:9090", Retention::default()).unwrap();
    let tree = source_tree();
    let object = ObjectRef::new("Bucket", "default", "b");
    let artifact = storage.archive_dir(object, "rev.tar.gz", "sha256:x", tree.path(), &NoFilter).unwrap();
    let file = storage.local_path(&artifact).unwrap();

    let gzip = Command::new("gzip").arg("-t").arg(&file).output().unwrap();
    assert!(gzip.status.success(), "gzip -t: {}", String::from_utf8_lossy(&gzip.stderr));
    let listing = Command::new("tar").args(["--numeric-owner", "-tvzf"]).arg(&file).output().unwrap();
    assert!(listing.status.success(), "tar -tvzf: {}", String::from_utf8_lossy(&listing.stderr));
    let listing = String::from_utf8(listing.stdout).unwrap();
    println!("{listing}");
    let mut entries = BTreeMap::new();
    for line in listing.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(fields[1], "0/0", "owner of {line}");
        assert!(line.contains("1970-01-01"), "zero mtime in {line}");
        entries.insert(fields.last().unwrap().trim_end_matches('/').to_string(), fields[0].to_string());
    }
    let expected: BTreeMap<String, String> = [
        (".", "drwxr-x---"),
        ("apps", "drwxr-x---"),
        ("apps/podinfo", "drwxr-x---"),
        ("apps/podinfo/deploy.yaml", "-rw-------"),
        ("apps/podinfo/kustomization.yaml", "-rw-------"),
        ("empty", "drwxr-x---"),
        ("hook.sh", "-rwx------"),
    ]
    .into_iter()
    .map(|(name, mode)| (name.to_string(), mode.to_string()))
    .collect();
    assert_eq!(entries, expected);
}
