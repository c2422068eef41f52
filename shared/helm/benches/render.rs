//! Render time and peak memory of two generated charts: one with 50 templates and one with
//! 10 subcharts (5 templates each), each rendered many times as `helm template` would.
//!
//! `cargo bench -p weir-helm --bench render` (release profile). Each chart runs in its own
//! child process so that its peak RSS (VmHWM from /proc/self/status) is its own.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use weir_helm::chart::{Chart, File, load_files};
use weir_helm::render::{Options, render};
use weir_helm::template::Value;

const HELPERS: &str = r#"{{- define "bench.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- define "bench.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- range $k, $v := .Values.labels }}
{{ $k }}: {{ $v | quote }}
{{- end }}
{{- end -}}
"#;

/// A Deployment and a ConfigMap in the style of `helm create`, numbered `i`.
fn template(i: usize) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{{{ include "bench.fullname" . }}}}-{i}
  labels:
    {{{{- include "bench.labels" . | nindent 4 }}}}
spec:
  replicas: {{{{ .Values.replicas }}}}
  selector:
    matchLabels:
      {{{{- include "bench.labels" . | nindent 6 }}}}
  template:
    metadata:
      annotations:
        checksum/config: {{{{ .Values.config | toYaml | sha256sum }}}}
    spec:
      containers:
        - name: app-{i}
          image: "{{{{ .Values.image.repository }}}}:{{{{ .Values.image.tag | default .Chart.AppVersion }}}}"
          env:
            {{{{- range $k, $v := .Values.config }}}}
            - name: {{{{ $k | upper | replace "." "_" }}}}
              value: {{{{ tpl (toString $v) $ | quote }}}}
            {{{{- end }}}}
          resources:
            {{{{- toYaml .Values.resources | nindent 12 }}}}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{{{ include "bench.fullname" . }}}}-{i}
data:
  {{{{- range $k, $v := .Values.config }}}}
  {{{{ $k }}}}: {{{{ $v | quote }}}}
  {{{{- end }}}}
"#
    )
}

const VALUES: &str = r#"replicas: 2
image: {repository: registry.example/app, tag: ""}
labels: {team: bench, tier: backend, env: test}
config:
  log.level: info
  release: "{{ .Release.Name }}"
  feature.a: "true"
  feature.b: "false"
  url: http://example.com/{{ .Chart.Name }}
resources:
  limits: {cpu: 500m, memory: 256Mi}
  requests: {cpu: 100m, memory: 128Mi}
"#;

fn file(name: &str, data: &str) -> File {
    File { name: name.into(), data: data.as_bytes().to_vec() }
}

fn chart_files(prefix: &str, name: &str, templates: usize, deps: &[String]) -> Vec<File> {
    let mut chart_yaml = format!("apiVersion: v2\nname: {name}\nversion: 1.0.0\nappVersion: \"1.0\"\n");
    if !deps.is_empty() {
        chart_yaml.push_str("dependencies:\n");
        for d in deps {
            chart_yaml.push_str(&format!("  - name: {d}\n    version: 1.0.0\n"));
        }
    }
    let mut files = vec![
        file(&format!("{prefix}Chart.yaml"), &chart_yaml),
        file(&format!("{prefix}values.yaml"), VALUES),
        file(&format!("{prefix}templates/_helpers.tpl"), HELPERS),
    ];
    for i in 0..templates {
        files.push(file(&format!("{prefix}templates/t{i:02}.yaml"), &template(i)));
    }
    files
}

fn fifty_templates() -> Chart {
    load_files(chart_files("", "fifty", 50, &[])).unwrap()
}

fn ten_subcharts() -> Chart {
    let names: Vec<String> = (0..10).map(|i| format!("sub{i}")).collect();
    let mut files = chart_files("", "umbrella", 5, &names);
    for n in &names {
        files.extend(chart_files(&format!("charts/{n}/"), n, 5, &[]));
    }
    load_files(files).unwrap()
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn run(scenario: &str) {
    let (chart, runs) = match scenario {
        "templates50" => (fifty_templates(), 200),
        "subcharts10" => (ten_subcharts(), 200),
        other => panic!("unknown scenario {other}"),
    };
    let opts = Options::new("bench", "default");
    let first = render(&chart, &Value::Nil, &opts).unwrap();
    let documents = first.manifests.len();
    let bytes = first.to_string().len();
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let out = render(&chart, &Value::Nil, &opts).unwrap();
            std::hint::black_box(out);
            start.elapsed()
        })
        .collect();
    times.sort();
    let mean = times.iter().sum::<Duration>() / runs;
    println!(
        "{scenario}: {documents} manifests, {bytes} bytes; {runs} renders: mean {:.2} ms, median {:.2} ms, p95 {:.2} ms; \
         peak RSS {} KiB",
        mean.as_secs_f64() * 1e3,
        times[runs as usize / 2].as_secs_f64() * 1e3,
        times[runs as usize * 95 / 100].as_secs_f64() * 1e3,
        peak_rss_kib()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--scenario") {
        run(&args[i + 1]);
        return;
    }
    let me = std::env::current_exe().unwrap();
    for scenario in ["templates50", "subcharts10"] {
        let status = std::process::Command::new(&me).args(["--scenario", scenario]).status().unwrap();
        assert!(status.success(), "{scenario} failed");
    }
}
