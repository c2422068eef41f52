//! `weir get`: Flux objects as a table (or YAML/JSON), optionally watched.

mod watch;

use std::io::Write;

use anyhow::Context;
use kube::api::ListParams;
use serde_json::Value;

use crate::cluster::ClusterArgs;
use crate::kinds::{self, FluxKind};
use crate::output::age;
use crate::output::format::{self, OutputFormat};
use crate::output::style::Style;
use crate::output::table::{Cell, Table};
use crate::status;
use crate::target::SourceKind;

#[derive(clap::Args, Debug)]
pub struct GetArgs {
    #[command(subcommand)]
    what: What,
    /// Keep watching and print objects as they change.
    #[arg(long, short = 'w', global = true)]
    watch: bool,
    /// Output format.
    #[arg(long, short = 'o', global = true, value_enum, default_value = "table")]
    output: OutputFormat,
    /// Only objects whose condition has this status, e.g. `ready=false`.
    #[arg(long, global = true, value_parser = parse_selector)]
    status_selector: Option<StatusSelector>,
}

#[derive(clap::Subcommand, Debug)]
enum What {
    /// Sources: git, oci, helm, chart, bucket or all.
    #[command(visible_alias = "source")]
    Sources { kind: SourceOrAll, name: Option<String> },
    /// Kustomizations.
    #[command(visible_aliases = ["kustomization", "ks"])]
    Kustomizations { name: Option<String> },
    /// HelmReleases.
    #[command(visible_aliases = ["helmrelease", "hr"])]
    Helmreleases { name: Option<String> },
    /// Alerts.
    #[command(visible_alias = "alert")]
    Alerts { name: Option<String> },
    /// Alert providers.
    #[command(visible_aliases = ["alert-provider", "providers"])]
    AlertProviders { name: Option<String> },
    /// Receivers.
    #[command(visible_alias = "receiver")]
    Receivers { name: Option<String> },
    /// Every Flux kind.
    All,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum SourceOrAll {
    Git,
    Oci,
    Helm,
    Chart,
    Bucket,
    All,
}

#[derive(Clone, Debug)]
pub struct StatusSelector {
    condition: String,
    status: String,
}

fn parse_selector(s: &str) -> Result<StatusSelector, String> {
    let (condition, status) =
        s.split_once('=').ok_or_else(|| format!("{s:?} is not CONDITION=STATUS, e.g. ready=false"))?;
    Ok(StatusSelector { condition: condition.trim().to_ascii_lowercase(), status: status.trim().to_ascii_lowercase() })
}

impl StatusSelector {
    fn matches(&self, object: &Value) -> bool {
        let conditions = object.pointer("/status/conditions").and_then(Value::as_array);
        let found = conditions.and_then(|cs| {
            cs.iter().find(|c| c["type"].as_str().is_some_and(|t| t.eq_ignore_ascii_case(&self.condition)))
        });
        let status = found.and_then(|c| c["status"].as_str()).unwrap_or("Unknown");
        status.eq_ignore_ascii_case(&self.status)
    }
}

impl What {
    fn kinds_and_name(&self) -> (Vec<&'static FluxKind>, Option<&str>) {
        match self {
            What::Sources { kind: SourceOrAll::All, name } => (kinds::SOURCES.to_vec(), name.as_deref()),
            What::Sources { kind, name } => (vec![source_kind(*kind).kind()], name.as_deref()),
            What::Kustomizations { name } => (vec![&kinds::KUSTOMIZATION], name.as_deref()),
            What::Helmreleases { name } => (vec![&kinds::HELM_RELEASE], name.as_deref()),
            What::Alerts { name } => (vec![&kinds::ALERT], name.as_deref()),
            What::AlertProviders { name } => (vec![&kinds::PROVIDER], name.as_deref()),
            What::Receivers { name } => (vec![&kinds::RECEIVER], name.as_deref()),
            What::All => (kinds::ALL.to_vec(), None),
        }
    }
}

fn source_kind(kind: SourceOrAll) -> SourceKind {
    match kind {
        SourceOrAll::Git | SourceOrAll::All => SourceKind::Git,
        SourceOrAll::Oci => SourceKind::Oci,
        SourceOrAll::Helm => SourceKind::Helm,
        SourceOrAll::Chart => SourceKind::Chart,
        SourceOrAll::Bucket => SourceKind::Bucket,
    }
}

pub async fn run(cluster: &ClusterArgs, args: GetArgs) -> anyhow::Result<()> {
    let client = cluster.client().await?;
    let (kinds, name) = args.what.kinds_and_name();
    let several_kinds = kinds.len() > 1;
    let mut out = std::io::stdout().lock();
    let mut everything = Vec::new();
    let mut printed_any = false;
    let mut seen = watch::Seen::default();
    let mut served = Vec::new();
    for kind in &kinds {
        // `get all` on a cluster with only some of the CRDs (e.g. no helm-controller) shows the rest.
        let objects = if several_kinds {
            match list_if_served(&client, kind, cluster.list_scope()).await? {
                Some(objects) => objects,
                None => continue,
            }
        } else {
            list(&client, kind, cluster.list_scope(), name).await?
        };
        served.push(*kind);
        let objects: Vec<Value> =
            objects.into_iter().filter(|o| args.status_selector.as_ref().is_none_or(|s| s.matches(o))).collect();
        seen.record(kind, &objects);
        if args.output != OutputFormat::Table {
            everything.extend(objects);
            continue;
        }
        // `get all` shows only the kinds that have objects, each under its own table.
        if objects.is_empty() && several_kinds {
            continue;
        }
        if printed_any {
            writeln!(out)?;
        }
        let table = table_of(kind, &objects, cluster.all_namespaces, several_kinds, Style::stdout());
        seen.widen(&table.widths());
        if objects.is_empty() {
            writeln!(out, "No {} found in {}.", kind.kind, scope_text(cluster))?;
        } else {
            table.write(&mut out)?;
        }
        printed_any = true;
    }
    if args.output != OutputFormat::Table {
        // As kubectl does since 1.21: managed fields are noise to a reader.
        for object in &mut everything {
            if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.remove("managedFields");
            }
        }
        format::write_objects(&mut out, args.output, everything)?;
    } else if !printed_any {
        writeln!(out, "No Flux objects found in {}.", scope_text(cluster))?;
    }
    drop(out);
    if args.watch {
        watch::run(&client, &served, cluster, name, args.status_selector.as_ref(), seen).await?;
    }
    Ok(())
}

