//! `weir create …`: Flux objects from flags, validated by weir-api, then applied with server-side
//! apply (field manager `weir`) or printed with `--export`.

mod kustomization;
mod notification;
mod refs;
mod source;

use std::collections::BTreeMap;

use anyhow::Context;
use kube::api::{Patch, PatchParams};
use serde_json::{Value, json};

use crate::cluster::ClusterArgs;
use crate::kinds::FluxKind;
use crate::output::format::write_documents;
use crate::output::progress;

/// The field manager of everything the CLI writes, so `managedFields` say who changed what.
pub const FIELD_MANAGER: &str = "weir";

#[derive(clap::Args, Debug)]
pub struct CreateArgs {
    #[command(subcommand)]
    what: What,
    /// Print the object as YAML instead of applying it.
    #[arg(long, global = true)]
    export: bool,
    /// A label for the object, KEY=VALUE (repeatable).
    #[arg(long = "label", global = true, value_parser = parse_label)]
    labels: Vec<(String, String)>,
}

#[derive(clap::Subcommand, Debug)]
enum What {
    /// A source: git or oci.
    #[command(subcommand)]
    Source(source::SourceCommand),
    /// A Kustomization.
    #[command(visible_alias = "ks")]
    Kustomization(kustomization::KustomizationArgs),
    /// An Alert.
    Alert(notification::AlertArgs),
    /// An alert Provider.
    AlertProvider(notification::ProviderArgs),
    /// A webhook Receiver.
    Receiver(notification::ReceiverArgs),
}

fn parse_label(s: &str) -> Result<(String, String), String> {
    s.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())).ok_or_else(|| format!("{s:?} is not KEY=VALUE"))
}

pub async fn run(cluster: &ClusterArgs, args: CreateArgs) -> anyhow::Result<()> {
    let (kind, name, spec) = match &args.what {
        What::Source(command) => command.build()?,
        What::Kustomization(a) => kustomization::build(a, &cluster.namespace)?,
        What::Alert(a) => notification::alert(a)?,
        What::AlertProvider(a) => notification::provider(a),
        What::Receiver(a) => notification::receiver(a)?,
    };
    let labels: BTreeMap<&str, &str> = args.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let object = object(kind, &name, &cluster.namespace, &labels, spec);
    weir_api::dynamic::validate_value(&object)
        .map_err(|e| anyhow::anyhow!("invalid {}: {e}; fix the flags", kind.kind))?;
    if args.export {
        return write_documents(&mut std::io::stdout().lock(), &[object]);
    }
    let client = cluster.client().await?;
    progress::step(&format!("applying {} {}/{name}", kind.kind, cluster.namespace));
    kind.api(&client, Some(&cluster.namespace))
        .patch(&name, &PatchParams::apply(FIELD_MANAGER).force(), &Patch::Apply(&object))
        .await
        .map_err(|e| crate::errors::api(e, &format!("applying {} {name}", kind.kind)))
        .context("the server refused the object")?;
    progress::done(&format!("{} {}/{name} applied", kind.kind, cluster.namespace));
    Ok(())
}

/// Parameters of the CLI's merge patches: under its own field manager.
pub fn patch_params() -> PatchParams {
    PatchParams { field_manager: Some(FIELD_MANAGER.to_string()), ..Default::default() }
}

fn object(kind: &FluxKind, name: &str, namespace: &str, labels: &BTreeMap<&str, &str>, spec: Value) -> Value {
    let mut metadata = json!({"name": name, "namespace": namespace});
    if !labels.is_empty() {
        metadata["labels"] = json!(labels);
    }
    json!({"apiVersion": kind.api_version(), "kind": kind.kind, "metadata": metadata, "spec": spec})
}

/// Sets `object[key]` when `value` is present.
fn set(object: &mut Value, key: &str, value: Option<impl Into<Value>>) {
    if let Some(v) = value {
        object[key] = v.into();
    }
}
