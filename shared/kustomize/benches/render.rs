//! Render time and peak memory beside `kubectl kustomize`, on the same inputs, in the same run.
//!
//! `cargo bench -p weir-kustomize --bench render` writes a small overlay and a large one (1,200
//! resources from 60 files, with generators, patches, labels with selectors, images, a namespace
//! and a prefix), then for each:
//! - renders it with Weir in a child process (this binary again), several times, reporting the
//!   median time and the child's peak RSS (`VmHWM` of `/proc/self/status`);
//! - runs `kubectl kustomize` on it as many times, reporting the median wall time and its peak
//!   RSS as `/usr/bin/time` measures it (package `time`);
//! - checks that both outputs are the same objects.
//!
//! Numbers, not assertions: nothing fails on a slow machine. `WEIR_BENCH_RUNS` sets the runs
//! per case (default 7); `WEIR_BENCH_WRITE=<dir>` only writes the two trees there (to profile).
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use weir_kustomize::{DiskFs, build, parse_documents, to_yaml};

const CHILD_DIR: &str = "WEIR_BENCH_RENDER_DIR";

fn main() {
    if let Ok(dir) = std::env::var(CHILD_DIR) {
        child(Path::new(&dir));
        return;
    }
    if let Ok(dir) = std::env::var("WEIR_BENCH_WRITE") {
        write_small(&Path::new(&dir).join("small"));
        write_large(&Path::new(&dir).join("large"), 600, 60);
        return;
    }
    let runs: usize = std::env::var("WEIR_BENCH_RUNS").ok().and_then(|r| r.parse().ok()).unwrap_or(7);
    let work = tempfile::tempdir().unwrap();
    let small = work.path().join("small");
    let large = work.path().join("large");
    write_small(&small);
    write_large(&large, 600, 60);
    let kubectl = kubectl_version();
    match &kubectl {
        Some(v) => println!("kubectl kustomize: {v}"),
        None => println!("kubectl not on PATH: Weir's numbers only"),
    }
    println!("{runs} runs per case; times are medians; RSS is the peak resident set of the process\n");
    println!(
        "{:<46} {:>12} {:>12} {:>14} {:>12} {:>9} {:>7}",
        "case", "weir", "weir RSS", "kubectl", "kubectl RSS", "speed-up", "equal"
    );
    for (name, dir) in [("small overlay", &small), ("large overlay (1,200 resources)", &large)] {
        report(name, dir, runs, kubectl.is_some());
    }
}

/// Child mode: render `dir` `runs` times; print the objects count, each time, and VmHWM.
fn child(dir: &Path) {
    let runs: usize = std::env::var("WEIR_BENCH_RUNS").ok().and_then(|r| r.parse().ok()).unwrap_or(7);
    let fs = DiskFs::new(dir).unwrap();
    let mut times = Vec::new();
    let mut objects = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let out = build(&fs, Path::new("")).unwrap();
        // Serialising is part of the job `kubectl kustomize` does; count it too.
        let text = to_yaml(&out);
        times.push(start.elapsed().as_secs_f64());
        objects = out.len();
        std::hint::black_box(text);
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let hwm = status.lines().find_map(|l| l.strip_prefix("VmHWM:")).map(|v| v.trim().to_string()).unwrap_or_default();
    let times: Vec<String> = times.iter().map(|t| t.to_string()).collect();
    println!("objects={objects} times={} vmhwm={hwm}", times.join(","));
}

fn report(name: &str, dir: &Path, runs: usize, with_kubectl: bool) {
    let out = Command::new(std::env::current_exe().unwrap())
        .env(CHILD_DIR, dir)
        .env("WEIR_BENCH_RUNS", runs.to_string())
        .output()
        .unwrap();
    let line = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "the render child failed: {}", String::from_utf8_lossy(&out.stderr));
    let field =
        |key: &str| line.split_whitespace().find_map(|w| w.strip_prefix(&format!("{key}="))).unwrap_or("").to_string();
    let mut weir_times: Vec<f64> = field("times").split(',').filter_map(|t| t.parse().ok()).collect();
    let weir = median(&mut weir_times);
    let weir_rss =
        format!("{} MiB", field("vmhwm").trim_end_matches(" kB").parse::<f64>().unwrap_or(0.0) as u64 / 1024);
    let objects = field("objects");
    if !with_kubectl {
        println!("{:<46} {:>12} {:>12}", format!("{name}, {objects} objects"), ms(weir), weir_rss);
        return;
    }
    let mut times = Vec::new();
    let mut peak_kb = 0u64;
    let mut equal = false;
    for run in 0..runs {
        let (elapsed, rss, stdout) = kubectl_kustomize(dir);
        times.push(elapsed.as_secs_f64());
        peak_kb = peak_kb.max(rss.unwrap_or(0));
        if run == 0 {
            let theirs = parse_documents(&stdout).unwrap();
            let ours = build(&DiskFs::new(dir).unwrap(), Path::new("")).unwrap();
            equal = theirs == ours;
        }
    }
    let theirs = median(&mut times);
    let kubectl_rss = if peak_kb > 0 { format!("{} MiB", peak_kb / 1024) } else { "n/a".into() };
    println!(
        "{:<46} {:>12} {:>12} {:>14} {:>12} {:>8.1}x {:>7}",
        format!("{name}, {objects} objects"),
        ms(weir),
        weir_rss,
        ms(theirs),
        kubectl_rss,
        theirs / weir,
        equal
    );
}

