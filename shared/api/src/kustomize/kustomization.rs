//! Kustomization (`kustomize.toolkit.fluxcd.io/v1`): builds a directory of a source's artifact
//! with kustomize, then applies the result to a cluster with server-side apply, prunes what left
//! the source and waits for the applied objects to become healthy.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::conditions::Condition;
use crate::duration::{DurationError, parse_duration};
use crate::meta::{
    CommonMetadata, CustomHealthCheck, DependencyReference, IgnoreRule, Image, KubeConfigReference,
    LocalObjectReference, NamespacedObjectKindReference, Patch, ResourceInventory,
};
use crate::validation::{Validate, ValidationErrors, Validator};

/// The timeout floor and the margin subtracted from the interval when no timeout is set.
const TIMEOUT_MARGIN: Duration = Duration::from_secs(30);

/// What to build from a source and how to apply it.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "kustomize.toolkit.fluxcd.io",
    version = "v1",
    kind = "Kustomization",
    doc = "Applies the kustomize build of a path in a source's artifact to a cluster, and keeps it applied.",
    namespaced,
    status = "KustomizationStatus",
    shortname = "ks",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-appliers",
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    printcolumn(name = "Ready", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].status"#),
    printcolumn(name = "Status", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].message"#)
)]
#[serde(rename_all = "camelCase")]
pub struct KustomizationSpec {
    /// Kustomize build metadata to record on the built objects as annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_metadata: Option<Vec<BuildMetadataOption>>,
    /// Labels and annotations set on every applied object, overriding existing values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub common_metadata: Option<CommonMetadata>,
    /// Paths of kustomize Components to include, relative to `path`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub components: Option<Vec<String>>,
    /// How to decrypt encrypted Secrets in the build output before applying it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decryption: Option<Decryption>,
    /// What happens to the applied objects when the Kustomization is deleted; `MirrorPrune` (the
    /// default) deletes them if `prune` is true and orphans them otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_policy: Option<DeletionPolicy>,
    /// Kustomizations that must be ready before this one is reconciled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depends_on: Option<Vec<DependencyReference>>,
    /// Delete and recreate an object when a patch fails on an immutable field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = false))]
    pub force: Option<bool>,
    /// CEL expressions that compute the health of custom kinds; used when `wait` or `healthChecks`
    /// is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_exprs: Option<Vec<CustomHealthCheck>>,
    /// Objects whose health is checked after each apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_checks: Option<Vec<NamespacedObjectKindReference>>,
    /// Fields of the applied objects that drift detection and apply leave alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore: Option<Vec<IgnoreRule>>,
    /// Drop the entries of `components` that do not exist in the source instead of failing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_missing_components: Option<bool>,
    /// Image name, tag and digest rewrites applied to the build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images: Option<Vec<Image>>,
    /// How often to reconcile (approximately: jitter may be added).
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub interval: String,
    /// Apply to a remote cluster instead of the one the controller runs in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kube_config: Option<KubeConfigReference>,
    /// Prefix added to the names of all applied objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 200))]
    pub name_prefix: Option<String>,
    /// Suffix added to the names of all applied objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 200))]
    pub name_suffix: Option<String>,
    /// Inline patches applied to the build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patches: Option<Vec<Patch>>,
    /// Directory in the artifact to build; a `kustomization.yaml` is generated when it has none.
    /// Defaults to the artifact's root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Variable substitution performed on the build output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_build: Option<PostBuild>,
    /// Delete the objects applied before that are no longer in the build.
    pub prune: bool,
    /// How soon to retry after a failed reconciliation; defaults to `interval`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub retry_interval: Option<String>,
    /// Service account to impersonate when applying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// The source whose artifact holds the manifests.
    pub source_ref: CrossNamespaceSourceReference,
    /// Stop reconciling; a reconciliation already running finishes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
    /// Namespace set on every namespaced object of the build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub target_namespace: Option<String>,
    /// Time limit for build, apply and health checks; defaults to `interval` minus 30s, and is
    /// never less than 30s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub timeout: Option<String>,
    /// Wait for every applied object to become healthy, ignoring `healthChecks`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<bool>,
}

