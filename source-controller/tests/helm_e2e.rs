//! HelmRepository and HelmChart end to end: the source-controller binary against a real API
//! server, an HTTP chart repository with basic auth on loopback, a Git repository served by
//! `git http-backend`, and Debian's docker-registry for OCI charts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod oci_support;
use weir_testenv::git as support;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use base64::Engine as _;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ObjectMeta, PostParams};
use oci_support::eventually;
use source_controller::helm_chart::package;
use source_controller::oci::manifest::{OCI_MANIFEST, sha256_digest};
use source_controller::oci::{Credentials, Descriptor, Manifest};
use weir_api::conditions::{self, ConditionStatus, types};
use weir_api::meta::LocalObjectReference;
use weir_api::source::git_repository::GitRepositoryRef;
use weir_api::source::helm_chart::{
    HelmChartSourceKind, HelmChartVerification, LocalHelmChartSourceReference, ReconcileStrategy,
};
use weir_api::source::helm_repository::HelmRepositoryType;
use weir_api::source::{
    GitRepository, GitRepositorySpec, HelmChart, HelmChartSpec, HelmRepository, HelmRepositorySpec,
};
use weir_testenv::TestEnv;
use weir_testenv::controllers::Controllers;

/// The Ready condition once decided for the current generation.
fn decided(conditions: Option<&[conditions::Condition]>, generation: Option<i64>) -> Option<conditions::Condition> {
    let ready = conditions::find(conditions?, types::READY)?;
    (ready.observed_generation == generation && ready.status != ConditionStatus::Unknown).then(|| ready.clone())
}

async fn settled_repo(
    c: &Controllers,
    api: &Api<HelmRepository>,
    name: &str,
) -> (HelmRepository, conditions::Condition) {
    eventually(c, &format!("HelmRepository {name} is reconciled"), || async {
        let obj = api.get(name).await.ok()?;
        let ready = decided(obj.status.as_ref()?.conditions.as_deref(), obj.metadata.generation)?;
        Some((obj, ready))
    })
    .await
}

async fn settled_chart(c: &Controllers, api: &Api<HelmChart>, name: &str) -> (HelmChart, conditions::Condition) {
    eventually(c, &format!("HelmChart {name} is reconciled"), || async {
        let obj = api.get(name).await.ok()?;
        let ready = decided(obj.status.as_ref()?.conditions.as_deref(), obj.metadata.generation)?;
        Some((obj, ready))
    })
    .await
}

fn secret(name: &str, data: &[(&str, &str)]) -> Secret {
    let data: BTreeMap<String, ByteString> =
        data.iter().map(|(k, v)| (k.to_string(), ByteString(v.as_bytes().to_vec()))).collect();
    Secret {
        metadata: ObjectMeta { name: Some(name.into()), ..Default::default() },
        data: Some(data),
        ..Default::default()
    }
}

/// A chart directory `name` at `version` with two values files.
fn write_chart(dir: &Path, name: &str, version: &str) {
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(dir.join("Chart.yaml"), format!("apiVersion: v2\nname: {name}\nversion: {version}\n")).unwrap();
    std::fs::write(dir.join("values.yaml"), "replicas: 1\nimage:\n  tag: v1\n  repository: app\n").unwrap();
    std::fs::write(dir.join("values-prod.yaml"), "image:\n  tag: v2\n").unwrap();
    std::fs::write(dir.join("templates/cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n").unwrap();
}

fn chart_tgz(name: &str, version: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    write_chart(dir.path(), name, version);
    package::package(dir.path(), name, version, None, Vec::new()).unwrap()
}

/// A static file server with basic auth, on loopback.
async fn chart_server(root: PathBuf, username: &'static str, password: &'static str) -> SocketAddr {
    let expected =
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}")));
    let handler = move |uri: Uri, headers: HeaderMap| {
        let (root, expected) = (root.clone(), expected.clone());
        async move {
            if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
                return Response::builder().status(StatusCode::UNAUTHORIZED).body(Body::empty()).unwrap();
            }
            match std::fs::read(root.join(uri.path().trim_start_matches('/'))) {
                Ok(bytes) => Response::new(Body::from(bytes)),
                Err(_) => Response::builder().status(StatusCode::NOT_FOUND).body(Body::empty()).unwrap(),
            }
        }
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, axum::Router::new().fallback(handler)).await });
    addr
}

