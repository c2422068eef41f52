//! Building a chart package as Flux does: values files merged (in order, later ones winning,
//! maps merged deeply) into the chart's `values.yaml`, the version given build metadata for the
//! `Revision` strategy, and the directory packaged as `<name>/…` in a gzipped tarball like
//! `helm package` (honouring `.helmignore`).

use std::io::Write;
use std::path::{Component, Path, PathBuf};

use flate2::{Compression, GzBuilder};
use serde_json::{Map, Value};

/// Why a chart could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("failed to load chart: {0}")]
    Chart(String),
    #[error("{0}")]
    ValuesFiles(String),
    #[error("failed to package chart: {0}")]
    Package(String),
}

impl BuildError {
    /// Flux's reasons: `ValuesFilesError` for values files, `ChartPackageError` else.
    pub fn reason(&self) -> &'static str {
        match self {
            BuildError::ValuesFiles(_) => "ValuesFilesError",
            BuildError::Chart(_) => "ChartLoadError",
            BuildError::Package(_) => "ChartPackageError",
        }
    }
}

/// A chart directory's name and version from `Chart.yaml`.
pub fn metadata(chart_dir: &Path) -> Result<(String, String), BuildError> {
    let path = chart_dir.join("Chart.yaml");
    let text =
        std::fs::read_to_string(&path).map_err(|e| BuildError::Chart(format!("reading {}: {e}", path.display())))?;
    let metadata: weir_helm::chart::Metadata =
        serde_saphyr::from_str(&text).map_err(|e| BuildError::Chart(format!("invalid Chart.yaml: {e}")))?;
    if metadata.name.is_empty() || metadata.version.is_empty() {
        return Err(BuildError::Chart("Chart.yaml needs a name and a version".to_string()));
    }
    Ok((metadata.name, metadata.version))
}

/// A path inside `root` for a user-supplied relative path; `..` may not climb out.
pub fn secure_join(root: &Path, relative: &str) -> Result<PathBuf, String> {
    let mut path = PathBuf::new();
    for component in Path::new(relative).components() {
        match component {
            Component::Normal(part) => path.push(part),
            Component::CurDir | Component::RootDir => {}
            Component::ParentDir => {
                if !path.pop() {
                    return Err(format!("path '{relative}' leaves the source"));
                }
            }
            Component::Prefix(_) => return Err(format!("invalid path '{relative}'")),
        }
    }
    Ok(root.join(path))
}

/// Merges `files` (relative to `base`) in order; returns the merged values and the files used.
/// A missing file is an error unless `ignore_missing`.
pub fn merge_values_files(
    base: &Path,
    files: &[String],
    ignore_missing: bool,
) -> Result<(Value, Vec<String>), BuildError> {
    let mut merged = Value::Object(Map::new());
    let mut used = Vec::new();
    for file in files {
        let path = secure_join(base, file).map_err(BuildError::ValuesFiles)?;
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && ignore_missing => continue,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(BuildError::ValuesFiles(format!("no values file found at path '{file}'")));
            }
            Err(e) => return Err(BuildError::ValuesFiles(format!("failed to read values file '{file}': {e}"))),
        };
        let values: Value = if text.trim().is_empty() {
            Value::Object(Map::new())
        } else {
            serde_saphyr::from_str(&text)
                .map_err(|e| BuildError::ValuesFiles(format!("failed to parse values file '{file}': {e}")))?
        };
        if !values.is_object() && !values.is_null() {
            return Err(BuildError::ValuesFiles(format!("values file '{file}' is not a map")));
        }
        merge(&mut merged, values);
        used.push(file.clone());
    }
    Ok((merged, used))
}

/// Helm's `MergeMaps`: maps merge key by key, anything else is replaced.
fn merge(into: &mut Value, from: Value) {
    match (into, from) {
        (Value::Object(into), Value::Object(from)) => {
            for (key, value) in from {
                match into.get_mut(&key) {
                    Some(existing) if existing.is_object() && value.is_object() => merge(existing, value),
                    _ => {
                        into.insert(key, value);
                    }
                }
            }
        }
        (_, Value::Null) => {}
        (into, from) => *into = from,
    }
}

/// `version` with build metadata `metadata` (replacing any), as Flux's `Revision` strategy sets.
pub fn with_build_metadata(version: &str, metadata: &str) -> Result<String, BuildError> {
    let mut parsed = semver::Version::parse(version.trim_start_matches('v'))
        .map_err(|e| BuildError::Chart(format!("invalid chart version '{version}': {e}")))?;
    parsed.build = semver::BuildMetadata::new(metadata)
        .map_err(|e| BuildError::Chart(format!("invalid version metadata '{metadata}': {e}")))?;
    Ok(parsed.to_string())
}

