//! Corpus tests for `weir_kustomize::patch`: every case under `tests/patch_corpus/` is a small
//! kustomization (one resources file and `patches`), with `expected.yaml` recorded from
//! `kubectl kustomize` (kustomize v5.5.0). The golden comparison always runs; the live
//! differential test runs `kubectl kustomize` when it is on PATH and says so when it is not.
//! A case where kubectl fails has `expected_error.txt` (kubectl's message) instead of
//! `expected.yaml`, and our rendering must fail too.
//!
//! Regenerate the goldens with
//! `WEIR_UPDATE_GOLDEN=1 cargo test -p weir-kustomize --test patch_tests -- --ignored regenerate_goldens`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use weir_kustomize::patch::{self, Patch};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/patch_corpus")
}

fn cases() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(corpus_dir())
        .expect("corpus directory")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.join("kustomization.yaml").is_file())
        .collect();
    dirs.sort();
    dirs
}

fn yaml_docs(text: &str) -> Vec<Value> {
    let options = serde_saphyr::options! {
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        underscored_numbers_as_strings: true,
    };
    let docs: Vec<Value> = serde_saphyr::from_multiple_with_options(text, options).expect("valid YAML");
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for p in path {
        cur = &cur[*p];
    }
    cur.as_str().unwrap_or("")
}

fn group_version(res: &Value) -> (&str, &str) {
    let api_version = str_at(res, &["apiVersion"]);
    api_version.split_once('/').unwrap_or(("", api_version))
}

/// The subset of kustomize's patch target selector the corpus uses (exact values).
fn matches_target(res: &Value, target: &Value) -> bool {
    let (group, version) = group_version(res);
    let checks = [
        ("group", group),
        ("version", version),
        ("kind", str_at(res, &["kind"])),
        ("name", str_at(res, &["metadata", "name"])),
        ("namespace", str_at(res, &["metadata", "namespace"])),
    ];
    checks.iter().all(|(field, actual)| target.get(*field).and_then(Value::as_str).is_none_or(|want| want == *actual))
}

/// Mirrors kustomize's patch transformer around our patch functions: target selection,
/// restoring name/namespace/kind after a strategic merge, dropping deleted resources and empty
/// annotations.
fn render(dir: &Path) -> Result<Vec<Value>, String> {
    let kustomization = yaml_docs(&fs::read_to_string(dir.join("kustomization.yaml")).unwrap()).remove(0);
    let mut resources: Vec<Value> = Vec::new();
    for file in kustomization["resources"].as_array().unwrap() {
        let text = fs::read_to_string(dir.join(file.as_str().unwrap())).unwrap();
        resources.extend(yaml_docs(&text));
    }
    for entry in kustomization["patches"].as_array().unwrap() {
        let text = match (entry.get("path"), entry.get("patch")) {
            (Some(path), _) => fs::read_to_string(dir.join(path.as_str().unwrap())).unwrap(),
            (None, Some(inline)) => inline.as_str().unwrap().to_owned(),
            _ => return Err("patch without path or patch".to_owned()),
        };
        let target = entry.get("target");
        match patch::parse_patch(&text).map_err(|e| e.to_string())? {
            Patch::Json6902(ops) => {
                let target = target.ok_or("JSON 6902 patch without target")?;
                for res in resources.iter_mut().filter(|r| matches_target(r, target)) {
                    patch::json6902(res, &ops).map_err(|e| e.to_string())?;
                }
            }
            Patch::StrategicMerge(docs) => {
                for doc in docs {
                    let selected: Vec<usize> = (0..resources.len())
                        .filter(|&i| match target {
                            Some(t) => matches_target(&resources[i], t),
                            None => {
                                let r = &resources[i];
                                str_at(r, &["kind"]) == str_at(&doc, &["kind"])
                                    && str_at(r, &["metadata", "name"]) == str_at(&doc, &["metadata", "name"])
                                    && str_at(r, &["metadata", "namespace"]) == str_at(&doc, &["metadata", "namespace"])
                            }
                        })
                        .collect();
                    if selected.is_empty() {
                        return Err(format!("no resource matches patch {doc}"));
                    }
                    let mut deleted = Vec::new();
                    for i in selected {
                        let res = &mut resources[i];
                        let (kind, name, ns) = (
                            res["kind"].clone(),
                            res["metadata"]["name"].clone(),
                            res["metadata"]["namespace"].clone(),
                        );
                        patch::strategic_merge(res, &doc).map_err(|e| e.to_string())?;
                        if res.is_null() {
                            deleted.push(i);
                            continue;
                        }
                        res["kind"] = kind;
                        res["metadata"]["name"] = name;
                        if ns.is_null() {
                            if let Some(m) = res["metadata"].as_object_mut() {
                                m.remove("namespace");
                            }
                        } else {
                            res["metadata"]["namespace"] = ns;
                        }
                    }
                    for i in deleted.into_iter().rev() {
                        resources.remove(i);
                    }
                }
            }
        }
    }
    for res in &mut resources {
        if let Some(meta) = res.get_mut("metadata").and_then(Value::as_object_mut)
            && meta.get("annotations").and_then(Value::as_object).is_some_and(|a| a.is_empty())
        {
            meta.remove("annotations");
        }
    }
    Ok(sorted(resources))
}

fn sorted(mut docs: Vec<Value>) -> Vec<Value> {
    let key = |d: &Value| {
        (
            str_at(d, &["kind"]).to_owned(),
            str_at(d, &["metadata", "namespace"]).to_owned(),
            str_at(d, &["metadata", "name"]).to_owned(),
        )
    };
    docs.sort_by_key(key);
    docs
}

