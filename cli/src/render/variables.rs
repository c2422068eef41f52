//! postBuild variables: the ConfigMaps and Secrets of `substituteFrom` in order, `substitute` over them.

use std::collections::BTreeMap;

use anyhow::bail;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::Api;
use weir_api::kustomize::PostBuild;

pub async fn gather(
    client: &kube::Client,
    namespace: &str,
    post_build: &PostBuild,
) -> anyhow::Result<BTreeMap<String, String>> {
    let mut variables = BTreeMap::new();
    for reference in post_build.substitute_from.iter().flatten() {
        let kind = serde_json::to_value(reference.kind)?.as_str().unwrap_or_default().to_string();
        let data = match kind.as_str() {
            "Secret" => {
                let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
                let secret =
                    api.get_opt(&reference.name).await.map_err(|e| crate::errors::api(e, "reading a Secret"))?;
                secret.map(|s| {
                    let mut data: BTreeMap<String, String> = s
                        .data
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(k, v)| (k, String::from_utf8_lossy(&v.0).into_owned()))
                        .collect();
                    data.extend(s.string_data.unwrap_or_default());
                    data
                })
            }
            _ => {
                let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
                let cm =
                    api.get_opt(&reference.name).await.map_err(|e| crate::errors::api(e, "reading a ConfigMap"))?;
                cm.map(|c| c.data.unwrap_or_default())
            }
        };
        match data {
            Some(data) => variables.extend(data),
            None if reference.optional == Some(true) => {}
            None => bail!("postBuild.substituteFrom: {kind} {namespace}/{} not found", reference.name),
        }
    }
    variables.extend(post_build.substitute.clone().unwrap_or_default());
    Ok(variables)
}
