//! Kubernetes Events on the real API server: a repeat is counted on the first Event of its
//! series, and an event with another note is an Event of its own (its note is never lost).

#![allow(clippy::expect_used, clippy::unwrap_used)]

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::api::events::v1::Event;
use kube::Resource;
use kube::api::{Api, ListParams, ObjectMeta, PostParams};
use weir_runtime::events::{KubeEvent, KubeEvents};
use weir_testenv::TestEnv;

#[tokio::test]
async fn repeats_join_a_series_and_new_notes_stay_apart() {
    let env = TestEnv::shared().await;
    let namespace = env.namespace("kube-events").await;
    let config_map =
        ConfigMap { metadata: ObjectMeta { name: Some("app".into()), ..Default::default() }, ..Default::default() };
    let created = Api::<ConfigMap>::namespaced(env.client(), &namespace)
        .create(&PostParams::default(), &config_map)
        .await
        .unwrap();
    let regarding = created.object_ref(&());

    let events = KubeEvents::new(env.client(), "source-controller", None);
    let first = KubeEvent { type_: "Normal", reason: "NewArtifact", action: "Reconcile", note: "stored main@sha1:a" };
    let second = KubeEvent { note: "stored main@sha1:b", ..first };
    for event in [first, first, second, first] {
        events.publish(event, &regarding).await.unwrap();
    }

    let mut listed =
        Api::<Event>::namespaced(env.client(), &namespace).list(&ListParams::default()).await.unwrap().items;
    listed.sort_by_key(|e| e.note.clone());
    let summary: Vec<_> = listed
        .iter()
        .map(|e| (e.note.clone().unwrap(), e.series.as_ref().map(|s| s.count), e.reporting_controller.clone().unwrap()))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("stored main@sha1:a".to_string(), Some(3), "source-controller".to_string()),
            ("stored main@sha1:b".to_string(), None, "source-controller".to_string()),
        ]
    );
    assert_eq!(listed[0].regarding.as_ref().and_then(|r| r.uid.clone()), regarding.uid);
}
