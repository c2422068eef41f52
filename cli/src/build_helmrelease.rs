//! `weir build helmrelease NAME --path DIR --dry-run`: the manifests a HelmRelease defined in
//! a local directory would install, rendered offline as `weir template` renders charts.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use base64::Engine as _;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};
use weir_helm::helm_funcs::parse_yaml;
use weir_helm::render::Options;
use weir_helm::strvals;
use weir_helm::template::{Map, Value};

use crate::template::output::OutputOptions;
use crate::template::values::merge_maps;
use crate::template::{load_chart, render_and_print};

/// helm-controller's limit before it shortens release names.
const MAX_RELEASE_NAME_LEN: usize = 53;

#[derive(clap::Args, Debug)]
pub struct HelmReleaseArgs {
    /// The HelmRelease's name.
    pub name: String,
    /// The directory holding the HelmRelease, its chart and its ConfigMaps/Secrets (searched recursively).
    #[arg(long)]
    pub path: PathBuf,
    /// Render offline (required: reading HelmReleases from the cluster is not supported yet).
    #[arg(long)]
    pub dry_run: bool,
}

/// Runs the build; `namespace` is the `-n` given on the command line, if any.
pub fn run(args: HelmReleaseArgs, namespace: &str) -> anyhow::Result<()> {
    if !args.dry_run {
        bail!("weir build helmrelease needs --dry-run: rendering from the cluster's sources is not supported yet");
    }
    let objects = read_objects(&args.path)?;
    let release = find_release(&objects, &args.name, namespace)?;
    let namespace = str_at(release, &["metadata", "namespace"]).unwrap_or(namespace).to_string();
    let spec = release.get("spec").cloned().unwrap_or(Json::Null);
    let chart_path = chart_path(&spec, &args.path, &args.name)?;
    let mut chart = load_chart(&chart_path).with_context(|| format!("loading the chart {}", chart_path.display()))?;
    if let Some(defaults) = chart_values_files(&spec, &args.path)? {
        chart.values = Value::map(defaults);
    }
    let values = release_values(&spec, &objects, &namespace)?;
    let target_namespace = str_at(&spec, &["targetNamespace"]).filter(|s| !s.is_empty());
    let opts = Options::new(release_name(&spec, &args.name), target_namespace.unwrap_or(&namespace));
    let crds_policy = str_at(&spec, &["install", "crds"]).unwrap_or("Create");
    let output = OutputOptions {
        include_crds: crds_policy != "Skip",
        no_hooks: spec.pointer("/install/disableHooks").and_then(Json::as_bool).unwrap_or(false),
        // The controller runs tests apart, and only when spec.test.enable is set.
        skip_tests: true,
        show_only: Vec::new(),
        output_dir: None,
    };
    if spec.pointer("/postRenderers").and_then(Json::as_array).is_some_and(|a| !a.is_empty()) {
        eprintln!("warning: spec.postRenderers are not applied by weir build helmrelease");
    }
    render_and_print(&chart, values, &opts, &output)
}

/// Every YAML document of the files under `dir`, in path order.
fn read_objects(dir: &Path) -> anyhow::Result<Vec<Json>> {
    let mut files = Vec::new();
    collect_yaml_files(dir, &mut files)?;
    files.sort();
    let mut objects = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
        // Chart templates are not YAML; only documents that parse and look like objects count.
        let Ok(docs) = serde_saphyr::from_multiple::<Json>(&text) else { continue };
        objects.extend(docs.into_iter().filter(|d| d.get("kind").is_some()));
    }
    Ok(objects)
}

fn collect_yaml_files(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading the directory {}", dir.display()))? {
        let path = entry.with_context(|| format!("reading the directory {}", dir.display()))?.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != ".git") {
                collect_yaml_files(&path, out)?;
            }
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
    Ok(())
}

fn str_at<'a>(v: &'a Json, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |cur, key| cur.get(*key))?.as_str()
}

fn find_release<'a>(objects: &'a [Json], name: &str, namespace: &str) -> anyhow::Result<&'a Json> {
    let candidates: Vec<&Json> = objects
        .iter()
        .filter(|o| str_at(o, &["kind"]) == Some("HelmRelease") && str_at(o, &["metadata", "name"]) == Some(name))
        .collect();
    match candidates.as_slice() {
        [] => bail!("HelmRelease '{name}' not found in the YAML files of the path"),
        [one] => Ok(one),
        several => several
            .iter()
            .find(|o| str_at(o, &["metadata", "namespace"]) == Some(namespace))
            .copied()
            .ok_or_else(|| anyhow!("several HelmReleases are named '{name}': choose one with --namespace")),
    }
}

