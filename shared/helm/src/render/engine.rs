//! Executing a chart's templates as Helm's engine does: every template of the chart and
//! its subcharts parsed into one set (deepest paths first, so a parent's `define` wins),
//! each non-partial template executed with its chart's objects, `<no value>` removed.

use std::sync::Arc;

use super::RenderError;
use super::objects::{ApiVersions, Capabilities, Files};
use crate::chart::Chart;
use crate::helm_funcs::{WARN_END, WARN_START, helm_funcs_with_lookup};
use crate::template::{Map, MissingKey, Template, Value};

/// A template to parse, with the objects it renders with.
struct Entry {
    name: String,
    /// The chart's templates directory (`.Template.BasePath`).
    base_path: String,
    source: String,
    /// The top-level objects for this template (`None` for library chart templates, which
    /// are parsed but not rendered).
    vals: Option<Map>,
}

/// What the engine needs besides the chart.
pub struct EngineInput<'a> {
    pub chart: &'a Chart,
    pub values: Map,
    pub release: Map,
    pub capabilities: Capabilities,
    pub lookup: Arc<dyn crate::helm_funcs::Lookup>,
}

/// Renders every template: (template name, output) pairs, sorted by name.
pub fn render_templates(input: EngineInput<'_>) -> Result<Vec<(String, String)>, RenderError> {
    let mut entries = Vec::new();
    let caps = Value::Object(Arc::new(input.capabilities.clone()));
    collect(input.chart, "", &Value::map(input.values), &Value::map(input.release), &caps, &mut entries);
    entries.sort_by(|a, b| {
        let depth = |s: &str| s.split('/').count();
        depth(&b.name).cmp(&depth(&a.name)).then_with(|| b.name.cmp(&a.name))
    });
    // Helm runs with `missingkey=zero`: a missing key prints `<no value>` (removed below),
    // but a field of it is Go's "nil pointer evaluating interface {}.x" error.
    let mut set = Template::new("gotpl").funcs(helm_funcs_with_lookup(input.lookup)).with_missing_key(MissingKey::Zero);
    for e in &entries {
        set.parse_named(&e.name, &e.source).map_err(|err| parse_error(&e.name, &err.to_string()))?;
    }
    let mut out = Vec::new();
    let mut ordered: Vec<&Entry> = entries.iter().collect();
    ordered.sort_by(|a, b| a.name.cmp(&b.name));
    for e in ordered {
        let Some(vals) = &e.vals else { continue };
        let base = e.name.rsplit('/').next().unwrap_or(&e.name);
        if base.starts_with('_') {
            continue;
        }
        let mut vals = vals.clone();
        let mut t = Map::new();
        t.insert("Name".into(), e.name.clone().into());
        t.insert("BasePath".into(), e.base_path.clone().into());
        vals.insert("Template".into(), Value::map(t));
        let text = set.execute_template(&e.name, &Value::map(vals)).map_err(|err| exec_error(&err.to_string()))?;
        out.push((e.name.clone(), text.replace("<no value>", "")));
    }
    Ok(out)
}

fn collect(chart: &Chart, parent: &str, values: &Value, release: &Value, caps: &Value, out: &mut Vec<Entry>) {
    let id = if parent.is_empty() { chart.name().to_string() } else { format!("{parent}/charts/{}", chart.name()) };
    let mut objects = Map::new();
    objects.insert("Values".into(), values.clone());
    objects.insert("Release".into(), release.clone());
    objects.insert("Chart".into(), chart.metadata.to_value());
    objects.insert("Capabilities".into(), caps.clone());
    objects.insert("Files".into(), Value::Object(Arc::new(Files::new(&chart.files))));
    for sub in &chart.dependencies {
        let sub_values = match values {
            Value::Map(m) => m.read().get(sub.name()).cloned().unwrap_or_else(|| Value::map(Map::new())),
            _ => Value::map(Map::new()),
        };
        collect(sub, &id, &sub_values, release, caps, out);
    }
    for tpl in &chart.templates {
        let base = tpl.name.rsplit('/').next().unwrap_or(&tpl.name);
        // A library chart contributes its partials only; a subchart's NOTES.txt is rendered
        // (its errors count) and dropped later, as Helm does without --render-subchart-notes.
        if chart.metadata.is_library() && !base.starts_with('_') {
            continue;
        }
        let renderable = !chart.metadata.is_library();
        out.push(Entry {
            name: format!("{id}/{}", tpl.name),
            base_path: format!("{id}/templates"),
            source: String::from_utf8_lossy(&tpl.data).into_owned(),
            vals: renderable.then(|| objects.clone()),
        });
    }
}

/// Helm's `cleanupParseError`: `parse error at (file:line): message`.
fn parse_error(name: &str, msg: &str) -> RenderError {
    let tokens: Vec<&str> = msg.split(": ").collect();
    if tokens.len() < 2 {
        return RenderError::Parse(format!("parse error in ({name}): {msg}"));
    }
    RenderError::Parse(format!("parse error at ({}): {}", tokens[1], tokens[tokens.len() - 1]))
}

/// Helm's `reformatExecErrorMsg`: a `required` (or any message Helm wraps) becomes
/// `execution error at (file:line:col): message`; other errors stay as Go wrote them.
fn exec_error(msg: &str) -> RenderError {
    let tokens: Vec<&str> = msg.splitn(3, ": ").collect();
    if tokens.len() == 3
        && let Some(start) = msg.find(WARN_START)
        && let Some(end) = msg[start..].find(WARN_END)
    {
        let inner = &msg[start + WARN_START.len()..start + end];
        return RenderError::Exec(format!("execution error at ({}): {inner}", tokens[1]));
    }
    RenderError::Exec(msg.to_string())
}

/// The `.Capabilities` object.
pub fn capabilities(kube: super::KubeVersion, extra_api_versions: &[String]) -> Capabilities {
    let mut versions: Vec<String> = super::objects::DEFAULT_API_VERSIONS.iter().map(|s| s.to_string()).collect();
    versions.extend(extra_api_versions.iter().cloned());
    Capabilities { kube_version: kube, api_versions: ApiVersions(Arc::new(versions)) }
}
