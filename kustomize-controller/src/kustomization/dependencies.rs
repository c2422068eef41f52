//! The dependencies step (`spec.dependsOn`): every dependency must be Ready at its current
//! generation and, when it builds from the same source, must have applied the source's current
//! revision (Flux's rule); a `readyExpr` replaces those checks with a CEL verdict over `self` (the
//! dependent) and `dep`. Cycles are found on the watch cache and spelled out. Who depends on a
//! Kustomization is `dependents`' business.

use std::collections::HashSet;

use kube::api::Api;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Resource, ResourceExt};
use weir_api::conditions::{self, types};
use weir_api::kustomize::Kustomization;
use weir_api::meta::DependencyReference;

use super::expressions::Expression;

#[derive(Debug, thiserror::Error)]
pub enum DependencyError {
    #[error("{0}")]
    NotReady(String),
    #[error("{0}")]
    InvalidExpression(String),
    #[error("getting dependency '{name}': {source}")]
    Kube { name: String, source: kube::Error },
}

/// `namespace/name` of a dependency of an object in `namespace`.
fn key(namespace: &str, dep: &DependencyReference) -> (String, String) {
    (dep.namespace_or(namespace).to_string(), dep.name.clone())
}

/// Checks every dependency of `obj` (in `namespace`) against the API server, not the watch cache,
/// so that the wake-up of a dependency that just became Ready is never judged on stale data.
/// `source_revision` is the revision of `obj`'s own source artifact.
pub async fn check(
    client: &kube::Client,
    obj: &Kustomization,
    namespace: &str,
    source_revision: &str,
) -> Result<(), DependencyError> {
    for dep in obj.spec.depends_on.iter().flatten() {
        let (dep_namespace, dep_name) = key(namespace, dep);
        let display = format!("{dep_namespace}/{dep_name}");
        let api: Api<Kustomization> = Api::namespaced(client.clone(), &dep_namespace);
        let found =
            api.get_opt(&dep_name).await.map_err(|source| DependencyError::Kube { name: display.clone(), source })?;
        let Some(found) = found else {
            return Err(DependencyError::NotReady(format!("dependency '{display}' not found")));
        };
        match &dep.ready_expr {
            Some(expr) => ready_by_expression(obj, &found, &display, expr)?,
            None => {
                ready_by_status(obj, namespace, &found, &display, source_revision).map_err(DependencyError::NotReady)?
            }
        }
    }
    Ok(())
}

/// Checks that every `readyExpr` compiles, so that a typo stalls the object at once.
pub fn compile_ready_exprs(obj: &Kustomization) -> Result<(), String> {
    for (i, dep) in obj.spec.depends_on.iter().flatten().enumerate() {
        if let Some(expr) = &dep.ready_expr {
            Expression::compile(expr).map_err(|e| format!("spec.dependsOn[{i}].readyExpr: {e}"))?;
        }
    }
    Ok(())
}

/// Flux's built-in rule.
pub fn ready_by_status(
    obj: &Kustomization,
    namespace: &str,
    dep: &Kustomization,
    display: &str,
    source_revision: &str,
) -> Result<(), String> {
    let not_ready = || format!("dependency '{display}' is not ready");
    let status = dep.status.as_ref().ok_or_else(not_ready)?;
    let list = status.conditions.as_deref().unwrap_or_default();
    if list.is_empty() || status.observed_generation != dep.meta().generation {
        return Err(not_ready());
    }
    if !conditions::is_true(list, types::READY) {
        return Err(not_ready());
    }
    let dep_namespace = dep.namespace().unwrap_or_default();
    let (ours, theirs) = (&obj.spec.source_ref, &dep.spec.source_ref);
    let same_source = ours.kind == theirs.kind
        && ours.name == theirs.name
        && ours.namespace_or(namespace) == theirs.namespace_or(&dep_namespace);
    if same_source && status.last_applied_revision.as_deref() != Some(source_revision) {
        return Err(format!("dependency '{display}' revision is not up to date"));
    }
    Ok(())
}

fn ready_by_expression(
    obj: &Kustomization,
    dep: &Kustomization,
    display: &str,
    expr: &str,
) -> Result<(), DependencyError> {
    let invalid = |e: String| DependencyError::InvalidExpression(format!("dependency '{display}' readyExpr: {e}"));
    let expression = Expression::compile(expr).map_err(invalid)?;
    let this = serde_json::to_value(obj).map_err(|e| invalid(e.to_string()))?;
    let that = serde_json::to_value(dep).map_err(|e| invalid(e.to_string()))?;
    match expression.evaluate(&[("self", &this), ("dep", &that)]) {
        Ok(true) => Ok(()),
        Ok(false) => {
            Err(DependencyError::NotReady(format!("dependency '{display}' is not ready according to readyExpr eval")))
        }
        // A field the dependency has not written yet: not ready, rather than broken.
        Err(e) => Err(DependencyError::NotReady(format!("dependency '{display}' is not ready: {e}"))),
    }
}

/// The dependency cycle through `obj`, spelled `ns/a -> ns/b -> ns/a`, found on the watch cache
/// (with `obj`'s own, freshest, `dependsOn`).
pub fn find_cycle(obj: &Kustomization, store: &Store<Kustomization>) -> Option<String> {
    let start = (obj.namespace().unwrap_or_default(), obj.name_any());
    let edges = |node: &(String, String)| -> Vec<(String, String)> {
        let deps = if *node == start {
            obj.spec.depends_on.clone()
        } else {
            store.get(&ObjectRef::new(&node.1).within(&node.0)).and_then(|k| k.spec.depends_on.clone())
        };
        deps.iter().flatten().map(|d| key(&node.0, d)).collect()
    };
    cycle_through(&start, edges)
        .map(|path| path.iter().map(|(ns, n)| format!("{ns}/{n}")).collect::<Vec<_>>().join(" -> "))
}

