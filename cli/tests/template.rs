//! `weir template` and `weir build helmrelease --dry-run` run as a user runs them, on the
//! weir-helm test charts (whose goldens are `helm template` output) and small fixtures.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn charts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/helm/tests/charts")
}

fn weir(args: &[&str]) -> Output {
    weir_with_stdin(args, "")
}

fn weir_with_stdin(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(args)
        .current_dir(charts())
        .env_remove("KUBECONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running weir");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn stdout_ok(args: &[&str]) -> String {
    let out = weir(args);
    assert!(out.status.success(), "weir {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Runs a failing command and returns its stderr, checking Helm's exit code 1.
fn stderr_failing(args: &[&str]) -> String {
    let out = weir(args);
    assert_eq!(out.status.code(), Some(1), "weir {args:?}: {}", String::from_utf8_lossy(&out.stdout));
    assert!(out.stdout.is_empty(), "nothing on stdout when rendering fails");
    String::from_utf8(out.stderr).unwrap()
}

fn write_chart(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// A chart that shows the release, its namespace and a few values.
fn probe_chart(dir: &Path) {
    write_chart(
        dir,
        &[
            ("Chart.yaml", "apiVersion: v2\nname: probe\nversion: 0.1.0\n"),
            ("values.yaml", "color: red\nsize: small\nauth:\n  token: none\nreplicas: 1\n"),
            (
                "templates/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n  namespace: {{ .Release.Namespace }}\n\
                 data:\n  color: {{ .Values.color | quote }}\n  size: {{ .Values.size | quote }}\n  \
                 token: {{ .Values.auth.token | quote }}\n  replicas: {{ .Values.replicas | quote }}\n  \
                 kind: {{ kindOf .Values.replicas }}\n  upgrade: {{ .Release.IsUpgrade | quote }}\n  \
                 kube: {{ .Capabilities.KubeVersion.Version }}\n  \
                 api: {{ .Capabilities.APIVersions.Has \"example.com/v9\" | quote }}\n",
            ),
        ],
    );
}

fn probe(extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    probe_chart(dir.path());
    let chart = dir.path().to_str().unwrap().to_string();
    let mut args = vec!["template"];
    args.extend_from_slice(extra);
    args.push(&chart);
    stdout_ok(&args)
}

#[test]
fn golden_charts_render_byte_for_byte() {
    // (chart, release, namespace, include CRDs): as shared/helm/tests/charts.rs renders them.
    let cases = [
        ("webapp", "demo", "apps", false),
        ("shop", "shop", "default", false),
        ("operator", "op", "default", true),
        ("libuser", "lib", "default", false),
        ("ordering", "ord", "ops", false),
        ("platform", "pf", "default", false),
        ("validated", "api", "prod", false),
        ("cronjobs", "batch", "jobs", false),
        ("gateway", "edge", "ingress", true),
        ("stack", "st", "default", false),
    ];
    for (chart, release, namespace, crds) in cases {
        let values = format!("{chart}.values.yaml");
        let mut args = vec!["template", release, chart, "-n", namespace];
        if charts().join(&values).exists() {
            args.extend(["-f", &values]);
        }
        if crds {
            args.push("--include-crds");
        }
        let want = std::fs::read_to_string(charts().join(format!("{chart}.golden.yaml"))).unwrap();
        assert_eq!(stdout_ok(&args), want, "weir {args:?} differs from {chart}.golden.yaml");
    }
}

#[test]
fn release_name_and_namespace_default_as_helms() {
    let out = probe(&[]);
    assert!(out.starts_with("---\n# Source: probe/templates/cm.yaml\n"), "{out}");
    assert!(out.contains("  name: release-name\n  namespace: default\n"), "not flux-system: {out}");
    let out = probe(&["-n", "team-a", "--name-template", "{{ \"rel\" | upper | lower }}-x"]);
    assert!(out.contains("  name: rel-x\n  namespace: team-a\n"), "{out}");
    let out = probe(&["--namespace", "b"]);
    assert!(out.contains("  namespace: b\n"), "{out}");
}

#[test]
fn capabilities_and_upgrade_flags() {
    let out = probe(&[]);
    assert!(out.contains("  upgrade: \"false\"\n  kube: v1.31.0\n  api: \"false\"\n"), "{out}");
    let out = probe(&["--is-upgrade", "--kube-version", "1.29.3", "-a", "x/v1,example.com/v9"]);
    assert!(out.contains("  upgrade: \"true\"\n  kube: v1.29.3\n  api: \"true\"\n"), "{out}");
    let out = weir(&["template", "webapp", "--kube-version", "banana"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Error: invalid kube version 'banana': Invalid Semantic Version\n"
    );
}

#[test]
fn values_flags_merge_in_helms_order() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("a.yaml");
    let second = dir.path().join("b.yaml");
    let token = dir.path().join("token.txt");
    std::fs::write(&first, "color: green\nsize: huge\nauth: {token: fromfile}\n").unwrap();
    std::fs::write(&second, "size: tiny\n").unwrap();
    std::fs::write(&token, "tok-123").unwrap();
    let (first, second, token) = (first.to_str().unwrap(), second.to_str().unwrap(), token.to_str().unwrap());
    let out = probe(&["-f", first, "-f", second]);
    assert!(out.contains("color: \"green\"\n  size: \"tiny\"\n  token: \"fromfile\"\n  replicas: \"1\""), "{out}");
    // --set-json, then --set, then --set-string, then --set-file, each over the files.
    let set_file = format!("auth.token={token}");
    let out = probe(&[
        "-f",
        first,
        "--set-json",
        r#"replicas=5,color="json""#,
        "--set",
        "color=blue,replicas=2",
        "--set-string",
        "replicas=7",
        "--set-file",
        &set_file,
    ]);
    assert!(
        out.contains("color: \"blue\"\n  size: \"huge\"\n  token: \"tok-123\"\n  replicas: \"7\"\n  kind: string"),
        "{out}"
    );
    let out = probe(&["--set", "replicas=3"]);
    assert!(out.contains("replicas: \"3\"\n  kind: int"), "{out}");
}

#[test]
fn values_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    probe_chart(dir.path());
    let chart = dir.path().to_str().unwrap();
    let out = weir_with_stdin(&["template", "r", chart, "-f", "-"], "color: purple\n");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("color: \"purple\""));
}

#[test]
fn show_only_picks_templates_by_path_and_glob() {
    let out = stdout_ok(&["template", "demo", "webapp", "-n", "apps", "-s", "templates/service.yaml"]);
    assert!(out.starts_with("---\n# Source: webapp/templates/service.yaml\n"), "{out}");
    assert_eq!(out.matches("# Source:").count(), 1, "{out}");
    let all = stdout_ok(&["template", "demo", "webapp", "-n", "apps"]);
    let globbed = stdout_ok(&["template", "demo", "webapp", "-n", "apps", "--show-only", "templates/*.yaml"]);
    assert_eq!(globbed, all, "a glob of every template prints everything in order");
    let sub = stdout_ok(&["template", "shop", "shop", "-s", "charts/*/templates/*"]);
    assert!(sub.contains("# Source: shop/charts/") && !sub.contains("# Source: shop/templates/"), "{sub}");
    let err = stderr_failing(&["template", "webapp", "-s", "templates/missing.yaml"]);
    assert_eq!(err, "Error: could not find template templates/missing.yaml in chart\n");
}

#[test]
fn crds_only_with_include_crds() {
    let without = stdout_ok(&["template", "op", "operator"]);
    assert!(!without.contains("kind: CustomResourceDefinition"), "{without}");
    let with = stdout_ok(&["template", "op", "operator", "--include-crds"]);
    assert!(with.starts_with("---\n# Source: operator/crds/"), "{with}");
}

#[test]
fn skip_tests_and_no_hooks_drop_hooks() {
    let all = stdout_ok(&["template", "edge", "gateway", "-n", "ingress"]);
    assert!(all.contains("# Source: gateway/templates/tests/connection.yaml"), "{all}");
    let skipped = stdout_ok(&["template", "edge", "gateway", "-n", "ingress", "--skip-tests"]);
    assert!(!skipped.contains("tests/connection.yaml"), "{skipped}");
    assert!(skipped.contains("admission-job.yaml"), "other hooks stay: {skipped}");
    let none = stdout_ok(&["template", "edge", "gateway", "-n", "ingress", "--no-hooks"]);
    assert!(!none.contains("helm.sh/hook"), "{none}");
}

#[test]
fn output_dir_writes_files_as_helm_does() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let out_dir = out_dir.to_str().unwrap();
    let printed = stdout_ok(&["template", "op", "operator", "--include-crds", "--output-dir", out_dir]);
    let golden = std::fs::read_to_string(charts().join("operator.golden.yaml")).unwrap();
    let mut from_files = String::new();
    for line in printed.lines().filter(|l| !l.is_empty()) {
        let path = line.strip_prefix("wrote ").unwrap_or_else(|| panic!("unexpected line {line:?}"));
        assert!(path.starts_with(&format!("{out_dir}/operator/")), "{path}");
        // A file written twice in a row holds several documents; read it once.
        if !from_files.contains(&format!("# Source: {}\n", path.strip_prefix(&format!("{out_dir}/")).unwrap())) {
            from_files.push_str(&std::fs::read_to_string(path).unwrap());
        }
    }
    assert!(printed.ends_with("\n\n"), "helm prints the empty release manifest last: {printed:?}");
    let crd = std::fs::read_to_string(format!("{out_dir}/operator/crds/widgets.yaml")).unwrap();
    assert!(crd.starts_with("---\n# Source: operator/crds/widgets.yaml\n"), "{crd}");
    let mut golden_docs: Vec<&str> = golden.split("---\n").collect();
    let mut file_docs: Vec<&str> = from_files.split("---\n").collect();
    golden_docs.sort_unstable();
    file_docs.sort_unstable();
    assert_eq!(file_docs, golden_docs, "the files hold the same documents as the printed output");
}

#[test]
fn packaged_chart_renders_like_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let tgz = dir.path().join("webapp-0.1.0.tgz");
    let status = Command::new("tar")
        .args(["czf", tgz.to_str().unwrap(), "-C", charts().to_str().unwrap(), "webapp"])
        .status()
        .expect("tar is needed to pack the test chart");
    assert!(status.success());
    let out = stdout_ok(&["template", "demo", tgz.to_str().unwrap(), "-n", "apps"]);
    assert_eq!(out, std::fs::read_to_string(charts().join("webapp.golden.yaml")).unwrap());
}

