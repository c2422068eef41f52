//! Rendered files split into documents and ordered as Helm's `releaseutil.SortManifests`
//! does: documents split on `---` lines and trimmed, empty ones dropped, hooks (annotation
//! `helm.sh/hook`) set apart, the rest ordered by kind in install order, unknown kinds
//! last (alphabetically by kind), then by file name, documents of one file in order.

use crate::helm_funcs::parse_yaml;
use crate::template::Value;

/// One rendered document.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// The template it came from (`chart/templates/file.yaml`).
    pub source: String,
    /// The document, trimmed.
    pub content: String,
    pub kind: String,
    pub name: String,
    /// Hook events from `helm.sh/hook` (empty for ordinary manifests).
    pub hook_events: Vec<String>,
    /// `helm.sh/hook-weight`.
    pub hook_weight: i64,
}

/// Helm's install order of kinds.
pub const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// Splits a file's text on `---` separators, as Helm's `SplitManifests`: the separator is
/// `---` at the start of a line with any whitespace before it (from the line break on)
/// and after it.
pub fn split_documents(text: &str) -> Vec<String> {
    let mut docs = Vec::new();
    let mut current = String::new();
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches('\n');
        if let Some(rest) = body.strip_prefix("---") {
            // `---` followed by only whitespace separates; anything else after the dashes
            // stays with the next document, as Helm's regular expression leaves it.
            docs.push(std::mem::take(&mut current));
            let rest = rest.trim_start();
            current.push_str(rest);
            if line.ends_with('\n') && !rest.is_empty() {
                current.push('\n');
            }
            continue;
        }
        current.push_str(line);
    }
    docs.push(current);
    docs.into_iter().map(|d| d.trim().to_string()).filter(|d| !d.is_empty()).collect()
}

/// Sorts rendered files into ordinary manifests and hooks, in Helm's order. `files` are
/// (template name, rendered text) pairs.
pub fn sort_manifests(files: &[(String, String)]) -> Result<(Vec<Manifest>, Vec<Manifest>), String> {
    let mut sorted: Vec<&(String, String)> = files.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut generic = Vec::new();
    let mut hooks = Vec::new();
    for (source, text) in sorted {
        let base = source.rsplit('/').next().unwrap_or(source);
        if base.starts_with('_') || text.trim().is_empty() {
            continue;
        }
        for doc in split_documents(text) {
            let head = parse_yaml(&doc).map_err(|e| format!("YAML parse error on {source}: {e}"))?;
            let get = |path: &[&str]| -> Option<Value> {
                let mut cur = head.clone();
                for p in path {
                    cur = match &cur {
                        Value::Map(m) => m.read().get(*p)?.clone(),
                        _ => return None,
                    };
                }
                Some(cur)
            };
            let text_of = |v: Option<Value>| match v {
                Some(Value::String(s)) => s,
                Some(Value::Nil) | None => String::new(),
                Some(v) => v.to_string(),
            };
            let kind = text_of(get(&["kind"]));
            let name = text_of(get(&["metadata", "name"]));
            let hook = get(&["metadata", "annotations", "helm.sh/hook"]);
            let weight = text_of(get(&["metadata", "annotations", "helm.sh/hook-weight"])).trim().parse().unwrap_or(0);
            let m = Manifest {
                source: source.clone(),
                content: doc,
                kind,
                name,
                hook_events: match &hook {
                    Some(h) => text_of(Some(h.clone()))
                        .split(',')
                        .map(|e| e.trim().to_string())
                        .filter(|e| !e.is_empty())
                        .collect(),
                    None => Vec::new(),
                },
                hook_weight: weight,
            };
            if hook.is_some() { hooks.push(m) } else { generic.push(m) }
        }
    }
    sort_by_kind(&mut generic);
    sort_by_kind(&mut hooks);
    Ok((generic, hooks))
}

fn sort_by_kind(manifests: &mut [Manifest]) {
    let rank = |k: &str| INSTALL_ORDER.iter().position(|o| *o == k);
    manifests.sort_by(|a, b| match (rank(&a.kind), rank(&b.kind)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.kind.cmp(&b.kind),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits() {
        assert_eq!(split_documents("a: 1\n---\nb: 2\n--- \n\n---\nc: 3"), vec!["a: 1", "b: 2", "c: 3"]);
        assert_eq!(split_documents("---\n# c\nx: 1\n"), vec!["# c\nx: 1"]);
    }

    #[test]
    fn orders_by_kind_then_file() {
        let files = vec![
            ("c/templates/b.yaml".to_string(), "kind: Service\n---\nkind: ConfigMap".to_string()),
            ("c/templates/a.yaml".to_string(), "kind: Deployment\n---\nkind: Foo\n---\nkind: Bar".to_string()),
            (
                "c/templates/h.yaml".to_string(),
                "kind: Job\nmetadata:\n  annotations:\n    helm.sh/hook: pre-install".to_string(),
            ),
        ];
        let (g, h) = sort_manifests(&files).unwrap();
        let kinds: Vec<&str> = g.iter().map(|m| m.kind.as_str()).collect();
        assert_eq!(kinds, vec!["ConfigMap", "Service", "Deployment", "Bar", "Foo"]);
        assert_eq!(h[0].hook_events, vec!["pre-install"]);
    }
}
