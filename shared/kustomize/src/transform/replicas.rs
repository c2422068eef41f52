//! `replicas`: set `spec.replicas` of the named workloads (any name the resource has had).

use serde_json::Value;

use crate::kustomization::Replica;
use crate::resource::Resource;

const SCALABLE_KINDS: &[&str] = &["Deployment", "ReplicaSet", "ReplicationController", "StatefulSet"];

pub fn apply(resources: &mut [Resource], replicas: &[Replica]) {
    for replica in replicas {
        for r in resources.iter_mut() {
            if !SCALABLE_KINDS.contains(&r.kind()) || !r.all_names().any(|n| n == replica.name) {
                continue;
            }
            if let Some(obj) = r.obj.as_object_mut()
                && let Value::Object(spec) = obj.entry("spec").or_insert_with(|| Value::Object(serde_json::Map::new()))
            {
                spec.insert("replicas".into(), Value::from(replica.count));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sets_count() {
        let mut rs = vec![Resource::new(json!({"kind": "Deployment", "metadata": {"name": "a"}}), "f".into())];
        apply(&mut rs, &[Replica { name: "a".into(), count: 3 }]);
        assert_eq!(rs[0].obj["spec"]["replicas"], 3);
    }
}