/// A kustomize build metadata option.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum BuildMetadataOption {
    /// Annotate each object with the file it came from.
    #[serde(rename = "originAnnotations")]
    OriginAnnotations,
    /// Annotate each object with the transformers that changed it.
    #[serde(rename = "transformerAnnotations")]
    TransformerAnnotations,
}

/// How to decrypt encrypted Secrets in the build output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Decryption {
    /// Decryption engine.
    pub provider: DecryptionProvider,
    /// Secret holding decryption keys (age, OpenPGP, Vault token) or cloud KMS credentials; static
    /// credentials in it take precedence over `serviceAccountName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// Service account whose workload identity authenticates to cloud KMS services.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
}

/// A decryption engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum DecryptionProvider {
    /// Mozilla SOPS.
    #[serde(rename = "sops")]
    Sops,
}

/// What happens to the applied objects when the Kustomization is deleted; `MirrorPrune` when unset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum DeletionPolicy {
    /// Delete when `prune` is true, orphan otherwise.
    #[default]
    MirrorPrune,
    /// Delete the objects.
    Delete,
    /// Delete the objects and wait until they are gone.
    WaitForTermination,
    /// Leave the objects in the cluster.
    Orphan,
}

/// Variable substitution on the build output (`${var}`, `${var:=default}` and the like).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PostBuild {
    /// Variables given inline; they take precedence over `substituteFrom`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub substitute: Option<BTreeMap<String, String>>,
    /// ConfigMaps and Secrets whose data keys are variable names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub substitute_from: Option<Vec<SubstituteReference>>,
    /// When to substitute: `WithVariables` (the default) only when at least one variable is
    /// defined, `Always` even when none is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub substitute_strategy: Option<SubstituteStrategy>,
}

/// A ConfigMap or Secret in the Kustomization's namespace that holds substitution variables.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubstituteReference {
    /// `ConfigMap` or `Secret`.
    pub kind: SubstituteKind,
    /// Name of the ConfigMap or Secret.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Treat a missing object as empty instead of failing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = false))]
    pub optional: Option<bool>,
}

/// The kind of a substitution variables object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum SubstituteKind {
    /// A Secret.
    Secret,
    /// A ConfigMap.
    ConfigMap,
}

/// When variable substitution runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum SubstituteStrategy {
    /// Substitute only when at least one variable is defined.
    #[default]
    WithVariables,
    /// Substitute even when no variable is defined.
    Always,
}

/// A source object, optionally in another namespace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CrossNamespaceSourceReference {
    /// API version of the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Kind of the source.
    pub kind: SourceKind,
    /// Name of the source.
    pub name: String,
    /// Namespace of the source; defaults to the Kustomization's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

impl CrossNamespaceSourceReference {
    /// The source's namespace, or `default` (the referring object's namespace) when unset.
    pub fn namespace_or<'a>(&'a self, default: &'a str) -> &'a str {
        self.namespace.as_deref().filter(|n| !n.is_empty()).unwrap_or(default)
    }
}

/// The kinds a Kustomization can take its artifact from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum SourceKind {
    /// An artifact pulled from an OCI registry.
    OCIRepository,
    /// An artifact checked out from Git.
    GitRepository,
    /// An artifact downloaded from an object storage bucket.
    Bucket,
    /// An artifact produced by a third-party controller.
    ExternalArtifact,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::OCIRepository => "OCIRepository",
            SourceKind::GitRepository => "GitRepository",
            SourceKind::Bucket => "Bucket",
            SourceKind::ExternalArtifact => "ExternalArtifact",
        }
    }
}

