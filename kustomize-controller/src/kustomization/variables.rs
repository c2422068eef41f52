//! The postBuild variables step: `substituteFrom` ConfigMaps and Secrets of the Kustomization's
//! namespace, read in order (later entries override earlier ones), then `substitute` over them,
//! as Flux merges them.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::Api;
use weir_api::kustomize::{PostBuild, SubstituteKind};

#[derive(Debug, thiserror::Error)]
pub enum VariablesError {
    #[error("substitute from '{kind}/{name}' failed: {kind} '{namespace}/{name}' not found")]
    NotFound { kind: &'static str, namespace: String, name: String },
    #[error("substitute from '{kind}/{name}' failed: key '{key}' is not valid UTF-8")]
    NotUtf8 { kind: &'static str, name: String, key: String },
    #[error("'{0}' var name is invalid, must match '^[_[:alpha:]][_[:alpha:][:digit:]]*$'")]
    InvalidName(String),
    #[error("substitute from '{kind}/{name}' failed: {source}")]
    Kube { kind: &'static str, name: String, source: kube::Error },
}

fn kind_name(kind: SubstituteKind) -> &'static str {
    match kind {
        SubstituteKind::ConfigMap => "ConfigMap",
        SubstituteKind::Secret => "Secret",
    }
}

/// Variable names envsubst can see: a letter or `_`, then letters, digits or `_`.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// One `substituteFrom` entry's data, `None` when the object does not exist.
async fn read_source(
    client: &kube::Client,
    namespace: &str,
    kind: SubstituteKind,
    name: &str,
) -> Result<Option<BTreeMap<String, String>>, VariablesError> {
    let kube_error = |source| VariablesError::Kube { kind: kind_name(kind), name: name.to_string(), source };
    match kind {
        SubstituteKind::ConfigMap => {
            let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
            Ok(api.get_opt(name).await.map_err(kube_error)?.map(|cm| cm.data.unwrap_or_default()))
        }
        SubstituteKind::Secret => {
            let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
            let Some(secret) = api.get_opt(name).await.map_err(kube_error)? else { return Ok(None) };
            let mut data: BTreeMap<String, String> = secret.string_data.unwrap_or_default();
            for (key, bytes) in secret.data.unwrap_or_default() {
                let value = String::from_utf8(bytes.0).map_err(|_| VariablesError::NotUtf8 {
                    kind: kind_name(kind),
                    name: name.to_string(),
                    key: key.clone(),
                })?;
                data.insert(key, value);
            }
            Ok(Some(data))
        }
    }
}

/// The variables of `post_build`, read from the cluster; empty without `postBuild`.
pub async fn gather(
    client: &kube::Client,
    namespace: &str,
    post_build: Option<&PostBuild>,
) -> Result<BTreeMap<String, String>, VariablesError> {
    let Some(post_build) = post_build else { return Ok(BTreeMap::new()) };
    let mut sources = Vec::new();
    for reference in post_build.substitute_from.iter().flatten() {
        match read_source(client, namespace, reference.kind, &reference.name).await? {
            Some(data) => sources.push(data),
            None if reference.optional == Some(true) => {}
            None => {
                return Err(VariablesError::NotFound {
                    kind: kind_name(reference.kind),
                    namespace: namespace.to_string(),
                    name: reference.name.clone(),
                });
            }
        }
    }
    merge(sources, post_build.substitute.as_ref())
}

/// `sources` in order, each overriding the ones before, then `inline` over all of them.
pub fn merge(
    sources: Vec<BTreeMap<String, String>>,
    inline: Option<&BTreeMap<String, String>>,
) -> Result<BTreeMap<String, String>, VariablesError> {
    let mut variables = BTreeMap::new();
    for data in sources {
        variables.extend(data);
    }
    variables.extend(inline.cloned().unwrap_or_default());
    if let Some(bad) = variables.keys().find(|k| !valid_name(k)) {
        return Err(VariablesError::InvalidName(bad.clone()));
    }
    Ok(variables)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn later_sources_override_and_inline_wins() {
        let merged =
            merge(vec![map(&[("a", "1"), ("b", "1")]), map(&[("b", "2"), ("c", "2")])], Some(&map(&[("c", "inline")])))
                .unwrap();
        assert_eq!(merged, map(&[("a", "1"), ("b", "2"), ("c", "inline")]));
    }

    #[test]
    fn names_envsubst_cannot_see_are_refused() {
        assert!(valid_name("_cluster_1"));
        assert!(!valid_name("1st"));
        assert!(!valid_name("dash-ed"));
        assert!(!valid_name(""));
        let error = merge(vec![map(&[("dash-ed", "x")])], None).unwrap_err();
        assert!(error.to_string().starts_with("'dash-ed' var name is invalid"), "{error}");
    }
}
