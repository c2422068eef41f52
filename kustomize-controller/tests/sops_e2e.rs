//! `spec.decryption` end to end on a real API server, with the source-controller and
//! kustomize-controller binaries: a Git repository holding an age-encrypted Secret manifest and a
//! secretGenerator over an encrypted .env (fixtures of `shared/sops/testdata/generate.py`), keys
//! from the Kustomization's Secret or the controller-wide `--sops-age-secret`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use weir_api::conditions::ConditionStatus;
use weir_api::kustomize::Kustomization;
use weir_testenv::TestEnv;

use common::support::{GitHttpServer, Repo, ServerAuth};
use common::{Controllers, create_git_source, create_kustomization, eventually, ready_with, request_reconcile};

const SECRET: &str = include_str!("../../shared/sops/testdata/e2e/secret.yaml");
const ENV: &str = include_str!("../../shared/sops/testdata/e2e/app.env");
const AGE_KEY: &str = include_str!("../../shared/sops/testdata/keys/age.agekey");
const WRONG_KEY: &str = include_str!("../../shared/sops/testdata/keys/wrong.agekey");
const KUSTOMIZATION: &str = "resources: [secret.yaml]\nsecretGenerator:\n- name: app\n  envs: [app.env]\n";

fn value(secret: &Secret, key: &str) -> String {
    let data = secret.data.as_ref().and_then(|d| d.get(key)).unwrap_or_else(|| panic!("{key} in {secret:?}"));
    String::from_utf8(data.0.clone()).unwrap()
}

async fn key_secret(secrets: &Api<Secret>, name: &str, entry: &str, key: &str) {
    let secret: Secret = serde_json::from_value(serde_json::json!({
        "metadata": {"name": name}, "stringData": {entry: key}
    }))
    .unwrap();
    secrets.create(&PostParams::default(), &secret).await.unwrap();
}

fn decryption(secret: &str) -> serde_json::Value {
    serde_json::json!({"provider": "sops", "secretRef": {"name": secret}})
}

#[tokio::test]
async fn sops_secrets_and_generator_sources_are_decrypted() {
    let env = TestEnv::shared().await;
    let namespace = env.namespace("ks-sops").await;
    let client = env.client();
    let repo = Repo::new("app");
    repo.commit(
        &[("apps/secret.yaml", SECRET), ("apps/app.env", ENV), ("apps/kustomization.yaml", KUSTOMIZATION)],
        "sops",
    );
    repo.push("main");
    let server = GitHttpServer::start(&repo.root, ServerAuth::None);
    // The controller-wide age keys, for a Kustomization without a secretRef.
    let controllers = Controllers::start_with(env, &namespace, &["--sops-age-secret=sops-age"]);
    create_git_source(&client, &namespace, "app", &server.url("app")).await;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &namespace);
    key_secret(&secrets, "sops-age", "identity.agekey", AGE_KEY).await;
    key_secret(&secrets, "sops-wrong", "identity.agekey", WRONG_KEY).await;

    let kustomizations: Api<Kustomization> = Api::namespaced(client.clone(), &namespace);
    let with = |prefix: &str, decryption: Option<serde_json::Value>| {
        let mut spec = serde_json::json!({"path": "./apps"});
        if !prefix.is_empty() {
            spec["namePrefix"] = prefix.into();
        }
        if let Some(decryption) = decryption {
            spec["decryption"] = decryption;
        }
        spec
    };
    let mut decrypted = with("", Some(decryption("sops-age")));
    decrypted["postBuild"] = serde_json::json!({"substitute": {"DB_HOST": "db.local"}});
    create_kustomization(&kustomizations, "decrypted", decrypted).await;
    create_kustomization(&kustomizations, "wrong-key", with("wrong-", Some(decryption("sops-wrong")))).await;
    create_kustomization(&kustomizations, "no-secret", with("absent-", Some(decryption("absent")))).await;
    create_kustomization(&kustomizations, "no-decryption", with("plain-", None)).await;
    let global = with("global-", Some(serde_json::json!({"provider": "sops"})));
    create_kustomization(&kustomizations, "global-keys", global).await;

    // The right key: both Secrets hold the plaintext.
    ready_with(&controllers, &kustomizations, "decrypted", ConditionStatus::True, "ReconciliationSucceeded").await;
    let db = secrets.get("db").await.unwrap();
    assert_eq!(value(&db, "password"), "s3cr3t-from-sops");
    assert_eq!(value(&db, "user"), "admin");
    assert_eq!(value(&db, "token"), "token-bytes");
    // Decrypted before postBuild substitution, as Flux does.
    assert_eq!(value(&db, "url"), "postgres://db.local/app");
    let generated = secrets.list(&ListParams::default()).await.unwrap();
    let app = generated.items.iter().find(|s| s.name_any().starts_with("app-")).expect("the generated Secret");
    assert_eq!(value(app, "API_TOKEN"), "token-from-dotenv");
    assert_eq!(value(app, "MODE"), "production");

    ready_with(&controllers, &kustomizations, "global-keys", ConditionStatus::True, "ReconciliationSucceeded").await;
    assert_eq!(value(&secrets.get("global-db").await.unwrap(), "password"), "s3cr3t-from-sops");

    // A wrong key: BuildFailed naming the recipient, nothing applied.
    let message = ready_with(&controllers, &kustomizations, "wrong-key", ConditionStatus::False, "BuildFailed").await;
    let recipient = AGE_KEY.lines().next().unwrap().trim_start_matches("# public key: ");
    assert!(message.contains("none of the decryption keys can recover the data key"), "{message}");
    assert!(message.contains(recipient), "{message}");
    assert!(!message.contains("s3cr3t") && !message.contains("AGE-SECRET-KEY"), "{message}");
    let message = ready_with(&controllers, &kustomizations, "no-secret", ConditionStatus::False, "BuildFailed").await;
    assert_eq!(message, "secrets \"absent\" not found");
    let message =
        ready_with(&controllers, &kustomizations, "no-decryption", ConditionStatus::False, "ReconciliationFailed")
            .await;
    assert!(message.contains("is SOPS encrypted, configuring decryption is required"), "{message}");
    for name in ["wrong-db", "absent-db", "plain-db"] {
        assert!(secrets.get_opt(name).await.unwrap().is_none(), "{name} was applied");
    }

    // A rotated key is read again rather than the last build reused: the wrong key now fails.
    let rotated = serde_json::json!({"data": {"identity.agekey": ByteString(WRONG_KEY.as_bytes().to_vec())}});
    secrets.patch("sops-age", &PatchParams::default(), &Patch::Merge(&rotated)).await.unwrap();
    request_reconcile(&kustomizations, "decrypted", "rotated").await;
    eventually(&controllers, "the rotated key fails the build", || async {
        let ks = kustomizations.get("decrypted").await.ok()?;
        let (status, reason, message) = common::ready(&ks)?;
        let handled = ks.status.as_ref()?.last_handled_reconcile_at.as_deref() == Some("rotated");
        (handled && status == ConditionStatus::False && reason == "BuildFailed").then_some(message)
    })
    .await;
}
