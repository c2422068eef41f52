//! `weir bootstrap git`: puts the toolkit under GitOps. It writes the components and the sync
//! objects into the repository, commits and pushes them, installs the components, creates the
//! credentials Secret, applies the sync objects and waits until the cluster runs what the
//! repository says. Running it again upgrades: unchanged files make no commit.

mod git;
mod manifests;
mod wait;

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, bail};

use crate::cluster::ClusterArgs;
use crate::install::apply;
use crate::install::components;
use crate::install::manifests::{InstallOptions, generate};
use git::{GitAuth, Workdir};
use manifests::SyncOptions;

#[derive(clap::Args, Debug)]
pub struct BootstrapArgs {
    #[command(subcommand)]
    provider: Provider,
}

#[derive(clap::Subcommand, Debug)]
enum Provider {
    /// Bootstrap with any Git server, over HTTP(S) or SSH.
    Git(Box<GitArgs>),
}

#[derive(clap::Args, Debug)]
pub struct GitArgs {
    /// The repository URL: https://, http:// or ssh://.
    #[arg(long)]
    url: String,
    /// The branch to commit to and follow.
    #[arg(long, default_value = "main")]
    branch: String,
    /// The directory in the repository the cluster's Kustomization applies.
    #[arg(long, default_value = "clusters/my-cluster")]
    path: String,
    /// The URL the cluster fetches from, when it differs from --url.
    #[arg(long)]
    sync_url: Option<String>,
    /// Username for HTTP(S) basic auth.
    #[arg(long, short = 'u', default_value = "git")]
    username: String,
    /// Password or token for HTTP(S) basic auth.
    #[arg(long, short = 'p', env = "GIT_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Private key for SSH (also stored in the cluster's Secret).
    #[arg(long)]
    private_key_file: Option<PathBuf>,
    /// known_hosts with the SSH server's keys (required for SSH: host keys are always checked).
    #[arg(long)]
    ssh_known_hosts_file: Option<PathBuf>,
    /// How often the GitRepository checks for new commits.
    #[arg(long, default_value = "1m0s")]
    interval: String,
    /// The name of the sync objects and of their Secret.
    #[arg(long, default_value = "flux-system")]
    secret_name: String,
    /// The components to install, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = components::names().iter().map(ToString::to_string).collect::<Vec<_>>())]
    components: Vec<String>,
    /// The container registry of the controller images.
    #[arg(long, default_value = "ghcr.io/weir-gitops")]
    registry: String,
    /// Whether to add NetworkPolicies that confine traffic into the namespace.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    network_policy: bool,
    /// The commit author's name.
    #[arg(long, default_value = "Weir")]
    author_name: String,
    /// The commit author's email.
    #[arg(long, default_value = "weir@users.noreply.weir.invalid")]
    author_email: String,
}

pub async fn run(cluster: &ClusterArgs, args: BootstrapArgs) -> anyhow::Result<()> {
    match args.provider {
        Provider::Git(args) => git_bootstrap(cluster, *args).await,
    }
}

