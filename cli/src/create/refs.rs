//! The reference formats of flux's create flags: `Kind/name.namespace`, `namespace/name`.

use anyhow::bail;
use serde_json::{Value, json};

/// `[Kind/]name[.namespace]`, e.g. `GitRepository/podinfo.flux-system`; the kind defaults.
pub fn kind_name_namespace(text: &str, default_kind: &str) -> anyhow::Result<Value> {
    let (kind, rest) = text.split_once('/').unwrap_or((default_kind, text));
    let (name, namespace) = match rest.split_once('.') {
        Some((n, ns)) => (n, Some(ns)),
        None => (rest, None),
    };
    if kind.is_empty() || name.is_empty() {
        bail!("{text:?} is not [KIND/]NAME[.NAMESPACE], e.g. GitRepository/podinfo.flux-system");
    }
    let mut reference = json!({"kind": kind, "name": name});
    if let Some(ns) = namespace.filter(|ns| !ns.is_empty()) {
        reference["namespace"] = json!(ns);
    }
    Ok(reference)
}

/// `[namespace/]name`, as `--depends-on` takes it.
pub fn namespace_name(text: &str) -> anyhow::Result<Value> {
    let reference = match text.split_once('/') {
        Some((ns, name)) if !ns.is_empty() && !name.is_empty() => json!({"name": name, "namespace": ns}),
        None if !text.is_empty() => json!({"name": text}),
        _ => bail!("{text:?} is not [NAMESPACE/]NAME"),
    };
    Ok(reference)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_flux_reference_formats() {
        assert_eq!(
            kind_name_namespace("OCIRepository/app.infra", "GitRepository").unwrap(),
            json!({"kind": "OCIRepository", "name": "app", "namespace": "infra"})
        );
        assert_eq!(
            kind_name_namespace("app", "GitRepository").unwrap(),
            json!({"kind": "GitRepository", "name": "app"})
        );
        assert!(kind_name_namespace("Kind/", "GitRepository").is_err());
        assert_eq!(namespace_name("infra/base").unwrap(), json!({"name": "base", "namespace": "infra"}));
        assert_eq!(namespace_name("base").unwrap(), json!({"name": "base"}));
    }
}
