//! `weir install` against a real API server: every component lands, and running it again changes
//! nothing and still succeeds.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Service, ServiceAccount};
use k8s_openapi::api::rbac::v1::ClusterRole;
use kube::api::{Api, ListParams};
use weir_testenv::{TestEnv, binary_path};

const CONTROLLERS: [&str; 4] =
    ["source-controller", "kustomize-controller", "helm-controller", "notification-controller"];

fn weir(env: &TestEnv, args: &[&str]) -> std::process::Output {
    std::process::Command::new(binary_path("weir"))
        .args(args)
        .arg("--kubeconfig")
        .arg(env.kubeconfig_path())
        .output()
        .expect("weir runs")
}

#[tokio::test]
async fn install_applies_every_component_and_is_idempotent() {
    let env = TestEnv::shared().await;
    let ns = format!("weir-install-{}", std::process::id());

    for round in ["first", "second"] {
        let out = weir(env, &["install", "--namespace", &ns, "--timeout", "60s"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{round} weir install failed:\n{stderr}");
        assert!(stderr.contains("Deployment/source-controller applied"), "{round} run:\n{stderr}");
    }

    let client = env.client();
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns);
    let names: Vec<String> = deployments
        .list(&ListParams::default())
        .await
        .expect("list")
        .items
        .into_iter()
        .filter_map(|d| d.metadata.name)
        .collect();
    for c in CONTROLLERS {
        assert!(names.iter().any(|n| n == c), "no Deployment {c} in {names:?}");
        let sa: Api<ServiceAccount> = Api::namespaced(client.clone(), &ns);
        sa.get(c).await.unwrap_or_else(|e| panic!("ServiceAccount {c}: {e}"));
        let roles: Api<ClusterRole> = Api::all(client.clone());
        let role = roles.get(&format!("weir-{c}-{ns}")).await.unwrap_or_else(|e| panic!("ClusterRole of {c}: {e}"));
        assert!(!role.rules.unwrap_or_default().is_empty(), "ClusterRole of {c} has no rules");
    }
    let services: Api<Service> = Api::namespaced(client, &ns);
    for s in ["source-controller", "notification-controller", "webhook-receiver"] {
        let svc = services.get(s).await.unwrap_or_else(|e| panic!("Service {s}: {e}"));
        let port = &svc.spec.and_then(|s| s.ports).unwrap_or_default()[0];
        assert_eq!(port.port, 80, "Service {s} serves on port 80");
    }
}

#[test]
fn export_prints_valid_yaml_for_every_object_without_a_cluster() {
    let out = std::process::Command::new(binary_path("weir"))
        .args(["install", "--export", "--components", "source-controller,kustomize-controller"])
        .env_remove("KUBECONFIG")
        .output()
        .expect("weir runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(&text).expect("multi-document YAML");
    let kinds: Vec<&str> = docs.iter().filter_map(|d| d["kind"].as_str()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "CustomResourceDefinition").count(), 11, "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| **k == "Deployment").count(), 2, "{kinds:?}");
    assert!(!kinds.contains(&"Service") || docs.iter().any(|d| d["metadata"]["name"] == "source-controller"));
}

#[test]
fn version_prints_the_client_version() {
    let out = std::process::Command::new(binary_path("weir")).arg("--version").output().expect("weir runs");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), format!("weir {}", env!("CARGO_PKG_VERSION")));
}
