//! Loading a kustomization tree: resources (files and directories), components and crds,
//! recursively, with generators and transformers run at each level, in kustomize's order.

use std::path::{Path, PathBuf};

use crate::config::{TransformerConfig, specs};
use crate::error::BuildError;
use crate::fs::{Fs, normalize};
use crate::generator::{self, GenKind};
use crate::kustomization::{self, Kind, Kustomization};
use crate::patch::CustomSchema;
use crate::resource::{Resource, add_all_unique};
use crate::transform::{annotations, images, labels, namespace, prefix, replicas};

/// Walks kustomizations, remembering the chain being loaded to detect cycles.
pub struct Loader<'a> {
    fs: &'a dyn Fs,
    stack: Vec<PathBuf>,
    /// Transformer configurations (`configurations`) met so far.
    pub config: TransformerConfig,
    /// `vars` met so far, resolved once at the end of the build.
    pub vars: Vec<crate::vars::Var>,
    /// The schema of an `openapi: {path: …}` met so far: like kustomize's, it is global to the
    /// build and replaces the built-in merge keys for the patches applied after it is read.
    schema: Option<CustomSchema>,
}

/// The schema version kustomize v5.5 embeds; `openapi: {version: …}` may only name it.
const BUILTIN_OPENAPI_VERSION: &str = "v1.21.2";

/// Remote resources (git, http) are never fetched: a build reads only its source tree.
fn refuse_remote(file: &Path, entry: &str) -> Result<(), BuildError> {
    let remote = entry.contains("://")
        || entry.starts_with("git@")
        || entry.contains("?ref=")
        || ["github.com/", "gitlab.com/", "bitbucket.org/"].iter().any(|h| entry.starts_with(h));
    if remote {
        return Err(BuildError::Refused {
            path: file.to_path_buf(),
            what: format!("remote resource {entry:?}"),
            reason: "remote resources are not fetched; vendor them into the source".into(),
        });
    }
    Ok(())
}

fn display(path: &Path) -> String {
    if path.as_os_str().is_empty() { ".".into() } else { path.display().to_string() }
}

impl<'a> Loader<'a> {
    pub fn new(fs: &'a dyn Fs) -> Self {
        Loader { fs, stack: Vec::new(), config: TransformerConfig::default(), vars: Vec::new(), schema: None }
    }

    /// Reads the kustomization of `dir`, refusing a cycle back to a kustomization being loaded.
    pub fn open(&mut self, dir: &Path) -> Result<(PathBuf, Kustomization, Kind), BuildError> {
        if self.stack.iter().any(|d| d == dir) {
            let mut chain: Vec<String> = self.stack.iter().map(|d| display(d)).collect();
            chain.push(display(dir));
            return Err(BuildError::Cycle { path: dir.to_path_buf(), chain: chain.join(" -> ") });
        }
        let file = kustomization::find_file(self.fs, dir)?;
        let (k, kind) = kustomization::load(self.fs, &file)?;
        if let Some(openapi) = &k.openapi {
            self.load_openapi(dir, &file, openapi)?;
        }
        Ok((file, k, kind))
    }

    fn load_openapi(&mut self, dir: &Path, file: &Path, openapi: &serde_json::Value) -> Result<(), BuildError> {
        if let Some(entry) = openapi.get("path").and_then(serde_json::Value::as_str) {
            refuse_remote(file, entry)?;
            let path = normalize(dir, Path::new(entry))?;
            let text =
                String::from_utf8(self.fs.read(&path)?).map_err(|_| BuildError::invalid(&path, "not UTF-8 text"))?;
            // Schema files are large and usually JSON: the JSON parser first.
            let doc = match serde_json::from_str(&text) {
                Ok(doc) => doc,
                Err(_) => crate::yaml::parse_value(&text).map_err(|e| BuildError::invalid(&path, e))?,
            };
            self.schema = Some(CustomSchema::from_document(&doc).map_err(|e| BuildError::invalid(&path, e))?);
            return Ok(());
        }
        match openapi.get("version").and_then(serde_json::Value::as_str) {
            Some(BUILTIN_OPENAPI_VERSION) => Ok(()),
            Some(other) => Err(BuildError::Unsupported {
                path: file.to_path_buf(),
                field: format!("openapi version {other:?} (only the built-in {BUILTIN_OPENAPI_VERSION}, or a path)"),
            }),
            None => Err(BuildError::invalid(file, "openapi needs a path (or the built-in version)")),
        }
    }

    /// Builds the kustomization in `dir` (not a component) into its resources.
    pub fn build_dir(&mut self, dir: &Path) -> Result<(Vec<Resource>, Kustomization), BuildError> {
        let (file, k, kind) = self.open(dir)?;
        if kind == Kind::Component {
            return Err(BuildError::invalid(
                &file,
                "a Component cannot be built as a resource; list it under components",
            ));
        }
        let mut acc = Vec::new();
        self.stack.push(dir.to_path_buf());
        let result = self.run(dir, &file, &k, &mut acc);
        self.stack.pop();
        result?;
        Ok((acc, k))
    }

