//! Installs Weir's CRDs on the test cluster and waits until the server serves them.

use std::time::Duration;

use anyhow::Context;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::wait::{await_condition, conditions};

const FIELD_MANAGER: &str = "weir-testenv";

pub async fn install(client: &kube::Client, (major, minor): (u32, u32)) -> anyhow::Result<()> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let params = PatchParams::apply(FIELD_MANAGER).force();
    let mut names = Vec::new();
    for mut crd in weir_api::crds::all() {
        weir_api::crds::adapt_for_server(&mut crd, major, minor);
        let name = crd.metadata.name.clone().context("a generated CRD has no name")?;
        api.patch(&name, &params, &Patch::Apply(&crd)).await.with_context(|| format!("applying CRD {name}"))?;
        names.push(name);
    }
    for name in names {
        let established = await_condition(api.clone(), &name, conditions::is_crd_established());
        tokio::time::timeout(Duration::from_secs(30), established)
            .await
            .with_context(|| format!("CRD {name} was not Established within 30s"))?
            .with_context(|| format!("watching CRD {name}"))?;
    }
    Ok(())
}
