//! OCIRepository end to end: the source-controller binary against a real API server, pulling
//! Flux artifacts from Debian's docker-registry on loopback (anonymous and with htpasswd auth),
//! verifying cosign key signatures, and serving the artifacts, which weir-runtime's consumer
//! downloads, verifies and unpacks.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod oci_support;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, Patch, PatchParams, PostParams};
use source_controller::oci::Credentials;
use source_controller::oci::manifest::{ANNOTATION_REVISION, ANNOTATION_SOURCE};
use weir_api::conditions::{ConditionStatus, types};
use weir_api::meta::LocalObjectReference;
use weir_api::source::oci_repository::{
    OCILayerOperation, OCILayerSelector, OCIRepositoryRef, OCIRepositoryVerification,
};
use weir_api::source::{OCIRepository, OCIRepositorySpec};
use weir_testenv::TestEnv;
use weir_testenv::controllers::Controllers;

use oci_support::{
    Registry, condition, cosign_sign, create, public_pem, push_artifact, ready_true, secret, settled, signing_key,
    tar_gz, traversal_tar_gz, unpack,
};

fn spec(url: &str, reference: OCIRepositoryRef) -> OCIRepositorySpec {
    OCIRepositorySpec { url: url.into(), interval: "10m".into(), reference: Some(reference), ..Default::default() }
}

async fn request_reconcile(api: &Api<OCIRepository>, name: &str, token: &str) {
    let patch = serde_json::json!({ "metadata": { "annotations": { "reconcile.fluxcd.io/requestedAt": token } } });
    api.patch(name, &PatchParams::default(), &Patch::Merge(&patch)).await.unwrap();
}

