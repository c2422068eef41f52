//! `configurations`: transformer configuration files that teach the built-in transformers about
//! custom kinds (where their name references, selectors, annotations and images are). Supported
//! sections: `nameReference`, `commonLabels`, `commonAnnotations`, `images`; others are refused
//! by name. Configurations collected anywhere in the build apply to every later transformer and
//! to the final name-reference pass (kustomize scopes them a little more narrowly per subtree;
//! the difference only shows when sibling bases carry conflicting configurations).

use std::path::Path;

use serde::Deserialize;

use crate::error::BuildError;
use crate::fieldspec::FieldSpec;
use crate::kustomization::FieldSpecArg;
use crate::nameref_table::{RefField, RefSpec};

#[derive(Debug, Default, Clone)]
pub struct TransformerConfig {
    pub name_refs: Vec<RefSpec>,
    pub common_labels: Vec<FieldSpecArg>,
    pub common_annotations: Vec<FieldSpecArg>,
    pub images: Vec<FieldSpecArg>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct File {
    #[serde(default)]
    name_reference: Vec<NameRef>,
    #[serde(default)]
    common_labels: Vec<FieldSpecArg>,
    #[serde(default)]
    common_annotations: Vec<FieldSpecArg>,
    #[serde(default)]
    images: Vec<FieldSpecArg>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NameRef {
    kind: String,
    group: Option<String>,
    #[allow(dead_code)] // accepted for compatibility; references match on group and kind
    version: Option<String>,
    #[serde(default)]
    field_specs: Vec<FieldSpecArg>,
}

impl TransformerConfig {
    /// Reads one configuration file and adds it to this configuration.
    pub fn load(&mut self, path: &Path, text: &str) -> Result<(), BuildError> {
        let value = crate::yaml::parse_one(text).map_err(|e| BuildError::invalid(path, e))?;
        let file: File = serde_json::from_value(value).map_err(|e| {
            BuildError::invalid(
                path,
                format!("{e} (supported sections: nameReference, commonLabels, commonAnnotations, images)"),
            )
        })?;
        for r in file.name_reference {
            self.name_refs.push(RefSpec {
                kind: r.kind,
                group: r.group.unwrap_or_default(),
                fields: r
                    .field_specs
                    .into_iter()
                    .map(|f| RefField {
                        group: f.group.unwrap_or_default(),
                        kind: f.kind.unwrap_or_default(),
                        path: f.path,
                    })
                    .collect(),
            });
        }
        self.common_labels.extend(file.common_labels);
        self.common_annotations.extend(file.common_annotations);
        self.images.extend(file.images);
        Ok(())
    }
}

/// Borrowed field specs for the transformers.
pub fn specs(args: &[FieldSpecArg]) -> Vec<FieldSpec<'_>> {
    args.iter()
        .map(|f| FieldSpec {
            group: f.group.as_deref().unwrap_or(""),
            kind: f.kind.as_deref().unwrap_or(""),
            path: &f.path,
            create: f.create,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sections_and_refuses_others() {
        let mut c = TransformerConfig::default();
        c.load(
            Path::new("c.yaml"),
            "nameReference:\n- kind: Secret\n  fieldSpecs:\n  - kind: Widget\n    path: spec/secretName\ncommonLabels:\n- kind: Widget\n  path: spec/selector\n  create: true\n",
        )
        .unwrap();
        assert_eq!(c.name_refs[0].paths_for("example.com", "Widget"), vec!["spec/secretName"]);
        assert_eq!(specs(&c.common_labels)[0].kind, "Widget");
        let err = c.load(Path::new("c.yaml"), "varReference: []\n").unwrap_err().to_string();
        assert!(err.contains("varReference"), "{err}");
    }
}
