//! Asking a controller to reconcile an object now and waiting until it has, as flux does: set
//! `reconcile.fluxcd.io/requestedAt`, then wait for the controller to echo the value into
//! `status.lastHandledReconcileAt` with a settled Ready condition.

use std::time::Duration;

use anyhow::{Context, bail};
use kube::api::{Api, DynamicObject, Patch};
use kube::runtime::wait::await_condition;
use serde_json::{Value, json};
use weir_api::annotations::RECONCILE_REQUESTED_AT;

use crate::kinds::FluxKind;
use crate::output::progress::Progress;
use crate::status;

/// Patches the request (merged with `extra`, e.g. `spec.suspend: false`) and returns its value.
pub async fn request(
    api: &Api<DynamicObject>,
    kind: &FluxKind,
    name: &str,
    extra: Option<Value>,
) -> anyhow::Result<String> {
    let requested = jiff::Timestamp::now().to_string();
    let mut patch = json!({"metadata": {"annotations": {RECONCILE_REQUESTED_AT: requested}}});
    if let Some(Value::Object(extra)) = extra {
        for (key, value) in extra {
            patch[key] = value;
        }
    }
    api.patch(name, &crate::create::patch_params(), &Patch::Merge(&patch))
        .await
        .map_err(|e| crate::errors::api(e, &format!("annotating {} {name}", kind.kind)))?;
    Ok(requested)
}

/// Waits until the controller handled `requested` and Ready settled; `Err` when Ready is False or
/// time runs out, with what to look at next.
pub async fn handled(
    api: &Api<DynamicObject>,
    kind: &FluxKind,
    namespace: &str,
    name: &str,
    requested: &str,
    timeout: Duration,
) -> anyhow::Result<Value> {
    let subject = format!("{} {namespace}/{name}", kind.kind);
    let progress = Progress::start(format!("waiting for {subject} to be reconciled"));
    let requested_owned = requested.to_string();
    // Waiting on dependencies is progress, not an outcome: the controller reconciles again as
    // soon as they are Ready, so keep waiting (until the timeout) for the real result.
    let settled = move |object: Option<&DynamicObject>| {
        object.and_then(|o| serde_json::to_value(o).ok()).is_some_and(|v| {
            let ready = status::ready(&v);
            status::last_handled(&v) == Some(requested_owned.as_str())
                && ready.status != "Unknown"
                && ready.reason != weir_api::conditions::reasons::DEPENDENCY_NOT_READY
        })
    };
    let object = match tokio::time::timeout(timeout, await_condition(api.clone(), name, settled)).await {
        Err(_) => {
            progress.fail(&format!("{subject} was not reconciled within {}", humantime(timeout)));
            bail!(
                "timed out waiting for {subject}: is its controller running? Check with `weir check`, and see `weir events --for {}/{name} -n {namespace}`",
                kind.kind
            );
        }
        Ok(result) => result.with_context(|| format!("watching {subject}"))?,
    };
    let Some(object) = object else {
        progress.fail(&format!("{subject} was deleted"));
        bail!("{subject} was deleted while waiting for it");
    };
    let value = serde_json::to_value(object)?;
    let ready = status::ready(&value);
    if ready.status == "True" {
        progress.succeed(&format!("{subject} reconciled"));
        Ok(value)
    } else {
        progress.fail(&format!("{subject} reconciliation failed"));
        bail!(
            "{subject} is not ready ({}): {}; see `weir events --for {}/{name} -n {namespace}`",
            ready.reason,
            ready.message,
            kind.kind
        )
    }
}

/// A timeout as the user typed it: `5m`, `90s`.
pub fn humantime(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 && s.is_multiple_of(60) { format!("{}m", s / 60) } else { format!("{s}s") }
}