async fn fetch_bytes(url: &str) -> Vec<u8> {
    weir_runtime::client::install_crypto_provider();
    let client = reqwest::Client::new();
    client.get(url).send().await.unwrap().bytes().await.unwrap().to_vec()
}

/// The `values.yaml` inside a chart package.
fn packaged_values(tgz: &[u8], chart: &str) -> serde_json::Value {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tgz));
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.path().unwrap().to_str() == Some(&format!("{chart}/values.yaml")) {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut entry, &mut text).unwrap();
            return serde_saphyr::from_str(&text).unwrap();
        }
    }
    panic!("no values.yaml in the package");
}

fn chart_spec(chart: &str, kind: HelmChartSourceKind, source: &str) -> HelmChartSpec {
    HelmChartSpec {
        chart: chart.into(),
        interval: "10m".into(),
        source_ref: LocalHelmChartSourceReference { api_version: None, kind, name: source.into() },
        ..Default::default()
    }
}

#[tokio::test]
async fn helm_repositories_and_charts() {
    let env = TestEnv::shared().await;
    let namespace = env.namespace("helm").await;
    let client = env.client();

    // An HTTP chart repository with basic auth.
    let repo_dir = tempfile::tempdir().unwrap();
    let mut served = BTreeMap::new();
    for version in ["6.0.0", "6.0.3", "6.1.0"] {
        let bytes = chart_tgz("podinfo", version);
        std::fs::write(repo_dir.path().join(format!("podinfo-{version}.tgz")), &bytes).unwrap();
        served.insert(version, bytes);
    }
    let index = "apiVersion: v1\nentries:\n  podinfo:\n".to_string()
        + &["6.1.0", "6.0.3", "6.0.0"]
            .iter()
            .map(|v| format!("  - name: podinfo\n    version: {v}\n    urls: [podinfo-{v}.tgz]\n"))
            .collect::<String>();
    std::fs::write(repo_dir.path().join("index.yaml"), &index).unwrap();
    let addr = chart_server(repo_dir.path().to_path_buf(), "helm", "s3cret").await;

    // A Git repository holding a chart.
    let git = support::Repo::new("charts");
    let chart_root = tempfile::tempdir().unwrap();
    write_chart(&chart_root.path().join("charts/app"), "app", "1.0.0");
    let files: Vec<(String, String)> = walk(chart_root.path());
    let refs: Vec<(&str, &str)> = files.iter().map(|(p, c)| (p.as_str(), c.as_str())).collect();
    let commit = git.commit(&refs, "chart");
    git.push("main");
    let git_server = support::GitHttpServer::start(&git.root, support::ServerAuth::None);

    // An OCI registry with a Helm chart, behind htpasswd auth.
    let registry =
        oci_support::Registry::start(Some(Credentials { username: "flux".into(), password: "oci-pass".into() }));
    let oci_chart = registry.client("charts/podinfo");
    let oci_digest = push_helm_chart(&oci_chart, "6.2.0", chart_tgz("podinfo", "6.2.0")).await;
    oci_support::cosign_sign(&oci_chart, &oci_digest, &oci_support::signing_key(1)).await;

    let secrets: Api<Secret> = Api::namespaced(client.clone(), &namespace);
    for s in [
        secret("helm-auth", &[("username", "helm"), ("password", "s3cret")]),
        secret("helm-wrong", &[("username", "helm"), ("password", "nope")]),
        secret("oci-auth", &[("username", "flux"), ("password", "oci-pass")]),
        secret("cosign-right", &[("cosign.pub", &oci_support::public_pem(&oci_support::signing_key(1)))]),
        secret("cosign-wrong", &[("cosign.pub", &oci_support::public_pem(&oci_support::signing_key(2)))]),
    ] {
        secrets.create(&PostParams::default(), &s).await.unwrap();
    }

    let controllers = Controllers::start(env, &namespace, &["source-controller"], &[]).unwrap();
    let repos: Api<HelmRepository> = Api::namespaced(client.clone(), &namespace);
    let charts: Api<HelmChart> = Api::namespaced(client.clone(), &namespace);
    let gits: Api<GitRepository> = Api::namespaced(client.clone(), &namespace);
    let http_repo = |secret: &str| HelmRepositorySpec {
        url: format!("http://{addr}/"),
        interval: Some("10m".into()),
        secret_ref: Some(LocalObjectReference { name: secret.into() }),
        ..Default::default()
    };
    repos.create(&PostParams::default(), &HelmRepository::new("podinfo", http_repo("helm-auth"))).await.unwrap();
    repos.create(&PostParams::default(), &HelmRepository::new("wrong", http_repo("helm-wrong"))).await.unwrap();
    let oci_repo = HelmRepositorySpec {
        url: format!("oci://{}/charts", registry.addr),
        type_: Some(HelmRepositoryType::Oci),
        secret_ref: Some(LocalObjectReference { name: "oci-auth".into() }),
        ..Default::default()
    };
    repos.create(&PostParams::default(), &HelmRepository::new("oci", oci_repo)).await.unwrap();
    let git_spec = GitRepositorySpec {
        url: git_server.url("charts"),
        interval: "10m".into(),
        reference: Some(GitRepositoryRef { branch: Some("main".into()), ..Default::default() }),
        ..Default::default()
    };
    gits.create(&PostParams::default(), &GitRepository::new("charts", git_spec)).await.unwrap();

    // The index: revision sha256 of the served index.yaml, stored as index-<hex>.yaml.
    let (repo, ready) = settled_repo(&controllers, &repos, "podinfo").await;
    assert_eq!(ready.status, ConditionStatus::True, "{}", ready.message);
    let artifact = repo.status.as_ref().unwrap().artifact.clone().unwrap();
    let digest = sha256_digest(index.as_bytes());
    assert_eq!(artifact.revision, digest);
    assert_eq!(artifact.path, format!("helmrepository/{namespace}/podinfo/index-{}.yaml", &digest[7..]));
    assert_eq!(ready.message, format!("stored artifact: revision '{digest}'"));
    let stored: serde_json::Value = serde_json::from_slice(&fetch_bytes(&artifact.url).await).unwrap();
    assert_eq!(stored["entries"]["podinfo"][0]["version"], "6.1.0");

    let (_, ready) = settled_repo(&controllers, &repos, "wrong").await;
    assert_eq!(
        (ready.status, ready.reason.as_str()),
        (ConditionStatus::False, "IndexationFailed"),
        "{}",
        ready.message
    );
    assert!(ready.message.contains("401"), "{}", ready.message);
    let (oci, ready) = settled_repo(&controllers, &repos, "oci").await;
    assert_eq!(ready.status, ConditionStatus::True, "{}", ready.message);
    assert!(oci.status.unwrap().artifact.is_none());

    // Charts from the HTTP repository: as served, and with values files merged.
    let mut pulled = chart_spec("podinfo", HelmChartSourceKind::HelmRepository, "podinfo");
    pulled.version = Some("6.0.x".into());
    charts.create(&PostParams::default(), &HelmChart::new("pulled", pulled)).await.unwrap();
    let mut merged = chart_spec("podinfo", HelmChartSourceKind::HelmRepository, "podinfo");
    merged.values_files = Some(vec!["values.yaml".into(), "values-prod.yaml".into(), "missing.yaml".into()]);
    merged.ignore_missing_values_files = Some(true);
    charts.create(&PostParams::default(), &HelmChart::new("merged", merged)).await.unwrap();
    // From the OCI registry.
    charts
        .create(
            &PostParams::default(),
            &HelmChart::new("oci", chart_spec("podinfo", HelmChartSourceKind::HelmRepository, "oci")),
        )
        .await
        .unwrap();
    // From the OCI registry, with the signature checked against the right and a wrong key.
    for (name, keys) in [("oci-signed", "cosign-right"), ("oci-wrong-key", "cosign-wrong")] {
        let mut spec = chart_spec("podinfo", HelmChartSourceKind::HelmRepository, "oci");
        spec.verify = Some(HelmChartVerification {
            secret_ref: Some(LocalObjectReference { name: keys.into() }),
            ..Default::default()
        });
        charts.create(&PostParams::default(), &HelmChart::new(name, spec)).await.unwrap();
    }
    // From Git, with the Revision strategy.
    let mut from_git = chart_spec("charts/app", HelmChartSourceKind::GitRepository, "charts");
    from_git.reconcile_strategy = Some(ReconcileStrategy::Revision);
    from_git.values_files = Some(vec!["charts/app/values.yaml".into(), "charts/app/values-prod.yaml".into()]);
    charts.create(&PostParams::default(), &HelmChart::new("git", from_git)).await.unwrap();
    // A values file that does not exist.
    let mut missing = chart_spec("podinfo", HelmChartSourceKind::HelmRepository, "podinfo");
    missing.values_files = Some(vec!["missing.yaml".into()]);
    charts.create(&PostParams::default(), &HelmChart::new("missing", missing)).await.unwrap();

    let (chart, ready) = settled_chart(&controllers, &charts, "pulled").await;
    assert_eq!(ready.status, ConditionStatus::True, "{}", ready.message);
    assert_eq!(ready.message, "pulled 'podinfo' chart with version '6.0.3'");
    let status = chart.status.unwrap();
    let artifact = status.artifact.unwrap();
    assert_eq!(artifact.revision, "6.0.3");
    assert_eq!(artifact.path, format!("helmchart/{namespace}/pulled/podinfo-6.0.3.tgz"));
    assert_eq!(artifact.digest, sha256_digest(&served["6.0.3"]));
    assert_eq!(status.observed_chart_name.as_deref(), Some("podinfo"));
    assert_eq!(status.observed_source_artifact_revision.as_deref(), Some(digest.as_str()));

    let (chart, ready) = settled_chart(&controllers, &charts, "merged").await;
    assert_eq!(ready.status, ConditionStatus::True, "{}", ready.message);
    assert_eq!(
        ready.message,
        "packaged 'podinfo' chart with version '6.1.0' and merged values files [values.yaml values-prod.yaml]"
    );
    let status = chart.status.unwrap();
    assert_eq!(status.observed_values_files.unwrap(), ["values.yaml", "values-prod.yaml"]);
    let values = packaged_values(&fetch_bytes(&status.artifact.unwrap().url).await, "podinfo");
    assert_eq!(values, serde_json::json!({"replicas": 1, "image": {"tag": "v2", "repository": "app"}}));

    let (chart, ready) = settled_chart(&controllers, &charts, "oci").await;
    assert_eq!(ready.status, ConditionStatus::True, "{}", ready.message);
    assert_eq!(chart.status.unwrap().artifact.unwrap().revision, "6.2.0");

    let (chart, ready) = settled_chart(&controllers, &charts, "oci-signed").await;
    assert_eq!(ready.status, ConditionStatus::True, "{}", ready.message);
    let list = chart.status.clone().unwrap().conditions.unwrap();
    let verified = conditions::find(&list, types::SOURCE_VERIFIED).unwrap();
    assert_eq!(
        (verified.status, verified.message.as_str()),
        (ConditionStatus::True, "verified signature of version 6.2.0")
    );
    let (chart, ready) = settled_chart(&controllers, &charts, "oci-wrong-key").await;
    assert_eq!(
        (ready.status, ready.reason.as_str()),
        (ConditionStatus::False, "VerificationError"),
        "{}",
        ready.message
    );
    assert!(chart.status.unwrap().artifact.is_none());

    // Its GitRepository may still be fetching when the chart is first reconciled ("no artifact
    // available"); the chart is woken again by the artifact, so wait past that transient state.
    let (chart, ready) = eventually(&controllers, "HelmChart git is reconciled with its source's artifact", || async {
        let obj = charts.get("git").await.ok()?;
        let ready = decided(obj.status.as_ref()?.conditions.as_deref(), obj.metadata.generation)?;
        (!ready.message.starts_with("no artifact available")).then_some((obj, ready))
    })
    .await;
    assert_eq!(ready.status, ConditionStatus::True, "{}", ready.message);
    let version = format!("1.0.0+{}", &commit[..12]);
    assert_eq!(
        ready.message,
        format!(
            "packaged 'app' chart with version '{version}' and merged values files [charts/app/values.yaml charts/app/values-prod.yaml]"
        )
    );
    let status = chart.status.unwrap();
    assert_eq!(status.observed_source_artifact_revision, Some(format!("main@sha1:{commit}")));
    let artifact = status.artifact.unwrap();
    assert_eq!(artifact.revision, version);
    let package = fetch_bytes(&artifact.url).await;
    assert_eq!(weir_helm::chart::load_archive(&package).unwrap().metadata.version, version);

    // A new commit: once the GitRepository has it, the HelmChart follows without being asked.
    let second = git.commit(&[("charts/app/Chart.yaml", "apiVersion: v2\nname: app\nversion: 1.1.0\n")], "bump");
    git.push("main");
    let patch = serde_json::json!({ "metadata": { "annotations": { "reconcile.fluxcd.io/requestedAt": "bump" } } });
    gits.patch("charts", &kube::api::PatchParams::default(), &kube::api::Patch::Merge(&patch)).await.unwrap();
    let expected = format!("1.1.0+{}", &second[..12]);
    eventually(&controllers, "the HelmChart follows its GitRepository", || async {
        let chart = charts.get("git").await.ok()?;
        (chart.status?.artifact?.revision == expected).then_some(())
    })
    .await;

    let (chart, ready) = settled_chart(&controllers, &charts, "missing").await;
    assert_eq!(
        (ready.status, ready.reason.as_str()),
        (ConditionStatus::False, "ValuesFilesError"),
        "{}",
        ready.message
    );
    assert!(ready.message.contains("missing.yaml"));
    assert!(chart.status.unwrap().artifact.is_none());
}

