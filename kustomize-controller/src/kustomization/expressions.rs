//! CEL expressions over Kubernetes objects, for `healthCheckExprs` and `dependsOn[].readyExpr`.

use serde_json::Value;

/// A compiled CEL expression that must give a boolean.
pub struct Expression {
    source: String,
    program: cel::Program,
}

impl std::fmt::Debug for Expression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Expression").field(&self.source).finish()
    }
}

impl Expression {
    pub fn compile(source: &str) -> Result<Expression, String> {
        let program =
            cel::Program::compile(source).map_err(|e| format!("failed to parse CEL expression '{source}': {e}"))?;
        Ok(Expression { source: source.to_string(), program })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates with each `(name, value)` bound as a variable.
    pub fn evaluate(&self, variables: &[(&str, &Value)]) -> Result<bool, String> {
        let mut context = cel::Context::default();
        for (name, value) in variables {
            let value = cel::to_value(value).map_err(|e| format!("'{name}' is not a CEL value: {e}"))?;
            context.add_variable_from_value(*name, value);
        }
        match self.program.execute(&context) {
            Ok(cel::Value::Bool(b)) => Ok(b),
            Ok(other) => Err(format!("CEL expression '{}' gave {other:?}, not a boolean", self.source)),
            Err(e) => Err(format!("failed to evaluate CEL expression '{}': {e}", self.source)),
        }
    }

    /// Evaluates with the object's top-level fields (`metadata`, `spec`, `status`…) as variables,
    /// as Flux's health expressions see them.
    pub fn evaluate_on(&self, object: &Value) -> Result<bool, String> {
        let fields: Vec<(&str, &Value)> =
            object.as_object().map(|o| o.iter().map(|(k, v)| (k.as_str(), v)).collect()).unwrap_or_default();
        self.evaluate(&fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn top_level_fields_are_variables() {
        let object = json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}});
        let ready =
            Expression::compile("status.conditions.exists(c, c.type == 'Ready' && c.status == 'True')").unwrap();
        assert_eq!(ready.evaluate_on(&object), Ok(true));
        let missing = Expression::compile("status.phase == 'Done'").unwrap();
        assert!(missing.evaluate_on(&object).is_err(), "a missing field is an error, not false");
        let guarded = Expression::compile("has(status.phase) && status.phase == 'Done'").unwrap();
        assert_eq!(guarded.evaluate_on(&object), Ok(false));
    }

    #[test]
    fn non_booleans_and_bad_syntax_are_errors() {
        assert!(Expression::compile("status.(").is_err());
        let number = Expression::compile("1 + 1").unwrap();
        assert!(number.evaluate(&[]).unwrap_err().contains("not a boolean"));
    }
}
