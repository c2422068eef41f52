//! `weir diff kustomization NAME --path DIR`: what applying the local directory would change,
//! found with a server-side dry-run apply as the controller's own field manager, shown as a
//! unified diff per object with Secret values masked; and what would be pruned.
//! Exit codes: 0 no change, 1 changes, 2 (and above) an error.

use std::collections::HashSet;
use std::io::Write;

use anyhow::Context;
use serde_json::{Map, Value};
use weir_api::meta::ResourceInventory;
use weir_apply::{Action, ApplyOptions, Object, Policy, ResourceManager, SsaPolicy};

use crate::cluster::ClusterArgs;
use crate::render::{RenderArgs, render};

#[derive(clap::Args, Debug)]
pub struct DiffArgs {
    #[command(subcommand)]
    target: DiffTarget,
}

#[derive(clap::Subcommand, Debug)]
enum DiffTarget {
    /// Compare a Kustomization's local directory with the cluster.
    #[command(visible_alias = "ks")]
    Kustomization {
        #[command(flatten)]
        render: RenderArgs,
    },
}

/// Whether anything would change.
pub async fn run(cluster: &ClusterArgs, args: DiffArgs) -> anyhow::Result<bool> {
    let DiffTarget::Kustomization { render: render_args } = args.target;
    let client = cluster.client().await?;
    let rendered = render(cluster, &render_args, Some(&client)).await?;
    let namespace =
        rendered.kustomization.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or(&cluster.namespace);
    let manager = ResourceManager::new(client.clone());
    let options = ApplyOptions { default_namespace: Some(namespace.to_string()), ..Default::default() };
    let objects = Object::from_values(rendered.objects.clone()).context("the build produced an invalid object")?;
    // Namespaces and kinds the set creates: objects in them cannot be dry-run yet, they are new.
    let new_namespaces: HashSet<String> =
        objects.iter().filter(|o| o.meta.kind == "Namespace").map(|o| o.meta.name.clone()).collect();
    let new_kinds: HashSet<String> = objects
        .iter()
        .filter(|o| o.meta.kind == "CustomResourceDefinition")
        .filter_map(|o| o.value.pointer("/spec/names/kind").and_then(Value::as_str).map(String::from))
        .collect();

    let mut out = std::io::stdout().lock();
    let mut changed = false;
    let mut rendered_ids = HashSet::new();
    for object in objects {
        let mut meta = object.meta.clone();
        if meta.namespace.is_empty() && !is_cluster_scoped(&meta.kind) {
            meta.namespace = namespace.to_string();
        }
        rendered_ids.insert(inventory_id(&meta.namespace, &meta.name, &meta.group, &meta.kind));
        // What the controller would not apply is no change, as in `flux diff`.
        let policy = Policy::of(&object);
        if policy.reconcile_disabled || policy.ssa == SsaPolicy::Ignore {
            continue;
        }
        match manager.diff(object, &options).await {
            Ok((entry, _, _)) if entry.action == Action::Configured && policy.ssa == SsaPolicy::IfNotPresent => {}
            Ok((entry, live, dry_run)) => match entry.action {
                Action::Unchanged => {}
                Action::Created => {
                    changed = true;
                    writeln!(out, "► {} created", entry.subject)?;
                }
                _ => {
                    changed = true;
                    writeln!(out, "► {} drifted", entry.subject)?;
                    let before = live.map(|l| comparable(&l)).unwrap_or_default();
                    let after = comparable(&dry_run);
                    let (before, after) = mask_secrets(&entry.object.kind, before, after);
                    write_diff(&mut out, &before, &after)?;
                }
            },
            Err(_) if new_namespaces.contains(&meta.namespace) || new_kinds.contains(&meta.kind) => {
                changed = true;
                writeln!(out, "► {meta} created")?;
            }
            Err(e) => return Err(anyhow::Error::new(e).context(format!("dry-run apply of {meta}"))),
        }
    }
    let prune = rendered.kustomization.pointer("/spec/prune").and_then(Value::as_bool).unwrap_or(false);
    if prune && let Some(inventory) = rendered.kustomization.pointer("/status/inventory") {
        let inventory: ResourceInventory =
            serde_json::from_value(inventory.clone()).context("reading the inventory")?;
        for entry in &inventory.entries {
            if rendered_ids.contains(&entry.id) {
                continue;
            }
            if let Some(id) = entry.parse_id() {
                changed = true;
                let subject = if id.namespace.is_empty() {
                    format!("{}/{}", id.kind, id.name)
                } else {
                    format!("{}/{}/{}", id.kind, id.namespace, id.name)
                };
                writeln!(out, "► {subject} deleted")?;
            }
        }
    }
    Ok(changed)
}