/// The kind's objects, or `None` when the cluster does not serve the kind.
async fn list_if_served(
    client: &kube::Client,
    kind: &FluxKind,
    namespace: Option<&str>,
) -> anyhow::Result<Option<Vec<Value>>> {
    match kind.api(client, namespace).list(&ListParams::default().limit(1)).await {
        Err(e) if crate::errors::is_not_found(&e) => Ok(None),
        _ => Ok(Some(list(client, kind, namespace, None).await?)),
    }
}

fn scope_text(cluster: &ClusterArgs) -> String {
    match cluster.list_scope() {
        Some(ns) => format!("namespace {ns}"),
        None => "any namespace".to_string(),
    }
}

/// Lists the objects of a kind (one named object when `name` is given), sorted by namespace and name.
pub async fn list(
    client: &kube::Client,
    kind: &FluxKind,
    namespace: Option<&str>,
    name: Option<&str>,
) -> anyhow::Result<Vec<Value>> {
    let api = kind.api(client, namespace);
    let mut objects = if let Some(name) = name {
        let object = api.get_opt(name).await.with_context(|| format!("getting {} {name}", kind.kind))?;
        let Some(object) = object else {
            anyhow::bail!(
                "{} {name} not found in namespace {}; list them with `weir get {}`",
                kind.kind,
                namespace.unwrap_or("(all)"),
                plural_command(kind)
            );
        };
        vec![object]
    } else {
        api.list(&ListParams::default())
            .await
            .map_err(|e| crate::errors::api(e, &format!("listing {}", kind.plural)))?
            .items
    };
    objects.sort_by(|a, b| (&a.metadata.namespace, &a.metadata.name).cmp(&(&b.metadata.namespace, &b.metadata.name)));
    let mut values = Vec::with_capacity(objects.len());
    for object in objects {
        let mut value = serde_json::to_value(object)?;
        value["apiVersion"] = Value::from(kind.api_version());
        value["kind"] = Value::from(kind.kind);
        values.push(value);
    }
    Ok(values)
}

fn plural_command(kind: &FluxKind) -> String {
    match kind.command.split_once(' ') {
        Some((_, short)) => format!("sources {short}"),
        None => format!("{}s", kind.command),
    }
}

/// The columns for a kind: notification objects have no revision.
pub fn headers(kind: &FluxKind, all_namespaces: bool) -> Vec<&'static str> {
    let mut headers = Vec::new();
    if all_namespaces {
        headers.push("NAMESPACE");
    }
    headers.push("NAME");
    if has_revision(kind) {
        headers.push("REVISION");
    }
    headers.extend(["SUSPENDED", "READY", "MESSAGE", "AGE"]);
    headers
}

fn has_revision(kind: &FluxKind) -> bool {
    kind.group != kinds::NOTIFICATION_GROUP
}

pub fn row(kind: &FluxKind, object: &Value, all_namespaces: bool, qualified: bool, style: Style) -> Vec<Cell> {
    let mut row = Vec::new();
    if all_namespaces {
        row.push(Cell::from(status::namespace(object)));
    }
    let name = status::name(object);
    // `get all` prefixes names with the kind, as kubectl does, so the tables are told apart.
    row.push(Cell::from(if qualified { format!("{}/{name}", kind.plural) } else { name.to_string() }));
    if has_revision(kind) {
        row.push(Cell::from(status::revision(object)));
    }
    row.push(Cell::from(if status::is_suspended(object) { "True" } else { "False" }));
    let ready = status::ready(object);
    row.push(Cell::styled(ready.status, |s| style.ready(s)));
    row.push(Cell::from(one_line(&ready.message)));
    row.push(Cell::from(age::since(status::created(object))));
    row
}

fn table_of(kind: &FluxKind, objects: &[Value], all_namespaces: bool, qualified: bool, style: Style) -> Table {
    let mut table = Table::new(&headers(kind, all_namespaces));
    for object in objects {
        table.push(row(kind, object, all_namespaces, qualified, style));
    }
    table
}

/// Messages may span lines (build errors); a table row must not.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn status_selector_matches_conditions_case_insensitively() {
        let selector = parse_selector("ready=false").unwrap();
        let failing = json!({"status": {"conditions": [{"type": "Ready", "status": "False"}]}});
        assert!(selector.matches(&failing));
        assert!(!selector.matches(&json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}})));
        assert!(parse_selector("unknown=Unknown").unwrap().matches(&json!({})), "a missing condition is Unknown");
        assert!(parse_selector("ready").is_err());
    }

    #[test]
    fn notification_kinds_have_no_revision_column() {
        assert_eq!(headers(&kinds::ALERT, false), ["NAME", "SUSPENDED", "READY", "MESSAGE", "AGE"]);
        assert_eq!(headers(&kinds::HELM_RELEASE, true)[..3], ["NAMESPACE", "NAME", "REVISION"]);
    }
}
