//! `weir create source git|oci NAME …`.

use anyhow::bail;
use serde_json::{Value, json};

use super::set;
use crate::kinds::{self, FluxKind};

#[derive(clap::Subcommand, Debug)]
pub enum SourceCommand {
    /// A GitRepository.
    Git(GitArgs),
    /// An OCIRepository.
    Oci(OciArgs),
}

#[derive(clap::Args, Debug)]
pub struct GitArgs {
    name: String,
    /// The repository URL: http(s)://, ssh:// or git@host:path.
    #[arg(long)]
    url: String,
    /// The branch to follow.
    #[arg(long, group = "git_ref")]
    branch: Option<String>,
    /// The tag to check out.
    #[arg(long, group = "git_ref")]
    tag: Option<String>,
    /// A semver range of tags to follow, e.g. ">=1.0.0".
    #[arg(long, group = "git_ref")]
    semver: Option<String>,
    /// A commit SHA to check out.
    #[arg(long, group = "git_ref")]
    commit: Option<String>,
    /// How often to check the repository, e.g. 1m.
    #[arg(long, default_value = "1m")]
    interval: String,
    /// The Secret with the credentials (basic auth, SSH key, token).
    #[arg(long)]
    secret_ref: Option<String>,
    /// Paths to leave out of the artifact, .gitignore style, comma-separated.
    #[arg(long, value_delimiter = ',')]
    ignore_paths: Vec<String>,
}

#[derive(clap::Args, Debug)]
pub struct OciArgs {
    name: String,
    /// The repository URL, oci://host/path.
    #[arg(long)]
    url: String,
    /// The tag to pull.
    #[arg(long, group = "oci_ref")]
    tag: Option<String>,
    /// A semver range of tags to follow.
    #[arg(long, group = "oci_ref")]
    tag_semver: Option<String>,
    /// A digest to pull, sha256:….
    #[arg(long, group = "oci_ref")]
    digest: Option<String>,
    /// How often to check the repository.
    #[arg(long, default_value = "1m")]
    interval: String,
    /// The Secret with the registry credentials.
    #[arg(long)]
    secret_ref: Option<String>,
    /// The cloud provider whose workload identity to use: generic, aws, azure or gcp.
    #[arg(long)]
    provider: Option<String>,
    /// Paths to leave out of the artifact, comma-separated.
    #[arg(long, value_delimiter = ',')]
    ignore_paths: Vec<String>,
    /// Pull over plain HTTP.
    #[arg(long)]
    insecure: bool,
}

impl SourceCommand {
    pub fn build(&self) -> anyhow::Result<(&'static FluxKind, String, Value)> {
        match self {
            SourceCommand::Git(a) => Ok((&kinds::GIT_REPOSITORY, a.name.clone(), git(a)?)),
            SourceCommand::Oci(a) => Ok((&kinds::OCI_REPOSITORY, a.name.clone(), oci(a))),
        }
    }
}

fn git(a: &GitArgs) -> anyhow::Result<Value> {
    let mut reference = json!({});
    set(&mut reference, "branch", a.branch.clone());
    set(&mut reference, "tag", a.tag.clone());
    set(&mut reference, "semver", a.semver.clone());
    set(&mut reference, "commit", a.commit.clone());
    if reference.as_object().is_some_and(|r| r.is_empty()) {
        bail!("say what to check out: --branch, --tag, --semver or --commit");
    }
    let mut spec = json!({"url": a.url, "interval": a.interval, "ref": reference});
    set(&mut spec, "secretRef", a.secret_ref.as_ref().map(|n| json!({"name": n})));
    set(&mut spec, "ignore", (!a.ignore_paths.is_empty()).then(|| a.ignore_paths.join("\n")));
    Ok(spec)
}

fn oci(a: &OciArgs) -> Value {
    let mut reference = json!({});
    set(&mut reference, "tag", a.tag.clone());
    set(&mut reference, "semver", a.tag_semver.clone());
    set(&mut reference, "digest", a.digest.clone());
    let mut spec = json!({"url": a.url, "interval": a.interval});
    if reference.as_object().is_some_and(|r| !r.is_empty()) {
        spec["ref"] = reference;
    }
    set(&mut spec, "secretRef", a.secret_ref.as_ref().map(|n| json!({"name": n})));
    set(&mut spec, "provider", a.provider.clone());
    set(&mut spec, "ignore", (!a.ignore_paths.is_empty()).then(|| a.ignore_paths.join("\n")));
    set(&mut spec, "insecure", a.insecure.then_some(true));
    spec
}
