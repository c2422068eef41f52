//! Render time beside `kubectl kustomize` (numbers, not a timed assertion). Run with
//! `cargo test -p weir-kustomize --release --test bench -- --ignored --nocapture`.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use weir_kustomize::{DiskFs, build};

/// A base of `n` Deployment+Service pairs with generators, and an overlay with a prefix, a
/// namespace, labels, images, a targeted patch and a merged generator.
fn write_tree(root: &Path, n: usize) {
    let base = root.join("base");
    std::fs::create_dir_all(&base).unwrap();
    let mut all = String::new();
    for i in 0..n {
        write!(
            all,
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i}\nspec:\n  selector:\n    matchLabels: {{app: app-{i}}}\n  template:\n    metadata:\n      labels: {{app: app-{i}}}\n    spec:\n      containers:\n      - name: app\n        image: nginx:1.25\n        envFrom:\n        - configMapRef: {{name: settings-{}}}\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: app-{i}\nspec:\n  selector: {{app: app-{i}}}\n  ports:\n  - port: 80\n---\n",
            i % 10
        )
        .unwrap();
    }
    std::fs::write(base.join("all.yaml"), all).unwrap();
    let mut k = String::from("resources: [all.yaml]\nconfigMapGenerator:\n");
    for g in 0..10 {
        writeln!(k, "- name: settings-{g}\n  literals: [A=1, B={g}]").unwrap();
    }
    std::fs::write(base.join("kustomization.yaml"), k).unwrap();
    std::fs::write(
        root.join("kustomization.yaml"),
        "resources: [base]\nnamePrefix: prod-\nnamespace: prod\nlabels:\n- pairs: {env: prod}\n  includeSelectors: true\nimages:\n- name: nginx\n  newTag: \"1.27\"\nconfigMapGenerator:\n- name: settings-0\n  behavior: merge\n  literals: [C=3]\npatches:\n- target:\n    kind: Deployment\n  patch: |-\n    - op: add\n      path: /spec/replicas\n      value: 2\n",
    )
    .unwrap();
}

fn time_case(n: usize) {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), n);
    let fs = DiskFs::new(dir.path()).unwrap();
    let start = Instant::now();
    let out = build(&fs, Path::new("")).unwrap();
    let ours = start.elapsed();
    let line = format!("{n} pairs ({} objects): weir {:.1} ms", out.len(), ours.as_secs_f64() * 1000.0);
    let start = Instant::now();
    match Command::new("kubectl").arg("kustomize").arg(dir.path()).output() {
        Ok(o) if o.status.success() => {
            let theirs = start.elapsed();
            let expected = weir_kustomize::parse_documents(&String::from_utf8_lossy(&o.stdout)).unwrap();
            println!(
                "{line}, kubectl kustomize {:.1} ms, {:.1}x, outputs equal: {}",
                theirs.as_secs_f64() * 1000.0,
                theirs.as_secs_f64() / ours.as_secs_f64(),
                expected == out
            );
        }
        _ => println!("{line}; kubectl kustomize not available: no comparison"),
    }
}

#[test]
#[ignore = "benchmark: run explicitly"]
fn render_time_beside_kubectl() {
    time_case(10);
    time_case(600);
}