/// The places where two documents differ, as `path: want <> got` lines.
fn diff(path: &str, want: &Value, got: &Value, out: &mut Vec<String>) {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for key in w.keys().chain(g.keys().filter(|k| !w.contains_key(*k))) {
                let sub = format!("{path}.{key}");
                diff(&sub, w.get(key).unwrap_or(&Value::Null), g.get(key).unwrap_or(&Value::Null), out);
            }
        }
        (Value::Array(w), Value::Array(g)) if w.len() == g.len() => {
            for (i, (w, g)) in w.iter().zip(g).enumerate() {
                diff(&format!("{path}[{i}]"), w, g, out);
            }
        }
        (w, g) if w != g => out.push(format!("  {path}: want {w} <> got {g}")),
        _ => {}
    }
}

fn compare(name: &str, got: &[Value], want: &[Value]) -> Option<String> {
    if got == want {
        return None;
    }
    let mut lines = Vec::new();
    diff("", &Value::Array(want.to_vec()), &Value::Array(got.to_vec()), &mut lines);
    Some(format!("--- {name}\n{}", lines.join("\n")))
}

fn kubectl_available() -> Result<(), String> {
    match Command::new("kubectl").args(["version", "--client"]).output() {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!("`kubectl version --client` failed: {}", String::from_utf8_lossy(&out.stderr))),
        Err(e) => Err(format!("kubectl not runnable: {e}")),
    }
}

fn kubectl_kustomize(dir: &Path) -> Result<String, String> {
    let out = Command::new("kubectl").arg("kustomize").arg(dir).output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    String::from_utf8(out.stdout).map_err(|e| e.to_string())
}

#[test]
fn corpus_is_large_enough() {
    let n = cases().len();
    assert!(n >= 40, "the patch corpus has {n} cases, expected at least 40");
}

#[test]
fn golden_corpus_matches() {
    let mut failures = Vec::new();
    let all = cases();
    for dir in &all {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        if let Ok(kubectl_error) = fs::read_to_string(dir.join("expected_error.txt")) {
            match render(dir) {
                Ok(_) => failures.push(format!("--- {name}: kubectl fails ({}) but we succeed", kubectl_error.trim())),
                Err(e) => println!("{name}: both fail; kubectl: {}; weir: {e}", kubectl_error.trim()),
            }
            continue;
        }
        let golden = fs::read_to_string(dir.join("expected.yaml"))
            .unwrap_or_else(|e| panic!("{name}: missing expected.yaml ({e}); regenerate the goldens"));
        let want = sorted(yaml_docs(&golden));
        match render(dir) {
            Ok(got) => failures.extend(compare(&name, &got, &want)),
            Err(e) => failures.push(format!("--- {name}: {e}")),
        }
    }
    let _ = writeln!(
        std::io::stderr(),
        "patch corpus: {} of {} cases match the kubectl goldens",
        all.len() - failures.len(),
        all.len()
    );
    assert!(failures.is_empty(), "{} case(s) differ:\n{}", failures.len(), failures.join("\n"));
}

fn differential_chunk(dirs: &[PathBuf]) -> Vec<String> {
    let mut failures = Vec::new();
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let want = match kubectl_kustomize(dir) {
            Ok(text) => sorted(yaml_docs(&text)),
            Err(kubectl_error) => {
                if let Ok(got) = render(dir) {
                    failures
                        .push(format!("--- {name}: kubectl fails ({}) but we succeed: {got:?}", kubectl_error.trim()));
                }
                continue;
            }
        };
        match render(dir) {
            Ok(got) => failures.extend(compare(&name, &got, &want)),
            Err(e) => failures.push(format!("--- {name}: {e}")),
        }
    }
    failures
}

#[test]
fn differential_against_live_kubectl() {
    if let Err(why) = kubectl_available() {
        // Straight to stderr, past the test harness's output capture, so that it is seen.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED live differential test against `kubectl kustomize`: {why} (the golden comparison still runs)"
        );
        return;
    }
    let all = cases();
    // One kubectl run per case, a few at a time.
    let workers = std::thread::available_parallelism().map_or(4, |n| n.get()).min(8);
    let chunks: Vec<&[PathBuf]> = all.chunks(all.len().div_ceil(workers).max(1)).collect();
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks.iter().map(|chunk| scope.spawn(move || differential_chunk(chunk))).collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let _ = writeln!(
        std::io::stderr(),
        "live differential: {} of {} patch cases match `kubectl kustomize`",
        all.len() - failures.len(),
        all.len()
    );
    assert!(failures.is_empty(), "{} case(s) differ from live kubectl:\n{}", failures.len(), failures.join("\n"));
}

#[test]
#[ignore = "rewrites the goldens with kubectl; run with WEIR_UPDATE_GOLDEN=1"]
fn regenerate_goldens() {
    if std::env::var_os("WEIR_UPDATE_GOLDEN").is_none() {
        println!("WEIR_UPDATE_GOLDEN is not set: goldens left unchanged");
        return;
    }
    kubectl_available().expect("kubectl is needed to regenerate the goldens");
    for dir in cases() {
        let (golden, stale) = ("expected.yaml", "expected_error.txt");
        let (name, text, other) = match kubectl_kustomize(&dir) {
            Ok(out) => (golden, out, stale),
            // kubectl's message, without its timestamped log prefix.
            Err(e) => (stale, e.split_once("err=").map_or(e.as_str(), |(_, m)| m).to_owned(), golden),
        };
        fs::write(dir.join(name), text).unwrap();
        let _ = fs::remove_file(dir.join(other));
    }
}
