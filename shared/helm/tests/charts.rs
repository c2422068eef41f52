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
