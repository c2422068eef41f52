//! `weir reconcile KIND NAME [--with-source]`: reconcile now and wait for the outcome.

use anyhow::bail;
use kube::api::DynamicObject;
use serde_json::Value;

use crate::cluster::ClusterArgs;
use crate::kinds::{self, FluxKind};
use crate::output::progress;
use crate::status;
use crate::target::Target;
use crate::wait;

#[derive(clap::Args, Debug)]
pub struct ReconcileArgs {
    #[command(subcommand)]
    target: Target,
    /// Reconcile the Kustomization's or HelmRelease's source first.
    #[arg(long, global = true)]
    with_source: bool,
}

pub async fn run(cluster: &ClusterArgs, args: ReconcileArgs) -> anyhow::Result<()> {
    let kind = args.target.kind();
    let name = args.target.require_name(false)?;
    if !kind.is_reconciled() {
        bail!("{} objects are not reconciled on request: the notification-controller acts on events", kind.kind);
    }
    let client = cluster.client().await?;
    let object = get(&client, kind, &cluster.namespace, name).await?;
    if args.with_source {
        match source_of(kind, &object, &cluster.namespace) {
            Some((source_kind, ns, source_name)) => {
                let source = get(&client, source_kind, &ns, &source_name).await?;
                reconcile(&client, source_kind, &source, cluster).await?;
                // A HelmRelease reads its chart through a HelmChart the controller made from
                // the source: it must fetch the new chart too.
                if let Some((chart_ns, chart_name)) = helm_chart_of(&object) {
                    let chart = get(&client, &kinds::HELM_CHART, &chart_ns, &chart_name).await?;
                    reconcile(&client, &kinds::HELM_CHART, &chart, cluster).await?;
                }
            }
            None => bail!("--with-source works for Kustomizations and HelmReleases that name a source"),
        }
    }
    reconcile(&client, kind, &object, cluster).await
}

/// Fetches a Flux object, with an error that says how to find the right name.
pub async fn get(client: &kube::Client, kind: &FluxKind, namespace: &str, name: &str) -> anyhow::Result<Value> {
    let api = kind.api(client, Some(namespace));
    let object: Option<DynamicObject> =
        api.get_opt(name).await.map_err(|e| crate::errors::api(e, &format!("getting {} {name}", kind.kind)))?;
    match object {
        Some(o) => Ok(serde_json::to_value(o)?),
        None => bail!(
            "{} {namespace}/{name} not found; list them with `weir get {} -n {namespace}` or pass the right -n",
            kind.kind,
            list_command(kind)
        ),
    }
}

fn list_command(kind: &FluxKind) -> String {
    match kind.command.split_once(' ') {
        Some((_, short)) => format!("sources {short}"),
        None => format!("{}s", kind.command),
    }
}

async fn reconcile(
    client: &kube::Client,
    kind: &FluxKind,
    object: &Value,
    cluster: &ClusterArgs,
) -> anyhow::Result<()> {
    let (namespace, name) = (status::namespace(object), status::name(object));
    if status::is_suspended(object) {
        bail!(
            "{} {namespace}/{name} is suspended; resume it first with `weir resume {} {name} -n {namespace}`",
            kind.kind,
            kind.command
        );
    }
    progress::step(&format!("annotating {} {namespace}/{name}", kind.kind));
    let api = kind.api(client, Some(namespace));
    let requested = wait::request(&api, kind, name, None).await?;
    progress::done(&format!("{} annotated", kind.kind));
    let reconciled = wait::handled(&api, kind, namespace, name, &requested, cluster.timeout).await?;
    print_revision(kind, &reconciled);
    Ok(())
}

pub fn print_revision(kind: &FluxKind, object: &Value) {
    let revision = status::revision(object);
    if revision.is_empty() {
        return;
    }
    let verb = if kind.is_source() { "fetched" } else { "applied" };
    progress::done(&format!("{verb} revision {revision}"));
}

/// The HelmChart (`status.helmChart`, "namespace/name") a HelmRelease's chart template made.
fn helm_chart_of(object: &Value) -> Option<(String, String)> {
    let text = object.pointer("/status/helmChart").and_then(Value::as_str)?;
    let (ns, name) = text.split_once('/')?;
    Some((ns.to_string(), name.to_string()))
}

/// The source a Kustomization or HelmRelease reads: its kind, namespace and name.
pub fn source_of(kind: &FluxKind, object: &Value, default_ns: &str) -> Option<(&'static FluxKind, String, String)> {
    let reference = match kind.kind {
        "Kustomization" => object.pointer("/spec/sourceRef"),
        "HelmRelease" => object.pointer("/spec/chart/spec/sourceRef").or_else(|| object.pointer("/spec/chartRef")),
        _ => None,
    }?;
    let source_kind = kinds::by_kind(kinds::SOURCE_GROUP, reference["kind"].as_str()?)?;
    let own_ns = object.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or(default_ns);
    let namespace = reference["namespace"].as_str().unwrap_or(own_ns).to_string();
    Some((source_kind, namespace, reference["name"].as_str()?.to_string()))
}