/// What the controller last did and found.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("default" = {"observedGeneration": -1}))]
pub struct KustomizationStatus {
    /// `Ready`, `Reconciling`, `Stalled` and `Healthy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
    /// The most recent reconciliations, one entry per distinct build output, newest first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<Snapshot>>,
    /// The objects applied by the last successful reconciliation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<ResourceInventory>,
    /// The origin revision of the last applied artifact (for OCI sources, the
    /// `org.opencontainers.image.revision` annotation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_applied_origin_revision: Option<String>,
    /// The revision of the last artifact applied successfully.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_applied_revision: Option<String>,
    /// The revision of the last artifact a reconciliation was attempted with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_revision: Option<String>,
    /// The last `reconcile.fluxcd.io/requestedAt` annotation value handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
    /// The `metadata.generation` of the last reconciliation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// Reconciliations of one build output (same digest): when, how often, how long and how they ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// Digest of the build output, `<algorithm>:<hex>`.
    pub digest: String,
    /// When this output was first reconciled.
    #[schemars(schema_with = "crate::schema::date_time")]
    pub first_reconciled: Time,
    /// When this output was last reconciled.
    #[schemars(schema_with = "crate::schema::date_time")]
    pub last_reconciled: Time,
    /// How long the last reconciliation took, as a Go duration string (`2.5s`).
    pub last_reconciled_duration: String,
    /// The Ready reason the last reconciliation ended with.
    pub last_reconciled_status: String,
    /// Extra data about the snapshot, such as the source revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
    /// How many times this output was reconciled.
    pub total_reconciliations: i64,
}

impl KustomizationSpec {
    /// The reconciliation interval.
    pub fn interval(&self) -> Result<Duration, DurationError> {
        parse_duration(&self.interval)
    }

    /// The delay before retrying a failed reconciliation: `retryInterval`, else `interval`.
    pub fn retry_interval(&self) -> Result<Duration, DurationError> {
        match &self.retry_interval {
            Some(d) => parse_duration(d),
            None => self.interval(),
        }
    }

    /// The time limit of one reconciliation: `timeout`, else `interval` minus 30s; as in Flux,
    /// never less than 30s, even when `timeout` is set lower.
    pub fn timeout(&self) -> Result<Duration, DurationError> {
        let d = match &self.timeout {
            Some(t) => parse_duration(t)?,
            None => self.interval()?.saturating_sub(TIMEOUT_MARGIN),
        };
        Ok(d.max(TIMEOUT_MARGIN))
    }

    /// Whether stale objects are deleted when the Kustomization itself is deleted.
    pub fn deletion_policy(&self) -> DeletionPolicy {
        self.deletion_policy.unwrap_or_default()
    }
}

impl Kustomization {
    /// The namespace of the source: `sourceRef.namespace`, else the Kustomization's own.
    pub fn source_namespace(&self) -> Option<&str> {
        match self.spec.source_ref.namespace.as_deref() {
            Some(ns) if !ns.is_empty() => Some(ns),
            _ => self.metadata.namespace.as_deref(),
        }
    }
}

