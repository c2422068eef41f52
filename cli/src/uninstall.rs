//! `weir uninstall`: removes Weir as `flux uninstall` does. The controllers go first, then the
//! finalizers of every Flux object (so deleting them does not delete what they applied), the
//! objects, the CRDs, and the namespace last. Workloads that Weir applied stay, orphaned.

use std::io::{BufRead, Write};

use anyhow::Context;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch};
use kube::core::{ApiResource, GroupVersionKind};
use serde::de::DeserializeOwned;
use serde_json::json;
use weir_api::annotations::install::{INSTANCE_LABEL, PART_OF_LABEL, PART_OF_VALUE};

use crate::cluster::ClusterArgs;
use crate::output::progress;

#[derive(clap::Args, Debug)]
pub struct UninstallArgs {
    /// Leave the namespace in place.
    #[arg(long)]
    keep_namespace: bool,
    /// Do not ask for confirmation.
    #[arg(long, short = 's')]
    silent: bool,
}

pub async fn run(cluster: &ClusterArgs, args: UninstallArgs) -> anyhow::Result<()> {
    let namespace = cluster.namespace.as_str();
    if !args.silent && !confirm(namespace)? {
        eprintln!("uninstall cancelled");
        return Ok(());
    }
    let client = cluster.client().await?;
    progress::step(&format!("deleting the components in {namespace}"));
    let selector = format!("{INSTANCE_LABEL}={namespace}");
    delete_all::<Deployment>(Api::namespaced(client.clone(), namespace), &selector).await?;
    delete_all::<Service>(Api::namespaced(client.clone(), namespace), &selector).await?;
    delete_all::<NetworkPolicy>(Api::namespaced(client.clone(), namespace), &selector).await?;
    delete_all::<ServiceAccount>(Api::namespaced(client.clone(), namespace), &selector).await?;
    delete_all::<ClusterRoleBinding>(Api::all(client.clone()), &selector).await?;
    delete_all::<ClusterRole>(Api::all(client.clone()), &selector).await?;

    let crds = flux_crds(&client).await?;
    progress::step("removing finalizers and deleting Flux objects");
    for crd in &crds {
        delete_custom_resources(&client, crd).await?;
    }
    progress::step("deleting the CRDs");
    let crd_api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let installed = format!("{PART_OF_LABEL}={PART_OF_VALUE}");
    delete_all::<CustomResourceDefinition>(crd_api, &installed).await?;

    if args.keep_namespace {
        progress::done(&format!("namespace {namespace} kept"));
    } else {
        let api: Api<Namespace> = Api::all(client.clone());
        match api.delete(namespace, &DeleteParams::background()).await {
            Ok(_) => progress::done(&format!("Namespace/{namespace} deleted")),
            Err(e) if crate::errors::is_not_found(&e) => {}
            Err(e) => return Err(crate::errors::api(e, &format!("deleting namespace {namespace}"))),
        }
    }
    progress::done("uninstall finished");
    Ok(())
}

fn confirm(namespace: &str) -> anyhow::Result<bool> {
    eprint!("Are you sure you want to delete Weir and its custom resource definitions from {namespace}? [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).context("reading the answer")?;
    Ok(matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
}

async fn delete_all<K>(api: Api<K>, selector: &str) -> anyhow::Result<()>
where
    K: kube::Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
{
    let kind = K::kind(&()).to_string();
    let list = api
        .list(&ListParams::default().labels(selector))
        .await
        .map_err(|e| crate::errors::api(e, &format!("listing {kind}s")))?;
    for object in list.items {
        let name = object.meta().name.clone().unwrap_or_default();
        match api.delete(&name, &DeleteParams::background()).await {
            Ok(_) => progress::done(&format!("{kind}/{name} deleted")),
            Err(e) if crate::errors::is_not_found(&e) => {}
            Err(e) => return Err(crate::errors::api(e, &format!("deleting {kind} {name}"))),
        }
    }
    Ok(())
}

/// The CRDs of the `*.toolkit.fluxcd.io` groups, as API resources at their storage version.
async fn flux_crds(client: &kube::Client) -> anyhow::Result<Vec<ApiResource>> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let crds = api.list(&ListParams::default()).await.map_err(|e| crate::errors::api(e, "listing CRDs"))?;
    Ok(crds
        .items
        .into_iter()
        .filter(|crd| crd.spec.group.ends_with(".toolkit.fluxcd.io"))
        .filter_map(|crd| {
            let version = crd.spec.versions.iter().find(|v| v.storage)?.name.clone();
            let gvk = GroupVersionKind::gvk(&crd.spec.group, &version, &crd.spec.names.kind);
            Some(ApiResource::from_gvk_with_plural(&gvk, &crd.spec.names.plural))
        })
        .collect())
}

async fn delete_custom_resources(client: &kube::Client, resource: &ApiResource) -> anyhow::Result<()> {
    let all: Api<DynamicObject> = Api::all_with(client.clone(), resource);
    let objects = all
        .list(&ListParams::default())
        .await
        .map_err(|e| crate::errors::api(e, &format!("listing {}", resource.plural)))?;
    for object in objects.items {
        let name = object.metadata.name.clone().unwrap_or_default();
        let namespace = object.metadata.namespace.clone().unwrap_or_default();
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &namespace, resource);
        let subject = format!("{} {namespace}/{name}", resource.kind);
        if object.metadata.finalizers.as_ref().is_some_and(|f| !f.is_empty()) {
            let patch = json!({"metadata": {"finalizers": null}});
            match api.patch(&name, &crate::create::patch_params(), &Patch::Merge(&patch)).await {
                Ok(_) => {}
                Err(e) if crate::errors::is_not_found(&e) => continue,
                Err(e) => return Err(crate::errors::api(e, &format!("removing the finalizers of {subject}"))),
            }
        }
        match api.delete(&name, &DeleteParams::background()).await {
            Ok(_) => progress::done(&format!("{subject} deleted")),
            Err(e) if crate::errors::is_not_found(&e) => {}
            Err(e) => return Err(crate::errors::api(e, &format!("deleting {subject}"))),
        }
    }
    Ok(())
}
