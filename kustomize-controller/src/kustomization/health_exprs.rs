//! `healthCheckExprs`: CEL rules that say when objects of a kind are current, in progress or
//! failed, for kinds kstatus cannot judge (custom resources without conditions).

use serde_json::Value;
use weir_api::meta::CustomHealthCheck;
use weir_apply::{Health, ObjMeta};

use super::expressions::Expression;

struct KindRule {
    api_version: String,
    kind: Option<String>,
    in_progress: Option<Expression>,
    failed: Option<Expression>,
    current: Expression,
}

/// The compiled `healthCheckExprs` of one Kustomization.
#[derive(Default)]
pub struct HealthExprs {
    rules: Vec<KindRule>,
}

impl HealthExprs {
    /// Compiles every expression; a syntax error names the kind and the expression.
    pub fn compile(checks: &[CustomHealthCheck]) -> Result<HealthExprs, String> {
        let rules = checks
            .iter()
            .map(|check| {
                let compile = |source: &str| {
                    Expression::compile(source).map_err(|e| {
                        format!(
                            "healthCheckExprs for {} {}: {e}",
                            check.api_version,
                            check.kind.as_deref().unwrap_or("*")
                        )
                    })
                };
                Ok(KindRule {
                    api_version: check.api_version.clone(),
                    kind: check.kind.clone(),
                    in_progress: check.in_progress.as_deref().map(compile).transpose()?,
                    failed: check.failed.as_deref().map(compile).transpose()?,
                    current: compile(&check.current)?,
                })
            })
            .collect::<Result<_, String>>()?;
        Ok(HealthExprs { rules })
    }

    /// The health of `object` by the first rule for its apiVersion and kind; `None` when no rule
    /// covers it. `inProgress`, then `failed`, then `current` decide; an expression that cannot be
    /// evaluated yet (a field not there yet) keeps the object in progress.
    pub fn health(&self, meta: &ObjMeta, object: &Value) -> Option<Health> {
        let api_version = meta.api_version();
        let rule = self
            .rules
            .iter()
            .find(|r| r.api_version == api_version && r.kind.as_deref().is_none_or(|k| k == meta.kind))?;
        let verdict = |expression: &Expression| match expression.evaluate_on(object) {
            Ok(b) => Ok(b),
            Err(e) => Err(Health::InProgress(e)),
        };
        let decide = || -> Result<Health, Health> {
            if let Some(e) = &rule.in_progress
                && verdict(e)?
            {
                return Ok(Health::InProgress(format!("'{}' is true", e.source())));
            }
            if let Some(e) = &rule.failed
                && verdict(e)?
            {
                return Ok(Health::Failed(format!("'{}' is true", e.source())));
            }
            if verdict(&rule.current)? {
                return Ok(Health::Current);
            }
            Ok(Health::InProgress(format!("'{}' is not true yet", rule.current.source())))
        };
        Some(decide().unwrap_or_else(|pending| pending))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn meta(api_version: &str, kind: &str) -> ObjMeta {
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        ObjMeta {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            namespace: "default".into(),
            name: "x".into(),
        }
    }

    fn exprs() -> HealthExprs {
        HealthExprs::compile(&[CustomHealthCheck {
            api_version: "example.com/v1".into(),
            kind: Some("Widget".into()),
            current: "status.phase == 'Ready'".into(),
            in_progress: Some("has(status.busy) && status.busy".into()),
            failed: Some("status.phase == 'Broken'".into()),
        }])
        .unwrap()
    }

    #[test]
    fn the_rule_of_the_kind_decides() {
        let exprs = exprs();
        let widget = meta("example.com/v1", "Widget");
        let with = |status: Value| json!({"apiVersion": "example.com/v1", "kind": "Widget", "status": status});
        assert_eq!(exprs.health(&widget, &with(json!({"phase": "Ready"}))), Some(Health::Current));
        assert!(matches!(exprs.health(&widget, &with(json!({"phase": "Broken"}))), Some(Health::Failed(_))));
        assert!(matches!(
            exprs.health(&widget, &with(json!({"phase": "Ready", "busy": true}))),
            Some(Health::InProgress(_))
        ));
        assert!(matches!(exprs.health(&widget, &with(json!({"phase": "Pending"}))), Some(Health::InProgress(_))));
        // No status at all: cannot evaluate yet, so still in progress.
        let bare = json!({"apiVersion": "example.com/v1", "kind": "Widget"});
        assert!(matches!(exprs.health(&widget, &bare), Some(Health::InProgress(_))));
        assert_eq!(exprs.health(&meta("example.com/v1", "Gadget"), &bare), None);
        assert_eq!(exprs.health(&meta("apps/v1", "Widget"), &bare), None);
    }

    #[test]
    fn syntax_errors_name_the_kind() {
        let error = HealthExprs::compile(&[CustomHealthCheck {
            api_version: "example.com/v1".into(),
            kind: Some("Widget".into()),
            current: "status.(".into(),
            ..Default::default()
        }])
        .err()
        .unwrap();
        assert!(error.starts_with("healthCheckExprs for example.com/v1 Widget"), "{error}");
    }
}