impl Validate for Kustomization {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let s = &self.spec;
        let mut v = Validator::new();
        v.duration("spec.interval", Some(&s.interval));
        v.duration("spec.retryInterval", s.retry_interval.as_deref());
        v.duration("spec.timeout", s.timeout.as_deref());
        v.length("spec.namePrefix", s.name_prefix.as_deref(), 1, 200);
        v.length("spec.nameSuffix", s.name_suffix.as_deref(), 1, 200);
        v.length("spec.targetNamespace", s.target_namespace.as_deref(), 1, 63);
        v.required("spec.sourceRef.name", &s.source_ref.name);
        if let Some(kc) = &s.kube_config {
            kc.validate_into(&mut v, "spec.kubeConfig");
        }
        if let Some(secret) = s.decryption.as_ref().and_then(|d| d.secret_ref.as_ref()) {
            v.required("spec.decryption.secretRef.name", &secret.name);
        }
        for (i, dep) in s.depends_on.iter().flatten().enumerate() {
            v.required(&format!("spec.dependsOn[{i}].name"), &dep.name);
        }
        for (i, hc) in s.health_checks.iter().flatten().enumerate() {
            v.required(&format!("spec.healthChecks[{i}].kind"), &hc.kind);
            v.required(&format!("spec.healthChecks[{i}].name"), &hc.name);
        }
        for (i, expr) in s.health_check_exprs.iter().flatten().enumerate() {
            v.required(&format!("spec.healthCheckExprs[{i}].apiVersion"), &expr.api_version);
            v.required(&format!("spec.healthCheckExprs[{i}].current"), &expr.current);
        }
        let substitute_from = s.post_build.as_ref().and_then(|p| p.substitute_from.as_ref());
        for (i, r) in substitute_from.into_iter().flatten().enumerate() {
            v.length(&format!("spec.postBuild.substituteFrom[{i}].name"), Some(&r.name), 1, 253);
        }
        v.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::{KUBECONFIG_ONE_OF_MESSAGE, SecretKeyReference};

    const FIXTURE: &str = include_str!("../../tests/fixtures/kustomizations.yaml");

    fn parse(yaml: &str) -> Kustomization {
        serde_saphyr::from_str(yaml).unwrap()
    }

    fn minimal(interval: &str) -> Kustomization {
        parse(&format!(
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  \
             namespace: flux-system\nspec:\n  interval: {interval}\n  prune: true\n  sourceRef:\n    \
             kind: GitRepository\n    name: flux-system\n"
        ))
    }

