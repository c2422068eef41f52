//! What `weir build` and `weir diff` share: a Kustomization's objects rendered from a local
//! directory exactly as kustomize-controller renders them from an artifact
//! (`weir_kustomize::flux::build`), with its owner labels.

mod variables;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde_json::{Value, json};
use weir_api::annotations::{KUSTOMIZE_NAME_LABEL, KUSTOMIZE_NAMESPACE_LABEL};
use weir_api::kustomize::KustomizationSpec;

use crate::cluster::ClusterArgs;
use crate::kinds;

#[derive(clap::Args, Debug, Clone)]
pub struct RenderArgs {
    /// The Kustomization's name.
    pub name: String,
    /// The local directory that holds what the Kustomization's spec.path holds in its source.
    #[arg(long)]
    pub path: PathBuf,
    /// A local file with the Kustomization object, instead of the one in the cluster.
    #[arg(long)]
    pub kustomization_file: Option<PathBuf>,
}

pub struct Rendered {
    /// The Kustomization, from the cluster or the file.
    pub kustomization: Value,
    pub objects: Vec<Value>,
}

/// Renders the Kustomization `args.name`; `client` is `None` for a dry run (no cluster access:
/// the spec comes from the file or defaults, and substituteFrom is left out).
pub async fn render(
    cluster: &ClusterArgs,
    args: &RenderArgs,
    client: Option<&kube::Client>,
) -> anyhow::Result<Rendered> {
    let namespace = cluster.namespace.as_str();
    let kustomization = match (&args.kustomization_file, client) {
        (Some(file), _) => from_file(file, &args.name)?,
        (None, Some(client)) => crate::reconcile::get(client, &kinds::KUSTOMIZATION, namespace, &args.name).await?,
        (None, None) => json!({
            "apiVersion": kinds::KUSTOMIZATION.api_version(), "kind": "Kustomization",
            "metadata": {"name": args.name, "namespace": namespace},
            "spec": {"interval": "1m", "prune": true, "path": "./", "sourceRef": {"kind": "GitRepository", "name": args.name}}
        }),
    };
    let ks_namespace =
        kustomization.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or(namespace).to_string();
    let mut spec: KustomizationSpec = serde_json::from_value(kustomization["spec"].clone())
        .with_context(|| format!("the Kustomization {} has an invalid spec", args.name))?;

    let dir = args.path.canonicalize().with_context(|| format!("--path {}", args.path.display()))?;
    if !dir.is_dir() {
        bail!("--path {} is not a directory", args.path.display());
    }
    let root = repository_root(&dir);
    let relative = dir.strip_prefix(&root).unwrap_or(Path::new("")).to_string_lossy().into_owned();
    spec.path = Some(if relative.is_empty() { "./".to_string() } else { format!("./{relative}") });

    let variables = match (client, spec.post_build.as_ref()) {
        (Some(client), Some(post_build)) => variables::gather(client, &ks_namespace, post_build).await?,
        (None, Some(post_build)) => post_build.substitute.clone().unwrap_or_default(),
        (_, None) => BTreeMap::new(),
    };
    let mut objects = tokio::task::spawn_blocking(move || weir_kustomize::flux::build(&root, &spec, &variables))
        .await?
        .with_context(|| format!("building {}", args.path.display()))?;
    for object in &mut objects {
        let labels = &mut object["metadata"]["labels"];
        if !labels.is_object() {
            *labels = json!({});
        }
        labels[KUSTOMIZE_NAME_LABEL] = json!(args.name);
        labels[KUSTOMIZE_NAMESPACE_LABEL] = json!(ks_namespace);
    }
    Ok(Rendered { kustomization, objects })
}

/// The Git work tree `dir` is in, so that `../base` references resolve as in the source; `dir`
/// itself outside of one.
fn repository_root(dir: &Path) -> PathBuf {
    dir.ancestors().find(|d| d.join(".git").exists()).unwrap_or(dir).to_path_buf()
}

fn from_file(file: &Path, name: &str) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let docs: Vec<Value> =
        serde_saphyr::from_multiple(&text).with_context(|| format!("{} is not valid YAML", file.display()))?;
    let is_ks = |d: &&Value| {
        d["kind"] == "Kustomization" && d["apiVersion"].as_str().is_some_and(|v| v.starts_with(kinds::KUSTOMIZE_GROUP))
    };
    let found = docs.iter().filter(is_ks).find(|d| d["metadata"]["name"] == name).or_else(|| docs.iter().find(is_ks));
    match found {
        Some(ks) => Ok(ks.clone()),
        None => bail!("{} holds no Kustomization {name}", file.display()),
    }
}
