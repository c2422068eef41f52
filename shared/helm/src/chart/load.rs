//! Loading charts from directories, archives or lists of files.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use super::{Chart, File, Ignore, LoadError, Metadata};
use crate::helm_funcs::parse_yaml;
use crate::template::{Map, Value};

/// Loads a chart from a directory or a `.tgz` file.
pub fn load(path: &Path) -> Result<Chart, LoadError> {
    if path.is_dir() {
        load_dir(path)
    } else {
        let data = std::fs::read(path).map_err(|e| io(path, e))?;
        load_archive(&data)
    }
}

fn io(path: &Path, e: std::io::Error) -> LoadError {
    LoadError::Io { path: path.display().to_string(), message: e.to_string() }
}

/// Loads a chart directory, skipping what its `.helmignore` lists.
pub fn load_dir(dir: &Path) -> Result<Chart, LoadError> {
    let ignore = match std::fs::read_to_string(dir.join(".helmignore")) {
        Ok(text) => Ignore::parse(&text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ignore::parse(""),
        Err(e) => return Err(io(&dir.join(".helmignore"), e)),
    };
    let mut files = Vec::new();
    walk(dir, "", &ignore, &mut files)?;
    load_files(files)
}

fn walk(dir: &Path, rel: &str, ignore: &Ignore, out: &mut Vec<File>) -> Result<(), LoadError> {
    let mut entries: Vec<_> =
        std::fs::read_dir(dir).map_err(|e| io(dir, e))?.collect::<Result<_, _>>().map_err(|e| io(dir, e))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") };
        let file_type = entry.file_type().map_err(|e| io(&entry.path(), e))?;
        let meta = if file_type.is_symlink() {
            std::fs::metadata(entry.path()).map_err(|e| io(&entry.path(), e))?
        } else {
            entry.metadata().map_err(|e| io(&entry.path(), e))?
        };
        if ignore.ignored(&path, meta.is_dir()) {
            continue;
        }
        if meta.is_dir() {
            // A subchart directory has its own `.helmignore`: load it as its files here and
            // let `load_files` group them.
            walk(&entry.path(), &path, ignore, out)?;
        } else {
            let data = std::fs::read(entry.path()).map_err(|e| io(&entry.path(), e))?;
            out.push(File { name: path, data });
        }
    }
    Ok(())
}

/// Helm's default limits on an archive's content (`--max-decompressed-chart-size` and
/// the per-file limit), so a small archive cannot expand into gigabytes.
pub const MAX_DECOMPRESSED_CHART_SIZE: u64 = 100 * 1024 * 1024;
pub const MAX_DECOMPRESSED_FILE_SIZE: u64 = 5 * 1024 * 1024;

/// Loads a packaged chart (`.tgz`): every entry sits under one top directory.
pub fn load_archive(data: &[u8]) -> Result<Chart, LoadError> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(data));
    let mut files = Vec::new();
    let mut total = 0u64;
    let entries = archive.entries().map_err(|e| LoadError::Archive(e.to_string()))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| LoadError::Archive(e.to_string()))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry.path().map_err(|e| LoadError::Archive(e.to_string()))?.to_string_lossy().replace('\\', "/");
        let Some((_, rel)) = path.split_once('/') else { continue };
        if rel.split('/').any(|p| p == "..") {
            return Err(LoadError::Archive(format!(
                "chart illegally contains content outside the base directory: {path:?}"
            )));
        }
        let rel = rel.to_string();
        let mut buf = Vec::new();
        (&mut entry)
            .take(MAX_DECOMPRESSED_FILE_SIZE + 1)
            .read_to_end(&mut buf)
            .map_err(|e| LoadError::Archive(e.to_string()))?;
        if buf.len() as u64 > MAX_DECOMPRESSED_FILE_SIZE {
            return Err(LoadError::Archive(format!(
                "decompressed chart file {path:?} is larger than the maximum file size {MAX_DECOMPRESSED_FILE_SIZE}"
            )));
        }
        total += buf.len() as u64;
        if total > MAX_DECOMPRESSED_CHART_SIZE {
            return Err(LoadError::Archive(format!(
                "decompressed chart is larger than the maximum size {MAX_DECOMPRESSED_CHART_SIZE}"
            )));
        }
        files.push(File { name: rel, data: buf });
    }
    if files.is_empty() {
        return Err(LoadError::Archive("no files in chart archive".into()));
    }
    load_files(files)
}