/// The chart's local path: `spec.chart.spec.chart` relative to the path or to the repository root.
fn chart_path(spec: &Json, dir: &Path, name: &str) -> anyhow::Result<PathBuf> {
    if let Some(reference) = spec.get("chartRef") {
        let kind = str_at(reference, &["kind"]).unwrap_or("?");
        bail!(
            "HelmRelease '{name}' takes its chart from {kind} '{}' (spec.chartRef): charts from sources are \
             not available offline; use spec.chart.spec.chart with a local path",
            str_at(reference, &["name"]).unwrap_or("?")
        );
    }
    let chart = str_at(spec, &["chart", "spec", "chart"])
        .ok_or_else(|| anyhow!("HelmRelease '{name}' has no spec.chart.spec.chart"))?;
    let source_kind = str_at(spec, &["chart", "spec", "sourceRef", "kind"]).unwrap_or("");
    if source_kind == "HelmRepository" {
        bail!(
            "HelmRelease '{name}' takes chart '{chart}' from a HelmRepository: repository charts are not \
             available offline; point it at a GitRepository or Bucket path"
        );
    }
    let relative = chart.trim_start_matches("./");
    let mut candidates = vec![dir.join(relative)];
    if let Some(root) = repository_root(dir) {
        candidates.push(root.join(relative));
    }
    candidates.into_iter().find(|p| p.exists()).ok_or_else(|| {
        anyhow!("HelmRelease '{name}': chart '{chart}' not found under {} or the repository root", dir.display())
    })
}

/// `spec.chart.spec.valuesFiles` (and the older `valuesFile`) merged in order: they replace the
/// chart's `values.yaml` as source-controller does. Paths are relative to the source's root.
fn chart_values_files(spec: &Json, dir: &Path) -> anyhow::Result<Option<Map>> {
    let chart_spec = spec.pointer("/chart/spec").cloned().unwrap_or(Json::Null);
    let mut files: Vec<&str> =
        chart_spec.get("valuesFiles").and_then(Json::as_array).into_iter().flatten().filter_map(Json::as_str).collect();
    if let Some(single) = str_at(&chart_spec, &["valuesFile"]).filter(|f| !f.is_empty()) {
        files.insert(0, single);
    }
    if files.is_empty() {
        return Ok(None);
    }
    let ignore_missing = chart_spec.get("ignoreMissingValuesFiles").and_then(Json::as_bool).unwrap_or(false);
    let mut merged = Map::new();
    for file in files {
        let relative = file.trim_start_matches("./");
        let mut candidates = vec![dir.join(relative)];
        candidates.extend(repository_root(dir).map(|root| root.join(relative)));
        let Some(path) = candidates.into_iter().find(|p| p.is_file()) else {
            if ignore_missing {
                continue;
            }
            bail!(
                "values file '{file}' (spec.chart.spec.valuesFiles) not found under {} or the repository root",
                dir.display()
            );
        };
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        match parse_yaml(&text).map_err(|e| anyhow!("failed to parse {}: {e}", path.display()))? {
            Value::Map(m) => merge_maps(&mut merged, m.snapshot()),
            Value::Nil => {}
            other => bail!("values file {} holds a {}, not a map", path.display(), other.type_name()),
        }
    }
    Ok(Some(merged))
}

/// The closest directory at or above `dir` holding `.git`.
fn repository_root(dir: &Path) -> Option<PathBuf> {
    let start = std::fs::canonicalize(dir).ok()?;
    start.ancestors().find(|a| a.join(".git").exists()).map(Path::to_path_buf)
}

/// helm-controller's release name: spec.releaseName, else [targetNamespace-]name, shortened
/// with a hash past 53 characters.
fn release_name(spec: &Json, name: &str) -> String {
    let full = match (str_at(spec, &["releaseName"]), str_at(spec, &["targetNamespace"])) {
        (Some(r), _) if !r.is_empty() => r.to_string(),
        (_, Some(t)) if !t.is_empty() => format!("{t}-{name}"),
        _ => name.to_string(),
    };
    if full.len() <= MAX_RELEASE_NAME_LEN {
        return full;
    }
    let hash = Sha256::digest(full.as_bytes());
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}", full.get(..40).unwrap_or(&full), hex.get(..12).unwrap_or(&hex)).to_lowercase()
}

