//! The `KIND NAME` part that reconcile, suspend, resume and export share:
//! `source git NAME`, `kustomization NAME`, `helmrelease NAME`, `alert NAME`…

use crate::kinds::{self, FluxKind};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SourceKind {
    Git,
    Oci,
    Helm,
    Chart,
    Bucket,
}

impl SourceKind {
    pub fn kind(self) -> &'static FluxKind {
        match self {
            SourceKind::Git => &kinds::GIT_REPOSITORY,
            SourceKind::Oci => &kinds::OCI_REPOSITORY,
            SourceKind::Helm => &kinds::HELM_REPOSITORY,
            SourceKind::Chart => &kinds::HELM_CHART,
            SourceKind::Bucket => &kinds::BUCKET,
        }
    }
}

#[derive(clap::Subcommand, Clone, Debug)]
pub enum Target {
    /// A source: git, oci, helm, chart or bucket.
    Source {
        kind: SourceKind,
        /// The object's name (leave out with --all).
        name: Option<String>,
    },
    /// A Kustomization.
    #[command(visible_alias = "ks")]
    Kustomization { name: Option<String> },
    /// A HelmRelease.
    #[command(visible_alias = "hr")]
    Helmrelease { name: Option<String> },
    /// An Alert.
    Alert { name: Option<String> },
    /// An alert Provider.
    AlertProvider { name: Option<String> },
    /// A Receiver.
    Receiver { name: Option<String> },
}

impl Target {
    pub fn kind(&self) -> &'static FluxKind {
        match self {
            Target::Source { kind, .. } => kind.kind(),
            Target::Kustomization { .. } => &kinds::KUSTOMIZATION,
            Target::Helmrelease { .. } => &kinds::HELM_RELEASE,
            Target::Alert { .. } => &kinds::ALERT,
            Target::AlertProvider { .. } => &kinds::PROVIDER,
            Target::Receiver { .. } => &kinds::RECEIVER,
        }
    }

    pub fn name(&self) -> Option<&str> {
        match self {
            Target::Source { name, .. }
            | Target::Kustomization { name }
            | Target::Helmrelease { name }
            | Target::Alert { name }
            | Target::AlertProvider { name }
            | Target::Receiver { name } => name.as_deref(),
        }
    }

    /// The name, or an error that says how to name one (or to pass --all).
    pub fn require_name(&self, all_allowed: bool) -> anyhow::Result<&str> {
        self.name().ok_or_else(|| {
            let hint = if all_allowed { " or pass --all" } else { "" };
            anyhow::anyhow!("name the {} to act on{hint}, e.g. `weir … {} NAME`", self.kind().kind, self.kind().command)
        })
    }
}
