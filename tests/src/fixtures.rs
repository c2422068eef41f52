//! The complete example objects in shared/api/tests/fixtures, and how to reach their kinds on the
//! API server.

use std::path::PathBuf;

use kube::discovery::ApiResource;
use serde_json::Value;

/// One fixture file: an object of one kind with every field set.
pub struct Fixture {
    pub file: String,
    pub object: Value,
}

pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/api/tests/fixtures")
}

/// All fixtures, sorted by file name. Panics when the folder cannot be read: tests that need
/// fixtures must not pass without them.
pub fn all() -> Vec<Fixture> {
    let dir = fixtures_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
            let object: Value =
                serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()));
            let file = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
            Fixture { file, object }
        })
        .collect()
}

/// The API resource of a Weir kind, from the generated CRDs.
pub fn api_resource(kind: &str) -> ApiResource {
    let crd = weir_api::crds::all()
        .into_iter()
        .find(|c| c.spec.names.kind == kind)
        .unwrap_or_else(|| panic!("no Weir CRD for kind {kind}"));
    let version = crd.spec.versions.iter().find(|v| v.storage).map(|v| v.name.clone()).unwrap_or_default();
    ApiResource {
        group: crd.spec.group.clone(),
        version: version.clone(),
        api_version: format!("{}/{version}", crd.spec.group),
        kind: kind.to_string(),
        plural: crd.spec.names.plural.clone(),
    }
}

/// The kind of a fixture object.
pub fn kind_of(object: &Value) -> &str {
    object["kind"].as_str().unwrap_or_default()
}