#[tokio::test]
async fn oci_repositories_become_artifacts() {
    let env = TestEnv::shared().await;
    let namespace = env.namespace("ocirepo").await;
    let client = env.client();
    let registry = Registry::start(None);
    let app = registry.client("manifests/app");

    let annotations = [(ANNOTATION_SOURCE, "https://github.com/weir/app"), (ANNOTATION_REVISION, "main@sha1:abc")];
    let v1 = tar_gz(&[("deploy/app.yaml", "version: 1.0.0\n"), ("logo.png", "png"), ("secret.yaml", "x")]);
    let d1 = push_artifact(&app, "1.0.0", v1.clone(), vec![], &annotations).await;
    push_artifact(&app, "latest", v1.clone(), vec![], &annotations).await;
    let v11 = tar_gz(&[("deploy/app.yaml", "version: 1.1.0\n")]);
    let d11 = push_artifact(&app, "1.1.0", v11, vec![("application/x-extra".into(), b"extra".to_vec())], &[]).await;
    let rc = tar_gz(&[("deploy/app.yaml", "version: 2.0.0-rc.1\n")]);
    push_artifact(&app, "2.0.0-rc.1", rc, vec![], &[]).await;

    // 64 KiB: far above the artifacts here but the "big" one.
    let limit = ["--artifact-max-size=65536".to_string()];
    let controllers = Controllers::start(env, &namespace, &["source-controller"], &limit).unwrap();
    let api: Api<OCIRepository> = Api::namespaced(client.clone(), &namespace);
    let url = registry.url("manifests/app");

    // A tag: Flux's revision, file name, metadata and status URL; images are kept (no default
    // ignore rules for OCI), spec.ignore applies.
    let mut tag = spec(&url, OCIRepositoryRef { tag: Some("latest".into()), ..Default::default() });
    tag.ignore = Some("/secret.yaml\n".into());
    create(&api, "tag", tag).await;
    let obj = settled(&controllers, &api, "tag", None).await;
    assert!(ready_true(&obj), "{:?}", obj.status);
    let status = obj.status.clone().unwrap();
    let artifact = status.artifact.clone().unwrap();
    assert_eq!(artifact.revision, format!("latest@{d1}"));
    assert_eq!(artifact.path, format!("ocirepository/{namespace}/tag/{d1}.tar.gz"));
    let metadata = artifact.metadata.clone().unwrap();
    assert_eq!(metadata[ANNOTATION_SOURCE], "https://github.com/weir/app");
    assert_eq!(metadata[ANNOTATION_REVISION], "main@sha1:abc");
    assert_eq!(status.observed_ignore.as_deref(), Some("/secret.yaml\n"));
    assert!(status.url.unwrap().ends_with(&format!("ocirepository/{namespace}/tag/latest.tar.gz")));
    assert_eq!(condition(&obj, types::READY).unwrap().message, format!("stored artifact for digest 'latest@{d1}'"));
    let dir = unpack(&obj).await;
    assert_eq!(std::fs::read_to_string(dir.path().join("deploy/app.yaml")).unwrap(), "version: 1.0.0\n");
    assert!(dir.path().join("logo.png").is_file());
    assert!(!dir.path().join("secret.yaml").exists());

    // An unchanged digest: no new artifact (the HEAD check), the same file and time.
    request_reconcile(&api, "tag", "again").await;
    let again = settled(&controllers, &api, "tag", Some("again")).await;
    assert_eq!(again.status.as_ref().unwrap().artifact, Some(artifact.clone()));
    // A new digest behind the tag: a new artifact.
    let v2 = tar_gz(&[("deploy/app.yaml", "version: 2.0.0\n")]);
    let d2 = push_artifact(&app, "latest", v2, vec![], &[]).await;
    request_reconcile(&api, "tag", "moved").await;
    let moved = settled(&controllers, &api, "tag", Some("moved")).await;
    assert_eq!(moved.status.as_ref().unwrap().artifact.as_ref().unwrap().revision, format!("latest@{d2}"));
    assert_eq!(
        std::fs::read_to_string(unpack(&moved).await.path().join("deploy/app.yaml")).unwrap(),
        "version: 2.0.0\n"
    );

    // semver: the highest stable version (not the release candidate); with a filter, among
    // the tags it matches.
    create(&api, "semver", spec(&url, OCIRepositoryRef { semver: Some(">=1.0.0".into()), ..Default::default() })).await;
    let filtered = OCIRepositoryRef {
        semver: Some(">=1.0.0".into()),
        semver_filter: Some(r"^1\.0\.".into()),
        tag: Some("1.0.0".into()),
        ..Default::default()
    };
    create(&api, "semver-filter", spec(&url, filtered)).await;
    // A digest wins over the tag.
    let by_digest = OCIRepositoryRef { digest: Some(d1.clone()), tag: Some("1.1.0".into()), ..Default::default() };
    create(&api, "digest", spec(&url, by_digest)).await;
    for (name, revision) in
        [("semver", format!("1.1.0@{d11}")), ("semver-filter", format!("1.0.0@{d1}")), ("digest", d1.clone())]
    {
        let obj = settled(&controllers, &api, name, None).await;
        assert!(ready_true(&obj), "{name}: {:?}", obj.status);
        assert_eq!(obj.status.unwrap().artifact.unwrap().revision, revision, "{name}");
    }

    // Layer selection: a media type, copied as it is.
    let mut copy = spec(&url, OCIRepositoryRef { tag: Some("1.1.0".into()), ..Default::default() });
    copy.layer_selector = Some(OCILayerSelector {
        media_type: Some("application/x-extra".into()),
        operation: Some(OCILayerOperation::Copy),
    });
    create(&api, "copy", copy).await;
    let obj = settled(&controllers, &api, "copy", None).await;
    assert!(ready_true(&obj), "{:?}", obj.status);
    let status = obj.status.unwrap();
    let artifact = status.artifact.unwrap();
    assert_eq!(artifact.digest, source_controller::oci::manifest::sha256_digest(b"extra"));
    assert_eq!(status.observed_layer_selector.unwrap().operation, Some(OCILayerOperation::Copy));

    // Bad input: a missing tag, a layer escaping the root and one that expands past
    // --artifact-max-size fail with Flux's reasons.
    create(&api, "missing", spec(&url, OCIRepositoryRef { tag: Some("nope".into()), ..Default::default() })).await;
    push_artifact(&app, "evil", traversal_tar_gz(), vec![], &[]).await;
    create(&api, "evil", spec(&url, OCIRepositoryRef { tag: Some("evil".into()), ..Default::default() })).await;
    let big = "x".repeat(100 << 10);
    push_artifact(&app, "big", tar_gz(&[("deploy/app.yaml", big.as_str())]), vec![], &[]).await;
    create(&api, "big", spec(&url, OCIRepositoryRef { tag: Some("big".into()), ..Default::default() })).await;
    let failures = [
        ("missing", "OCIArtifactPullFailed"),
        ("evil", "OCIArtifactLayerOperationFailed"),
        ("big", "OCIArtifactLayerOperationFailed"),
    ];
    for (name, reason) in failures {
        let obj = settled(&controllers, &api, name, None).await;
        let ready = condition(&obj, types::READY).unwrap();
        assert_eq!(
            (ready.status, ready.reason.as_str()),
            (ConditionStatus::False, reason),
            "{name}: {}",
            ready.message
        );
        assert_eq!(condition(&obj, types::FETCH_FAILED).unwrap().status, ConditionStatus::True);
        if name == "big" {
            assert!(
                ready.message.contains("larger than the limit of 64 KiB (--artifact-max-size)"),
                "{}",
                ready.message
            );
        }
        assert!(obj.status.unwrap().artifact.is_none(), "{name}");
    }
}

