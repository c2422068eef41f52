//! Renders Weir's CRDs to YAML files and compares them with Flux's reference schemas.

pub mod compat;

use anyhow::Context;

/// Every CRD as `(file name, YAML text)`.
pub fn render_all() -> anyhow::Result<Vec<(String, String)>> {
    weir_api::crds::all()
        .iter()
        .map(|crd| {
            let name = weir_api::crds::file_name(crd);
            let yaml = serde_saphyr::to_string(crd).with_context(|| format!("serializing {name}"))?;
            Ok((name, format!("---\n{yaml}")))
        })
        .collect()
}
