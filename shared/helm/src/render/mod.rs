//! Rendering a chart as `helm template` does: values coalesced ([`values`]), templates
//! executed with Helm's objects ([`engine`], [`objects`]), output split, sorted and
//! written with `# Source:` headers ([`manifests`]).
//!
//! ```
//! use weir_helm::{chart::{File, load_files}, render::{Options, render}, template::Value};
//! let f = |n: &str, d: &str| File { name: n.into(), data: d.as_bytes().to_vec() };
//! let chart = load_files(vec![
//!     f("Chart.yaml", "apiVersion: v2\nname: demo\nversion: 0.1.0"),
//!     f("values.yaml", "replicas: 1"),
//!     f("templates/cm.yaml", "kind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  n: {{ .Values.replicas | quote }}"),
//! ]).unwrap();
//! let out = render(&chart, &Value::Nil, &Options::new("rel", "default")).unwrap();
//! assert_eq!(out.to_string(), "---\n# Source: demo/templates/cm.yaml\nkind: ConfigMap\nmetadata:\n  name: rel\ndata:\n  n: \"1\"\n");
//! ```
//!
//! # Not supported (yet)
//! - The `.Subcharts` object, `--render-subchart-notes`,
//!   `--skip-tests`/`--no-hooks` (hooks are always returned apart; callers filter), strict
//!   mode (`missingkey=error`). (`--set` and friends: [`crate::strvals`].)
//! - `.Capabilities.APIVersions` holds a fixed default list (common group/versions and a
//!   few group/version/kinds) plus `Options::api_versions`; Helm's default is every type
//!   client-go knows. `.Capabilities.HelmVersion` reports v3.16.0 with empty commit
//!   fields. The default Kubernetes version is v1.31.0.
//! - `.Chart` is a map with Helm's Go field names, so `{{ .Chart }}` prints as a map, not
//!   as Go prints the `*chart.Metadata` struct; `.Files` objects print their entries.
//! - Values files are read with serde-saphyr and `strict_booleans` (only `true`/`false`
//!   are booleans); Helm's sigs.k8s.io/yaml (go-yaml v2) also reads `yes`/`no`/`on`/`off`
//!   as booleans. YAML syntax error messages are serde-saphyr's, not go-yaml's.
//! - A `required`/`fail` message surfaced through `tpl` keeps the location of the
//!   outermost template, as Helm's does, but nested non-`required` errors are reported
//!   with Go's full chain (Helm prints the same chain).

pub mod engine;
pub mod manifests;
pub mod objects;
pub mod schema;
pub mod values;

use std::fmt;
use std::sync::Arc;

pub use manifests::Manifest;
pub use objects::KubeVersion;

use crate::chart::Chart;
use crate::helm_funcs::{Lookup, Offline};
use crate::template::{Map, Value};

/// What `helm template`'s flags set.
#[derive(Clone)]
pub struct Options {
    pub release_name: String,
    pub namespace: String,
    pub kube_version: KubeVersion,
    /// Added to the default API versions (`--api-versions`).
    pub api_versions: Vec<String>,
    /// `--include-crds`: put the `crds/` files first in the output.
    pub include_crds: bool,
    /// `--is-upgrade`.
    pub is_upgrade: bool,
    pub lookup: Arc<dyn Lookup>,
}

impl Options {
    pub fn new(release_name: impl Into<String>, namespace: impl Into<String>) -> Options {
        Options {
            release_name: release_name.into(),
            namespace: namespace.into(),
            kube_version: KubeVersion::default(),
            api_versions: Vec::new(),
            include_crds: false,
            is_upgrade: false,
            lookup: Arc::new(Offline),
        }
    }
}

/// Why rendering failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RenderError {
    /// A template does not parse: `parse error at (chart/templates/x.yaml:3): …`.
    #[error("{0}")]
    Parse(String),
    /// A template fails: `execution error at (chart/templates/x.yaml:3:4): …` or Go's message.
    #[error("{0}")]
    Exec(String),
    /// The values fail a `values.schema.json`: Helm's message, chart by chart.
    #[error("{0}")]
    Schema(String),
    /// Dependencies do not match `charts/`, or output is not YAML.
    #[error("{0}")]
    Chart(String),
}

/// A CRD file from `crds/`.
#[derive(Debug, Clone, PartialEq)]
pub struct Crd {
    /// `chart/crds/file.yaml`.
    pub source: String,
    pub content: String,
}

/// The result of rendering.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// From `crds/` (in the output only with `include_crds`).
    pub crds: Vec<Crd>,
    pub include_crds: bool,
    pub manifests: Vec<Manifest>,
    pub hooks: Vec<Manifest>,
    /// The top chart's rendered `NOTES.txt`.
    pub notes: Option<String>,
    /// The coalesced values the templates saw.
    pub values: Value,
}

/// The output of `helm template`: CRDs (when asked), manifests, then hooks.
impl fmt::Display for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.include_crds {
            for c in &self.crds {
                write!(f, "---\n# Source: {}\n{}\n", c.source, c.content)?;
            }
        }
        for m in self.manifests.iter().chain(&self.hooks) {
            write!(f, "---\n# Source: {}\n{}\n", m.source, m.content)?;
        }
        Ok(())
    }
}

/// Renders `chart` with the user's values as `helm template` does.
pub fn render(chart: &Chart, user_values: &Value, opts: &Options) -> Result<Rendered, RenderError> {
    if chart.metadata.is_library() {
        return Err(RenderError::Chart("library charts are not installable".into()));
    }
    let chart = values::process_dependencies(chart, user_values).map_err(RenderError::Chart)?;
    let vals = values::coalesce(&chart, user_values);
    schema::validate(&chart, &vals).map_err(RenderError::Schema)?;
    let mut release = Map::new();
    release.insert("Name".into(), opts.release_name.clone().into());
    release.insert("Namespace".into(), opts.namespace.clone().into());
    release.insert("IsUpgrade".into(), opts.is_upgrade.into());
    release.insert("IsInstall".into(), (!opts.is_upgrade).into());
    release.insert("Revision".into(), Value::Int(1));
    release.insert("Service".into(), "Helm".into());
    let rendered = engine::render_templates(engine::EngineInput {
        chart: &chart,
        values: vals.clone(),
        release,
        capabilities: engine::capabilities(opts.kube_version.clone(), &opts.api_versions),
        lookup: opts.lookup.clone(),
    })?;
    let notes_name = format!("{}/templates/NOTES.txt", chart.name());
    let mut notes = None;
    let mut files = Vec::new();
    for (name, text) in rendered {
        if name.ends_with("/NOTES.txt") {
            if name == notes_name {
                notes = Some(text);
            }
            continue;
        }
        files.push((name, text));
    }
    let (manifests, hooks) = manifests::sort_manifests(&files).map_err(RenderError::Chart)?;
    let mut crds = Vec::new();
    collect_crds(&chart, "", &mut crds);
    Ok(Rendered { crds, include_crds: opts.include_crds, manifests, hooks, notes, values: Value::map(vals) })
}

fn collect_crds(chart: &Chart, parent: &str, out: &mut Vec<Crd>) {
    let id = if parent.is_empty() { chart.name().to_string() } else { format!("{parent}/charts/{}", chart.name()) };
    for f in chart.crds().filter(|f| [".yaml", ".yml", ".json"].iter().any(|e| f.name.ends_with(e))) {
        out.push(Crd { source: format!("{id}/{}", f.name), content: String::from_utf8_lossy(&f.data).into_owned() });
    }
    for sub in &chart.dependencies {
        collect_crds(sub, &id, out);
    }
}
