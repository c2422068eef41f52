//! Server-side apply of the install manifests, waiting for CRDs to be served before what follows.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{Context, anyhow};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::discovery::{ApiCapabilities, ApiResource, Scope};
use kube::runtime::wait::{await_condition, conditions};
use serde_json::Value;

const FIELD_MANAGER: &str = "weir";

pub fn parse_server_version(major: &str, minor: &str) -> Option<(u32, u32)> {
    let digits = |s: &str| s.chars().take_while(char::is_ascii_digit).collect::<String>().parse().ok();
    Some((digits(major)?, digits(minor)?))
}

pub async fn apply_all(client: &kube::Client, objects: &[Value], timeout: Duration) -> anyhow::Result<()> {
    let params = PatchParams::apply(FIELD_MANAGER).force();
    let mut resolved: HashMap<GroupVersionKind, (ApiResource, ApiCapabilities)> = HashMap::new();
    let mut crds = Vec::new();
    for object in objects {
        let obj: DynamicObject = serde_json::from_value(object.clone()).context("an install object is malformed")?;
        let types = obj.types.as_ref().ok_or_else(|| anyhow!("an install object has no apiVersion/kind"))?;
        let gvk = GroupVersionKind::try_from(types)?;
        if !resolved.contains_key(&gvk) {
            let found = kube::discovery::pinned_kind(client, &gvk)
                .await
                .with_context(|| format!("the cluster does not serve {}/{}", types.api_version, types.kind))?;
            resolved.insert(gvk.clone(), found);
        }
        let (resource, caps) = &resolved[&gvk];
        let name = obj.metadata.name.clone().ok_or_else(|| anyhow!("a {} has no name", types.kind))?;
        let api: Api<DynamicObject> = match (&caps.scope, &obj.metadata.namespace) {
            (Scope::Namespaced, Some(ns)) => Api::namespaced_with(client.clone(), ns, resource),
            _ => Api::all_with(client.clone(), resource),
        };
        api.patch(&name, &params, &Patch::Apply(&obj))
            .await
            .with_context(|| format!("applying {} {name}", types.kind))?;
        eprintln!("✔ {}/{name} applied", types.kind);
        if types.kind == "CustomResourceDefinition" {
            crds.push(name);
        } else if !crds.is_empty() {
            wait_for_crds(client, std::mem::take(&mut crds), timeout).await?;
        }
    }
    wait_for_crds(client, crds, timeout).await
}

async fn wait_for_crds(client: &kube::Client, names: Vec<String>, timeout: Duration) -> anyhow::Result<()> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    for name in names {
        let established = await_condition(api.clone(), &name, conditions::is_crd_established());
        tokio::time::timeout(timeout, established)
            .await
            .with_context(|| format!("CRD {name} was not established within {timeout:?}"))??;
    }
    Ok(())
}