/// A path from `start` back to `start` along `edges`, depth first; `None` when there is none.
pub fn cycle_through<N, F>(start: &N, edges: F) -> Option<Vec<N>>
where
    N: Clone + Eq + std::hash::Hash,
    F: Fn(&N) -> Vec<N>,
{
    let mut visited = HashSet::new();
    let mut path = vec![start.clone()];
    // Each frame: the node's remaining successors.
    let mut stack = vec![edges(start)];
    while let Some(successors) = stack.last_mut() {
        match successors.pop() {
            Some(next) if next == *start => {
                path.push(next);
                return Some(path);
            }
            Some(next) => {
                if visited.insert(next.clone()) {
                    stack.push(edges(&next));
                    path.push(next);
                }
            }
            None => {
                stack.pop();
                path.pop();
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn graph(edges: &[(&'static str, &'static str)]) -> impl Fn(&&'static str) -> Vec<&'static str> {
        let mut map: HashMap<&str, Vec<&str>> = HashMap::new();
        for (from, to) in edges {
            map.entry(from).or_default().push(to);
        }
        move |n| map.get(n).cloned().unwrap_or_default()
    }

    #[test]
    fn cycles_are_found_and_spelled_out() {
        assert_eq!(cycle_through(&"a", graph(&[("a", "a")])), Some(vec!["a", "a"]));
        assert_eq!(cycle_through(&"a", graph(&[("a", "b"), ("b", "c"), ("c", "a")])), Some(vec!["a", "b", "c", "a"]));
        assert_eq!(cycle_through(&"a", graph(&[("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")])), None);
        // A cycle a only leads into is the others' to report.
        assert_eq!(cycle_through(&"a", graph(&[("a", "b"), ("b", "c"), ("c", "b")])), None);
        // Found through a diamond too.
        assert_eq!(
            cycle_through(&"a", graph(&[("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("d", "a")])).map(|p| p.len()),
            Some(4)
        );
    }

    fn ks(namespace: &str, name: &str, spec: serde_json::Value) -> Kustomization {
        let mut spec_json = serde_json::json!({"interval": "1m", "prune": true,
            "sourceRef": {"kind": "GitRepository", "name": "repo"}});
        spec_json.as_object_mut().unwrap().extend(spec.as_object().unwrap().clone());
        let mut k = Kustomization::new(name, serde_json::from_value(spec_json).unwrap());
        k.meta_mut().namespace = Some(namespace.into());
        k.meta_mut().generation = Some(2);
        k
    }

    fn ready(k: &mut Kustomization, generation: i64, revision: &str) {
        k.status = Some(
            serde_json::from_value(serde_json::json!({
            "observedGeneration": generation, "lastAppliedRevision": revision,
            "conditions": [{"type": "Ready", "status": "True", "reason": "ReconciliationSucceeded", "message": "",
                            "lastTransitionTime": "2025-01-01T00:00:00Z"}]}))
            .unwrap(),
        );
    }

    #[test]
    fn flux_readiness_rule() {
        let obj = ks("apps", "app", serde_json::json!({"dependsOn": [{"name": "infra"}]}));
        let mut dep = ks("apps", "infra", serde_json::json!({}));
        assert_eq!(
            ready_by_status(&obj, "apps", &dep, "apps/infra", "main@sha1:2"),
            Err("dependency 'apps/infra' is not ready".into())
        );
        ready(&mut dep, 1, "main@sha1:2");
        assert!(
            ready_by_status(&obj, "apps", &dep, "apps/infra", "main@sha1:2").is_err(),
            "an old generation is not ready"
        );
        ready(&mut dep, 2, "main@sha1:1");
        assert_eq!(
            ready_by_status(&obj, "apps", &dep, "apps/infra", "main@sha1:2"),
            Err("dependency 'apps/infra' revision is not up to date".into())
        );
        ready(&mut dep, 2, "main@sha1:2");
        assert_eq!(ready_by_status(&obj, "apps", &dep, "apps/infra", "main@sha1:2"), Ok(()));
        // From another source, the revision is not compared.
        let mut other =
            ks("apps", "infra", serde_json::json!({"sourceRef": {"kind": "GitRepository", "name": "infra"}}));
        ready(&mut other, 2, "main@sha1:1");
        assert_eq!(ready_by_status(&obj, "apps", &other, "apps/infra", "main@sha1:2"), Ok(()));
    }

    #[test]
    fn ready_expressions_see_self_and_dep() {
        let obj = ks("apps", "app", serde_json::json!({}));
        let mut dep = ks("apps", "infra", serde_json::json!({}));
        ready(&mut dep, 2, "main@sha1:1");
        let expr = "dep.status.lastAppliedRevision == 'main@sha1:1' && self.metadata.name == 'app'";
        assert!(ready_by_expression(&obj, &dep, "apps/infra", expr).is_ok());
        let error = ready_by_expression(&obj, &dep, "apps/infra", "dep.status.lastAppliedRevision == 'x'").unwrap_err();
        assert!(error.to_string().contains("not ready according to readyExpr"), "{error}");
        assert!(matches!(
            ready_by_expression(&obj, &dep, "apps/infra", "dep.(").unwrap_err(),
            DependencyError::InvalidExpression(_)
        ));
        let bad = ks("apps", "app", serde_json::json!({"dependsOn": [{"name": "infra", "readyExpr": "dep.("}]}));
        assert!(compile_ready_exprs(&bad).unwrap_err().starts_with("spec.dependsOn[0].readyExpr: "));
        assert!(compile_ready_exprs(&obj).is_ok());
    }
}
