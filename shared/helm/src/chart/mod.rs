//! Helm charts in memory, loaded from a directory or a packaged `.tgz` as Helm's loader
//! does: `Chart.yaml`, `values.yaml`, `templates/` (`_*.tpl` partials included),
//! `charts/` subcharts (directories and archives), `crds/`, the other files for
//! `.Files`, and `.helmignore` for directories.
//!
//! ```no_run
//! let chart = weir_helm::chart::load_dir(std::path::Path::new("mychart")).unwrap();
//! println!("{} {}", chart.metadata.name, chart.metadata.version);
//! ```
//!
//! # Not supported (yet)
//! - `.helmignore` follows Helm's rules for plain, `dir/` and `!negated` patterns and
//!   Go's `filepath.Match`; `**` in `.helmignore` is not special (as in Helm).
//!   The parent's rules also apply inside `charts/` directories while walking.
//! - `.prov` files, `Chart.lock`/`requirements.lock` checks, and symlinks pointing
//!   outside the chart are not treated specially (symlinks are followed).
//! - `Chart.yaml` fields are read with serde: a numeric `version`/`appVersion` (e.g.
//!   `appVersion: 1.10`) is kept as written, whereas Helm's loader rejects or reformats it.

mod glob;
mod ignore;
mod load;
mod metadata;

pub use glob::matches as glob_matches;
pub use ignore::Ignore;
pub use load::{MAX_DECOMPRESSED_CHART_SIZE, MAX_DECOMPRESSED_FILE_SIZE, load, load_archive, load_dir, load_files};
pub use metadata::{Dependency, Maintainer, Metadata};

use crate::template::Value;

/// A file of a chart, by its path relative to the chart root (`/`-separated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub name: String,
    pub data: Vec<u8>,
}

/// A loaded chart.
#[derive(Debug, Clone)]
pub struct Chart {
    pub metadata: Metadata,
    /// `values.yaml` (an empty map without one).
    pub values: Value,
    /// `values.schema.json` (checked by [`crate::render::schema`] when rendering).
    pub schema: Option<Vec<u8>>,
    /// Everything under `templates/`, sorted by name.
    pub templates: Vec<File>,
    /// The other files (`.Files`), `crds/` included, sorted by name.
    pub files: Vec<File>,
    /// Subcharts from `charts/`, sorted by the name they were found under.
    pub dependencies: Vec<Chart>,
}

impl Chart {
    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    /// The files under `crds/` (Helm's `CRDObjects`).
    pub fn crds(&self) -> impl Iterator<Item = &File> {
        self.files.iter().filter(|f| f.name.starts_with("crds/"))
    }
}

/// Why a chart did not load.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    /// No `Chart.yaml`: not a chart.
    #[error("Chart.yaml file is missing")]
    NotAChart,
    /// A file that does not parse (`Chart.yaml`, `values.yaml`, `requirements.yaml`).
    #[error("cannot load {file}: {message}")]
    BadYaml { file: String, message: String },
    /// Metadata that fails Helm's validation.
    #[error("{0}")]
    Invalid(String),
    /// A subchart that does not load.
    #[error("error unpacking subchart {name} in {parent}: {source}")]
    Subchart { parent: String, name: String, source: Box<LoadError> },
    #[error("{0}")]
    Archive(String),
}
