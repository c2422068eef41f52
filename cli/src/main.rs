//! weir: installs the Weir toolkit into a cluster and operates it.

mod bootstrap;
mod cluster;
mod install;

use clap::{Parser, Subcommand};

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
    /// Print the client's version.
    Version,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Install(args) => install::run(&cli.cluster, args).await,
        Command::Bootstrap(args) => bootstrap::run(&cli.cluster, args).await,
        Command::Version => {
            println!("weir {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // `weir install --export | head` closes the pipe early; that is not an error.
        Err(e) if is_broken_pipe(&e) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("✗ {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