#[test]
fn errors_are_helms_with_exit_code_1() {
    assert_eq!(
        stderr_failing(&["template", "r", "errors/required"]),
        "Error: execution error at (errs/templates/pod.yaml:2:10): image.tag is required!\n\n\
         Use --debug flag to render out invalid YAML\n"
    );
    assert_eq!(
        stderr_failing(&["template", "r", "errors/parse"]),
        "Error: parse error at (errs/templates/bad.yaml:4): unexpected EOF\n\nUse --debug flag to render out invalid YAML\n"
    );
    let schema = stderr_failing(&["template", "api", "validated", "--set", "replicaCount=11"]);
    assert_eq!(
        schema,
        "Error: values don't meet the specifications of the schema(s) in the following chart(s):\nvalidated:\n\
         - replicaCount: Must be less than or equal to 10\n\n"
    );
    assert_eq!(stderr_failing(&["template", "errors/notachart"]), "Error: Chart.yaml file is missing\n");
    assert_eq!(stderr_failing(&["template", "./nowhere"]), "Error: path \"./nowhere\" not found\n");
    assert!(
        stderr_failing(&["template", "Bad_Name", "webapp"])
            .starts_with("Error: release name \"Bad_Name\": invalid release name")
    );
    assert!(
        stderr_failing(&["template", "webapp", "--set", "a[x]=1"]).starts_with("Error: failed parsing --set data: ")
    );
    assert_eq!(
        stderr_failing(&["template", "a", "webapp", "--generate-name"]),
        "Error: cannot set --generate-name and also specify a name\n"
    );
    assert_eq!(
        stderr_failing(&["template", "libuser/charts/common"]).trim_end(),
        "Error: library charts are not installable"
    );
}

