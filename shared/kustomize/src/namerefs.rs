//! The name-reference pass: after renames (prefix, suffix, hash suffix, namespace), fields that
//! named a resource by any of its earlier names are updated to its current name (and, for
//! ServiceAccount subjects and webhook services, its namespace). Runs once, at the end of the
//! top-level build, like kustomize's back-reference fix-up.

use serde_json::{Map, Value};

use crate::fieldspec::{split_path, visit_parents};
use crate::nameref_table::RefSpec;
use crate::resid::{is_cluster_scoped, split_api_version, str_at};
use crate::resource::Resource;

/// What the pass needs to know about a possible referral, taken before mutating anything.
struct Candidate {
    kind: String,
    group: String,
    names: Vec<String>,
    namespaces: Vec<String>,
    name: String,
    namespace: String,
    affixes: (Vec<String>, Vec<String>),
}

fn group_matches(referral: &RefSpec, group: &str) -> bool {
    if !referral.group.is_empty() {
        return referral.group == group;
    }
    // Workload kinds are referred to across their historical groups (apps, extensions).
    matches!(referral.kind.as_str(), "Deployment" | "ReplicaSet" | "StatefulSet") || group.is_empty()
}

fn effective_ns<'a>(kind: &str, ns: &'a str) -> &'a str {
    if is_cluster_scoped(kind) {
        ""
    } else if ns.is_empty() {
        "default"
    } else {
        ns
    }
}

