//! `weir tree kustomization NAME`: what a Kustomization applied, from its inventory, recursing
//! into the Kustomizations (and listing the HelmReleases) it applied.

use std::collections::HashSet;
use std::io::Write;

use anyhow::bail;
use serde::Serialize;
use serde_json::Value;
use weir_api::meta::ResourceRef;

use crate::cluster::ClusterArgs;
use crate::kinds;
use crate::output::format::OutputFormat;

#[derive(clap::Args, Debug)]
pub struct TreeArgs {
    #[command(subcommand)]
    target: TreeTarget,
    /// Output format: table (a drawn tree) or json.
    #[arg(long, short = 'o', global = true, value_enum, default_value = "table")]
    output: OutputFormat,
}

#[derive(clap::Subcommand, Debug)]
enum TreeTarget {
    /// The objects a Kustomization manages.
    #[command(visible_alias = "ks")]
    Kustomization { name: String },
}

#[derive(Debug, Serialize)]
pub struct Node {
    pub kind: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub group: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    pub name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<Node>,
}

impl Node {
    fn label(&self) -> String {
        if self.namespace.is_empty() {
            format!("{}/{}", self.kind, self.name)
        } else {
            format!("{}/{}/{}", self.kind, self.namespace, self.name)
        }
    }
}

pub async fn run(cluster: &ClusterArgs, args: TreeArgs) -> anyhow::Result<()> {
    let TreeTarget::Kustomization { name } = &args.target;
    let client = cluster.client().await?;
    let object = crate::reconcile::get(&client, &kinds::KUSTOMIZATION, &cluster.namespace, name).await?;
    let mut visited = HashSet::new();
    let root = expand(&client, object, &mut visited).await?;
    let mut out = std::io::stdout().lock();
    match args.output {
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&root)?)?,
        OutputFormat::Yaml => write!(out, "{}", crate::output::format::to_yaml(&serde_json::to_value(&root)?)?)?,
        OutputFormat::Table => {
            writeln!(out, "{}", root.label())?;
            if root.resources.is_empty() {
                eprintln!("(the inventory is empty: the Kustomization has applied nothing yet)");
            }
            draw(&mut out, &root.resources, "")?;
        }
    }
    Ok(())
}

/// The node of a Kustomization with its inventory, Kustomizations in it expanded in turn.
async fn expand(client: &kube::Client, object: Value, visited: &mut HashSet<String>) -> anyhow::Result<Node> {
    let mut root = Node {
        kind: kinds::KUSTOMIZATION.kind.to_string(),
        group: kinds::KUSTOMIZE_GROUP.to_string(),
        namespace: crate::status::namespace(&object).to_string(),
        name: crate::status::name(&object).to_string(),
        resources: Vec::new(),
    };
    visited.insert(root.label());
    let mut pending = vec![(object, Vec::new())];
    // Iterative rather than recursive: async recursion needs boxing, and the path to a node is
    // all that is needed to put it in place.
    while let Some((object, path)) = pending.pop() {
        let children = inventory(&object)?;
        let parent = node_at(&mut root, &path);
        for (i, child) in children.into_iter().enumerate() {
            let is_ks = child.group == kinds::KUSTOMIZE_GROUP && child.kind == kinds::KUSTOMIZATION.kind;
            if is_ks && visited.insert(child.label()) {
                let nested = crate::reconcile::get(client, &kinds::KUSTOMIZATION, &child.namespace, &child.name).await;
                if let Ok(nested) = nested {
                    let mut child_path = path.clone();
                    child_path.push(i);
                    pending.push((nested, child_path));
                }
            }
            parent.resources.push(child);
        }
    }
    Ok(root)
}

fn node_at<'a>(root: &'a mut Node, path: &[usize]) -> &'a mut Node {
    let mut node = root;
    for &i in path {
        node = &mut node.resources[i];
    }
    node
}

fn inventory(object: &Value) -> anyhow::Result<Vec<Node>> {
    let Some(entries) = object.pointer("/status/inventory/entries") else {
        return Ok(Vec::new());
    };
    let entries: Vec<ResourceRef> = serde_json::from_value(entries.clone())?;
    let mut nodes = Vec::new();
    for entry in &entries {
        let Some(id) = entry.parse_id() else {
            bail!("the inventory of {} holds a malformed id {:?}", crate::status::name(object), entry.id);
        };
        nodes.push(Node {
            kind: id.kind.to_string(),
            group: id.group.to_string(),
            namespace: id.namespace.to_string(),
            name: id.name.to_string(),
            resources: Vec::new(),
        });
    }
    Ok(nodes)
}

fn draw(out: &mut impl Write, nodes: &[Node], indent: &str) -> std::io::Result<()> {
    for (i, node) in nodes.iter().enumerate() {
        let last = i + 1 == nodes.len();
        writeln!(out, "{indent}{}{}", if last { "└── " } else { "├── " }, node.label())?;
        let deeper = format!("{indent}{}", if last { "    " } else { "│   " });
        draw(out, &node.resources, &deeper)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_nested_nodes_with_box_lines() {
        let leaf = |kind: &str, name: &str| Node {
            kind: kind.into(),
            group: String::new(),
            namespace: "apps".into(),
            name: name.into(),
            resources: vec![],
        };
        let mut nested = leaf("Kustomization", "child");
        nested.resources.push(leaf("ConfigMap", "cm"));
        let nodes = vec![nested, leaf("Deployment", "web")];
        let mut out = Vec::new();
        draw(&mut out, &nodes, "").unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "├── Kustomization/apps/child\n│   └── ConfigMap/apps/cm\n└── Deployment/apps/web\n"
        );
    }
}
