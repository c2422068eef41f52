//! Charts written for Weir in the style of popular public charts, rendered as
//! `helm template` would, against golden outputs derived by hand from Helm's documented
//! behaviour (no `helm` binary was available to compare with).
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use weir_helm::chart::load_dir;
use weir_helm::helm_funcs::parse_yaml;
use weir_helm::render::{Options, render};
use weir_helm::template::Value;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/charts")
}

fn render_case(name: &str, release: &str, namespace: &str, include_crds: bool) -> String {
    let chart = load_dir(&dir().join(name)).unwrap();
    let values = match std::fs::read_to_string(dir().join(format!("{name}.values.yaml"))) {
        Ok(text) => parse_yaml(&text).unwrap(),
        Err(_) => Value::Nil,
    };
    let mut opts = Options::new(release, namespace);
    opts.include_crds = include_crds;
    render(&chart, &values, &opts).unwrap().to_string()
}

fn check(name: &str, release: &str, namespace: &str, include_crds: bool) {
    let got = render_case(name, release, namespace, include_crds);
    let golden = dir().join(format!("{name}.golden.yaml"));
    if std::env::var_os("WEIR_UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, &got).unwrap();
    }
    let want = std::fs::read_to_string(&golden).unwrap();
    assert_eq!(got, want, "{name}: rendered output differs from {}", golden.display());
}

#[test]
fn webapp_helpers_labels_tpl_and_to_yaml() {
    check("webapp", "demo", "apps", false);
}

#[test]
fn webapp_notes_are_rendered_apart() {
    let chart = load_dir(&dir().join("webapp")).unwrap();
    let out = render(&chart, &Value::Nil, &Options::new("demo", "apps")).unwrap();
    assert_eq!(out.notes.as_deref(), Some("Visit http://demo-webapp.apps\n"));
}

#[test]
fn shop_subcharts_alias_globals_conditions_and_tags() {
    check("shop", "shop", "default", false);
}

#[test]
fn operator_crds_hooks_and_files() {
    check("operator", "op", "default", true);
    let chart = load_dir(&dir().join("operator")).unwrap();
    let out = render(&chart, &Value::Nil, &Options::new("op", "default")).unwrap();
    assert_eq!(out.hooks.len(), 1);
    assert_eq!(out.hooks[0].hook_events, vec!["pre-install", "pre-upgrade"]);
    assert_eq!(out.hooks[0].hook_weight, -5);
    assert!(!out.to_string().contains("CustomResourceDefinition"), "CRDs only with include_crds");
}

#[test]
fn libuser_library_subchart() {
    check("libuser", "lib", "default", false);
}

#[test]
fn ordering_by_kind_then_file() {
    check("ordering", "ord", "ops", false);
}

#[test]
fn platform_import_values_both_forms() {
    check("platform", "pf", "default", false);
}

#[test]
fn validated_values_pass_their_schema() {
    check("validated", "api", "prod", false);
}

#[test]
fn cronjobs_range_over_dicts_tpl_and_files() {
    check("cronjobs", "batch", "jobs", false);
}

#[test]
fn gateway_capabilities_lookup_hooks_tests_and_crds() {
    check("gateway", "edge", "ingress", true);
    let chart = load_dir(&dir().join("gateway")).unwrap();
    let out = render(&chart, &Value::Nil, &Options::new("edge", "ingress")).unwrap();
    let hooks: Vec<(&str, i64)> = out.hooks.iter().map(|h| (h.source.as_str(), h.hook_weight)).collect();
    assert_eq!(hooks.len(), 3, "{hooks:?}");
    assert_eq!(out.notes.as_deref(), Some("The gateway is reachable at http://gw.example.com/.\n"));
}

#[test]
fn stack_library_merge_globals_and_nested_subcharts() {
    check("stack", "st", "default", false);
}

#[test]
fn stack_condition_list_uses_the_first_path_that_is_set() {
    // `worker.enabled,global.workers`: the first path holding a bool decides.
    let chart = load_dir(&dir().join("stack")).unwrap();
    let user = parse_yaml("worker: {enabled: false}\nglobal: {workers: true}\n").unwrap();
    let out = render(&chart, &user, &Options::new("st", "default")).unwrap().to_string();
    assert!(!out.contains("st-worker"), "{out}");
    assert!(!out.contains("st-sidecar"), "{out}");
}