/// Builds a chart from its files (paths relative to the chart root).
pub fn load_files(files: Vec<File>) -> Result<Chart, LoadError> {
    let mut metadata: Option<Metadata> = None;
    let mut values = Value::map(Map::new());
    let mut schema = None;
    let mut requirements = None;
    let mut templates = Vec::new();
    let mut other = Vec::new();
    let mut subcharts: BTreeMap<String, Vec<File>> = BTreeMap::new();
    let mut archives = Vec::new();
    for f in files {
        match f.name.as_str() {
            "Chart.yaml" => {
                let text = String::from_utf8_lossy(&f.data);
                let m: Metadata = if text.trim().is_empty() {
                    Metadata::default()
                } else {
                    serde_saphyr::from_str(&text)
                        .map_err(|e| LoadError::BadYaml { file: "Chart.yaml".into(), message: e.to_string() })?
                };
                metadata = Some(m);
            }
            "values.yaml" => {
                let v = parse_yaml(&String::from_utf8_lossy(&f.data))
                    .map_err(|message| LoadError::BadYaml { file: "values.yaml".into(), message })?;
                values = match v {
                    Value::Nil => Value::map(Map::new()),
                    v @ Value::Map(_) => v,
                    _ => {
                        return Err(LoadError::BadYaml {
                            file: "values.yaml".into(),
                            message: "values must be a map".into(),
                        });
                    }
                };
            }
            "values.schema.json" => schema = Some(f.data),
            "requirements.yaml" => requirements = Some(f.data),
            "requirements.lock" | "Chart.lock" => {}
            name if name.starts_with("templates/") => templates.push(f),
            name if name.starts_with("charts/") => {
                let rest = &name["charts/".len()..];
                match rest.split_once('/') {
                    Some((dir, inner)) => {
                        subcharts
                            .entry(dir.to_string())
                            .or_default()
                            .push(File { name: inner.to_string(), data: f.data });
                    }
                    None if rest.ends_with(".tgz") || rest.ends_with(".tar.gz") => archives.push(f),
                    None => other.push(f),
                }
            }
            _ => other.push(f),
        }
    }
    let mut metadata = metadata.ok_or(LoadError::NotAChart)?;
    if metadata.api_version.is_empty() {
        metadata.api_version = "v1".into();
    }
    if metadata.api_version == "v1"
        && let Some(req) = requirements
    {
        #[derive(serde::Deserialize)]
        struct Requirements {
            #[serde(default)]
            dependencies: Vec<super::Dependency>,
        }
        let r: Requirements = serde_saphyr::from_str(&String::from_utf8_lossy(&req))
            .map_err(|e| LoadError::BadYaml { file: "requirements.yaml".into(), message: e.to_string() })?;
        metadata.dependencies = r.dependencies;
    }
    metadata.validate().map_err(LoadError::Invalid)?;
    let parent = metadata.name.clone();
    let mut dependencies = Vec::new();
    for (name, files) in subcharts {
        let ignore = files
            .iter()
            .find(|f| f.name == ".helmignore")
            .map(|f| Ignore::parse(&String::from_utf8_lossy(&f.data)))
            .unwrap_or_else(|| Ignore::parse(""));
        let files = files.into_iter().filter(|f| !ignored_with_parents(&ignore, &f.name)).collect();
        let sub = load_files(files).map_err(|e| LoadError::Subchart {
            parent: parent.clone(),
            name: name.clone(),
            source: Box::new(e),
        })?;
        dependencies.push(sub);
    }
    for f in archives {
        let sub = load_archive(&f.data).map_err(|e| LoadError::Subchart {
            parent: parent.clone(),
            name: f.name.clone(),
            source: Box::new(e),
        })?;
        dependencies.push(sub);
    }
    Ok(Chart { metadata, values, schema, templates, files: other, dependencies })
}

fn ignored_with_parents(ignore: &Ignore, path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    (1..parts.len()).any(|i| ignore.ignored(&parts[..i].join("/"), true)) || ignore.ignored(path, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(name: &str, data: &str) -> File {
        File { name: name.into(), data: data.as_bytes().to_vec() }
    }

    #[test]
    fn errors() {
        assert_eq!(load_files(vec![f("values.yaml", "a: 1")]).unwrap_err(), LoadError::NotAChart);
        let e = load_files(vec![f("Chart.yaml", "apiVersion: v2\nname: [x")]).unwrap_err();
        assert!(e.to_string().starts_with("cannot load Chart.yaml: "), "{e}");
        let e = load_files(vec![f("Chart.yaml", "apiVersion: v2\nversion: 1.0.0")]).unwrap_err();
        assert_eq!(e.to_string(), "validation: chart.metadata.name is required");
        let e = load_files(vec![f("Chart.yaml", "apiVersion: v2\nname: x")]).unwrap_err();
        assert_eq!(e.to_string(), "validation: chart.metadata.version is required");
        let e = load_files(vec![f("Chart.yaml", "apiVersion: v2\nname: x\nversion: 1.0.0"), f("values.yaml", "a: [")])
            .unwrap_err();
        assert!(e.to_string().starts_with("cannot load values.yaml: "), "{e}");
    }

    #[test]
    fn subcharts_and_files() {
        let c = load_files(vec![
            f("Chart.yaml", "apiVersion: v2\nname: p\nversion: 1.0.0"),
            f("templates/a.yaml", "x"),
            f("files/x.txt", "hi"),
            f("charts/s/Chart.yaml", "apiVersion: v2\nname: s\nversion: 0.1.0"),
            f("charts/s/.helmignore", "*.bak\n"),
            f("charts/s/x.bak", "no"),
        ])
        .unwrap();
        assert_eq!(c.templates.len(), 1);
        assert_eq!(c.files.len(), 1);
        assert_eq!(c.dependencies[0].name(), "s");
        assert!(c.dependencies[0].files.iter().all(|f| f.name != "x.bak"));
    }
}