/// A GitOps directory with a HelmRelease, its chart and its values sources.
fn helmrelease_fixture(dir: &Path, spec_extra: &str) {
    probe_chart(&dir.join("charts/probe"));
    let secret_token = "czNjcjN0"; // base64 of "s3cr3t"
    write_chart(
        dir,
        &[
            (
                "apps/web/release.yaml",
                &format!(
                    "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: web\n  namespace: team\n\
                     spec:\n  interval: 10m\n  chart:\n    spec:\n      chart: ./charts/probe\n      sourceRef:\n        \
                     kind: GitRepository\n        name: repo\n  valuesFrom:\n  - kind: ConfigMap\n    name: web-values\n  \
                     - kind: Secret\n    name: web-secret\n    valuesKey: token\n    targetPath: auth.token\n  \
                     - kind: ConfigMap\n    name: absent\n    optional: true\n  values:\n    size: medium\n    replicas: 3\n{spec_extra}"
                ),
            ),
            (
                "apps/web/values.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-values\n  namespace: team\ndata:\n  \
                 values.yaml: |\n    color: blue\n    size: large\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  \
                 name: web-secret\n  namespace: team\ndata:\n  token: {secret_token}\n"
                    .replace("{secret_token}", secret_token)
                    .as_str(),
            ),
        ],
    );
}

