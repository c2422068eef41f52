//! `weir version`: the client's version and, when the cluster answers, the controllers'.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, ListParams};
use weir_api::annotations::install::{PART_OF_LABEL, PART_OF_VALUE, VERSION_LABEL};

use crate::cluster::ClusterArgs;

/// How long to wait for a cluster before printing the client version alone.
const CLUSTER_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(clap::Args, Debug)]
pub struct VersionArgs {
    /// Only the client's version; do not contact the cluster.
    #[arg(long)]
    client: bool,
}

pub async fn run(cluster: &ClusterArgs, args: VersionArgs) -> anyhow::Result<()> {
    println!("weir: v{}", env!("CARGO_PKG_VERSION"));
    if args.client {
        return Ok(());
    }
    match tokio::time::timeout(CLUSTER_TIMEOUT, controllers(cluster)).await {
        Ok(Ok(rows)) if rows.is_empty() => println!("(no Weir controllers found in {})", cluster.namespace),
        Ok(Ok(rows)) => rows.iter().for_each(|row| println!("{row}")),
        Ok(Err(e)) => eprintln!("(cluster not reachable: {e:#})"),
        Err(_) => eprintln!("(cluster not reachable within {}s)", CLUSTER_TIMEOUT.as_secs()),
    }
    Ok(())
}

/// `name: version (image)` for every controller Deployment of the install.
async fn controllers(cluster: &ClusterArgs) -> anyhow::Result<Vec<String>> {
    let client = cluster.client().await?;
    let api: Api<Deployment> = Api::namespaced(client, &cluster.namespace);
    let list = api
        .list(&ListParams::default().labels(&format!("{PART_OF_LABEL}={PART_OF_VALUE}")))
        .await
        .map_err(|e| crate::errors::api(e, "listing the controllers' Deployments"))?;
    let mut rows: Vec<String> = list
        .items
        .iter()
        .map(|d| {
            let name = d.metadata.name.clone().unwrap_or_default();
            let image = crate::check::image_of(d);
            let version = d.metadata.labels.as_ref().and_then(|l| l.get(VERSION_LABEL)).cloned();
            let version =
                version.or_else(|| image.rsplit_once(':').map(|(_, tag)| tag.to_string())).unwrap_or_default();
            format!("{name}: {version} ({image})")
        })
        .collect();
    rows.sort();
    Ok(rows)
}
