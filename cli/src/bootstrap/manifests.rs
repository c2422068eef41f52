//! What bootstrap writes into the repository: the components, the sync objects that make the
//! cluster follow the repository (a GitRepository and a Kustomization, both named after the
//! secret, as Flux names them), and the kustomization.yaml that ties them together.

use std::collections::BTreeMap;

use anyhow::Context;
use serde_json::{Value, json};

/// The directory under `--path` that holds the toolkit's own manifests.
pub const SYNC_DIR: &str = "flux-system";
pub const COMPONENTS_FILE: &str = "gotk-components.yaml";
pub const SYNC_FILE: &str = "gotk-sync.yaml";
pub const KUSTOMIZATION_FILE: &str = "kustomization.yaml";

/// The sync objects' settings.
pub struct SyncOptions<'a> {
    pub name: &'a str,
    pub namespace: &'a str,
    pub url: &'a str,
    pub branch: &'a str,
    /// The repository path the Kustomization applies, e.g. `clusters/production`.
    pub path: &'a str,
    pub interval: &'a str,
    pub with_secret: bool,
}

pub fn git_repository(opts: &SyncOptions) -> Value {
    let mut spec = json!({
        "interval": opts.interval,
        "ref": { "branch": opts.branch },
        "url": opts.url,
    });
    if opts.with_secret {
        spec["secretRef"] = json!({ "name": opts.name });
    }
    json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": { "name": opts.name, "namespace": opts.namespace },
        "spec": spec,
    })
}

pub fn kustomization(opts: &SyncOptions) -> Value {
    json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": { "name": opts.name, "namespace": opts.namespace },
        "spec": {
            "interval": "10m0s",
            "path": format!("./{}", opts.path.trim_start_matches("./").trim_end_matches('/')),
            "prune": true,
            "sourceRef": { "kind": "GitRepository", "name": opts.name },
        },
    })
}

/// The kustomization.yaml listing the two files, so that the Kustomization finds them.
pub fn kustomization_yaml() -> String {
    format!(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- {COMPONENTS_FILE}\n- {SYNC_FILE}\n"
    )
}

/// The Secret the GitRepository authenticates with.
pub fn secret(name: &str, namespace: &str, data: &BTreeMap<String, String>) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": { "name": name, "namespace": namespace },
        "type": "Opaque",
        "stringData": data,
    })
}

/// Objects as one multi-document YAML file, with a header saying where it came from.
pub fn to_yaml(header: &str, objects: &[Value]) -> anyhow::Result<String> {
    let mut out = format!("# {header}\n");
    for object in objects {
        out.push_str("---\n");
        out.push_str(&serde_saphyr::to_string(object).context("rendering YAML")?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(with_secret: bool) -> SyncOptions<'static> {
        SyncOptions {
            name: "flux-system",
            namespace: "flux-system",
            url: "https://git.example/fleet.git",
            branch: "main",
            path: "clusters/prod/",
            interval: "1m0s",
            with_secret,
        }
    }

    #[test]
    fn sync_objects_validate_and_point_at_each_other() {
        let repo: weir_api::source::GitRepository = serde_json::from_value(git_repository(&opts(true))).unwrap();
        let ks: weir_api::kustomize::Kustomization = serde_json::from_value(kustomization(&opts(true))).unwrap();
        use weir_api::Validate;
        repo.validate().unwrap();
        ks.validate().unwrap();
        assert_eq!(ks.spec.path.as_deref(), Some("./clusters/prod"));
        assert_eq!(ks.spec.source_ref.name, "flux-system");
        assert_eq!(repo.spec.secret_ref.unwrap().name, "flux-system");
        let anonymous = git_repository(&opts(false));
        assert!(anonymous["spec"].get("secretRef").is_none());
    }

    #[test]
    fn yaml_files_have_a_header_and_separators() {
        let yaml = to_yaml("generated", &[json!({"a": 1}), json!({"b": 2})]).unwrap();
        assert_eq!(yaml, "# generated\n---\na: 1\n---\nb: 2\n");
        assert!(kustomization_yaml().contains("- gotk-sync.yaml"));
    }
}