async fn git_bootstrap(cluster: &ClusterArgs, args: GitArgs) -> anyhow::Result<()> {
    let known = components::names();
    if let Some(unknown) = args.components.iter().find(|c| !known.contains(&c.as_str())) {
        bail!("unknown component {unknown:?}; the components are {}", known.join(", "));
    }
    let path = args.path.trim_start_matches("./").trim_end_matches('/').to_string();
    if path.is_empty() || path.split('/').any(|part| part == "..") {
        bail!("--path must be a directory inside the repository, e.g. clusters/my-cluster");
    }
    let (auth, secret_data) = credentials(&args)?;
    let namespace = cluster.namespace.clone();

    let client = cluster.client().await?;
    let version = client.apiserver_version().await.context("connecting to the cluster")?;
    eprintln!("► cloning branch {:?} from {}", args.branch, args.url);
    let (url, branch) = (args.url.clone(), args.branch.clone());
    let workdir = tokio::task::spawn_blocking(move || Workdir::clone(&url, &branch, auth)).await??;
    eprintln!("✔ cloned repository");

    let opts = InstallOptions {
        namespace: namespace.clone(),
        registry: args.registry.trim_end_matches('/').to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        components: args.components.clone(),
        log_level: "info".to_string(),
        watch_all_namespaces: true,
        network_policy: args.network_policy,
        server_version: apply::parse_server_version(&version.major, &version.minor),
    };
    let components = generate(&opts);
    let sync_url = args.sync_url.clone().unwrap_or_else(|| args.url.clone());
    let sync = SyncOptions {
        name: &args.secret_name,
        namespace: &namespace,
        url: &sync_url,
        branch: &args.branch,
        path: &path,
        interval: &args.interval,
        with_secret: !secret_data.is_empty(),
    };
    let sync_objects = vec![manifests::git_repository(&sync), manifests::kustomization(&sync)];

    eprintln!("► generating manifests in {path}/{}", manifests::SYNC_DIR);
    let dir = workdir.checkout_dir().join(&path).join(manifests::SYNC_DIR);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let header = format!("Weir v{} components, generated by weir bootstrap", opts.version);
    let files = [
        (manifests::COMPONENTS_FILE, manifests::to_yaml(&header, &components)?),
        (manifests::SYNC_FILE, manifests::to_yaml("Weir sync objects, generated by weir bootstrap", &sync_objects)?),
        (manifests::KUSTOMIZATION_FILE, manifests::kustomization_yaml()),
    ];
    for (name, content) in &files {
        std::fs::write(dir.join(name), content).with_context(|| format!("writing {name}"))?;
    }
    let message = format!("Add Weir v{} component and sync manifests", opts.version);
    let sync_dir = format!("{path}/{}", manifests::SYNC_DIR);
    let author = (args.author_name.clone(), args.author_email.clone());
    let branch = args.branch.clone();
    let (workdir, commit) = tokio::task::spawn_blocking(move || {
        let commit = workdir.commit(&sync_dir, &message, (&author.0, &author.1))?;
        if commit.is_some() {
            workdir.push(&branch)?;
        }
        let head = workdir.head()?;
        anyhow::Ok((workdir, commit.unwrap_or(head)))
    })
    .await??;
    drop(workdir);
    eprintln!("✔ repository at {commit} on {:?}", args.branch);

    eprintln!("► installing components in {namespace}");
    apply::apply_all(&client, &components, cluster.timeout).await?;
    if !secret_data.is_empty() {
        eprintln!("► creating Secret {namespace}/{}", args.secret_name);
        let secret = manifests::secret(&args.secret_name, &namespace, &secret_data);
        apply::apply_all(&client, &[secret], cluster.timeout).await?;
    }
    eprintln!("► applying sync objects");
    apply::apply_all(&client, &sync_objects, cluster.timeout).await?;
    wait::until_synced(&client, &namespace, &args.secret_name, &commit, cluster.timeout).await?;
    eprintln!("✔ bootstrap finished: the cluster follows {} ({}/{path})", args.url, args.branch);
    Ok(())
}

/// The Git credentials for the push, and the Secret data for the cluster.
fn credentials(args: &GitArgs) -> anyhow::Result<(GitAuth, BTreeMap<String, String>)> {
    let mut data = BTreeMap::new();
    let ssh = args.url.starts_with("ssh://");
    if !ssh && !args.url.starts_with("http://") && !args.url.starts_with("https://") {
        bail!("--url must start with https://, http:// or ssh:// (got {:?})", args.url);
    }
    if ssh {
        let (Some(key), Some(known_hosts)) = (&args.private_key_file, &args.ssh_known_hosts_file) else {
            bail!("an ssh:// URL needs --private-key-file and --ssh-known-hosts-file (host keys are always checked)");
        };
        let read = |p: &PathBuf| std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()));
        data.insert("identity".to_string(), read(key)?);
        data.insert("known_hosts".to_string(), read(known_hosts)?);
        let auth = GitAuth::Ssh { private_key: key.clone(), known_hosts: known_hosts.clone() };
        return Ok((auth, data));
    }
    match &args.password {
        Some(password) => {
            data.insert("username".to_string(), args.username.clone());
            data.insert("password".to_string(), password.clone());
            Ok((GitAuth::Basic { username: args.username.clone(), password: password.clone() }, data))
        }
        None => Ok((GitAuth::None, data)),
    }
}