/// The values as helm-controller composes them: `valuesFrom` in order, then `spec.values`.
fn release_values(spec: &Json, objects: &[Json], namespace: &str) -> anyhow::Result<Map> {
    let mut result = Map::new();
    for reference in spec.get("valuesFrom").and_then(Json::as_array).into_iter().flatten() {
        let kind = str_at(reference, &["kind"]).unwrap_or("");
        let name = str_at(reference, &["name"]).unwrap_or("");
        let key = str_at(reference, &["valuesKey"]).filter(|k| !k.is_empty()).unwrap_or("values.yaml");
        let optional = reference.get("optional").and_then(Json::as_bool).unwrap_or(false);
        let Some(data) = values_source(objects, kind, name, namespace, key)? else {
            if optional {
                continue;
            }
            bail!(
                "could not find {kind} '{namespace}/{name}' with key '{key}' in the YAML files of the path \
                 (set optional: true to ignore it)"
            );
        };
        match str_at(reference, &["targetPath"]).filter(|p| !p.is_empty()) {
            Some(path) => replace_path_value(&mut result, path, &data).with_context(|| {
                format!(
                    "unable to merge value from key '{key}' in {kind} '{namespace}/{name}' into target path '{path}'"
                )
            })?,
            None => match parse_yaml(&data) {
                Ok(Value::Map(m)) => merge_maps(&mut result, m.snapshot()),
                Ok(Value::Nil) => {}
                Ok(_) | Err(_) => {
                    bail!("unable to read values from key '{key}' in {kind} '{namespace}/{name}': not a YAML map")
                }
            },
        }
    }
    if let Some(Value::Map(m)) = spec.get("values").map(Value::from_json) {
        merge_maps(&mut result, m.snapshot());
    }
    Ok(result)
}

/// The `key` of the ConfigMap or Secret `name`, if the path defines it.
fn values_source(
    objects: &[Json],
    kind: &str,
    name: &str,
    namespace: &str,
    key: &str,
) -> anyhow::Result<Option<String>> {
    if kind != "ConfigMap" && kind != "Secret" {
        bail!("unsupported valuesFrom kind '{kind}': ConfigMap or Secret");
    }
    let object = objects.iter().find(|o| {
        str_at(o, &["kind"]) == Some(kind)
            && str_at(o, &["metadata", "name"]) == Some(name)
            && str_at(o, &["metadata", "namespace"]).is_none_or(|ns| ns == namespace)
    });
    let Some(object) = object else { return Ok(None) };
    if kind == "Secret" {
        if let Some(s) = str_at(object, &["stringData", key]) {
            return Ok(Some(s.to_string()));
        }
        let Some(encoded) = str_at(object, &["data", key]) else { return Ok(None) };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .with_context(|| format!("Secret '{namespace}/{name}' key '{key}' is not base64"))?;
        return Ok(Some(String::from_utf8_lossy(&bytes).into_owned()));
    }
    Ok(str_at(object, &["data", key]).map(str::to_string))
}

/// helm-controller's `ReplacePathValue`: `path=value` through Helm's `--set` parser, or
/// `--set-string`'s when the value is quoted.
fn replace_path_value(values: &mut Map, path: &str, value: &str) -> anyhow::Result<()> {
    let quoted = |q: char| value.len() >= 2 && value.starts_with(q) && value.ends_with(q);
    if quoted('\'') || quoted('"') {
        let inner = value.trim_matches(['\'', '"']);
        strvals::parse_set_string_into(&format!("{path}={inner}"), values).map_err(|e| anyhow!("{e}"))
    } else {
        strvals::parse_set_into(&format!("{path}={value}"), values).map_err(|e| anyhow!("{e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_names_follow_the_controller() {
        let spec = serde_json::json!({"targetNamespace": "apps"});
        assert_eq!(release_name(&spec, "web"), "apps-web");
        let spec = serde_json::json!({"targetNamespace": "apps", "releaseName": "w"});
        assert_eq!(release_name(&spec, "web"), "w");
        let long = "a".repeat(60);
        let short = release_name(&serde_json::json!({}), &long);
        assert_eq!(short.len(), 53);
        assert!(short.starts_with(&"a".repeat(40)));
    }

    #[test]
    fn quoted_target_path_values_stay_strings() {
        let mut m = Map::new();
        replace_path_value(&mut m, "a.b", "\"123\"").unwrap();
        replace_path_value(&mut m, "a.c", "123").unwrap();
        let Some(Value::Map(a)) = m.get("a") else { panic!("a is not a map: {m:?}") };
        assert_eq!(a.read().get("b"), Some(&Value::from("123")));
        assert_eq!(a.read().get("c"), Some(&Value::Int(123)));
    }
}
