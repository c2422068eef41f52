//! Flux's well-known annotations, labels, field managers and finalizers, by their exact names.

/// Set by a person, the CLI or a webhook receiver to ask for a reconcile now; the controller echoes
/// the value into `status.lastHandledReconcileAt` once it has acted on it.
pub const RECONCILE_REQUESTED_AT: &str = "reconcile.fluxcd.io/requestedAt";
/// HelmRelease: force a one-off install or upgrade; echoed into `status.lastHandledForceAt`.
pub const RECONCILE_FORCE_AT: &str = "reconcile.fluxcd.io/forceAt";
/// HelmRelease: reset the failure counters; echoed into `status.lastHandledResetAt`.
pub const RECONCILE_RESET_AT: &str = "reconcile.fluxcd.io/resetAt";
/// Label on ConfigMaps and Secrets whose changes should trigger the objects that reference them.
pub const RECONCILE_WATCH_LABEL: &str = "reconcile.fluxcd.io/watch";
/// Value of [`RECONCILE_WATCH_LABEL`] that opts in.
pub const RECONCILE_WATCH_ENABLED: &str = "Enabled";
/// Label used to shard objects between controller replicas.
pub const SHARDING_KEY_LABEL: &str = "sharding.fluxcd.io/key";

/// Per-object server-side apply policy: `Override` (default), `Merge`, `IfNotPresent`, `Ignore`.
pub const KUSTOMIZE_SSA: &str = "kustomize.toolkit.fluxcd.io/ssa";
/// Per-object opt-in to recreate on immutable-field errors: `Enabled`.
pub const KUSTOMIZE_FORCE: &str = "kustomize.toolkit.fluxcd.io/force";
/// Per-object opt-out of garbage collection: `Disabled`.
pub const KUSTOMIZE_PRUNE: &str = "kustomize.toolkit.fluxcd.io/prune";
/// Per-object opt-out of reconciliation: `Disabled` (Flux also accepts `disabled`).
pub const KUSTOMIZE_RECONCILE: &str = "kustomize.toolkit.fluxcd.io/reconcile";
/// Per-object opt-out of post-build variable substitution: `disabled`.
pub const KUSTOMIZE_SUBSTITUTE: &str = "kustomize.toolkit.fluxcd.io/substitute";
/// Owner label written on every object a Kustomization applies: the Kustomization's name.
pub const KUSTOMIZE_NAME_LABEL: &str = "kustomize.toolkit.fluxcd.io/name";
/// Owner label written on every object a Kustomization applies: the Kustomization's namespace.
pub const KUSTOMIZE_NAMESPACE_LABEL: &str = "kustomize.toolkit.fluxcd.io/namespace";

/// Owner label written on every object a HelmRelease installs: the HelmRelease's name.
pub const HELM_NAME_LABEL: &str = "helm.toolkit.fluxcd.io/name";
/// Owner label written on every object a HelmRelease installs: the HelmRelease's namespace.
pub const HELM_NAMESPACE_LABEL: &str = "helm.toolkit.fluxcd.io/namespace";

/// Prefix of object annotations that notification-controller merges into event metadata.
pub const EVENT_METADATA_PREFIX: &str = "event.toolkit.fluxcd.io/";

/// Values of the `ssa`, `force`, `prune` and `reconcile` annotations.
pub mod values {
    pub const OVERRIDE: &str = "Override";
    pub const MERGE: &str = "Merge";
    pub const IF_NOT_PRESENT: &str = "IfNotPresent";
    pub const IGNORE: &str = "Ignore";
    pub const ENABLED: &str = "Enabled";
    pub const DISABLED: &str = "Disabled";
}

/// The finalizer every Flux controller puts on the objects it reconciles.
pub const FINALIZER: &str = "finalizers.fluxcd.io";

/// Field managers, as Flux names them, so that ownership of fields carries over between the two.
pub mod field_managers {
    pub const SOURCE_CONTROLLER: &str = "source-controller";
    pub const KUSTOMIZE_CONTROLLER: &str = "kustomize-controller";
    pub const HELM_CONTROLLER: &str = "helm-controller";
    pub const NOTIFICATION_CONTROLLER: &str = "notification-controller";
    /// Status patches of the kustomize-controller are written under this manager.
    pub const KUSTOMIZE_CONTROLLER_STATUS: &str = "gotk-kustomize-controller";
    /// Managers whose fields the kustomize-controller takes over to revert manual edits.
    pub const DRIFT_TAKEOVER: &[&str] = &["kubectl", "before-first-apply"];
}

/// The annotation kubectl's client-side apply writes; Flux strips it on takeover.
pub const KUBECTL_LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Labels every object `weir install` creates carries, as `flux install` does with its own.
pub mod install {
    pub const PART_OF_LABEL: &str = "app.kubernetes.io/part-of";
    pub const PART_OF_VALUE: &str = "flux";
    pub const INSTANCE_LABEL: &str = "app.kubernetes.io/instance";
    pub const VERSION_LABEL: &str = "app.kubernetes.io/version";
    pub const COMPONENT_LABEL: &str = "app.kubernetes.io/component";
}
