//! `namespace`: every namespaced resource moves to the namespace; cluster-scoped kinds are left
//! alone, except `Namespace` objects, which kustomize renames to the target namespace.
//! ServiceAccount subjects of (Cluster)RoleBindings follow their ServiceAccount through the
//! name-reference pass (`namerefs`), as in kustomize.

use crate::resid::is_cluster_scoped;
use crate::resource::Resource;

pub fn apply(resources: &mut [Resource], namespace: &str) {
    for r in resources.iter_mut() {
        let kind = r.kind().to_string();
        if kind == "Namespace" {
            r.set_name(namespace.to_string());
        } else if !is_cluster_scoped(&kind) {
            r.set_namespace(namespace.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cluster_scoped_untouched() {
        let mut rs = vec![
            Resource::new(json!({"kind": "ConfigMap", "metadata": {"name": "a"}}), "f".into()),
            Resource::new(json!({"kind": "ClusterRole", "metadata": {"name": "b"}}), "f".into()),
        ];
        apply(&mut rs, "prod");
        assert_eq!(rs[0].namespace(), "prod");
        assert_eq!(rs[1].namespace(), "");
        assert_eq!(rs[0].all_namespaces().collect::<Vec<_>>(), vec!["", "prod"]);
    }
}
