//! The corpus: one directory per case under tests/corpus, each built with `build()` and compared
//! (as parsed documents, order and content) with the output of `kubectl kustomize` stored beside
//! it in `expected.yaml`, or expected to fail with the text in `expected-error.txt`.
//!
//! `WEIR_UPDATE_GOLDEN=1 cargo test -p weir-kustomize --test corpus` rewrites the goldens from
//! `kubectl kustomize` (kustomize v5.5) when kubectl is installed. `live_differential` compares
//! with kubectl on every run where it is installed and says so when it is not.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use weir_kustomize::{DiskFs, build, parse_documents, to_yaml};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn cases() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> =
        std::fs::read_dir(corpus_dir()).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    dirs.sort();
    dirs
}

fn render(case: &Path) -> Result<Vec<Value>, String> {
    let fs = DiskFs::new(case).map_err(|e| e.to_string())?;
    build(&fs, Path::new("")).map_err(|e| e.to_string())
}

/// `kubectl kustomize` output, `None` when kubectl is not installed.
fn kubectl(case: &Path) -> Option<Result<String, String>> {
    let out = Command::new("kubectl").arg("kustomize").arg(case).output().ok()?;
    Some(if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    })
}

fn kubectl_available() -> bool {
    Command::new("kubectl").arg("version").arg("--client").output().is_ok_and(|o| o.status.success())
}

fn name(case: &Path) -> String {
    case.file_name().unwrap().to_string_lossy().into_owned()
}

fn compare(case: &Path, expected_text: &str, failures: &mut Vec<String>) {
    let expected = parse_documents(expected_text).unwrap();
    match render(case) {
        Ok(got) if got == expected => {}
        Ok(got) => failures.push(format!(
            "{}: output differs\n--- expected\n{}--- got\n{}",
            name(case),
            to_yaml(&expected),
            to_yaml(&got)
        )),
        Err(e) => failures.push(format!("{}: build failed: {e}", name(case))),
    }
}

#[test]
fn every_case_has_a_readme_and_an_expectation() {
    let cases = cases();
    assert!(cases.len() >= 40, "only {} cases", cases.len());
    for case in cases {
        assert!(case.join("README").exists(), "{} has no README", name(&case));
        assert!(
            case.join("expected.yaml").exists() || case.join("expected-error.txt").exists(),
            "{} has no expected.yaml or expected-error.txt",
            name(&case)
        );
    }
}

#[test]
fn golden() {
    let update = std::env::var("WEIR_UPDATE_GOLDEN").is_ok_and(|v| v == "1");
    if update && !kubectl_available() {
        eprintln!("WEIR_UPDATE_GOLDEN=1 but kubectl is not installed: goldens left as they are");
    }
    let mut failures = Vec::new();
    for case in cases() {
        let error_file = case.join("expected-error.txt");
        if error_file.exists() {
            let want = std::fs::read_to_string(&error_file).unwrap();
            match render(&case) {
                Ok(_) => failures.push(format!("{}: expected an error containing {:?}", name(&case), want.trim())),
                Err(e) if e.contains(want.trim()) => {}
                Err(e) => failures.push(format!("{}: error {e:?} does not contain {:?}", name(&case), want.trim())),
            }
            continue;
        }
        let golden = case.join("expected.yaml");
        if update && let Some(Ok(text)) = kubectl(&case) {
            std::fs::write(&golden, text).unwrap();
        }
        let expected = std::fs::read_to_string(&golden).unwrap();
        compare(&case, &expected, &mut failures);
    }
    assert!(failures.is_empty(), "{} case(s) failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn live_differential() {
    if !kubectl_available() {
        eprintln!(
            "live_differential SKIPPED: kubectl is not on PATH (install kubectl 1.32+ to compare with kustomize v5.5)"
        );
        return;
    }
    let mut failures = Vec::new();
    let mut compared = 0;
    for case in cases().into_iter().filter(|c| !c.join("expected-error.txt").exists()) {
        match kubectl(&case) {
            Some(Ok(text)) => {
                compared += 1;
                compare(&case, &text, &mut failures);
            }
            Some(Err(e)) => failures.push(format!("{}: kubectl kustomize failed: {e}", name(&case))),
            None => {}
        }
    }
    eprintln!("live_differential: compared {compared} cases with kubectl kustomize");
    assert!(failures.is_empty(), "{} case(s) differ from kubectl:\n{}", failures.len(), failures.join("\n"));
}
