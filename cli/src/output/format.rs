//! `-o yaml|json`: objects as kubectl prints them, one object alone, several as a `List`.

use std::io::Write;

use anyhow::Context;
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Table,
    Yaml,
    Json,
}

pub fn write_objects(out: &mut impl Write, format: OutputFormat, mut objects: Vec<Value>) -> anyhow::Result<()> {
    let value = if objects.len() == 1 {
        objects.remove(0)
    } else {
        json!({"apiVersion": "v1", "kind": "List", "items": objects, "metadata": {}})
    };
    match format {
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?,
        _ => write!(out, "{}", to_yaml(&value)?)?,
    }
    Ok(())
}

pub fn to_yaml(value: &Value) -> anyhow::Result<String> {
    serde_saphyr::to_string(value).context("rendering YAML")
}

/// Flux's multi-document format: every document preceded by `---`.
pub fn write_documents(out: &mut impl Write, objects: &[Value]) -> anyhow::Result<()> {
    for object in objects {
        write!(out, "---\n{}", to_yaml(object)?)?;
    }
    Ok(())
}