#[tokio::test]
async fn registry_credentials_and_cosign_signatures() {
    let env = TestEnv::shared().await;
    let namespace = env.namespace("ocirepo-auth").await;
    let client = env.client();
    let credentials = Credentials { username: "flux".into(), password: "correct-horse".into() };
    let registry = Registry::start(Some(credentials));
    let app = registry.client("app");
    let layer = tar_gz(&[("app.yaml", "signed: true\n")]);
    let signed = push_artifact(&app, "signed", layer.clone(), vec![], &[]).await;
    cosign_sign(&app, &signed, &signing_key(1)).await;
    let wrong = push_artifact(&app, "wrong", tar_gz(&[("app.yaml", "wrong\n")]), vec![], &[]).await;
    cosign_sign(&app, &wrong, &signing_key(2)).await;
    push_artifact(&app, "unsigned", tar_gz(&[("app.yaml", "unsigned\n")]), vec![], &[]).await;

    let secrets: Api<Secret> = Api::namespaced(client.clone(), &namespace);
    let config = format!(r#"{{"auths":{{"{}":{{"username":"flux","password":"correct-horse"}}}}}}"#, registry.addr);
    let pull = secret("pull", Some("kubernetes.io/dockerconfigjson"), &[(".dockerconfigjson", &config)]);
    secrets.create(&PostParams::default(), &pull).await.unwrap();
    let keys = secret("cosign-keys", None, &[("cosign.pub", &public_pem(&signing_key(1)))]);
    secrets.create(&PostParams::default(), &keys).await.unwrap();

    let controllers = Controllers::start(env, &namespace, &["source-controller"], &[]).unwrap();
    let api: Api<OCIRepository> = Api::namespaced(client.clone(), &namespace);
    let url = registry.url("app");
    let with = |tag: &str, verify: bool| {
        let mut spec = spec(&url, OCIRepositoryRef { tag: Some(tag.into()), ..Default::default() });
        spec.secret_ref = Some(LocalObjectReference { name: "pull".into() });
        if verify {
            spec.verify = Some(OCIRepositoryVerification {
                secret_ref: Some(LocalObjectReference { name: "cosign-keys".into() }),
                ..Default::default()
            });
        }
        spec
    };

    // Without credentials the registry refuses.
    create(&api, "anonymous", spec(&url, OCIRepositoryRef { tag: Some("signed".into()), ..Default::default() })).await;
    let obj = settled(&controllers, &api, "anonymous", None).await;
    let ready = condition(&obj, types::READY).unwrap();
    assert_eq!(
        (ready.status, ready.reason.as_str()),
        (ConditionStatus::False, "AuthenticationFailed"),
        "{}",
        ready.message
    );
    assert!(!ready.message.contains("correct-horse"));

    // With the dockerconfigjson Secret and the right key: verified and published.
    create(&api, "signed", with("signed", true)).await;
    let obj = settled(&controllers, &api, "signed", None).await;
    assert!(ready_true(&obj), "{:?}", obj.status);
    let verified = condition(&obj, types::SOURCE_VERIFIED).unwrap();
    assert_eq!(verified.status, ConditionStatus::True);
    assert_eq!(verified.message, format!("verified signature of revision signed@{signed}"));
    let dir = unpack(&obj).await;
    assert_eq!(std::fs::read_to_string(dir.path().join("app.yaml")).unwrap(), "signed: true\n");

    // Signed with another key, or not signed: SourceVerified False and nothing published.
    for name in ["wrong", "unsigned"] {
        create(&api, name, with(name, true)).await;
        let obj = settled(&controllers, &api, name, None).await;
        let verified = condition(&obj, types::SOURCE_VERIFIED).unwrap();
        assert_eq!((verified.status, verified.reason.as_str()), (ConditionStatus::False, "VerificationError"));
        // Flux's message, whether unsigned or signed by another key.
        let expected = format!(
            "failed to verify the signature using provider 'cosign': no matching signatures were found for '{}/app:{name}'",
            registry.addr
        );
        assert_eq!(verified.message, expected);
        assert!(!ready_true(&obj));
        assert!(obj.status.unwrap().artifact.is_none(), "{name}");
    }
}