#[test]
fn schema_violations_are_listed_per_chart_as_helm_does() {
    let chart = load_dir(&dir().join("validated")).unwrap();
    let user =
        parse_yaml("replicaCount: 11\nimage: {pullPolicy: Sometimes}\nservice: {port: \"80\", extra: 1}\n").unwrap();
    let e = render(&chart, &user, &Options::new("api", "prod")).unwrap_err();
    let text = e.to_string();
    assert!(
        text.starts_with(
            "values don't meet the specifications of the schema(s) in the following chart(s):\nvalidated:\n"
        ),
        "{text}"
    );
    for want in [
        "- replicaCount: Must be less than or equal to 10\n",
        "- image.pullPolicy: image.pullPolicy must be one of the following: \"Always\", \"IfNotPresent\", \"Never\"\n",
        "- service.port: Invalid type. Expected: integer, given: string\n",
        "- service: Additional property extra is not allowed\n",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
}

#[test]
fn subchart_schema_checks_the_subcharts_section() {
    let chart = load_dir(&dir().join("platform")).unwrap();
    let user = parse_yaml("database: {replicas: 0, service: {port: many}}\n").unwrap();
    let e = render(&chart, &user, &Options::new("pf", "default")).unwrap_err().to_string();
    assert_eq!(
        e,
        "values don't meet the specifications of the schema(s) in the following chart(s):\ndatabase:\n\
         - replicas: Must be greater than or equal to 1\n- service.port: Invalid type. Expected: integer, given: string\n"
    );
}

#[test]
fn fail_error_names_the_template() {
    let chart = chart_of(&[("templates/cm.yaml", "a: 1\n{{ fail \"unsupported mode\" }}\n")]);
    let e = render(&chart, &Value::Nil, &Options::new("r", "default")).unwrap_err();
    // Helm rewrites only `required`'s (warn-wrapped) errors; sprig's `fail` keeps Go's chain.
    assert_eq!(
        e.to_string(),
        r#"template: adhoc/templates/cm.yaml:2:3: executing "adhoc/templates/cm.yaml" at <fail "unsupported mode">: error calling fail: unsupported mode"#
    );
}

#[test]
fn missing_template_error_names_template_line_and_column() {
    let chart = chart_of(&[("templates/cm.yaml", "a: 1\nb: {{ include \"nope\" . }}\n")]);
    let e = render(&chart, &Value::Nil, &Options::new("r", "default")).unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"template: adhoc/templates/cm.yaml:2:6: executing "adhoc/templates/cm.yaml" at <include "nope" .>: error calling include: template: no template "nope" associated with template "gotpl""#
    );
}

#[test]
fn bad_chart_yaml_is_an_error_not_a_panic() {
    use weir_helm::chart::{File, load_files};
    let f = |n: &str, d: &str| File { name: n.into(), data: d.as_bytes().to_vec() };
    for bad in ["", "name: [", "apiVersion: v2\nversion: 1.0.0", "apiVersion: v2\nname: x", "- a\n- b"] {
        assert!(load_files(vec![f("Chart.yaml", bad)]).is_err(), "{bad:?} loaded");
    }
    assert!(weir_helm::chart::load_archive(b"not a tarball").is_err());
}

fn chart_of(files: &[(&str, &str)]) -> weir_helm::chart::Chart {
    use weir_helm::chart::{File, load_files};
    let mut all =
        vec![File { name: "Chart.yaml".into(), data: b"apiVersion: v2\nname: adhoc\nversion: 0.1.0".to_vec() }];
    all.extend(files.iter().map(|(n, d)| File { name: (*n).into(), data: d.as_bytes().to_vec() }));
    load_files(all).unwrap()
}

#[test]
fn required_value_error_is_helms() {
    let chart = load_dir(&dir().join("errors/required")).unwrap();
    let e = render(&chart, &Value::Nil, &Options::new("r", "default")).unwrap_err();
    assert_eq!(e.to_string(), "execution error at (errs/templates/pod.yaml:2:10): image.tag is required!");
}

#[test]
fn parse_error_names_template_and_line() {
    let chart = load_dir(&dir().join("errors/parse")).unwrap();
    let e = render(&chart, &Value::Nil, &Options::new("r", "default")).unwrap_err();
    assert_eq!(e.to_string(), "parse error at (errs/templates/bad.yaml:4): unexpected EOF");
}

#[test]
fn not_a_chart() {
    let e = load_dir(&dir().join("errors/notachart")).unwrap_err();
    assert_eq!(e.to_string(), "Chart.yaml file is missing");
}

#[test]
fn field_of_a_missing_value_is_a_nil_pointer_error() {
    use weir_helm::chart::{File, load_files};
    let f = |n: &str, d: &str| File { name: n.into(), data: d.as_bytes().to_vec() };
    let chart = load_files(vec![
        f("Chart.yaml", "apiVersion: v2\nname: np\nversion: 0.1.0"),
        f("templates/a.yaml", "a: {{ .Values.missing }}\nb: {{ .Values.missing.field }}\n"),
    ])
    .unwrap();
    let e = render(&chart, &Value::Nil, &Options::new("r", "default")).unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"template: np/templates/a.yaml:2:13: executing "np/templates/a.yaml" at <.Values.missing.field>: nil pointer evaluating interface {}.field"#
    );
}

#[test]
fn packaged_chart_renders_like_its_directory() {
    let mut tgz = Vec::new();
    {
        let enc = flate2::write::GzEncoder::new(&mut tgz, flate2::Compression::default());
        let mut tar = tar::Builder::new(enc);
        tar.append_dir_all("webapp", dir().join("webapp")).unwrap();
        tar.into_inner().unwrap().finish().unwrap();
    }
    let chart = weir_helm::chart::load_archive(&tgz).unwrap();
    let out = render(&chart, &Value::Nil, &Options::new("demo", "apps")).unwrap();
    assert_eq!(out.to_string(), std::fs::read_to_string(dir().join("webapp.golden.yaml")).unwrap());
}
