//! `weir trace KIND/NAME`: which Flux object manages an object, from which source and revision.

use std::io::Write;

use anyhow::{Context, anyhow, bail};
use kube::api::{Api, DynamicObject};
use kube::discovery::{Discovery, Scope};
use serde_json::Value;
use weir_api::annotations::{HELM_NAME_LABEL, HELM_NAMESPACE_LABEL, KUSTOMIZE_NAME_LABEL, KUSTOMIZE_NAMESPACE_LABEL};

use crate::cluster::ClusterArgs;
use crate::kinds::{self, FluxKind};
use crate::status;

#[derive(clap::Args, Debug)]
pub struct TraceArgs {
    /// The object, as KIND/NAME (e.g. deployment/podinfo) or KIND NAME.
    object: String,
    name: Option<String>,
    /// The object's API group and version, when its kind is ambiguous (e.g. apps/v1).
    #[arg(long)]
    api_version: Option<String>,
}

pub async fn run(cluster: &ClusterArgs, args: TraceArgs) -> anyhow::Result<()> {
    let (kind_name, name) = match (args.object.split_once('/'), &args.name) {
        (Some((k, n)), None) => (k.to_string(), n.to_string()),
        (None, Some(n)) => (args.object.clone(), n.clone()),
        _ => bail!("name the object as KIND/NAME, e.g. `weir trace deployment/podinfo -n apps`"),
    };
    let client = cluster.client().await?;
    let namespace = cluster.namespace.as_str();
    let object = get_any(&client, &kind_name, args.api_version.as_deref(), namespace, &name).await?;
    let mut out = std::io::stdout().lock();
    let kind = object["kind"].as_str().unwrap_or(&kind_name).to_string();
    let group = object["apiVersion"].as_str().and_then(|v| v.rsplit_once('/')).map(|(g, _)| g).unwrap_or_default();
    // A Flux object traces from itself; anything else from the Flux object that applied it.
    let owner = if let Some(flux_kind) = kinds::by_kind(group, &kind) {
        Some((flux_kind, object.clone()))
    } else {
        writeln!(out, "Object:        {kind}/{name}")?;
        if !status::namespace(&object).is_empty() {
            writeln!(out, "Namespace:     {}", status::namespace(&object))?;
        }
        let owner = owner_of(&client, &object).await?;
        match &owner {
            Some(_) => writeln!(out, "Status:        Managed by Weir")?,
            None => writeln!(out, "Status:        Not managed by Weir (no Kustomization or HelmRelease labels)")?,
        }
        owner
    };
    let Some((owner_kind, owner)) = owner else { return Ok(()) };
    print_flux_object(&mut out, owner_kind, &owner)?;
    if let Some((source_kind, ns, source_name)) = crate::reconcile::source_of(owner_kind, &owner, namespace) {
        match crate::reconcile::get(&client, source_kind, &ns, &source_name).await {
            Ok(source) => print_flux_object(&mut out, source_kind, &source)?,
            Err(e) => {
                writeln!(out, "---\n{}: {source_name}\nNamespace:     {ns}\nStatus:        {e:#}", source_kind.kind)?
            }
        }
    }
    Ok(())
}

/// The Kustomization or HelmRelease whose owner labels the object carries.
async fn owner_of(client: &kube::Client, object: &Value) -> anyhow::Result<Option<(&'static FluxKind, Value)>> {
    let labels = &object["metadata"]["labels"];
    let owners = [
        (&kinds::KUSTOMIZATION, KUSTOMIZE_NAME_LABEL, KUSTOMIZE_NAMESPACE_LABEL),
        (&kinds::HELM_RELEASE, HELM_NAME_LABEL, HELM_NAMESPACE_LABEL),
    ];
    for (kind, name_label, namespace_label) in owners {
        if let (Some(name), Some(ns)) = (labels[name_label].as_str(), labels[namespace_label].as_str()) {
            return Ok(Some((kind, crate::reconcile::get(client, kind, ns, name).await?)));
        }
    }
    Ok(None)
}

fn print_flux_object(out: &mut impl Write, kind: &FluxKind, object: &Value) -> std::io::Result<()> {
    let field = |label: &str| format!("{:<15}", format!("{label}:"));
    writeln!(out, "---")?;
    writeln!(out, "{}{}", field(kind.kind), status::name(object))?;
    writeln!(out, "{}{}", field("Namespace"), status::namespace(object))?;
    let spec = &object["spec"];
    for (label, pointer) in [
        ("URL", "/url"),
        ("Path", "/path"),
        ("Branch", "/ref/branch"),
        ("Tag", "/ref/tag"),
        ("Semver", "/ref/semver"),
        ("Chart", "/chart/spec/chart"),
    ] {
        if let Some(v) = spec.pointer(pointer).and_then(Value::as_str) {
            writeln!(out, "{}{v}", field(label))?;
        }
    }
    let revision = status::revision(object);
    if !revision.is_empty() {
        writeln!(out, "{}{revision}", field("Revision"))?;
    }
    let ready = status::ready(object);
    let state = match ready.status.as_str() {
        "True" => "Ready",
        "False" => "Not ready",
        _ => "Unknown",
    };
    let suspended = if status::is_suspended(object) { " (suspended)" } else { "" };
    writeln!(out, "{}{state}{suspended}", field("Status"))?;
    writeln!(out, "{}{}", field("Message"), ready.message)
}

/// Fetches an object of any kind the server serves, found by kind, plural or short name.
async fn get_any(
    client: &kube::Client,
    kind: &str,
    api_version: Option<&str>,
    namespace: &str,
    name: &str,
) -> anyhow::Result<Value> {
    if api_version.is_none()
        && let Some(flux) = kinds::find(kind)
    {
        return crate::reconcile::get(client, flux, namespace, name).await;
    }
    let discovery = Discovery::new(client.clone()).run().await.context("discovering the server's kinds")?;
    let wanted = kind.to_ascii_lowercase();
    let group_filter = api_version.map(|v| v.rsplit_once('/').map(|(g, _)| g).unwrap_or(""));
    let found = discovery
        .groups()
        .filter(|g| group_filter.is_none_or(|f| g.name() == f))
        .flat_map(|g| g.recommended_resources())
        .find(|(r, _)| r.kind.to_ascii_lowercase() == wanted || r.plural == wanted || short_name(&r.kind) == wanted);
    let Some((resource, caps)) = found else {
        bail!("the server has no kind {kind:?}; give it as kubectl names it, e.g. deployment or configmap");
    };
    let api: Api<DynamicObject> = match caps.scope {
        Scope::Namespaced => Api::namespaced_with(client.clone(), namespace, &resource),
        Scope::Cluster => Api::all_with(client.clone(), &resource),
    };
    let object = api
        .get_opt(name)
        .await
        .map_err(|e| crate::errors::api(e, &format!("getting {} {name}", resource.kind)))?
        .ok_or_else(|| anyhow!("{} {namespace}/{name} not found; pass the right -n", resource.kind))?;
    let mut value = serde_json::to_value(object)?;
    value["kind"] = Value::from(resource.kind.clone());
    value["apiVersion"] = Value::from(resource.api_version.clone());
    Ok(value)
}

/// kubectl's most used short names.
fn short_name(kind: &str) -> &'static str {
    match kind {
        "Deployment" => "deploy",
        "ConfigMap" => "cm",
        "Service" => "svc",
        "ServiceAccount" => "sa",
        "Namespace" => "ns",
        "Ingress" => "ing",
        "DaemonSet" => "ds",
        "StatefulSet" => "sts",
        "PersistentVolumeClaim" => "pvc",
        _ => "",
    }
}
