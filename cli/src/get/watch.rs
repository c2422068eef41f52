//! `weir get … --watch`: after the table, a row for every change, as the objects change.

use std::collections::HashMap;

use futures::{StreamExt, TryStreamExt};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::Value;

use super::StatusSelector;
use crate::cluster::ClusterArgs;
use crate::kinds::FluxKind;
use crate::output::style::Style;
use crate::output::table::write_row;
use crate::status;

/// What the table already showed, so the watch does not print it again, and its column widths.
#[derive(Default)]
pub struct Seen {
    versions: HashMap<String, String>,
    widths: Vec<usize>,
}

impl Seen {
    pub fn record(&mut self, kind: &FluxKind, objects: &[Value]) {
        for object in objects {
            let version = object.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap_or_default();
            self.versions.insert(key(kind, object), version.to_string());
        }
    }

    pub fn widen(&mut self, widths: &[usize]) {
        if self.widths.len() < widths.len() {
            self.widths.resize(widths.len(), 0);
        }
        for (w, new) in self.widths.iter_mut().zip(widths) {
            *w = (*w).max(*new);
        }
    }

    /// Whether this version of the object is new to the output.
    fn is_new(&mut self, kind: &FluxKind, object: &Value) -> bool {
        let version = object.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap_or_default();
        self.versions.insert(key(kind, object), version.to_string()).is_none_or(|old| old != version)
    }
}

fn key(kind: &FluxKind, object: &Value) -> String {
    format!("{}/{}/{}", kind.kind, status::namespace(object), status::name(object))
}

pub async fn run(
    client: &kube::Client,
    kinds: &[&'static FluxKind],
    cluster: &ClusterArgs,
    name: Option<&str>,
    selector: Option<&StatusSelector>,
    mut seen: Seen,
) -> anyhow::Result<()> {
    let qualified = kinds.len() > 1;
    let streams = kinds.iter().map(|kind| {
        let api = kind.api(client, cluster.list_scope());
        let mut config = watcher::Config::default();
        if let Some(name) = name {
            config = config.fields(&format!("metadata.name={name}"));
        }
        watcher(api, config).applied_objects().map_ok(move |object| (*kind, object)).boxed()
    });
    let mut changes = futures::stream::select_all(streams);
    let style = Style::stdout();
    while let Some((kind, object)) = changes.try_next().await? {
        let value = serde_json::to_value(object)?;
        if !seen.is_new(kind, &value) || selector.is_some_and(|s| !s.matches(&value)) {
            continue;
        }
        let row = super::row(kind, &value, cluster.all_namespaces, qualified, style);
        write_row(&mut std::io::stdout().lock(), &row, &seen.widths)?;
    }
    Ok(())
}