/// Files under `root` as (relative path, content).
fn walk(root: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let relative = path.strip_prefix(root).unwrap().display().to_string();
                out.push((relative, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// Pushes a chart as `helm push` does: Helm's config and chart layer media types.
async fn push_helm_chart(client: &source_controller::oci::RegistryClient, tag: &str, tgz: Vec<u8>) -> String {
    let config = b"{\"name\":\"podinfo\",\"version\":\"6.2.0\",\"apiVersion\":\"v2\"}".to_vec();
    let config_len = config.len() as i64;
    let config_digest = client.push_blob(config).await.unwrap();
    let len = tgz.len() as i64;
    let layer_digest = client.push_blob(tgz).await.unwrap();
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(OCI_MANIFEST.into()),
        artifact_type: None,
        config: Some(Descriptor {
            media_type: "application/vnd.cncf.helm.config.v1+json".into(),
            digest: config_digest,
            size: config_len,
            annotations: None,
        }),
        layers: vec![Descriptor {
            media_type: "application/vnd.cncf.helm.chart.content.v1.tar+gzip".into(),
            digest: layer_digest,
            size: len,
            annotations: None,
        }],
        manifests: None,
        annotations: None,
    };
    client.push_manifest(tag, OCI_MANIFEST, serde_json::to_vec(&manifest).unwrap()).await.unwrap()
}
