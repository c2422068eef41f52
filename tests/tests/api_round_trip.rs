//! Every CRD installs on a real kube-apiserver, and an object of every kind keeps every field
//! through create, server-side-applied status and get.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use weir_e2e::fixtures;
use weir_testenv::TestEnv;

#[tokio::test]
async fn every_crd_is_established_and_served() {
    let env = TestEnv::shared().await;
    let api: Api<CustomResourceDefinition> = Api::all(env.client());
    let expected = weir_api::crds::all();
    assert!(expected.len() >= 11, "expected the 11 Flux kinds, weir-api generates {}", expected.len());
    for crd in expected {
        let name = crd.metadata.name.clone().unwrap_or_default();
        let live = api.get(&name).await.unwrap_or_else(|e| panic!("CRD {name} is not installed: {e}"));
        let established = live
            .status
            .and_then(|s| s.conditions)
            .unwrap_or_default()
            .iter()
            .any(|c| c.type_ == "Established" && c.status == "True");
        assert!(established, "CRD {name} is not Established");
        let served: Vec<String> = live.spec.versions.iter().filter(|v| v.served).map(|v| v.name.clone()).collect();
        let want: Vec<String> = crd.spec.versions.iter().filter(|v| v.served).map(|v| v.name.clone()).collect();
        assert_eq!(served, want, "served versions of {name}");
    }
}

#[tokio::test]
async fn every_kind_round_trips_with_all_fields() {
    let env = TestEnv::shared().await;
    let ns = env.namespace("round-trip").await;
    let all = fixtures::all();
    let kinds: std::collections::BTreeSet<String> =
        all.iter().map(|f| fixtures::kind_of(&f.object).to_string()).collect();
    let crd_kinds: std::collections::BTreeSet<String> =
        weir_api::crds::all().iter().map(|c| c.spec.names.kind.clone()).collect();
    assert_eq!(kinds, crd_kinds, "every kind needs at least one fixture");

    for (i, fixture) in all.iter().enumerate() {
        let kind = fixtures::kind_of(&fixture.object);
        let ar = fixtures::api_resource(kind);
        let api: Api<DynamicObject> = Api::namespaced_with(env.client(), &ns, &ar);
        let name = format!("rt-{i}");

        let mut object = fixture.object.clone();
        object["metadata"] = json!({ "name": name, "namespace": ns });
        let status = object.as_object_mut().and_then(|o| o.remove("status"));
        let create: DynamicObject = serde_json::from_value(object.clone()).expect("fixture is an object");
        api.create(&PostParams::default(), &create)
            .await
            .unwrap_or_else(|e| panic!("{}: creating {kind} failed: {e}", fixture.file));

        if let Some(status) = &status {
            let patch = json!({ "apiVersion": ar.api_version, "kind": kind, "status": status });
            api.patch_status(&name, &PatchParams::apply("weir-e2e").force(), &Patch::Apply(&patch))
                .await
                .unwrap_or_else(|e| panic!("{}: writing the status of {kind} failed: {e}", fixture.file));
        }

        let got = serde_json::to_value(api.get(&name).await.expect("get after create")).expect("serializes");
        let schema = storage_schema(kind);
        let same = Same { file: &fixture.file };
        same.check("spec", &schema["properties"]["spec"], &object["spec"], &got["spec"]);
        if let Some(status) = &status {
            same.check("status", &schema["properties"]["status"], status, &got["status"]);
        }
    }
}

fn storage_schema(kind: &str) -> Value {
    let crd = weir_api::crds::all().into_iter().find(|c| c.spec.names.kind == kind).expect("CRD of the kind");
    let version = crd.spec.versions.into_iter().find(|v| v.storage).expect("a storage version");
    serde_json::to_value(version.schema.and_then(|s| s.open_api_v3_schema)).expect("schema serializes")
}

struct Same<'a> {
    file: &'a str,
}

impl Same<'_> {
    /// Exact equality, except that the server may add a field the object left out when the value
    /// is the schema's default. A failure names the first differing path.
    fn check(&self, path: &str, schema: &Value, want: &Value, got: &Value) {
        let file = self.file;
        match (want, got) {
            (Value::Object(w), Value::Object(g)) => {
                for (k, wv) in w {
                    let child = child_schema(schema, k);
                    self.check(&format!("{path}.{k}"), child, wv, g.get(k).unwrap_or(&Value::Null));
                }
                for (k, gv) in g.iter().filter(|(k, _)| !w.contains_key(*k)) {
                    let default = &child_schema(schema, k)["default"];
                    assert_eq!(
                        gv, default,
                        "{file}: {path}.{k} was added by the server and is not the schema's default"
                    );
                }
            }
            (Value::Array(w), Value::Array(g)) if w.len() == g.len() => {
                for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                    self.check(&format!("{path}[{i}]"), &schema["items"], wv, gv);
                }
            }
            (Value::Number(w), Value::Number(g)) if w.as_f64() == g.as_f64() => {}
            _ => assert_eq!(want, got, "{file}: {path} changed through the API server"),
        }
    }
}

fn child_schema<'a>(schema: &'a Value, key: &str) -> &'a Value {
    match schema["properties"].get(key) {
        Some(s) => s,
        None => &schema["additionalProperties"],
    }
}