/// Updates references in `resources`, with the built-in table plus `extra` (user `configurations`).
pub fn fix(resources: &mut [Resource], extra: &[RefSpec]) {
    let mut referrals = crate::nameref_table::builtin();
    referrals.extend(extra.iter().cloned());
    let candidates: Vec<Candidate> = resources
        .iter()
        .map(|r| Candidate {
            kind: r.kind().to_string(),
            group: split_api_version(str_at(&r.obj, &["apiVersion"])).0.to_string(),
            names: r.all_names().map(str::to_string).collect(),
            namespaces: r.all_namespaces().map(str::to_string).collect(),
            name: r.name().to_string(),
            namespace: r.namespace().to_string(),
            affixes: (r.prefixes.clone(), r.suffixes.clone()),
        })
        .collect();
    // The resources each referral kind can name, computed once.
    let pools: Vec<Vec<&Candidate>> = referrals
        .iter()
        .map(|referral| {
            candidates.iter().filter(|c| c.kind == referral.kind && group_matches(referral, &c.group)).collect()
        })
        .collect();
    for r in resources.iter_mut() {
        let kind = r.kind().to_string();
        let group = split_api_version(str_at(&r.obj, &["apiVersion"])).0.to_string();
        let referrer_ns = effective_ns(&kind, r.namespace()).to_string();
        let affixes = (r.prefixes.clone(), r.suffixes.clone());
        for (i, referral) in referrals.iter().enumerate() {
            let paths = referral.paths_for(&group, &kind);
            if paths.is_empty() {
                continue;
            }
            let pool = &pools[i];
            if pool.is_empty() {
                continue;
            }
            for path in paths {
                let segments = split_path(path);
                let last = segments.last().map(String::as_str).unwrap_or("");
                let object_refs = last == "subjects" || last == "service";
                visit_parents(&mut r.obj, &segments, false, &mut |parent, key| {
                    if object_refs {
                        fix_object_refs(parent, key, referral, pool);
                    } else {
                        // roleRef names a Role or a ClusterRole depending on its own kind.
                        if key == "name"
                            && path.ends_with("roleRef/name")
                            && parent.get("kind").and_then(Value::as_str) != Some(referral.kind.as_str())
                        {
                            return;
                        }
                        match parent.get_mut(key) {
                            Some(Value::String(s)) => fix_name(s, referral, pool, &referrer_ns, &affixes),
                            Some(Value::Array(items)) => {
                                for item in items {
                                    if let Value::String(s) = item {
                                        fix_name(s, referral, pool, &referrer_ns, &affixes);
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                });
            }
        }
    }
}

type Affixes = (Vec<String>, Vec<String>);

/// The new name for a plain reference, when it names an earlier name of exactly one resource
/// (several are told apart by sharing the referrer's prefixes and suffixes, i.e. its base).
fn fix_name(value: &mut String, referral: &RefSpec, pool: &[&Candidate], referrer_ns: &str, affixes: &Affixes) {
    let same_place = |c: &Candidate| {
        is_cluster_scoped(&referral.kind)
            || referrer_ns.is_empty()
            || effective_ns(&c.kind, &c.namespace) == referrer_ns
    };
    if pool.iter().any(|c| c.name == *value && same_place(c)) {
        return;
    }
    let matching: Vec<&&Candidate> =
        pool.iter().filter(|c| same_place(c) && c.names.iter().any(|n| n == value)).collect();
    let mut found: Vec<&str> = matching.iter().map(|c| c.name.as_str()).collect();
    found.dedup();
    if found.len() > 1 {
        found = matching.iter().filter(|c| c.affixes == *affixes).map(|c| c.name.as_str()).collect();
        found.dedup();
    }
    if let [only] = found.as_slice() {
        *value = (*only).to_string();
    }
}

/// Subjects and webhook services: `{kind?, name, namespace?}` objects; both name and namespace follow.
fn fix_object_refs(parent: &mut Map<String, Value>, key: &str, referral: &RefSpec, pool: &[&Candidate]) {
    let fix_one = |obj: &mut Map<String, Value>| {
        if let Some(kind) = obj.get("kind").and_then(Value::as_str)
            && kind != referral.kind
        {
            return;
        }
        let name = obj.get("name").and_then(Value::as_str).unwrap_or("").to_string();
        let ns = obj.get("namespace").and_then(Value::as_str).unwrap_or("");
        let ns = effective_ns(&referral.kind, ns).to_string();
        let matches: Vec<&&Candidate> = pool
            .iter()
            .filter(|c| c.names.contains(&name) && c.namespaces.iter().any(|n| effective_ns(&c.kind, n) == ns))
            .collect();
        if let [only] = matches.as_slice() {
            obj.insert("name".into(), Value::String(only.name.clone()));
            if !only.namespace.is_empty() {
                obj.insert("namespace".into(), Value::String(only.namespace.clone()));
            }
        }
    };
    match parent.get_mut(key) {
        Some(Value::Array(items)) => {
            for item in items {
                if let Value::Object(obj) = item {
                    fix_one(obj);
                }
            }
        }
        Some(Value::Object(obj)) => fix_one(obj),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renamed_config_map_is_followed() {
        let mut cm =
            Resource::new(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}}), "f".into());
        cm.set_name("p-cfg".into());
        let dep = Resource::new(
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
                "spec": {"template": {"spec": {"volumes": [{"name": "v", "configMap": {"name": "cfg"}}],
                "containers": [{"name": "c", "envFrom": [{"configMapRef": {"name": "cfg"}}, {"configMapRef": {"name": "other"}}]}]}}}}),
            "f".into(),
        );
        let mut rs = vec![cm, dep];
        fix(&mut rs, &[]);
        let spec = &rs[1].obj["spec"]["template"]["spec"];
        assert_eq!(spec["volumes"][0]["configMap"]["name"], "p-cfg");
        assert_eq!(spec["containers"][0]["envFrom"][0]["configMapRef"]["name"], "p-cfg");
        assert_eq!(spec["containers"][0]["envFrom"][1]["configMapRef"]["name"], "other");
    }

    #[test]
    fn role_ref_follows_its_kind() {
        let mut role = Resource::new(
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "r"}}),
            "f".into(),
        );
        role.set_name("x-r".into());
        let rb = Resource::new(
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "b"},
                "roleRef": {"kind": "ClusterRole", "name": "r"}}),
            "f".into(),
        );
        let mut rs = vec![role, rb];
        fix(&mut rs, &[]);
        assert_eq!(rs[1].obj["roleRef"]["name"], "r");
    }
}
