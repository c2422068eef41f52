//! `weir check [--pre]`: is the cluster new enough, are the CRDs there, are the controllers ready.

use anyhow::{Context, bail};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::Api;

use crate::cluster::ClusterArgs;
use crate::install::components;
use crate::output::style::Style;

/// The oldest Kubernetes Weir runs on: CRD v1 and server-side apply are there from 1.20 on, and
/// the installer adapts the CRDs to servers without CEL.
pub const MINIMUM_VERSION: (u32, u32) = (1, 20);

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Only the prerequisites for an install (the server version).
    #[arg(long)]
    pre: bool,
    /// The components that must be running, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = components::names().iter().map(ToString::to_string).collect::<Vec<_>>())]
    components: Vec<String>,
}

struct Report {
    failures: Vec<String>,
    style: Style,
}

impl Report {
    fn ok(&self, message: &str) {
        println!("{} {message}", self.style.green("✔"));
    }

    fn fail(&mut self, message: String) {
        println!("{} {message}", self.style.red("✗"));
        self.failures.push(message);
    }
}

pub async fn run(cluster: &ClusterArgs, args: CheckArgs) -> anyhow::Result<()> {
    let client = cluster.client().await?;
    let mut report = Report { failures: Vec::new(), style: Style::stdout() };
    println!("► checking prerequisites");
    let info = client.apiserver_version().await.map_err(|e| crate::errors::api(e, "asking the server its version"))?;
    let version = crate::install::apply::parse_server_version(&info.major, &info.minor);
    let (min_major, min_minor) = MINIMUM_VERSION;
    match version {
        Some(v) if v >= MINIMUM_VERSION => {
            report.ok(&format!("Kubernetes {}.{} >= {min_major}.{min_minor}", v.0, v.1));
        }
        Some(v) => report.fail(format!("Kubernetes {}.{} is older than {min_major}.{min_minor}", v.0, v.1)),
        None => report.fail(format!("cannot read the server's version {}.{}", info.major, info.minor)),
    }
    if !args.pre {
        check_controllers(&client, cluster, &args.components, &mut report).await?;
        check_crds(&client, &mut report).await?;
    }
    if report.failures.is_empty() {
        println!("{} all checks passed", report.style.green("✔"));
        Ok(())
    } else {
        let hint = if args.pre { "" } else { "; run `weir install` to install or repair Weir" };
        bail!("{} check(s) failed{hint}", report.failures.len())
    }
}

async fn check_controllers(
    client: &kube::Client,
    cluster: &ClusterArgs,
    names: &[String],
    report: &mut Report,
) -> anyhow::Result<()> {
    println!("► checking controllers in {}", cluster.namespace);
    let api: Api<Deployment> = Api::namespaced(client.clone(), &cluster.namespace);
    for name in names {
        let deployment = api.get_opt(name).await.map_err(|e| crate::errors::api(e, "getting Deployments"))?;
        let Some(deployment) = deployment else {
            report.fail(format!("{name}: Deployment not found in {}", cluster.namespace));
            continue;
        };
        let image = image_of(&deployment);
        if is_available(&deployment) {
            report.ok(&format!("{name}: deployment ready ({image})"));
        } else {
            report.fail(format!(
                "{name}: deployment not ready ({image}); see `kubectl -n {} describe deployment {name}`",
                cluster.namespace
            ));
        }
    }
    Ok(())
}

fn is_available(deployment: &Deployment) -> bool {
    let value = serde_json::to_value(deployment).unwrap_or_default();
    let conditions = value.pointer("/status/conditions").and_then(|c| c.as_array());
    conditions.is_some_and(|cs| cs.iter().any(|c| c["type"] == "Available" && c["status"] == "True"))
}

/// The image of a Deployment's first container.
pub fn image_of(deployment: &Deployment) -> String {
    let value = serde_json::to_value(deployment).unwrap_or_default();
    let image = value.pointer("/spec/template/spec/containers/0/image").and_then(|i| i.as_str());
    image.unwrap_or_default().to_string()
}

async fn check_crds(client: &kube::Client, report: &mut Report) -> anyhow::Result<()> {
    println!("► checking CRDs");
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    for expected in weir_api::crds::all() {
        let name = expected.metadata.name.clone().context("a generated CRD has no name")?;
        let wanted: Vec<String> = expected.spec.versions.iter().filter(|v| v.storage).map(|v| v.name.clone()).collect();
        let Some(live) = api.get_opt(&name).await.map_err(|e| crate::errors::api(e, "getting CRDs"))? else {
            report.fail(format!("{name}: not installed"));
            continue;
        };
        let served: Vec<String> = live.spec.versions.iter().filter(|v| v.served).map(|v| v.name.clone()).collect();
        let missing: Vec<&String> = wanted.iter().filter(|w| !served.contains(w)).collect();
        if missing.is_empty() {
            report.ok(&format!("{name}: {}", served.join(", ")));
        } else {
            report.fail(format!("{name}: serves {} but Weir needs {}", served.join(", "), wanted.join(", ")));
        }
    }
    Ok(())
}