fn inventory_id(namespace: &str, name: &str, group: &str, kind: &str) -> String {
    format!("{namespace}_{name}_{group}_{kind}")
}

/// The common cluster-scoped kinds; others are resolved by the apply engine.
fn is_cluster_scoped(kind: &str) -> bool {
    matches!(
        kind,
        "Namespace"
            | "CustomResourceDefinition"
            | "ClusterRole"
            | "ClusterRoleBinding"
            | "PersistentVolume"
            | "StorageClass"
            | "PriorityClass"
    )
}

/// The object without what the server keeps for itself, so the diff shows only intent.
fn comparable(object: &Value) -> Value {
    let mut object = object.clone();
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
    }
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        for key in ["managedFields", "resourceVersion", "uid", "generation", "creationTimestamp", "selfLink"] {
            meta.remove(key);
        }
    }
    object
}

const MASK: &str = "***";

/// Secret values never reach the terminal: equal values read `***`, changed ones
/// `*** (before)` and `*** (after)`.
fn mask_secrets(kind: &str, mut before: Value, mut after: Value) -> (Value, Value) {
    if kind != "Secret" {
        return (before, after);
    }
    for field in ["data", "stringData"] {
        let old = before.get(field).and_then(Value::as_object).cloned().unwrap_or_default();
        let new = after.get(field).and_then(Value::as_object).cloned().unwrap_or_default();
        let mask = |own: &Map<String, Value>, other: &Map<String, Value>, suffix: &str| -> Map<String, Value> {
            own.iter()
                .map(|(k, v)| {
                    let text = if other.get(k) == Some(v) { MASK.to_string() } else { format!("{MASK} ({suffix})") };
                    (k.clone(), Value::String(text))
                })
                .collect()
        };
        if before.get(field).is_some() {
            before[field] = Value::Object(mask(&old, &new, "before"));
        }
        if after.get(field).is_some() {
            after[field] = Value::Object(mask(&new, &old, "after"));
        }
    }
    (before, after)
}

fn write_diff(out: &mut impl Write, before: &Value, after: &Value) -> anyhow::Result<()> {
    let before = if before.is_null() { String::new() } else { crate::output::format::to_yaml(before)? };
    let after = crate::output::format::to_yaml(after)?;
    let diff = similar::TextDiff::from_lines(&before, &after);
    let text = diff.unified_diff().context_radius(3).header("live", "merged").to_string();
    let style = crate::output::style::Style::stdout();
    for line in text.lines() {
        let shown = match line.chars().next() {
            Some('-') if !line.starts_with("---") => style.red(line),
            Some('+') if !line.starts_with("+++") => style.green(line),
            _ => line.to_string(),
        };
        writeln!(out, "{shown}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_values_are_masked_and_changes_still_show() {
        let live = json!({"kind": "Secret", "data": {"same": "YQ==", "changed": "Yg=="}});
        let new = json!({"kind": "Secret", "data": {"same": "YQ==", "changed": "Yw==", "added": "ZA=="}});
        let (before, after) = mask_secrets("Secret", live, new);
        assert_eq!(before["data"], json!({"same": "***", "changed": "*** (before)"}));
        assert_eq!(after["data"], json!({"same": "***", "changed": "*** (after)", "added": "*** (after)"}));
        let mut out = Vec::new();
        write_diff(&mut out, &before, &after).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("-  changed: '*** (before)'") || text.contains("-  changed: \"*** (before)\""), "{text}");
        assert!(!text.contains("Yw=="), "{text}");
    }

    #[test]
    fn server_bookkeeping_is_left_out() {
        let live =
            json!({"metadata": {"name": "a", "uid": "1", "managedFields": [], "resourceVersion": "5"}, "status": {}});
        assert_eq!(comparable(&live), json!({"metadata": {"name": "a"}}));
    }
}
