//! `weir events [--for KIND/NAME] [--watch]`: the Kubernetes Events of Flux objects, oldest first.

use std::collections::HashSet;
use std::io::Write;

use anyhow::bail;
use futures::TryStreamExt;
use k8s_openapi::api::core::v1::Event;
use kube::api::{Api, ListParams};
use kube::runtime::{WatchStreamExt, watcher};

use crate::cluster::ClusterArgs;
use crate::kinds::{self, FluxKind};
use crate::output::age;
use crate::output::style::Style;
use crate::output::table::{Cell, Table, write_row};

#[derive(clap::Args, Debug)]
pub struct EventsArgs {
    /// Only the events of this object, as KIND/NAME (e.g. Kustomization/apps or ks/apps).
    #[arg(long = "for")]
    for_object: Option<String>,
    /// Keep watching and print events as they come.
    #[arg(long, short = 'w')]
    watch: bool,
}

struct Filter {
    kind: Option<&'static FluxKind>,
    name: Option<String>,
}

impl Filter {
    fn parse(text: Option<&str>) -> anyhow::Result<Filter> {
        let Some(text) = text else { return Ok(Filter { kind: None, name: None }) };
        let Some((kind, name)) = text.split_once('/') else {
            bail!("--for takes KIND/NAME, e.g. --for Kustomization/apps");
        };
        let Some(kind) = kinds::find(kind) else {
            bail!("--for: {kind:?} is not a Flux kind; use one of GitRepository, Kustomization, HelmRelease, …");
        };
        Ok(Filter { kind: Some(kind), name: Some(name.to_string()) })
    }

    fn matches(&self, event: &Event) -> bool {
        let involved = &event.involved_object;
        let involved_kind = involved.kind.as_deref().unwrap_or_default();
        let group = involved.api_version.as_deref().and_then(|v| v.rsplit_once('/')).map(|(g, _)| g).unwrap_or("");
        let Some(flux_kind) = kinds::by_kind(group, involved_kind) else { return false };
        self.kind.is_none_or(|k| k == flux_kind)
            && self.name.as_deref().is_none_or(|n| involved.name.as_deref() == Some(n))
    }
}

/// When the event last happened: the newest of its timestamps.
fn last_seen(event: &Event) -> Option<String> {
    event
        .last_timestamp
        .as_ref()
        .map(|t| t.0.to_string())
        .or_else(|| event.event_time.as_ref().map(|t| t.0.to_string()))
        .or_else(|| event.first_timestamp.as_ref().map(|t| t.0.to_string()))
        .or_else(|| event.metadata.creation_timestamp.as_ref().map(|t| t.0.to_string()))
}

pub async fn run(cluster: &ClusterArgs, args: EventsArgs) -> anyhow::Result<()> {
    let filter = Filter::parse(args.for_object.as_deref())?;
    let client = cluster.client().await?;
    let api: Api<Event> = match cluster.list_scope() {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let mut events: Vec<Event> = api
        .list(&ListParams::default())
        .await
        .map_err(|e| crate::errors::api(e, "listing events"))?
        .items
        .into_iter()
        .filter(|e| filter.matches(e))
        .collect();
    events.sort_by_key(|e| last_seen(e).and_then(|t| t.parse::<jiff::Timestamp>().ok()));
    let style = Style::stdout();
    let mut table = Table::new(&headers(cluster.all_namespaces));
    let mut seen = HashSet::new();
    for event in &events {
        seen.insert(key(event));
        table.push(row(event, cluster.all_namespaces, style));
    }
    let mut out = std::io::stdout().lock();
    if events.is_empty() && !args.watch {
        writeln!(out, "No events found.")?;
        return Ok(());
    }
    table.write(&mut out)?;
    drop(out);
    if args.watch {
        let widths = table.widths();
        let mut stream = std::pin::pin!(watcher(api, watcher::Config::default()).applied_objects());
        while let Some(event) = stream.try_next().await? {
            if filter.matches(&event) && seen.insert(key(&event)) {
                write_row(&mut std::io::stdout().lock(), &row(&event, cluster.all_namespaces, style), &widths)?;
            }
        }
    }
    Ok(())
}

/// An event is new when its uid or count changed (a repeated event is updated in place).
fn key(event: &Event) -> String {
    format!("{}/{}", event.metadata.uid.as_deref().unwrap_or_default(), event.count.unwrap_or(1))
}

fn headers(all_namespaces: bool) -> Vec<&'static str> {
    let mut headers = if all_namespaces { vec!["NAMESPACE"] } else { vec![] };
    headers.extend(["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]);
    headers
}

fn row(event: &Event, all_namespaces: bool, style: Style) -> Vec<Cell> {
    let mut row = Vec::new();
    if all_namespaces {
        row.push(Cell::from(event.metadata.namespace.clone().unwrap_or_default()));
    }
    row.push(Cell::from(age::since(last_seen(event).as_deref())));
    let kind = event.type_.clone().unwrap_or_default();
    let warning = kind == "Warning";
    row.push(Cell::styled(kind, |s| if warning { style.yellow(s) } else { s.to_string() }));
    row.push(Cell::from(event.reason.clone().unwrap_or_default()));
    let involved = &event.involved_object;
    row.push(Cell::from(format!(
        "{}/{}",
        involved.kind.as_deref().unwrap_or_default(),
        involved.name.as_deref().unwrap_or_default()
    )));
    let message = event.message.as_deref().unwrap_or_default();
    row.push(Cell::from(message.split_whitespace().collect::<Vec<_>>().join(" ")));
    row
}
