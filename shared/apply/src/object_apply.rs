//! One object through the apply engine, in two passes as Flux's `ssa` does them: first every
//! object of a stage is planned (server-side dry run, drift check, takeover), and only when the
//! whole stage planned cleanly is the second pass allowed to write. A set with one object the API
//! server refuses (invalid, forbidden, rejected by a webhook) so changes nothing.

use std::time::Duration;

use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams};
use serde_json::Value;

use crate::changeset::{Action, ChangeSetEntry};
use crate::drift::has_drifted;
use crate::error::ApplyError;
use crate::manager::{ApplyOptions, ResourceManager, api_error, to_value};
use crate::object::Object;
use crate::policy::{Policy, SsaPolicy};
use crate::takeover::takeover_patch;

/// What the first pass decided for one object.
pub(crate) enum Planned {
    /// Nothing (more) to send: skipped, unchanged, or already recreated.
    Done(ChangeSetEntry),
    /// To be applied by the second pass.
    Apply(Box<PendingApply>),
}

pub(crate) struct PendingApply {
    object: Object,
    api: Api<DynamicObject>,
    /// What the apply will report: created or configured.
    action: Action,
}

impl Planned {
    fn apply(object: Object, api: Api<DynamicObject>, action: Action) -> Planned {
        Planned::Apply(Box::new(PendingApply { object, api, action }))
    }
}

impl ResourceManager {
    /// The first pass. A new object costs one request (the dry run); an existing one two (the
    /// dry run and a read of the live object to compare with), three when fields edited by hand
    /// are taken over.
    pub(crate) async fn plan(&self, object: Object, opts: &ApplyOptions) -> Result<Planned, ApplyError> {
        let policy = Policy::of(&object);
        if policy.reconcile_disabled || policy.ssa == SsaPolicy::Ignore {
            // Located only to report (and inventory) it under its namespace; never an error.
            let meta = match self.locate(object.clone(), opts.default_namespace.as_deref()).await {
                Ok((located, _)) => located.meta,
                Err(_) => object.meta,
            };
            return Ok(Planned::Done(ChangeSetEntry::new(meta, Action::Skipped)));
        }
        let (object, api) = self.locate(object, opts.default_namespace.as_deref()).await?;
        let subject = object.meta.subject();
        let name = object.meta.name.as_str();
        if policy.ssa == SsaPolicy::IfNotPresent
            && api.get_opt(name).await.map_err(|e| api_error(&subject, "get", e))?.is_some()
        {
            return Ok(Planned::Done(ChangeSetEntry::new(object.meta, Action::Skipped)));
        }
        let Some(mut dry_run) = self.dry_run(&api, &object, opts, &policy).await? else {
            return Ok(Planned::Done(ChangeSetEntry::new(object.meta, Action::Created)));
        };
        // A dry-run create is never stored, so it has no resourceVersion: the object is new.
        let live = if is_unstored(&dry_run) {
            None
        } else {
            api.get_opt(name).await.map_err(|e| api_error(&subject, "get", e))?.map(to_value)
        };
        let Some(mut live) = live else {
            return Ok(Planned::apply(object, api, Action::Created));
        };
        let mut taken_over = false;
        if policy.ssa != SsaPolicy::Merge
            && let Some(patch) = takeover_patch(&live, &self.field_manager, &self.takeover_managers)
        {
            let patch: json_patch::Patch = serde_json::from_value(patch).map_err(|e| ApplyError::Failed {
                subject: subject.clone(),
                message: format!("takeover patch: {e}"),
            })?;
            let patched = api
                .patch(name, &PatchParams::default(), &Patch::<()>::Json(patch))
                .await
                .map_err(|e| api_error(&subject, "taking over fields edited by other managers", e))?;
            live = to_value(patched);
            taken_over = true;
            // The first dry run merged into the fields as they were before the takeover.
            match self.dry_run(&api, &object, opts, &policy).await? {
                Some(again) => dry_run = again,
                None => return Ok(Planned::Done(ChangeSetEntry::new(object.meta, Action::Created))),
            }
        }
        if has_drifted(&live, &dry_run) {
            Ok(Planned::apply(object, api, Action::Configured))
        } else {
            let action = if taken_over { Action::Configured } else { Action::Unchanged };
            Ok(Planned::Done(ChangeSetEntry::new(object.meta, action).observed(live)))
        }
    }