    /// Runs one kustomization (or component) against `acc`.
    fn run(&mut self, dir: &Path, file: &Path, k: &Kustomization, acc: &mut Vec<Resource>) -> Result<(), BuildError> {
        for entry in &k.configurations {
            refuse_remote(file, entry)?;
            let path = normalize(dir, Path::new(entry))?;
            let text =
                String::from_utf8(self.fs.read(&path)?).map_err(|_| BuildError::invalid(&path, "not UTF-8 text"))?;
            self.config.load(&path, &text)?;
        }
        for entry in k.resources.iter().chain(&k.bases) {
            self.resource(dir, file, entry, acc)?;
        }
        for entry in &k.crds {
            // OpenAPI definitions of custom kinds: they only teach kustomize about custom kinds'
            // references, so they are read (and must parse) but not emitted.
            refuse_remote(file, entry)?;
            let path = normalize(dir, Path::new(entry))?;
            let text =
                String::from_utf8(self.fs.read(&path)?).map_err(|_| BuildError::invalid(&path, "not UTF-8 text"))?;
            crate::yaml::parse_value(&text).map_err(|e| BuildError::invalid(&path, e))?;
        }
        for entry in &k.components {
            self.component(dir, file, entry, acc)?;
        }
        for var in &k.vars {
            if self.vars.iter().any(|v| v.name == var.name) {
                return Err(BuildError::invalid(file, format!("var {:?} is already defined", var.name)));
            }
            self.vars.push(var.clone());
        }
        let options = k.generator_options.as_ref();
        generator::run(self.fs, dir, file, GenKind::ConfigMap, &k.config_map_generator, options, acc)?;
        generator::run(self.fs, dir, file, GenKind::Secret, &k.secret_generator, options, acc)?;
        self.transform(dir, file, k, acc)
    }

    fn resource(&mut self, dir: &Path, file: &Path, entry: &str, acc: &mut Vec<Resource>) -> Result<(), BuildError> {
        refuse_remote(file, entry)?;
        let path = normalize(dir, Path::new(entry))?;
        if self.fs.is_dir(&path) {
            let (sub, _) = self.build_dir(&path)?;
            return add_all_unique(acc, sub);
        }
        if !self.fs.exists(&path) {
            return Err(BuildError::invalid(file, format!("resource {entry:?}: no such file or directory")));
        }
        let origin = path.display().to_string();
        let docs = self.read_documents(&path)?;
        add_all_unique(acc, docs.into_iter().map(|obj| Resource::new(obj, origin.clone())))
    }

    fn read_documents(&self, path: &Path) -> Result<Vec<serde_json::Value>, BuildError> {
        let bytes = self.fs.read(path)?;
        let text = String::from_utf8(bytes).map_err(|_| BuildError::invalid(path, "not UTF-8 text"))?;
        let docs = crate::yaml::parse_documents(&text).map_err(|e| BuildError::invalid(path, e))?;
        for doc in &docs {
            let id = crate::resid::ResId::of(doc);
            if id.kind.is_empty() || id.version.is_empty() {
                return Err(BuildError::invalid(path, "a document has no apiVersion or kind"));
            }
            if id.name.is_empty() {
                return Err(BuildError::invalid(path, format!("a {} has no metadata.name", id.kind)));
            }
        }
        Ok(docs)
    }

    fn component(&mut self, dir: &Path, file: &Path, entry: &str, acc: &mut Vec<Resource>) -> Result<(), BuildError> {
        refuse_remote(file, entry)?;
        let path = normalize(dir, Path::new(entry))?;
        if !self.fs.is_dir(&path) {
            return Err(BuildError::invalid(file, format!("component {entry:?} is not a directory")));
        }
        let (cfile, ck, kind) = self.open(&path)?;
        if kind != Kind::Component {
            return Err(BuildError::invalid(&cfile, "listed under components but its kind is not Component"));
        }
        self.stack.push(path.clone());
        let result = self.run(&path, &cfile, &ck, acc);
        self.stack.pop();
        result
    }

    /// The built-in transformers, in the order kustomize runs them.
    fn transform(&self, dir: &Path, file: &Path, k: &Kustomization, acc: &mut Vec<Resource>) -> Result<(), BuildError> {
        let schema = self.schema.as_ref();
        crate::patching::strategic_merge_list(self.fs, dir, file, &k.patches_strategic_merge, schema, acc)?;
        crate::patching::patches(self.fs, dir, file, &k.patches, schema, acc)?;
        if let Some(ns) = k.namespace.as_deref().filter(|n| !n.is_empty()) {
            namespace::apply(acc, ns);
        }
        prefix::apply(acc, k.name_prefix.as_deref().unwrap_or(""), k.name_suffix.as_deref().unwrap_or(""));
        let pairs = |m: &std::collections::BTreeMap<String, String>| -> Vec<(String, String)> {
            m.iter().map(|(a, b)| (a.clone(), b.clone())).collect()
        };
        let extra_labels = specs(&self.config.common_labels);
        labels::apply_common_labels(acc, &pairs(&k.common_labels), &extra_labels);
        for label in &k.labels {
            labels::apply_label(acc, label, &extra_labels);
        }
        annotations::apply(acc, &pairs(&k.common_annotations), &specs(&self.config.common_annotations));
        crate::patching::json6902_list(self.fs, dir, file, &k.patches_json6902, schema, acc)?;
        replicas::apply(acc, &k.replicas);
        images::apply(acc, &k.images, &specs(&self.config.images));
        crate::replacements::apply(self.fs, dir, file, &k.replacements, acc)
    }
}
