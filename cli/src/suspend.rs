//! `weir suspend KIND NAME|--all` and `weir resume KIND NAME|--all` (resume waits for Ready).

use kube::api::Patch;
use serde_json::{Value, json};

use crate::cluster::ClusterArgs;
use crate::get::list;
use crate::kinds::FluxKind;
use crate::output::progress;
use crate::status;
use crate::target::Target;
use crate::wait;

#[derive(clap::Args, Debug)]
pub struct SuspendArgs {
    #[command(subcommand)]
    target: Target,
    /// Every object of the kind in the namespace (or in all with -A).
    #[arg(long, global = true)]
    all: bool,
}

/// The objects a suspend or resume acts on: the named one, or all with --all.
async fn targets(client: &kube::Client, cluster: &ClusterArgs, args: &SuspendArgs) -> anyhow::Result<Vec<Value>> {
    let kind = args.target.kind();
    if args.all {
        let objects = list(client, kind, cluster.list_scope(), None).await?;
        if objects.is_empty() {
            progress::done(&format!("no {} found", kind.kind));
        }
        return Ok(objects);
    }
    let name = args.target.require_name(true)?;
    Ok(vec![crate::reconcile::get(client, kind, &cluster.namespace, name).await?])
}

pub async fn suspend(cluster: &ClusterArgs, args: SuspendArgs) -> anyhow::Result<()> {
    let client = cluster.client().await?;
    let kind = args.target.kind();
    for object in targets(&client, cluster, &args).await? {
        let (namespace, name) = (status::namespace(&object), status::name(&object));
        progress::step(&format!("suspending {} {namespace}/{name}", kind.kind));
        set_suspend(&client, kind, namespace, name, json!({"spec": {"suspend": true}})).await?;
        progress::done(&format!("{} {namespace}/{name} suspended", kind.kind));
    }
    Ok(())
}

pub async fn resume(cluster: &ClusterArgs, args: SuspendArgs) -> anyhow::Result<()> {
    let client = cluster.client().await?;
    let kind = args.target.kind();
    let objects = targets(&client, cluster, &args).await?;
    let mut pending = Vec::new();
    for object in &objects {
        let (namespace, name) = (status::namespace(object), status::name(object));
        progress::step(&format!("resuming {} {namespace}/{name}", kind.kind));
        let api = kind.api(&client, Some(namespace));
        if kind.is_reconciled() {
            let requested = wait::request(&api, kind, name, Some(json!({"spec": {"suspend": false}}))).await?;
            pending.push((namespace, name, requested));
        } else {
            set_suspend(&client, kind, namespace, name, json!({"spec": {"suspend": false}})).await?;
        }
        progress::done(&format!("{} {namespace}/{name} resumed", kind.kind));
    }
    // Every object was resumed before waiting, so their controllers work on them at the same time.
    for (namespace, name, requested) in pending {
        let api = kind.api(&client, Some(namespace));
        let ready = wait::handled(&api, kind, namespace, name, &requested, cluster.timeout).await?;
        crate::reconcile::print_revision(kind, &ready);
    }
    Ok(())
}

async fn set_suspend(
    client: &kube::Client,
    kind: &FluxKind,
    namespace: &str,
    name: &str,
    patch: Value,
) -> anyhow::Result<()> {
    kind.api(client, Some(namespace))
        .patch(name, &crate::create::patch_params(), &Patch::Merge(&patch))
        .await
        .map_err(|e| crate::errors::api(e, &format!("patching {} {namespace}/{name}", kind.kind)))?;
    Ok(())
}
