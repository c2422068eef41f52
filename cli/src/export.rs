//! `weir export KIND NAME|--all`: objects as YAML to keep in Git, without what the server adds.

use serde_json::{Map, Value};

use crate::cluster::ClusterArgs;
use crate::get::list;
use crate::output::format::write_documents;
use crate::target::Target;

#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    #[command(subcommand)]
    target: Target,
    /// Every object of the kind in the namespace (or in all with -A).
    #[arg(long, global = true)]
    all: bool,
}

pub async fn run(cluster: &ClusterArgs, args: ExportArgs) -> anyhow::Result<()> {
    let client = cluster.client().await?;
    let kind = args.target.kind();
    let objects = if args.all {
        list(&client, kind, cluster.list_scope(), None).await?
    } else {
        let name = args.target.require_name(true)?;
        vec![crate::reconcile::get(&client, kind, &cluster.namespace, name).await?]
    };
    let clean: Vec<Value> = objects.iter().map(clean).collect();
    write_documents(&mut std::io::stdout().lock(), &clean)
}

/// Keeps what a person would write: apiVersion, kind, name, namespace, labels, annotations
/// (less the CLI's reconcile requests and kubectl's bookkeeping) and the spec.
pub fn clean(object: &Value) -> Value {
    let mut metadata = Map::new();
    for key in ["name", "namespace", "labels"] {
        if let Some(v) = object["metadata"].get(key) {
            metadata.insert(key.to_string(), v.clone());
        }
    }
    if let Some(Value::Object(annotations)) = object["metadata"].get("annotations") {
        let kept: Map<String, Value> = annotations
            .iter()
            .filter(|(k, _)| {
                k.as_str() != weir_api::annotations::RECONCILE_REQUESTED_AT
                    && k.as_str() != weir_api::annotations::KUBECTL_LAST_APPLIED
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !kept.is_empty() {
            metadata.insert("annotations".into(), Value::Object(kept));
        }
    }
    let mut clean = Map::new();
    clean.insert("apiVersion".into(), object["apiVersion"].clone());
    clean.insert("kind".into(), object["kind"].clone());
    clean.insert("metadata".into(), Value::Object(metadata));
    if let Some(spec) = object.get("spec") {
        clean.insert("spec".into(), spec.clone());
    }
    Value::Object(clean)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn drops_what_the_server_added() {
        let live = json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
            "metadata": {"name": "a", "namespace": "ns", "uid": "u", "resourceVersion": "1", "generation": 2,
                "creationTimestamp": "2024-01-01T00:00:00Z", "managedFields": [], "finalizers": ["x"],
                "annotations": {"reconcile.fluxcd.io/requestedAt": "now", "team": "a"}},
            "spec": {"url": "https://example.invalid/repo", "interval": "1m"},
            "status": {"conditions": []}
        });
        assert_eq!(
            clean(&live),
            json!({
                "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
                "metadata": {"name": "a", "namespace": "ns", "annotations": {"team": "a"}},
                "spec": {"url": "https://example.invalid/repo", "interval": "1m"}
            })
        );
    }
}