#[test]
fn build_helmrelease_renders_chart_with_values_from() {
    let dir = tempfile::tempdir().unwrap();
    helmrelease_fixture(dir.path(), "  targetNamespace: apps\n");
    let path = dir.path().to_str().unwrap();
    let out = stdout_ok(&["build", "helmrelease", "web", "--path", path, "--dry-run"]);
    assert_eq!(
        out,
        "---\n# Source: probe/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: apps-web\n  \
         namespace: apps\ndata:\n  color: \"blue\"\n  size: \"medium\"\n  token: \"s3cr3t\"\n  replicas: \"3\"\n  \
         kind: float64\n  upgrade: \"false\"\n  kube: v1.31.0\n  api: \"false\"\n"
    );
    // Without targetNamespace the release is named after the HelmRelease, in its namespace.
    let dir = tempfile::tempdir().unwrap();
    helmrelease_fixture(dir.path(), "  releaseName: custom\n");
    let out = stdout_ok(&["build", "hr", "web", "--path", dir.path().to_str().unwrap(), "--dry-run"]);
    assert!(out.contains("  name: custom\n  namespace: team\n"), "{out}");
}

#[test]
fn build_helmrelease_errors_say_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    helmrelease_fixture(dir.path(), "");
    let path = dir.path().to_str().unwrap();
    let err = stderr_failing(&["build", "helmrelease", "other", "--path", path, "--dry-run"]);
    assert!(err.contains("HelmRelease 'other' not found"), "{err}");
    std::fs::remove_file(dir.path().join("apps/web/values.yaml")).unwrap();
    let err = stderr_failing(&["build", "helmrelease", "web", "--path", path, "--dry-run"]);
    assert!(err.contains("could not find ConfigMap 'team/web-values'"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    write_chart(
        dir.path(),
        &[(
            "hr.yaml",
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: podinfo\nspec:\n  chart:\n    \
             spec:\n      chart: podinfo\n      sourceRef:\n        kind: HelmRepository\n        name: podinfo\n",
        )],
    );
    let err = stderr_failing(&["build", "helmrelease", "podinfo", "--path", dir.path().to_str().unwrap(), "--dry-run"]);
    assert!(err.contains("HelmRepository") && err.contains("not available offline"), "{err}");
}

#[test]
fn build_helmrelease_takes_packaged_charts_and_values_files() {
    let dir = tempfile::tempdir().unwrap();
    helmrelease_fixture(dir.path(), "");
    let status = Command::new("tar")
        .args(["czf", "probe-0.1.0.tgz", "-C", "charts", "probe"])
        .current_dir(dir.path())
        .status()
        .expect("tar is needed to pack the test chart");
    assert!(status.success());
    std::fs::remove_dir_all(dir.path().join("charts")).unwrap();
    std::fs::write(dir.path().join("prod-values.yaml"), "color: black\nauth: {token: x}\nreplicas: 9\n").unwrap();
    let release = dir.path().join("apps/web/release.yaml");
    let text = std::fs::read_to_string(&release).unwrap().replace(
        "      chart: ./charts/probe\n",
        "      chart: ./probe-0.1.0.tgz\n      valuesFiles:\n      - prod-values.yaml\n",
    );
    std::fs::write(&release, text.replace("    size: medium\n", "")).unwrap();
    let cm = dir.path().join("apps/web/values.yaml");
    std::fs::write(&cm, std::fs::read_to_string(&cm).unwrap().replace("    size: large\n", "")).unwrap();
    let out = stdout_ok(&["build", "helmrelease", "web", "--path", dir.path().to_str().unwrap(), "--dry-run"]);
    // valuesFiles replace values.yaml (its size is gone), then valuesFrom, then spec.values.
    assert!(
        out.contains(
            "  name: web\n  namespace: team\ndata:\n  color: \"blue\"\n  size: \n  token: \"s3cr3t\"\n  replicas: \"3\""
        ),
        "{out}"
    );
}