/// Packages `chart_dir` as `<name>-<version>.tgz` content into `out`: `Chart.yaml` with
/// `version`, `values.yaml` replaced by `values` when given.
pub fn package<W: Write>(
    chart_dir: &Path,
    name: &str,
    version: &str,
    values: Option<&Value>,
    out: W,
) -> Result<W, BuildError> {
    let io = |e: std::io::Error| BuildError::Package(e.to_string());
    let ignore = match std::fs::read_to_string(chart_dir.join(".helmignore")) {
        Ok(text) => weir_helm::chart::Ignore::parse(&text),
        Err(_) => weir_helm::chart::Ignore::parse(""),
    };
    let gzip = GzBuilder::new().mtime(0).write(out, Compression::default());
    let mut tar = tar::Builder::new(gzip);
    let chart_yaml = chart_yaml_with_version(chart_dir, version)?;
    append(&mut tar, &format!("{name}/Chart.yaml"), chart_yaml.as_bytes()).map_err(io)?;
    let mut wrote_values = false;
    if let Some(values) = values {
        let text = serde_saphyr::to_string(values).map_err(|e| BuildError::Package(format!("encoding values: {e}")))?;
        append(&mut tar, &format!("{name}/values.yaml"), text.as_bytes()).map_err(io)?;
        wrote_values = true;
    }
    let mut files = Vec::new();
    walk(chart_dir, Path::new(""), &ignore, &mut files).map_err(io)?;
    for relative in files {
        let key = relative.to_string_lossy().replace('\\', "/");
        if key == "Chart.yaml" || (wrote_values && key == "values.yaml") {
            continue;
        }
        let bytes = std::fs::read(chart_dir.join(&relative)).map_err(io)?;
        append(&mut tar, &format!("{name}/{key}"), &bytes).map_err(io)?;
    }
    tar.into_inner().map_err(io)?.finish().map_err(io)
}

fn chart_yaml_with_version(chart_dir: &Path, version: &str) -> Result<String, BuildError> {
    let text = std::fs::read_to_string(chart_dir.join("Chart.yaml"))
        .map_err(|e| BuildError::Chart(format!("reading Chart.yaml: {e}")))?;
    let mut value: Value =
        serde_saphyr::from_str(&text).map_err(|e| BuildError::Chart(format!("invalid Chart.yaml: {e}")))?;
    if value.get("version").and_then(Value::as_str) == Some(version) {
        return Ok(text);
    }
    if let Some(map) = value.as_object_mut() {
        map.insert("version".to_string(), Value::String(version.to_string()));
    }
    serde_saphyr::to_string(&value).map_err(|e| BuildError::Package(format!("encoding Chart.yaml: {e}")))
}

/// Regular files under `root/relative`, sorted, without `.helmignore`d paths or symlinks.
fn walk(
    root: &Path,
    relative: &Path,
    ignore: &weir_helm::chart::Ignore,
    out: &mut Vec<PathBuf>,
) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(root.join(relative))?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = relative.join(entry.file_name());
        let kind = entry.file_type()?;
        let key = path.to_string_lossy().replace('\\', "/");
        if ignore.ignored(&key, kind.is_dir()) {
            continue;
        }
        if kind.is_dir() {
            walk(root, &path, ignore, out)?;
        } else if kind.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

fn append<W: Write>(tar: &mut tar::Builder<W>, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut header, name, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(dir: &Path) {
        std::fs::create_dir_all(dir.join("templates")).unwrap();
        std::fs::write(dir.join("Chart.yaml"), "apiVersion: v2\nname: app\nversion: 1.2.3\n").unwrap();
        std::fs::write(dir.join("values.yaml"), "replicas: 1\nimage:\n  tag: v1\n  repository: app\n").unwrap();
        std::fs::write(dir.join("prod.yaml"), "image:\n  tag: v2\n").unwrap();
        std::fs::write(dir.join("templates/a.yaml"), "kind: ConfigMap\n").unwrap();
        std::fs::write(dir.join(".helmignore"), "prod.yaml\n").unwrap();
    }

    #[test]
    fn values_merge_deeply_in_order() {
        let dir = tempfile::tempdir().unwrap();
        chart(dir.path());
        let files = vec!["values.yaml".to_string(), "prod.yaml".to_string(), "missing.yaml".to_string()];
        assert!(merge_values_files(dir.path(), &files, false).unwrap_err().to_string().contains("missing.yaml"));
        let (values, used) = merge_values_files(dir.path(), &files, true).unwrap();
        assert_eq!(used, ["values.yaml", "prod.yaml"]);
        assert_eq!(values, serde_json::json!({"replicas": 1, "image": {"tag": "v2", "repository": "app"}}));
        assert!(merge_values_files(dir.path(), &["../../etc/passwd".to_string()], false).is_err());
    }

    #[test]
    fn packages_like_helm() {
        let dir = tempfile::tempdir().unwrap();
        chart(dir.path());
        assert_eq!(metadata(dir.path()).unwrap(), ("app".to_string(), "1.2.3".to_string()));
        let version = with_build_metadata("1.2.3+old", "abcdef012345").unwrap();
        assert_eq!(version, "1.2.3+abcdef012345");
        let values = serde_json::json!({"replicas": 3});
        let bytes = package(dir.path(), "app", &version, Some(&values), Vec::new()).unwrap();
        let chart = weir_helm::chart::load_archive(&bytes).unwrap();
        assert_eq!(chart.metadata.version, "1.2.3+abcdef012345");
        assert_eq!(chart.templates.len(), 1);
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
        let mut names = Vec::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let name = entry.path().unwrap().display().to_string();
            if name == "app/values.yaml" {
                let mut text = String::new();
                std::io::Read::read_to_string(&mut entry, &mut text).unwrap();
                assert_eq!(serde_saphyr::from_str::<Value>(&text).unwrap(), values);
            }
            names.push(name);
        }
        assert!(!names.iter().any(|n| n.ends_with("prod.yaml")), "{names:?}");
        assert!(names.iter().all(|n| n.starts_with("app/")), "{names:?}");
        // Same input, same bytes.
        assert_eq!(bytes, package(dir.path(), "app", &version, Some(&values), Vec::new()).unwrap());
    }
}
