//! `weir create alert|alert-provider|receiver NAME …`.

use anyhow::bail;
use serde_json::{Value, json};

use super::{refs, set};
use crate::kinds::{self, FluxKind};

#[derive(clap::Args, Debug)]
pub struct AlertArgs {
    name: String,
    /// The Provider the alerts go to.
    #[arg(long)]
    provider_ref: String,
    /// Objects whose events are sent, KIND/NAME[.NAMESPACE]; NAME may be * (repeatable).
    #[arg(long, value_delimiter = ',', required = true)]
    event_source: Vec<String>,
    /// The lowest severity sent: info or error.
    #[arg(long, default_value = "info", value_parser = ["info", "error"])]
    event_severity: String,
    /// A short summary added to every alert.
    #[arg(long)]
    summary: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct ProviderArgs {
    name: String,
    /// The provider type: slack, msteams, github, generic, …
    #[arg(long = "type")]
    type_: String,
    /// The channel to post to.
    #[arg(long)]
    channel: Option<String>,
    /// The user name to post as.
    #[arg(long)]
    username: Option<String>,
    /// The address (webhook URL, API URL) to send to.
    #[arg(long)]
    address: Option<String>,
    /// The Secret with the token or address.
    #[arg(long)]
    secret_ref: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct ReceiverArgs {
    name: String,
    /// The webhook type: generic, github, gitlab, bitbucket, harbor, …
    #[arg(long = "type")]
    type_: String,
    /// Events that trigger a reconcile, e.g. push (repeatable).
    #[arg(long = "event", value_delimiter = ',')]
    events: Vec<String>,
    /// Objects to reconcile, KIND/NAME[.NAMESPACE] (repeatable).
    #[arg(long = "resource", value_delimiter = ',', required = true)]
    resources: Vec<String>,
    /// The Secret with the webhook token.
    #[arg(long)]
    secret_ref: String,
}

pub fn alert(a: &AlertArgs) -> anyhow::Result<(&'static FluxKind, String, Value)> {
    let sources = kind_refs(&a.event_source)?;
    let mut spec = json!({
        "providerRef": {"name": a.provider_ref},
        "eventSources": sources,
        "eventSeverity": a.event_severity,
    });
    set(&mut spec, "summary", a.summary.clone());
    Ok((&kinds::ALERT, a.name.clone(), spec))
}

pub fn provider(a: &ProviderArgs) -> (&'static FluxKind, String, Value) {
    let mut spec = json!({"type": a.type_});
    set(&mut spec, "channel", a.channel.clone());
    set(&mut spec, "username", a.username.clone());
    set(&mut spec, "address", a.address.clone());
    set(&mut spec, "secretRef", a.secret_ref.as_ref().map(|n| json!({"name": n})));
    (&kinds::PROVIDER, a.name.clone(), spec)
}

pub fn receiver(a: &ReceiverArgs) -> anyhow::Result<(&'static FluxKind, String, Value)> {
    let mut spec = json!({
        "type": a.type_,
        "resources": kind_refs(&a.resources)?,
        "secretRef": {"name": a.secret_ref},
    });
    if !a.events.is_empty() {
        spec["events"] = json!(a.events);
    }
    Ok((&kinds::RECEIVER, a.name.clone(), spec))
}

/// `KIND/NAME[.NAMESPACE]` references; the kind is required and spelled as Flux spells it.
fn kind_refs(texts: &[String]) -> anyhow::Result<Vec<Value>> {
    let mut refs = Vec::new();
    for text in texts {
        let Some((kind, _)) = text.split_once('/') else {
            bail!("{text:?} is not KIND/NAME, e.g. Kustomization/apps or GitRepository/*");
        };
        let mut reference = refs::kind_name_namespace(text, "")?;
        if let Some(flux) = kinds::find(kind) {
            reference["kind"] = json!(flux.kind);
        }
        refs.push(reference);
    }
    Ok(refs)
}
