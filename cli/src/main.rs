//! weir: installs the Weir toolkit into a cluster and operates it.

mod bootstrap;
mod build;
mod build_helmrelease;
mod check;
mod cluster;
mod create;
mod diff;
mod errors;
mod events;
mod export;
mod get;
mod install;
mod kinds;
mod output;
mod reconcile;
mod render;
mod status;
mod suspend;
mod target;
mod template;
mod trace;
mod tree;
mod uninstall;
mod version;
mod wait;

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

#[derive(Parser)]
#[command(name = "weir", version, about = "Install and operate Weir, a GitOps toolkit compatible with Flux")]
struct Cli {
    #[command(flatten)]
    cluster: cluster::ClusterArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Install the toolkit's components (or print them with --export).
    Install(install::InstallArgs),
    /// Put the toolkit under GitOps: commit it to a repository and make the cluster follow it.
    Bootstrap(bootstrap::BootstrapArgs),
    /// Remove the toolkit, its CRDs and Flux objects; what they applied stays.
    Uninstall(uninstall::UninstallArgs),
    /// Check the cluster, the CRDs and the controllers.
    Check(check::CheckArgs),
    /// Show Flux objects and their status.
    Get(get::GetArgs),
    /// Reconcile an object now and wait for the outcome.
    Reconcile(reconcile::ReconcileArgs),
    /// Stop reconciling objects.
    Suspend(suspend::SuspendArgs),
    /// Reconcile suspended objects again and wait until they are Ready.
    Resume(suspend::SuspendArgs),
    /// Create or update Flux objects (or print them with --export).
    Create(create::CreateArgs),
    /// Print Flux objects as YAML to keep in Git.
    Export(export::ExportArgs),
    /// Show the objects a Kustomization manages, as a tree.
    Tree(tree::TreeArgs),
    /// Show which Flux objects and source manage an object.
    Trace(trace::TraceArgs),
    /// Show the events of Flux objects.
    Events(events::EventsArgs),
    /// Render a Kustomization from a local directory, as the controller would.
    Build(build::BuildArgs),
    /// Render a chart locally, as `helm template` does.
    Template(template::TemplateArgs),
    /// Show what applying a local directory would change (exit 0: nothing, 1: changes, 2: error).
    Diff(diff::DiffArgs),
    /// Print a shell completion script.
    Completion {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the client's version and the controllers'.
    Version(version::VersionArgs),
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    // `weir template` defaults to Helm's namespace, not the toolkit's: only an explicit -n counts.
    let namespace_given = matches
        .subcommand_matches("template")
        .and_then(|m| m.value_source("namespace"))
        .is_some_and(|source| source == ValueSource::CommandLine);
    let cluster = &cli.cluster;
    let result = match cli.command {
        Command::Install(args) => install::run(cluster, args).await,
        Command::Bootstrap(args) => bootstrap::run(cluster, args).await,
        Command::Uninstall(args) => uninstall::run(cluster, args).await,
        Command::Check(args) => check::run(cluster, args).await,
        Command::Get(args) => get::run(cluster, args).await,
        Command::Reconcile(args) => reconcile::run(cluster, args).await,
        Command::Suspend(args) => suspend::suspend(cluster, args).await,
        Command::Resume(args) => suspend::resume(cluster, args).await,
        Command::Create(args) => create::run(cluster, args).await,
        Command::Export(args) => export::run(cluster, args).await,
        Command::Tree(args) => tree::run(cluster, args).await,
        Command::Trace(args) => trace::run(cluster, args).await,
        Command::Events(args) => events::run(cluster, args).await,
        Command::Build(args) => build::run(cluster, args).await,
        Command::Template(args) => template::run(args, namespace_given.then_some(cluster.namespace.as_str())),
        Command::Diff(args) => {
            // diff's exit code says whether there are changes; errors need a code of their own.
            return match diff::run(cluster, args).await {
                Ok(false) => std::process::ExitCode::SUCCESS,
                Ok(true) => std::process::ExitCode::from(1),
                Err(e) => {
                    eprintln!("Error: {e:#}");
                    std::process::ExitCode::from(2)
                }
            };
        }
        Command::Completion { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "weir", &mut std::io::stdout());
            Ok(())
        }
        Command::Version(args) => version::run(cluster, args).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // `weir install --export | head` closes the pipe early; that is not an error.
        Err(e) if is_broken_pipe(&e) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