    /// The second pass for one object.
    pub(crate) async fn execute(&self, planned: Planned, opts: &ApplyOptions) -> Result<ChangeSetEntry, ApplyError> {
        let PendingApply { object, api, action } = match planned {
            Planned::Done(entry) => return Ok(entry),
            Planned::Apply(pending) => *pending,
        };
        let policy = Policy::of(&object);
        match api.patch(&object.meta.name, &self.apply_params(), &Patch::Apply(&object.value)).await {
            Ok(applied) => Ok(ChangeSetEntry::new(object.meta, action).observed(to_value(applied))),
            Err(e) => {
                let err = ApplyError::from_apply(&object.meta.subject(), "apply", e);
                if err.is_immutable() && (opts.force || policy.force) {
                    self.recreate(&api, &object, opts).await?;
                    return Ok(ChangeSetEntry::new(object.meta, Action::Created));
                }
                Err(err)
            }
        }
    }

    /// The server-side dry run of applying `object`; `None` when an immutable field made it
    /// fail and force allowed recreating the object instead (it is then applied already).
    async fn dry_run(
        &self,
        api: &Api<DynamicObject>,
        object: &Object,
        opts: &ApplyOptions,
        policy: &Policy,
    ) -> Result<Option<Value>, ApplyError> {
        match api.patch(&object.meta.name, &self.apply_params().dry_run(), &Patch::Apply(&object.value)).await {
            Ok(o) => Ok(Some(to_value(o))),
            Err(e) => {
                let err = ApplyError::from_apply(&object.meta.subject(), "dry-run apply", e);
                if err.is_immutable() && (opts.force || policy.force) {
                    self.recreate(api, object, opts).await?;
                    return Ok(None);
                }
                Err(err)
            }
        }
    }

    /// Deletes the object, waits until it is gone, and applies it again.
    async fn recreate(&self, api: &Api<DynamicObject>, object: &Object, opts: &ApplyOptions) -> Result<(), ApplyError> {
        let subject = object.meta.subject();
        let name = object.meta.name.as_str();
        tracing::info!(object = %subject, "recreating: an immutable field changed and force is enabled");
        match api.delete(name, &DeleteParams::background()).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => return Err(api_error(&subject, "delete (to recreate)", e)),
        }
        let deadline = tokio::time::Instant::now() + opts.wait_timeout;
        while api.get_opt(name).await.map_err(|e| api_error(&subject, "get", e))?.is_some() {
            if tokio::time::Instant::now() >= deadline {
                return Err(ApplyError::Timeout { timeout: opts.wait_timeout, pending: vec![subject] });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        api.patch(name, &self.apply_params(), &Patch::Apply(&object.value))
            .await
            .map_err(|e| ApplyError::from_apply(&subject, "apply (recreate)", e))?;
        Ok(())
    }
}

/// True for what a dry-run create returns: an object the API server has not stored.
fn is_unstored(dry_run: &Value) -> bool {
    dry_run.pointer("/metadata/resourceVersion").and_then(Value::as_str).is_none_or(str::is_empty)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_an_object_without_a_resource_version_is_unstored() {
        assert!(is_unstored(&json!({"metadata": {"name": "a"}})));
        assert!(is_unstored(&json!({"metadata": {"name": "a", "resourceVersion": ""}})));
        assert!(!is_unstored(&json!({"metadata": {"name": "a", "resourceVersion": "42"}})));
    }
}
