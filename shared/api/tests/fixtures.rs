//! Every fixture (a complete object of one kind, every field set) decodes into its Rust type
//! without losing a field, and passes `validate()`.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test fails by panicking

use std::path::PathBuf;

use serde_json::Value;

fn fixtures() -> Vec<(String, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .expect("fixtures folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("readable fixture");
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let value = serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, value)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn every_kind_has_a_fixture() {
    let kinds: std::collections::BTreeSet<String> =
        fixtures().iter().map(|(_, v)| v["kind"].as_str().unwrap_or_default().to_string()).collect();
    let crds: std::collections::BTreeSet<String> =
        weir_api::crds::all().iter().map(|c| c.spec.names.kind.clone()).collect();
    assert_eq!(kinds, crds);
}

#[test]
fn fixtures_keep_every_field_through_the_rust_types() {
    for (name, object) in fixtures() {
        let again = weir_api::dynamic::round_trip(&object).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(again, object, "{name} lost or changed fields through its Rust type");
    }
}

#[test]
fn fixtures_are_valid() {
    for (name, object) in fixtures() {
        weir_api::dynamic::validate_value(&object).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}
