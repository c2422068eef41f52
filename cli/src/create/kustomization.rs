//! `weir create kustomization NAME --source … --path …`.

use serde_json::{Value, json};

use super::{refs, set};
use crate::kinds::{self, FluxKind};

#[derive(clap::Args, Debug)]
pub struct KustomizationArgs {
    name: String,
    /// The source, [KIND/]NAME[.NAMESPACE]; the kind defaults to GitRepository.
    #[arg(long)]
    source: String,
    /// The directory in the source with the manifests or kustomization.yaml.
    #[arg(long, default_value = "./")]
    path: String,
    /// Delete the objects that leave the source.
    #[arg(long, default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    prune: bool,
    /// How often to reconcile.
    #[arg(long, default_value = "1m")]
    interval: String,
    /// The namespace every namespaced object is put in.
    #[arg(long)]
    target_namespace: Option<String>,
    /// Kustomizations that must be Ready first, [NAMESPACE/]NAME (repeatable or comma-separated).
    #[arg(long, value_delimiter = ',')]
    depends_on: Vec<String>,
    /// Wait for every applied object to become healthy.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    wait: Option<bool>,
    /// Objects whose health decides Ready, KIND/NAME.NAMESPACE (repeatable or comma-separated).
    #[arg(long, value_delimiter = ',')]
    health_check: Vec<String>,
    /// The ServiceAccount to impersonate when applying.
    #[arg(long)]
    service_account: Option<String>,
    /// How long applying and health checks may take.
    #[arg(long = "apply-timeout")]
    apply_timeout: Option<String>,
}

pub fn build(a: &KustomizationArgs, namespace: &str) -> anyhow::Result<(&'static FluxKind, String, Value)> {
    let source = refs::kind_name_namespace(&a.source, kinds::GIT_REPOSITORY.kind)?;
    let mut spec = json!({"sourceRef": source, "path": a.path, "prune": a.prune, "interval": a.interval});
    set(&mut spec, "targetNamespace", a.target_namespace.clone());
    set(&mut spec, "wait", a.wait);
    set(&mut spec, "serviceAccountName", a.service_account.clone());
    set(&mut spec, "timeout", a.apply_timeout.clone());
    if !a.depends_on.is_empty() {
        let deps: anyhow::Result<Vec<Value>> = a.depends_on.iter().map(|d| refs::namespace_name(d)).collect();
        spec["dependsOn"] = Value::Array(deps?);
    }
    if !a.health_check.is_empty() {
        let mut checks = Vec::new();
        for text in &a.health_check {
            let mut check = refs::kind_name_namespace(text, "")?;
            if check.get("namespace").is_none() {
                check["namespace"] = json!(namespace);
            }
            checks.push(check);
        }
        spec["healthChecks"] = Value::Array(checks);
    }
    Ok((&kinds::KUSTOMIZATION, a.name.clone(), spec))
}
