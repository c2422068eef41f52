//! Values of a release from ConfigMaps and Secrets (`spec.valuesFrom`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The pattern of `valuesFrom[].targetPath`: Helm `--set` path segments and list indexes.
pub const TARGET_PATH_PATTERN: &str = r"^([a-zA-Z0-9_\-.\\\/]|\[[0-9]{1,5}\])+$";
/// The pattern of `valuesFrom[].valuesKey`: a ConfigMap or Secret data key.
pub const VALUES_KEY_PATTERN: &str = r"^[\-._a-zA-Z0-9]+$";
/// The key read when `valuesKey` is unset.
pub const DEFAULT_VALUES_KEY: &str = "values.yaml";

/// A ConfigMap or Secret in the HelmRelease's namespace that holds values, merged in list order
/// before `spec.values`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValuesReference {
    /// Kind of the object.
    pub kind: ValuesKind,
    /// With `targetPath`: set the value as a literal string, without parsing `--set` syntax
    /// (commas, brackets, dots, equal signs). Without `targetPath` it has no effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub literal: Option<bool>,
    /// Name of the object.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Ignore the reference when the object does not exist (other errors still fail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
    /// Where to put the value, in Helm's `--set` path syntax (`a.b[0].c`). The key then holds a
    /// single value instead of a YAML document merged at the root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 250), regex(pattern = r"^([a-zA-Z0-9_\-.\\\/]|\[[0-9]{1,5}\])+$"))]
    pub target_path: Option<String>,
    /// The data key to read; `values.yaml` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 253), regex(pattern = r"^[\-._a-zA-Z0-9]+$"))]
    pub values_key: Option<String>,
}

impl ValuesReference {
    /// The data key to read, [`DEFAULT_VALUES_KEY`] when unset.
    pub fn values_key(&self) -> &str {
        self.values_key.as_deref().filter(|k| !k.is_empty()).unwrap_or(DEFAULT_VALUES_KEY)
    }

    /// Whether the reference may point at a missing object.
    pub fn is_optional(&self) -> bool {
        self.optional.unwrap_or(false)
    }
}

/// The kinds that can hold values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ValuesKind {
    #[default]
    ConfigMap,
    Secret,
}

impl ValuesKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ValuesKind::ConfigMap => "ConfigMap",
            ValuesKind::Secret => "Secret",
        }
    }
}
