//! The Flux kinds the CLI operates on: their API coordinates and the names people type for them.

use kube::api::{Api, DynamicObject};
use kube::core::{ApiResource, GroupVersionKind};

/// One Flux kind as the CLI addresses it.
#[derive(Debug, PartialEq, Eq)]
pub struct FluxKind {
    pub kind: &'static str,
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    /// The words of the command line that name the kind, e.g. `source git` or `kustomization`.
    pub command: &'static str,
    /// Other names accepted in `KIND/NAME` arguments (lower case).
    pub aliases: &'static [&'static str],
}

pub const SOURCE_GROUP: &str = "source.toolkit.fluxcd.io";
pub const KUSTOMIZE_GROUP: &str = "kustomize.toolkit.fluxcd.io";
pub const HELM_GROUP: &str = "helm.toolkit.fluxcd.io";
pub const NOTIFICATION_GROUP: &str = "notification.toolkit.fluxcd.io";

pub const GIT_REPOSITORY: FluxKind =
    FluxKind::new(SOURCE_GROUP, "v1", "GitRepository", "gitrepositories", "source git", &["gitrepo", "git"]);
pub const OCI_REPOSITORY: FluxKind =
    FluxKind::new(SOURCE_GROUP, "v1", "OCIRepository", "ocirepositories", "source oci", &["ocirepo", "oci"]);
pub const HELM_REPOSITORY: FluxKind =
    FluxKind::new(SOURCE_GROUP, "v1", "HelmRepository", "helmrepositories", "source helm", &["helmrepo"]);
pub const HELM_CHART: FluxKind =
    FluxKind::new(SOURCE_GROUP, "v1", "HelmChart", "helmcharts", "source chart", &["chart"]);
pub const BUCKET: FluxKind = FluxKind::new(SOURCE_GROUP, "v1", "Bucket", "buckets", "source bucket", &[]);
pub const KUSTOMIZATION: FluxKind =
    FluxKind::new(KUSTOMIZE_GROUP, "v1", "Kustomization", "kustomizations", "kustomization", &["ks"]);
pub const HELM_RELEASE: FluxKind =
    FluxKind::new(HELM_GROUP, "v2", "HelmRelease", "helmreleases", "helmrelease", &["hr"]);
pub const ALERT: FluxKind = FluxKind::new(NOTIFICATION_GROUP, "v1beta3", "Alert", "alerts", "alert", &[]);
pub const PROVIDER: FluxKind = FluxKind::new(
    NOTIFICATION_GROUP,
    "v1beta3",
    "Provider",
    "providers",
    "alert-provider",
    &["alert-provider", "alertprovider"],
);
pub const RECEIVER: FluxKind = FluxKind::new(NOTIFICATION_GROUP, "v1", "Receiver", "receivers", "receiver", &[]);

pub const SOURCES: &[&FluxKind] = &[&GIT_REPOSITORY, &OCI_REPOSITORY, &HELM_REPOSITORY, &HELM_CHART, &BUCKET];
pub const ALL: &[&FluxKind] = &[
    &GIT_REPOSITORY,
    &OCI_REPOSITORY,
    &HELM_REPOSITORY,
    &HELM_CHART,
    &BUCKET,
    &KUSTOMIZATION,
    &HELM_RELEASE,
    &ALERT,
    &PROVIDER,
    &RECEIVER,
];

impl FluxKind {
    const fn new(
        group: &'static str,
        version: &'static str,
        kind: &'static str,
        plural: &'static str,
        command: &'static str,
        aliases: &'static [&'static str],
    ) -> FluxKind {
        FluxKind { kind, group, version, plural, command, aliases }
    }

    pub fn api_version(&self) -> String {
        format!("{}/{}", self.group, self.version)
    }

    pub fn api_resource(&self) -> ApiResource {
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(self.group, self.version, self.kind), self.plural)
    }

    /// The kind's API in `namespace`, or across all namespaces when `None`.
    pub fn api(&self, client: &kube::Client, namespace: Option<&str>) -> Api<DynamicObject> {
        match namespace {
            Some(ns) => Api::namespaced_with(client.clone(), ns, &self.api_resource()),
            None => Api::all_with(client.clone(), &self.api_resource()),
        }
    }

    /// Whether the kind is reconciled (has `lastHandledReconcileAt` and a Ready condition that
    /// follows a request), as opposed to Alerts and Providers, which are static in v1beta3.
    pub fn is_reconciled(&self) -> bool {
        !matches!(self.kind, "Alert" | "Provider")
    }

    pub fn is_source(&self) -> bool {
        self.group == SOURCE_GROUP
    }
}

/// Finds a Flux kind by the name a person typed: `GitRepository`, `gitrepositories`, `ks`, `hr`…
pub fn find(name: &str) -> Option<&'static FluxKind> {
    let lower = name.to_ascii_lowercase();
    ALL.iter()
        .copied()
        .find(|k| k.kind.eq_ignore_ascii_case(&lower) || k.plural == lower || k.aliases.contains(&lower.as_str()))
}

/// Finds a Flux kind by its exact `kind` and API group.
pub fn by_kind(group: &str, kind: &str) -> Option<&'static FluxKind> {
    ALL.iter().copied().find(|k| k.kind == kind && k.group == group)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_kinds_by_the_names_people_type() {
        assert_eq!(find("ks"), Some(&KUSTOMIZATION));
        assert_eq!(find("HelmRelease"), Some(&HELM_RELEASE));
        assert_eq!(find("gitrepositories"), Some(&GIT_REPOSITORY));
        assert_eq!(find("kustomization"), Some(&KUSTOMIZATION));
        assert_eq!(find("deployment"), None);
    }
}
