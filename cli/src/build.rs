//! `weir build kustomization NAME --path DIR`: the objects a Kustomization would apply, rendered
//! locally as the controller renders them.

use crate::cluster::ClusterArgs;
use crate::output::format::write_documents;
use crate::render::{RenderArgs, render};

#[derive(clap::Args, Debug)]
pub struct BuildArgs {
    #[command(subcommand)]
    target: BuildTarget,
}

#[derive(clap::Subcommand, Debug)]
enum BuildTarget {
    /// Render a Kustomization from a local directory.
    #[command(visible_alias = "ks")]
    Kustomization {
        #[command(flatten)]
        render: RenderArgs,
        /// Do not contact the cluster: the spec comes from --kustomization-file (or defaults)
        /// and substituteFrom is left out.
        #[arg(long)]
        dry_run: bool,
    },
    /// Render the manifests a HelmRelease in a local directory would install.
    #[command(visible_alias = "hr")]
    Helmrelease(crate::build_helmrelease::HelmReleaseArgs),
}

pub async fn run(cluster: &ClusterArgs, args: BuildArgs) -> anyhow::Result<()> {
    let (render_args, dry_run) = match args.target {
        BuildTarget::Kustomization { render, dry_run } => (render, dry_run),
        BuildTarget::Helmrelease(hr) => return crate::build_helmrelease::run(hr, &cluster.namespace),
    };
    let client = if dry_run { None } else { Some(cluster.client().await?) };
    let rendered = render(cluster, &render_args, client.as_ref()).await?;
    write_documents(&mut std::io::stdout().lock(), &rendered.objects)
}