/// One `kubectl kustomize` run: wall time, peak RSS in KiB (from `/usr/bin/time`), stdout.
fn kubectl_kustomize(dir: &Path) -> (Duration, Option<u64>, String) {
    let rss_file = tempfile::NamedTempFile::new().unwrap();
    let timed = Path::new("/usr/bin/time").exists();
    let mut command = if timed {
        let mut c = Command::new("/usr/bin/time");
        c.arg("-f").arg("%M").arg("-o").arg(rss_file.path()).arg("kubectl");
        c
    } else {
        Command::new("kubectl")
    };
    command.arg("kustomize").arg(dir);
    let start = Instant::now();
    let out = command.output().unwrap();
    let elapsed = start.elapsed();
    assert!(out.status.success(), "kubectl kustomize failed: {}", String::from_utf8_lossy(&out.stderr));
    let rss = std::fs::read_to_string(rss_file.path()).ok().and_then(|t| t.trim().parse().ok());
    (elapsed, rss, String::from_utf8_lossy(&out.stdout).into_owned())
}

fn kubectl_version() -> Option<String> {
    let out = Command::new("kubectl").args(["version", "--client"]).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    out.status.success().then(|| text.lines().find(|l| l.contains("Kustomize")).unwrap_or("").trim().to_string())
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

fn ms(seconds: f64) -> String {
    format!("{:.2} ms", seconds * 1000.0)
}

fn write(path: &Path, content: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
spec:
  selector:
    matchLabels: {app: app-{i}}
  template:
    metadata:
      labels: {app: app-{i}}
    spec:
      containers:
      - name: app
        image: nginx:1.25
        ports:
        - containerPort: 8080
        envFrom:
        - configMapRef: {name: settings-{g}}
        volumeMounts:
        - {name: creds, mountPath: /creds}
      volumes:
      - name: creds
        secret: {secretName: creds}
---
apiVersion: v1
kind: Service
metadata:
  name: app-{i}
spec:
  selector: {app: app-{i}}
  ports:
  - port: 80
    targetPort: 8080
---
";

/// One Deployment, one Service and a generated ConfigMap, under an overlay with a prefix, a
/// namespace, an image, a patch and a merged generator.
fn write_small(root: &Path) {
    write(&root.join("base/app.yaml"), &DEPLOYMENT.replace("{i}", "0").replace("{g}", "0"));
    write(
        &root.join("base/kustomization.yaml"),
        "resources: [app.yaml]\nconfigMapGenerator:\n- name: settings-0\n  literals: [A=1]\nsecretGenerator:\n- name: creds\n  literals: [password=secret]\n",
    );
    write(
        &root.join("kustomization.yaml"),
        "resources: [base]\nnamePrefix: dev-\nnamespace: dev\nimages:\n- name: nginx\n  newTag: \"1.27\"\nconfigMapGenerator:\n- name: settings-0\n  behavior: merge\n  literals: [B=2]\npatches:\n- target: {kind: Deployment}\n  patch: |-\n    - op: add\n      path: /spec/replicas\n      value: 2\n",
    );
}

/// `pairs` Deployment+Service pairs spread over `files` files, ten ConfigMap generators and a
/// Secret generator in the base; an overlay with a prefix, a namespace, labels with selectors,
/// images, a JSON 6902 patch on every Deployment, a strategic merge patch on one, replicas and
/// a merged generator.
fn write_large(root: &Path, pairs: usize, files: usize) {
    let per_file = pairs.div_ceil(files);
    let mut resources = Vec::new();
    for f in 0..files {
        let mut text = String::new();
        for i in f * per_file..((f + 1) * per_file).min(pairs) {
            text.push_str(&DEPLOYMENT.replace("{i}", &i.to_string()).replace("{g}", &(i % 10).to_string()));
        }
        let name = format!("apps-{f:02}.yaml");
        write(&root.join("base").join(&name), &text);
        resources.push(name);
    }
    let mut k = format!("resources: [{}]\nconfigMapGenerator:\n", resources.join(", "));
    for g in 0..10 {
        writeln!(k, "- name: settings-{g}\n  literals: [A=1, B={g}]").unwrap();
    }
    k.push_str("secretGenerator:\n- name: creds\n  literals: [password=secret]\n");
    write(&root.join("base/kustomization.yaml"), &k);
    write(
        &root.join("kustomization.yaml"),
        "resources: [base]\nnamePrefix: prod-\nnamespace: prod\nlabels:\n- pairs: {env: prod}\n  includeSelectors: true\nimages:\n- name: nginx\n  newTag: \"1.27\"\nreplicas:\n- name: app-1\n  count: 5\nconfigMapGenerator:\n- name: settings-0\n  behavior: merge\n  literals: [C=3]\npatches:\n- target: {kind: Deployment}\n  patch: |-\n    - op: add\n      path: /spec/template/spec/containers/0/env\n      value: [{name: TIER, value: prod}]\n- patch: |-\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata:\n      name: app-0\n    spec:\n      template:\n        spec:\n          containers:\n          - name: app\n            resources:\n              limits: {memory: 256Mi}\n",
    );
}
