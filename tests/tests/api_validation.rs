//! Invalid objects of every kind are refused: by the real API server wherever the schema lets it
//! check (types, enums, patterns, bounds, required fields), and by Weir's own decoding plus
//! `validate()` always, which is what protects servers too old for CEL rules.

use kube::api::{Api, DynamicObject, PostParams};
use serde_json::{Value, json};
use weir_e2e::{fixtures, mutations};
use weir_testenv::TestEnv;

fn schema_of(kind: &str, (major, minor): (u32, u32)) -> Value {
    let mut crd = weir_api::crds::all().into_iter().find(|c| c.spec.names.kind == kind).expect("CRD for kind");
    weir_api::crds::adapt_for_server(&mut crd, major, minor);
    let version = crd.spec.versions.into_iter().find(|v| v.storage).expect("a storage version");
    serde_json::to_value(version.schema.and_then(|s| s.open_api_v3_schema)).expect("schema serializes")
}

#[tokio::test]
async fn invalid_objects_are_refused_by_the_server_and_by_validate() {
    let env = TestEnv::shared().await;
    let ns = env.namespace("validation").await;
    let mut checked = 0;
    let mut failures = Vec::new();
    for fixture in fixtures::all() {
        let kind = fixtures::kind_of(&fixture.object).to_string();
        let ar = fixtures::api_resource(&kind);
        let api: Api<DynamicObject> = Api::namespaced_with(env.client(), &ns, &ar);
        let mut valid = fixture.object.clone();
        if let Some(o) = valid.as_object_mut() {
            o.remove("status");
        }
        let schema = schema_of(&kind, env.server_version());
        for (i, mutation) in mutations::generate(&schema, &valid, "spec").into_iter().enumerate() {
            checked += 1;
            let what = format!("{} {}", fixture.file, mutation.description);
            let mut object = mutation.object;
            object["metadata"] = json!({ "name": format!("bad-{}-{i}", kind.to_lowercase()), "namespace": ns });

            if weir_api::dynamic::validate_value(&object).is_ok() {
                failures.push(format!("{what}: accepted by validate()"));
            }
            // Every mutation stays below `spec`, so DynamicObject can always carry it to the server.
            let obj: DynamicObject = serde_json::from_value(object).expect("a mutated object is still an object");
            match api.create(&PostParams::default(), &obj).await {
                Ok(_) => failures.push(format!("{what}: accepted by the API server")),
                Err(kube::Error::Api(status)) if status.code == 422 || status.code == 400 => {}
                Err(e) => failures.push(format!("{what}: unexpected error {e}")),
            }
        }
    }
    println!("checked {checked} invalid variants");
    assert!(checked > 100, "expected hundreds of invalid variants, derived only {checked}");
    assert!(failures.is_empty(), "{} invalid objects were accepted:\n{}", failures.len(), failures.join("\n"));
}
