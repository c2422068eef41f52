//! `Chart.yaml`: the chart's metadata, with the validation Helm applies when loading.

use serde::Deserialize;

use crate::template::{Map, Value};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub home: String,
    #[serde(default)]
    pub sources: Vec<String>,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub maintainers: Vec<Maintainer>,
    #[serde(default)]
    pub icon: String,
    #[serde(default)]
    pub api_version: String,
    #[serde(default)]
    pub condition: String,
    #[serde(default)]
    pub tags: String,
    #[serde(default)]
    pub app_version: String,
    #[serde(default)]
    pub deprecated: bool,
    #[serde(default)]
    pub annotations: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub kube_version: String,
    #[serde(default)]
    pub dependencies: Vec<Dependency>,
    #[serde(default, rename = "type")]
    pub chart_type: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Maintainer {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub url: String,
}

/// One entry of `dependencies` (Chart.yaml v2, or `requirements.yaml` for v1).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Dependency {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub repository: String,
    #[serde(default)]
    pub condition: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub alias: String,
    /// `import-values`: strings (`exports.NAME` of the child into the parent's root) or
    /// `{child, parent}` maps.
    #[serde(default, rename = "import-values")]
    pub import_values: Vec<Value>,
}

impl Metadata {
    /// Helm's checks on load, with its messages.
    pub fn validate(&self) -> Result<(), String> {
        if self.api_version.is_empty() {
            return Err("validation: chart.metadata.apiVersion is required".into());
        }
        if self.name.is_empty() {
            return Err("validation: chart.metadata.name is required".into());
        }
        if self.name.contains('/') || self.name.contains('\\') || self.name == "." || self.name == ".." {
            return Err(format!("validation: chart.metadata.name {:?} is invalid", self.name));
        }
        if self.version.is_empty() {
            return Err("validation: chart.metadata.version is required".into());
        }
        if semver::Version::parse(self.version.trim_start_matches('v')).is_err() && !loose_semver(&self.version) {
            return Err(format!("validation: chart.metadata.version {:?} is invalid", self.version));
        }
        if !matches!(self.chart_type.as_str(), "" | "application" | "library") {
            return Err("validation: chart.metadata.type must be application or library".into());
        }
        if self.api_version == "v1" && !self.chart_type.is_empty() {
            // Helm ignores `type` on v1 charts rather than failing.
        }
        Ok(())
    }

    pub fn is_library(&self) -> bool {
        self.chart_type == "library"
    }

    /// `.Chart` as templates see it: the fields of Helm's `chart.Metadata` by their Go names.
    pub fn to_value(&self) -> Value {
        let strs = |v: &[String]| Value::list(v.iter().map(|s| Value::String(s.clone())).collect());
        let mut m = Map::new();
        m.insert("Name".into(), self.name.clone().into());
        m.insert("Home".into(), self.home.clone().into());
        m.insert("Sources".into(), strs(&self.sources));
        m.insert("Version".into(), self.version.clone().into());
        m.insert("Description".into(), self.description.clone().into());
        m.insert("Keywords".into(), strs(&self.keywords));
        m.insert(
            "Maintainers".into(),
            Value::list(
                self.maintainers
                    .iter()
                    .map(|x| {
                        let mut e = Map::new();
                        e.insert("Name".into(), x.name.clone().into());
                        e.insert("Email".into(), x.email.clone().into());
                        e.insert("URL".into(), x.url.clone().into());
                        Value::map(e)
                    })
                    .collect(),
            ),
        );
        m.insert("Icon".into(), self.icon.clone().into());
        m.insert("APIVersion".into(), self.api_version.clone().into());
        m.insert("Condition".into(), self.condition.clone().into());
        m.insert("Tags".into(), self.tags.clone().into());
        m.insert("AppVersion".into(), self.app_version.clone().into());
        m.insert("Deprecated".into(), self.deprecated.into());
        m.insert(
            "Annotations".into(),
            Value::map(self.annotations.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect()),
        );
        m.insert("KubeVersion".into(), self.kube_version.clone().into());
        m.insert(
            "Dependencies".into(),
            Value::list(
                self.dependencies
                    .iter()
                    .map(|d| {
                        let mut e = Map::new();
                        e.insert("Name".into(), d.name.clone().into());
                        e.insert("Version".into(), d.version.clone().into());
                        e.insert("Repository".into(), d.repository.clone().into());
                        e.insert("Condition".into(), d.condition.clone().into());
                        e.insert("Tags".into(), strs(&d.tags));
                        e.insert("Alias".into(), d.alias.clone().into());
                        Value::map(e)
                    })
                    .collect(),
            ),
        );
        m.insert("Type".into(), self.chart_type.clone().into());
        Value::map(m)
    }
}

/// Masterminds/semver's loose form: `1`, `1.2` (missing parts are zero).
fn loose_semver(v: &str) -> bool {
    let v = v.trim_start_matches('v');
    let core = v.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    !core.is_empty() && parts.len() <= 3 && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}
