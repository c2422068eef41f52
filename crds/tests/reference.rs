//! Weir's CRDs against Flux v2.9's reference CRDs (../shared/reference/flux-crds), and the
//! committed crds/*.yaml against what the types generate now.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test fails by panicking

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

fn reference_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/flux-crds")
}

fn load_yaml(path: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

fn references() -> BTreeMap<String, Value> {
    let dir = reference_dir();
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| {
        panic!("the reference CRDs are not at {} ({e}); the shared/ folder must sit beside the project", dir.display())
    });
    let mut out = BTreeMap::new();
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let name = path.file_name().expect("file name").to_string_lossy().into_owned();
            out.insert(name, load_yaml(&path));
        }
    }
    assert!(out.len() >= 11, "expected Flux's 11 reference CRDs in {}, found {}", dir.display(), out.len());
    out
}

fn generated() -> BTreeMap<String, Value> {
    weir_api::crds::all()
        .iter()
        .map(|crd| (weir_api::crds::file_name(crd), serde_json::to_value(crd).expect("CRD serializes")))
        .collect()
}

#[test]
fn every_reference_kind_is_generated() {
    let generated = generated();
    let missing: Vec<String> = references().into_keys().filter(|k| !generated.contains_key(k)).collect();
    assert!(missing.is_empty(), "no Weir CRD for: {missing:?}");
}

#[test]
fn schemas_match_the_reference_field_by_field() {
    let generated = generated();
    let mut report = Vec::new();
    let mut compared_paths = 0;
    for (name, reference) in references() {
        let Some(ours) = generated.get(&name) else { continue };
        let diffs = weir_crds::compat::compare(&reference, ours);
        for version in reference["spec"]["versions"].as_array().into_iter().flatten() {
            compared_paths += weir_crds::compat::schema_paths(&version["schema"]["openAPIV3Schema"]).len();
        }
        report.extend(diffs.into_iter().map(|d| format!("{name}: {d}")));
    }
    println!("compared {compared_paths} reference schema paths");
    assert!(report.is_empty(), "{} differences:\n{}", report.len(), report.join("\n"));
}

#[test]
fn committed_crds_are_up_to_date() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut stale = Vec::new();
    for (name, yaml) in weir_crds::render_all().expect("CRDs render") {
        match std::fs::read_to_string(dir.join(&name)) {
            Ok(on_disk) if on_disk == yaml => {}
            _ => stale.push(name),
        }
    }
    assert!(stale.is_empty(), "crds/ is stale for {stale:?}: run `cargo run -p weir-crds` and commit the result");
}
