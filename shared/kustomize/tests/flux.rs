//! `weir_kustomize::flux`: Flux's Kustomization build on artifacts written to temporary
//! directories. The spec fields that Flux writes into the kustomization file are checked against
//! `kubectl kustomize` run on the same tree with that file (when kubectl is installed); postBuild
//! substitution and commonMetadata, which Flux does itself, against expected objects.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use weir_api::kustomize::KustomizationSpec;
use weir_kustomize::flux::{self, FluxBuildError, FluxBuildOptions};
use weir_kustomize::parse_documents;

fn spec(fields: Value) -> KustomizationSpec {
    let mut base = json!({"interval": "1m", "prune": true, "sourceRef": {"kind": "GitRepository", "name": "repo"}});
    base.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
    serde_json::from_value(base).unwrap()
}

fn artifact(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, content) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    dir
}

fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn kubectl_available() -> bool {
    Command::new("kubectl").args(["version", "--client"]).output().is_ok_and(|o| o.status.success())
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Builds with `flux::build` and, where kubectl is installed, compares with `kubectl kustomize`
/// on a copy of the artifact holding the kustomization file Flux would write.
fn build_and_compare(root: &Path, spec: &KustomizationSpec) -> Vec<Value> {
    let ours = flux::build(root, spec, &BTreeMap::new()).unwrap();
    if !kubectl_available() {
        eprintln!("kubectl not on PATH: flux build not compared with kubectl kustomize");
        return ours;
    }
    let copy = tempfile::tempdir().unwrap();
    copy_tree(root, copy.path());
    let (file, doc) = flux::kustomization_file(root, spec).unwrap();
    std::fs::write(copy.path().join(&file), Value::Object(doc).to_string()).unwrap();
    let out = Command::new("kubectl").arg("kustomize").arg(copy.path().join(file.parent().unwrap())).output().unwrap();
    assert!(out.status.success(), "kubectl kustomize failed: {}", String::from_utf8_lossy(&out.stderr));
    let theirs = parse_documents(&String::from_utf8_lossy(&out.stdout)).unwrap();
    assert_eq!(ours, theirs, "flux build differs from kubectl kustomize");
    ours
}

const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: fast\n";
const NS: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n";
const DEPLOY: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.25
        envFrom:
        - configMapRef: {name: settings}
      - name: cache
        image: redis:7
";

#[test]
fn generated_kustomization_with_namespace_prefix_and_suffix() {
    let dir = artifact(&[
        ("apps/cm.yaml", CM),
        ("apps/ns.yaml", NS),
        ("apps/web/deploy.yaml", DEPLOY),
        ("apps/notes.txt", "kind: not yaml"),
    ]);
    let spec = spec(json!({"path": "./apps", "targetNamespace": "prod", "namePrefix": "p-", "nameSuffix": "-s"}));
    let objects = build_and_compare(dir.path(), &spec);
    let names: Vec<(&str, &str)> =
        objects.iter().map(|o| (o["kind"].as_str().unwrap(), o["metadata"]["name"].as_str().unwrap())).collect();
    assert_eq!(names, [("Namespace", "prod"), ("ConfigMap", "p-settings-s"), ("Deployment", "p-web-s")]);
    assert_eq!(objects[2]["metadata"]["namespace"], "prod");
    assert_eq!(
        objects[2]["spec"]["template"]["spec"]["containers"][0]["envFrom"][0]["configMapRef"]["name"],
        "p-settings-s"
    );
    // The artifact is only read.
    assert!(!dir.path().join("apps/kustomization.yaml").exists());
    // As in Flux, a YAML file there that holds no Kubernetes object fails the build.
    std::fs::write(dir.path().join("apps/values.yaml"), "replicas: 2\n").unwrap();
    let err = flux::build(dir.path(), &spec, &BTreeMap::new()).unwrap_err().to_string();
    assert!(err.contains("apps/values.yaml") && err.contains("failed to decode Kubernetes YAML"), "{err}");
}

#[test]
fn spec_fields_replace_or_extend_the_artifacts_kustomization() {
    let dir = artifact(&[
        ("base/deploy.yaml", DEPLOY),
        ("base/cm.yaml", CM),
        (
            "base/kustomization.yaml",
            "resources: [deploy.yaml, cm.yaml]\nnamespace: base-ns\nnamePrefix: base-\nimages:\n- name: nginx\n  newTag: \"1.26\"\n- name: redis\n  newTag: \"7.2\"\npatches:\n- target: {kind: Deployment}\n  patch: |-\n    - op: add\n      path: /spec/replicas\n      value: 2\ncomponents: [../components/monitoring]\n",
        ),
        (
            "components/monitoring/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\ncommonAnnotations: {monitored: \"true\"}\n",
        ),
        (
            "components/debug/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n- target: {kind: ConfigMap}\n  patch: |-\n    - op: add\n      path: /data/debug\n      value: \"on\"\n",
        ),
    ]);
    let spec = spec(json!({
        "path": "base",
        "targetNamespace": "prod",
        "namePrefix": "flux-",
        "components": ["../components/debug"],
        "images": [{"name": "nginx", "newName": "mirror.example/nginx"}, {"name": "busybox", "newTag": "1"}],
        "patches": [
            {"patch": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 5\n"},
            {"patch": "- op: add\n  path: /data/patched\n  value: \"yes\"", "target": {"kind": "ConfigMap", "name": "settings"}},
        ],
    }));
    let objects = build_and_compare(dir.path(), &spec);
    let deploy = objects.iter().find(|o| o["kind"] == "Deployment").unwrap();
    let cm = objects.iter().find(|o| o["kind"] == "ConfigMap").unwrap();
    assert_eq!(deploy["metadata"]["name"], "flux-web", "namePrefix replaces the file's");
    assert_eq!(deploy["metadata"]["namespace"], "prod");
    assert_eq!(deploy["spec"]["replicas"], 5, "the spec's patches come after the file's");
    let containers = &deploy["spec"]["template"]["spec"]["containers"];
    assert_eq!(containers[0]["image"], "mirror.example/nginx:1.25", "the spec's image entry replaces the file's");
    assert_eq!(containers[1]["image"], "redis:7.2");
    assert_eq!(cm["data"]["patched"], "yes");
    assert_eq!(cm["data"]["debug"], "on", "components are appended, relative to the path");
    assert_eq!(cm["metadata"]["annotations"]["monitored"], "true");
}

#[test]
fn missing_components_fail_unless_ignored() {
    let dir = artifact(&[("app/cm.yaml", CM), ("app/kustomization.yaml", "resources: [cm.yaml]\n")]);
    let s = spec(json!({"path": "app", "components": ["../nope"]}));
    assert!(matches!(flux::build(dir.path(), &s, &BTreeMap::new()), Err(FluxBuildError::Kustomize(_))));
    let s = spec(json!({"path": "app", "components": ["../nope"], "ignoreMissingComponents": true}));
    assert_eq!(build_and_compare(dir.path(), &s).len(), 1);
    let s = spec(json!({"path": "app", "components": ["/abs"]}));
    let err = flux::build(dir.path(), &s, &BTreeMap::new()).unwrap_err();
    assert_eq!(err.to_string(), "component path '/abs' must be local and relative");
}

#[test]
fn build_metadata_from_the_spec_and_for_a_kustomization_without_resources() {
    let dir = artifact(&[
        ("gen/kustomization.yaml", "configMapGenerator:\n- name: flags\n  literals: [A=1]\n"),
        ("app/cm.yaml", CM),
        ("app/kustomization.yaml", "resources: [cm.yaml]\n"),
    ]);
    let objects = build_and_compare(dir.path(), &spec(json!({"path": "gen"})));
    assert!(objects[0]["metadata"]["annotations"]["config.kubernetes.io/origin"].is_string());
    let objects = build_and_compare(dir.path(), &spec(json!({"path": "app", "buildMetadata": ["originAnnotations"]})));
    assert_eq!(objects[0]["metadata"]["annotations"]["config.kubernetes.io/origin"], "path: cm.yaml\n");
}

#[test]
fn paths_are_confined_and_must_exist() {
    let dir = artifact(&[("cm.yaml", CM)]);
    assert_eq!(flux::build(dir.path(), &spec(json!({})), &BTreeMap::new()).unwrap().len(), 1);
    let err = flux::build(dir.path(), &spec(json!({"path": "../.."})), &BTreeMap::new()).unwrap_err();
    assert!(matches!(err, FluxBuildError::OutsideRoot(_)), "{err}");
    let err = flux::build(dir.path(), &spec(json!({"path": "nope"})), &BTreeMap::new()).unwrap_err();
    assert_eq!(err.to_string(), "kustomization path not found: 'nope'");
    let dir = artifact(&[("bad.yaml", "kind: ConfigMap\nmetadata: [\n")]);
    let err = flux::build(dir.path(), &spec(json!({})), &BTreeMap::new()).unwrap_err();
    assert!(err.to_string().contains("failed to decode Kubernetes YAML"), "{err}");
    let dir = artifact(&[("empty/README.md", "nothing here")]);
    assert!(flux::build(dir.path(), &spec(json!({"path": "empty"})), &BTreeMap::new()).unwrap().is_empty());
}

const SUBST_DEPLOY: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-${env}
  namespace: ${namespace:=apps}
  annotations:
    owner: "${owner}"
    literal: $${not_a_var}
spec:
  replicas: ${replicas}
  paused: ${paused:=false}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:${tag:-latest}
        env:
        - name: PORT
          value: "${port}"
        - name: REGION
          value: ${region^^}
        args:
        - |
          --flag=${env}
"#;

#[test]
fn post_build_substitution_forms_and_types() {
    let dir = artifact(&[("deploy.yaml", SUBST_DEPLOY)]);
    let s = spec(json!({"postBuild": {"substitute": {}}}));
    let v = vars(&[("env", "prod"), ("owner", "42"), ("replicas", "3"), ("port", "8080"), ("region", "eu-west")]);
    let objects = flux::build(dir.path(), &s, &v).unwrap();
    let d = &objects[0];
    assert_eq!(d["metadata"]["name"], "web-prod");
    assert_eq!(d["metadata"]["namespace"], "apps", ":= default");
    assert_eq!(d["metadata"]["annotations"]["owner"], "42", "quoted: stays a string");
    assert_eq!(d["metadata"]["annotations"]["literal"], "${not_a_var}", "$$ escapes");
    assert_eq!(d["spec"]["replicas"], 3, "plain: becomes a number");
    assert_eq!(d["spec"]["paused"], false, "plain default: becomes a boolean");
    let container = &d["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["image"], "nginx:latest");
    assert_eq!(container["env"][0]["value"], "8080");
    assert_eq!(container["env"][1]["value"], "EU-WEST");
    assert_eq!(container["args"][0], "--flag=prod\n", "block scalars stay strings");
}

#[test]
fn substitution_runs_only_when_flux_would() {
    let dir = artifact(&[(
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: ${x:=dflt}\n  b: \"$$\"\n",
    )]);
    let v = vars(&[("y", "1")]);
    // No postBuild: variables are not applied.
    let objects = flux::build(dir.path(), &spec(json!({})), &v).unwrap();
    assert_eq!(objects[0]["data"], json!({"a": "${x:=dflt}", "b": "$$"}));
    // postBuild without variables: nothing to substitute with (strategy WithVariables).
    let objects = flux::build(dir.path(), &spec(json!({"postBuild": {}})), &BTreeMap::new()).unwrap();
    assert_eq!(objects[0]["data"], json!({"a": "${x:=dflt}", "b": "$$"}));
    // Always: substitution runs with no variables at all.
    let always = spec(json!({"postBuild": {"substituteStrategy": "Always"}}));
    let objects = flux::build(dir.path(), &always, &BTreeMap::new()).unwrap();
    assert_eq!(objects[0]["data"], json!({"a": "dflt", "b": "$"}));
}

#[test]
fn substitution_can_be_disabled_per_object() {
    let dir = artifact(&[
        (
            "a.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\ndata:\n  v: ${x}\n",
        ),
        (
            "b.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  annotations:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\ndata:\n  v: ${x}\n",
        ),
        ("c.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  v: ${x}\n"),
    ]);
    let objects = flux::build(dir.path(), &spec(json!({"postBuild": {}})), &vars(&[("x", "val")])).unwrap();
    let values: Vec<&Value> = objects.iter().map(|o| &o["data"]["v"]).collect();
    assert_eq!(values, [&json!("${x}"), &json!("${x}"), &json!("val")]);
}

#[test]
fn strict_substitution_and_bad_variable_names() {
    let dir = artifact(&[(
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: n\ndata:\n  a: ${missing}\n  b: ${set}\n",
    )]);
    let s = spec(json!({"postBuild": {}}));
    let v = vars(&[("set", "x")]);
    let objects = flux::build(dir.path(), &s, &v).unwrap();
    assert_eq!(objects[0]["data"], json!({"a": null, "b": "x"}), "undefined: empty when not strict");
    let strict = FluxBuildOptions { strict_substitution: true };
    let err = flux::build_with_options(dir.path(), &s, &v, strict).unwrap_err();
    assert_eq!(
        err.to_string(),
        "postBuild substitution failed: ConfigMap/n/c: variable substitution failed: variable not set (strict mode): \"missing\""
    );
    let err = flux::build(dir.path(), &s, &vars(&[("my-var", "x")])).unwrap_err();
    assert!(err.to_string().contains("'my-var' var name is invalid"), "{err}");
    let dir = artifact(&[("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: ${oops\n")]);
    let err = flux::build(dir.path(), &s, &v).unwrap_err();
    assert!(err.to_string().contains("missing closing brace"), "{err}");
}

#[test]
fn common_metadata_is_set_after_substitution_on_metadata_only() {
    let dir = artifact(&[("deploy.yaml", DEPLOY), ("cm.yaml", CM)]);
    let s = spec(json!({
        "postBuild": {},
        "commonMetadata": {"labels": {"app": "override", "team": "${team}"}, "annotations": {"note": "x"}},
    }));
    let objects = flux::build(dir.path(), &s, &vars(&[("team", "a")])).unwrap();
    for object in &objects {
        assert_eq!(object["metadata"]["labels"]["app"], "override");
        assert_eq!(object["metadata"]["labels"]["team"], "${team}", "set after substitution");
        assert_eq!(object["metadata"]["annotations"]["note"], "x");
    }
    let deploy = objects.iter().find(|o| o["kind"] == "Deployment").unwrap();
    assert_eq!(deploy["spec"]["selector"]["matchLabels"]["app"], "web");
    assert_eq!(deploy["spec"]["template"]["metadata"]["labels"]["app"], "web");
}
