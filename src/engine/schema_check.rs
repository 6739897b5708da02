//! Checks a step result against the step's `schema:`; the outcome is reported like an
//! assertion, with every failing path, why it fails and the value found there.

use std::path::Path;

use indexmap::IndexMap;
use serde_json::{Map, Value};

use super::result::AssertionOutcome;
use crate::flow::json_schema::compile;

/// Checks the result's `body` (the whole result for actions without one) against `schema`.
pub fn check(
    schema: &Value,
    base_dir: Option<&Path>,
    result: &Map<String, Value>,
) -> AssertionOutcome {
    let whole;
    let (instance, subject) = match result.get("body") {
        Some(body) => (body, "body"),
        None => {
            whole = Value::Object(result.clone());
            (&whole, "result")
        }
    };
    let mut outcome = AssertionOutcome {
        expression: format!("{subject} matches the schema"),
        passed: false,
        message: None,
        actual: IndexMap::new(),
        error: None,
    };
    let compiled = match compile(schema, base_dir) {
        Ok(compiled) => compiled,
        Err(err) => {
            outcome.error = Some(err);
            return outcome;
        }
    };
    outcome.expression = format!("{subject} matches {}", compiled.label);
    let violations = compiled.violations(instance);
    outcome.passed = violations.is_empty();
    if !outcome.passed {
        let lines: Vec<String> = violations
            .iter()
            .map(|v| format!("at {}: {}", v.path, v.message))
            .collect();
        outcome.message = Some(lines.join("; "));
        for violation in violations {
            outcome.actual.insert(violation.path, violation.value);
        }
    }
    outcome
}
