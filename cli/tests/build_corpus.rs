//! `weir build kustomization --dry-run` over the native renderer's whole corpus: through the CLI,
//! every case renders what `kubectl kustomize` rendered (the goldens), give or take the owner
//! labels kustomize-controller adds, and every failing case fails with exit code 1.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use weir_kustomize::parse_documents;

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/kustomize/tests/corpus");
    let mut cases: Vec<PathBuf> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    cases.sort();
    cases
}

/// Drops what only the Flux build adds: the owner labels, and the origin annotations Flux turns on
/// for a kustomization without `resources` (and the maps this leaves empty).
fn normalise(mut objects: Vec<Value>) -> Vec<Value> {
    for object in &mut objects {
        let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) else { continue };
        if let Some(labels) = metadata.get_mut("labels").and_then(Value::as_object_mut) {
            labels.remove("kustomize.toolkit.fluxcd.io/name");
            labels.remove("kustomize.toolkit.fluxcd.io/namespace");
            if labels.is_empty() {
                metadata.remove("labels");
            }
        }
        if let Some(annotations) = metadata.get_mut("annotations").and_then(Value::as_object_mut) {
            annotations.remove("config.kubernetes.io/origin");
            if annotations.is_empty() {
                metadata.remove("annotations");
            }
        }
    }
    objects
}

#[test]
fn the_cli_renders_the_whole_corpus_as_kubectl_kustomize_did() {
    let cases = corpus();
    assert!(cases.len() >= 60, "the corpus has only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let output = Command::new(env!("CARGO_BIN_EXE_weir"))
            .args(["build", "kustomization", "corpus", "--dry-run", "--path"])
            .arg(case)
            .output()
            .unwrap();
        let expected = case.join("expected.yaml");
        if expected.exists() {
            if !output.status.success() {
                failures.push(format!("{name}: failed: {}", String::from_utf8_lossy(&output.stderr)));
                continue;
            }
            let got = normalise(parse_documents(&String::from_utf8_lossy(&output.stdout)).unwrap());
            let want = normalise(parse_documents(&std::fs::read_to_string(&expected).unwrap()).unwrap());
            if got != want {
                failures.push(format!("{name}: output differs from expected.yaml"));
            }
        } else if output.status.code() != Some(1) || output.stderr.is_empty() {
            failures.push(format!("{name}: expected exit code 1 with an error, got {:?}", output.status.code()));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases:\n{}", failures.len(), cases.len(), failures.join("\n"));
}