    fn messages(k: &Kustomization) -> Vec<String> {
        k.validate().unwrap_err().0.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn kube_config_needs_exactly_one_reference() {
        let mut k = parse(FIXTURE);
        let kc = k.spec.kube_config.as_mut().unwrap();
        kc.config_map_ref = Some(LocalObjectReference { name: "cluster".into() });
        assert_eq!(messages(&k), [format!("spec.kubeConfig: {KUBECONFIG_ONE_OF_MESSAGE}")]);

        k.spec.kube_config = Some(KubeConfigReference::default());
        assert_eq!(messages(&k), [format!("spec.kubeConfig: {KUBECONFIG_ONE_OF_MESSAGE}")]);

        k.spec.kube_config =
            Some(KubeConfigReference { secret_ref: Some(SecretKeyReference::default()), config_map_ref: None });
        assert_eq!(messages(&k), ["spec.kubeConfig.secretRef.name: is required"]);
    }

    #[test]
    fn bad_durations_are_rejected() {
        let mut k = minimal("5d");
        k.spec.retry_interval = Some("1 m".into());
        k.spec.timeout = Some("".into());
        let errs = messages(&k);
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert!(errs[0].starts_with("spec.interval: invalid duration \"5d\""), "{errs:?}");
        assert!(errs[1].starts_with("spec.retryInterval: invalid duration"), "{errs:?}");
        assert!(errs[2].starts_with("spec.timeout: invalid duration"), "{errs:?}");
    }

    #[test]
    fn lengths_and_references_are_checked() {
        let mut k = parse(FIXTURE);
        k.spec.name_prefix = Some(String::new());
        k.spec.name_suffix = Some("x".repeat(201));
        k.spec.target_namespace = Some("n".repeat(64));
        k.spec.source_ref.name = String::new();
        k.spec.depends_on.as_mut().unwrap()[0].name = String::new();
        k.spec.health_checks.as_mut().unwrap()[0].kind = String::new();
        k.spec.health_check_exprs.as_mut().unwrap()[0].current = String::new();
        k.spec.post_build.as_mut().unwrap().substitute_from.as_mut().unwrap()[0].name = "s".repeat(254);
        let errs = messages(&k);
        let paths: Vec<&str> = errs.iter().map(|e| e.split(':').next().unwrap()).collect();
        assert_eq!(
            paths,
            [
                "spec.namePrefix",
                "spec.nameSuffix",
                "spec.targetNamespace",
                "spec.sourceRef.name",
                "spec.dependsOn[0].name",
                "spec.healthChecks[0].kind",
                "spec.healthCheckExprs[0].current",
                "spec.postBuild.substituteFrom[0].name",
            ],
            "{errs:?}"
        );
    }

    #[test]
    fn unknown_enum_values_are_rejected_by_serde() {
        let yaml = FIXTURE.replace("kind: GitRepository", "kind: HelmRepository");
        assert!(serde_saphyr::from_str::<Kustomization>(&yaml).is_err());
        let yaml = FIXTURE.replace("deletionPolicy: WaitForTermination", "deletionPolicy: Keep");
        assert!(serde_saphyr::from_str::<Kustomization>(&yaml).is_err());
    }

    #[test]
    fn retry_interval_defaults_to_interval() {
        let mut k = minimal("10m");
        assert_eq!(k.spec.interval(), Ok(Duration::from_secs(600)));
        assert_eq!(k.spec.retry_interval(), Ok(Duration::from_secs(600)));
        k.spec.retry_interval = Some("2m".into());
        assert_eq!(k.spec.retry_interval(), Ok(Duration::from_secs(120)));
    }

    #[test]
    fn timeout_defaults_to_interval_minus_30s_with_a_30s_floor() {
        assert_eq!(minimal("10m").spec.timeout(), Ok(Duration::from_secs(570)));
        assert_eq!(minimal("1m").spec.timeout(), Ok(Duration::from_secs(30)));
        assert_eq!(minimal("45s").spec.timeout(), Ok(Duration::from_secs(30)));
        assert_eq!(minimal("10s").spec.timeout(), Ok(Duration::from_secs(30)));
        let mut k = minimal("10m");
        k.spec.timeout = Some("3m".into());
        assert_eq!(k.spec.timeout(), Ok(Duration::from_secs(180)));
        // Flux applies the floor to an explicit timeout too.
        k.spec.timeout = Some("5s".into());
        assert_eq!(k.spec.timeout(), Ok(Duration::from_secs(30)));
    }

    #[test]
    fn duration_accessors_report_bad_values() {
        let k = minimal("5d");
        assert!(k.spec.interval().is_err());
        assert!(k.spec.retry_interval().is_err());
        assert!(k.spec.timeout().is_err());
        let mut k = minimal("10m");
        k.spec.timeout = Some("soon".into());
        assert!(k.spec.timeout().is_err());
    }

    #[test]
    fn source_and_dependency_namespaces_default_to_own_namespace() {
        let mut k = minimal("10m");
        assert_eq!(k.source_namespace(), Some("flux-system"));
        assert_eq!(k.spec.source_ref.namespace_or("default"), "default");
        k.spec.source_ref.namespace = Some(String::new());
        assert_eq!(k.source_namespace(), Some("flux-system"));
        k.spec.source_ref.namespace = Some("sources".into());
        assert_eq!(k.source_namespace(), Some("sources"));
        assert_eq!(k.spec.source_ref.namespace_or("default"), "sources");
        k.metadata.namespace = None;
        k.spec.source_ref.namespace = None;
        assert_eq!(k.source_namespace(), None);

        let dep = DependencyReference { name: "infra".into(), namespace: None, ready_expr: None };
        assert_eq!(dep.namespace_or("apps"), "apps");
        let dep = DependencyReference { namespace: Some("infra".into()), ..dep };
        assert_eq!(dep.namespace_or("apps"), "infra");
    }

    #[test]
    fn deletion_policy_defaults_to_mirror_prune() {
        assert_eq!(minimal("10m").spec.deletion_policy(), DeletionPolicy::MirrorPrune);
        assert_eq!(parse(FIXTURE).spec.deletion_policy(), DeletionPolicy::WaitForTermination);
    }
}
