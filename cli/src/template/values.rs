//! The user's values as Helm builds them from its flags: `-f` files merged in order, then
//! `--set-json`, `--set`, `--set-string` and `--set-file` (Helm's `values.Options`).

use std::io::Read;
use std::path::Path;

use anyhow::{Context, anyhow};
use weir_helm::helm_funcs::parse_yaml;
use weir_helm::strvals;
use weir_helm::template::{Map, Value};

#[derive(clap::Args, Debug, Default, Clone)]
pub struct ValuesArgs {
    /// Values in a YAML file or `-` for stdin (repeatable, or comma-separated).
    #[arg(long = "values", short = 'f', value_delimiter = ',')]
    pub values: Vec<String>,
    /// Values on the command line: key1=val1,key2=val2 (repeatable).
    #[arg(long = "set")]
    pub set: Vec<String>,
    /// String values on the command line (repeatable).
    #[arg(long = "set-string")]
    pub set_string: Vec<String>,
    /// Values read from files: key1=path1 (repeatable).
    #[arg(long = "set-file")]
    pub set_file: Vec<String>,
    /// JSON values on the command line: key1=jsonval1 (repeatable).
    #[arg(long = "set-json")]
    pub set_json: Vec<String>,
}

impl ValuesArgs {
    /// The merged values, in Helm's order and with Helm's error messages.
    pub fn merge(&self) -> anyhow::Result<Map> {
        let mut base = Map::new();
        for file in &self.values {
            let text = if file == "-" {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s).context("reading values from stdin")?;
                s
            } else {
                std::fs::read_to_string(file).map_err(|e| anyhow!("open {file}: {}", go_io_error(&e)))?
            };
            let parsed = parse_yaml(&text).map_err(|e| anyhow!("failed to parse {file}: {e}"))?;
            match parsed {
                Value::Nil => {}
                Value::Map(m) => merge_maps(&mut base, m.snapshot()),
                other => {
                    return Err(anyhow!("failed to parse {file}: values must be a map, not {}", other.type_name()));
                }
            }
        }
        for s in &self.set_json {
            strvals::parse_set_json_into(s, &mut base).map_err(|e| anyhow!("failed parsing --set-json data: {e}"))?;
        }
        for s in &self.set {
            strvals::parse_set_into(s, &mut base).map_err(|e| anyhow!("failed parsing --set data: {e}"))?;
        }
        for s in &self.set_string {
            strvals::parse_set_string_into(s, &mut base)
                .map_err(|e| anyhow!("failed parsing --set-string data: {e}"))?;
        }
        for s in &self.set_file {
            let read = |path: &str| {
                std::fs::read_to_string(Path::new(path)).map_err(|e| format!("open {path}: {}", go_io_error(&e)))
            };
            strvals::parse_set_file_into(s, &mut base, read)
                .map_err(|e| anyhow!("failed parsing --set-file data: {e}"))?;
        }
        Ok(base)
    }
}

/// Helm's `mergeMaps`: maps merge key by key, anything else from `overlay` replaces.
pub fn merge_maps(base: &mut Map, overlay: Map) {
    for (key, value) in overlay {
        let merged = match (base.get(&key), &value) {
            (Some(Value::Map(old)), Value::Map(new)) => {
                let mut inner = old.snapshot();
                merge_maps(&mut inner, new.snapshot());
                Value::map(inner)
            }
            _ => value,
        };
        base.insert(key, merged);
    }
}

/// Go's wording for the common file errors, so messages read as Helm's.
fn go_io_error(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_maps_merge_into_earlier_ones() {
        let mut base = strvals::parse_set("a.b=1,a.c=2,d=3").unwrap();
        merge_maps(&mut base, strvals::parse_set("a.c=9,d.e=4").unwrap());
        assert_eq!(Value::map(base).to_string(), "map[a:map[b:1 c:9] d:map[e:4]]");
    }

    #[test]
    fn set_overrides_set_json_and_files() {
        let args = ValuesArgs {
            set_json: vec![r#"a={"b":1,"c":2}"#.into()],
            set: vec!["a.b=x".into()],
            set_string: vec!["n=5".into()],
            ..Default::default()
        };
        let merged = args.merge().unwrap();
        assert_eq!(Value::map(merged).to_string(), "map[a:map[b:x c:2] n:5]");
    }
}
