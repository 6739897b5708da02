//! Evaluates assertions and `when` conditions with the expr language. What an expression sees:
//! every key of the step result, `response`, the results of earlier steps by id, and the
//! variables. Values are converted to expr values lazily, only when an expression reads them.

use std::collections::HashMap;
use std::sync::OnceLock;

use foldhash::fast::RandomState as FastHash;
use indexmap::IndexMap;
use serde_json::{Map, Value};

use super::actions::Deferred;
use super::result::AssertionOutcome;
use super::shortcut::Comparison;
use super::variables::Variables;
use crate::flow::Assertion;
use crate::flow::expression::{prepare, read_paths};
use crate::flow::path::CapturePath;
use crate::flow::reference::has_reference;

/// Compiles each distinct expression and capture path once per run.
#[derive(Default)]
pub struct Evaluator {
    /// Expressions that hold no reference (so their prepared text never changes), by the text
    /// as written: one look-up finds the program.
    fixed: HashMap<String, Compiled, FastHash>,
    /// Checks of expressions with references, by their text once the references are filled.
    substituted: HashMap<String, Check, FastHash>,
    capture_paths: HashMap<String, Result<CapturePath, String>, FastHash>,
}

/// An expression rewritten into expr syntax, and how it is checked.
struct Compiled {
    prepared: String,
    check: Check,
}

impl Compiled {
    fn new(prepared: String) -> Self {
        let check = Check::new(&prepared);
        Self { prepared, check }
    }
}

/// The expr program of prepared text (or why it does not compile), and the shortcut that
/// checks it directly when it is a simple comparison.
struct Check {
    program: Result<expr::Program, String>,
    shortcut: Option<Comparison>,
}

impl Check {
    fn new(prepared: &str) -> Self {
        let program = expr::compile(prepared).map_err(|err| compile_message(prepared, &err));
        let shortcut = program
            .is_ok()
            .then(|| Comparison::parse(prepared))
            .flatten();
        Self { program, shortcut }
    }

    fn run(&self, scope: &Scope<'_>) -> Result<expr::Value, String> {
        if let Some(shortcut) = &self.shortcut
            && shortcut.holds(|name| scope.result_value(name))
        {
            return Ok(expr::Value::Bool(true));
        }
        match &self.program {
            Ok(program) => expr::run(program, scope).map_err(|err| err.to_string()),
            Err(err) => Err(err.clone()),
        }
    }
}

/// The names an expression can read, resolved lazily: the step's own result keys (which win),
/// then earlier steps by id, then the variables. Building one costs a pointer per result key:
/// results have few keys and expressions read few names, so they are found by a scan.
pub struct Scope<'a> {
    vars: &'a Variables,
    /// Each result key with its JSON value (`None` for a key the action deferred to its
    /// record), and its expr form once read.
    result: Vec<(&'a str, Option<&'a Value>, OnceLock<expr::Value>)>,
    whole: Option<&'a Map<String, Value>>,
    deferred: Option<Deferred<'a>>,
    /// `response`: the result itself plus `time`, built when an expression reads it.
    response: OnceLock<expr::Value>,
}

impl<'a> Scope<'a> {
    pub fn new(vars: &'a Variables, result_map: Option<&'a Map<String, Value>>) -> Self {
        Self::build(vars, result_map, None)
    }

    /// The scope of a step result whose `deferred` keys are read (and so rendered) only when
    /// an expression reads one of them.
    pub fn with_deferred(
        vars: &'a Variables,
        result_map: &'a Map<String, Value>,
        deferred: Option<Deferred<'a>>,
    ) -> Self {
        Self::build(vars, Some(result_map), deferred)
    }

    fn build(
        vars: &'a Variables,
        result_map: Option<&'a Map<String, Value>>,
        deferred: Option<Deferred<'a>>,
    ) -> Self {
        let deferred_keys = deferred.map_or(&[][..], |deferred| deferred.keys());
        let result = result_map
            .into_iter()
            .flatten()
            .map(|(key, value)| (key.as_str(), Some(value), OnceLock::new()))
            .chain(
                deferred_keys
                    .iter()
                    .map(|key| (*key, None, OnceLock::new())),
            )
            .collect();
        Self {
            vars,
            result,
            whole: result_map,
            deferred,
            response: OnceLock::new(),
        }
    }

    /// A key of the step result, as JSON.
    fn result_value(&self, name: &str) -> Option<&'a Value> {
        let (key, value, _) = self.result.iter().find(|(key, ..)| *key == name)?;
        self.resolve(key, *value)
    }

    /// A result key's value: `value`, or the whole result's for a deferred key.
    fn resolve(&self, key: &str, value: Option<&'a Value>) -> Option<&'a Value> {
        value.or_else(|| self.deferred.and_then(|deferred| deferred.whole().get(key)))
    }

    /// The `response` view of a result that has a `status` but no `response` key.
    fn response_view(&self) -> Option<&expr::Value> {
        let whole = self.whole.filter(|w| w.contains_key("status"))?;
        let whole = self
            .deferred
            .and_then(|deferred| deferred.whole().as_object())
            .unwrap_or(whole);
        Some(self.response.get_or_init(|| {
            let mut view = whole.clone();
            if let Some(duration) = whole.get("duration_ms") {
                view.entry("time").or_insert_with(|| duration.clone());
            }
            to_expr(&Value::Object(view))
        }))
    }
}

impl expr::ContextProvider for Scope<'_> {
    fn get(&self, key: &str) -> Option<&expr::Value> {
        if let Some((name, json, converted)) = self.result.iter().find(|(name, ..)| *name == key)
            && let Some(json) = self.resolve(name, *json)
        {
            return Some(converted.get_or_init(|| to_expr(json)));
        }
        if key == "response"
            && let Some(view) = self.response_view()
        {
            return Some(view);
        }
        self.vars.get(key).map(|entry| entry.expr())
    }

    fn to_context(&self) -> expr::Context {
        let mut context = expr::Context::default();
        let vars = self.vars.values().iter().chain(self.vars.steps());
        for (key, entry) in vars {
            context.insert(key.to_string(), entry.expr().clone());
        }
        for (key, json, _) in &self.result {
            if let Some(json) = self.resolve(key, *json) {
                context.insert(key.to_string(), to_expr(json));
            }
        }
        context
    }
}

/// A JSON value as expressions see it. Converted directly rather than through serde, which
/// costs more and turns a whole value into `nil` when one number is past `i64` (such a number
/// becomes a float here, as JSON readers take it).
pub fn to_expr(value: &Value) -> expr::Value {
    match value {
        Value::Null => expr::Value::Nil,
        Value::Bool(flag) => expr::Value::Bool(*flag),
        Value::Number(number) => number
            .as_i64()
            .map(expr::Value::Integer)
            .or_else(|| number.as_f64().map(expr::Value::Float))
            .unwrap_or(expr::Value::Nil),
        Value::String(text) => expr::Value::String(text.clone()),
        Value::Array(items) => expr::Value::Array(items.iter().map(to_expr).collect()),
        Value::Object(map) => expr::Value::Map(
            map.iter()
                .map(|(key, value)| (key.clone(), to_expr(value)))
                .collect(),
        ),
    }
}

fn to_json(value: &expr::Value) -> Value {
    serde_json::to_value(value).unwrap_or_else(|_| Value::String(value.to_string()))
}

impl Evaluator {
    /// Checks one assertion. References inside it are substituted from `vars` first.
    pub fn check(
        &mut self,
        assertion: &Assertion,
        vars: &Variables,
        scope: &Scope<'_>,
    ) -> AssertionOutcome {
        let mut outcome = AssertionOutcome {
            expression: assertion.expression.clone(),
            passed: false,
            message: assertion.message.clone(),
            actual: IndexMap::new(),
            error: None,
        };
        let ran = self.run(&assertion.expression, vars, scope);
        let prepared = match ran {
            Ok((Ok(expr::Value::Bool(true)), _)) => {
                outcome.passed = true;
                return outcome;
            }
            Ok((Ok(expr::Value::Bool(false)), prepared)) => prepared,
            Ok((Ok(other), prepared)) => {
                outcome.error = Some(format!("the expression gave {other}, not true or false"));
                prepared
            }
            Ok((Err(err), prepared)) => {
                outcome.error = Some(err);
                prepared
            }
            Err(err) => {
                outcome.error = Some(err);
                return outcome;
            }
        };
        outcome.actual = self.actual_values(&prepared, scope);
        outcome
    }

    /// Evaluates a `when` condition: true runs the step, false skips it.
    pub fn condition(
        &mut self,
        expression: &str,
        vars: &Variables,
        scope: &Scope<'_>,
    ) -> Result<bool, String> {
        match self.run(expression, vars, scope)?.0? {
            expr::Value::Bool(b) => Ok(b),
            expr::Value::Nil => Ok(false),
            other => Err(format!("`{expression}` gave {other}, not true or false")),
        }
    }

    /// A capture path, parsed once per run.
    pub fn capture_path(&mut self, text: &str) -> &Result<CapturePath, String> {
        if !self.capture_paths.contains_key(text) {
            let parsed = CapturePath::parse(text);
            self.capture_paths.insert(text.to_string(), parsed);
        }
        &self.capture_paths[text]
    }

    /// Prepares `expression` (references substituted, compatibility forms rewritten) and runs
    /// it: the outer error is a reference that does not resolve; the inner one, an expression
    /// that does not compile or run. The prepared text comes back for failure reports.
    fn run(
        &mut self,
        expression: &str,
        vars: &Variables,
        scope: &Scope<'_>,
    ) -> Result<(Result<expr::Value, String>, String), String> {
        // A known expression is a reference-free one: no need to scan it again.
        if let Some(compiled) = self.fixed.get(expression) {
            return Ok(Self::run_fixed(compiled, scope));
        }
        if has_reference(expression) {
            let prepared = prepare(expression, &mut |name| {
                vars.lookup(name).map_err(|err| err.to_string())
            })?;
            let value = self.evaluate(&prepared, scope);
            return Ok((value, prepared));
        }
        let prepared = prepare(expression, &mut |_| Ok(Value::Null))?;
        let compiled = Compiled::new(prepared);
        let ran = Self::run_fixed(&compiled, scope);
        self.fixed.insert(expression.to_string(), compiled);
        Ok(ran)
    }

    /// Runs a reference-free expression; the prepared text comes back for failure reports.
    fn run_fixed(compiled: &Compiled, scope: &Scope<'_>) -> (Result<expr::Value, String>, String) {
        let value = compiled.check.run(scope);
        // The text is copied only for a report: a passing check never reads it.
        let prepared = if matches!(value, Ok(expr::Value::Bool(true))) {
            String::new()
        } else {
            compiled.prepared.clone()
        };
        (value, prepared)
    }

    /// Runs prepared text, compiling it on first sight.
    fn evaluate(&mut self, prepared: &str, scope: &Scope<'_>) -> Result<expr::Value, String> {
        if !self.substituted.contains_key(prepared) {
            self.substituted
                .insert(prepared.to_string(), Check::new(prepared));
        }
        self.substituted[prepared].run(scope)
    }

    fn actual_values(&mut self, prepared: &str, scope: &Scope<'_>) -> IndexMap<String, Value> {
        read_paths(prepared)
            .into_iter()
            .map(|path| {
                let value = match self.evaluate(&path, scope) {
                    Ok(value) => to_json(&value),
                    Err(err) => Value::String(format!("<{err}>")),
                };
                (path, value)
            })
            .collect()
    }
}

/// A compile error in one line: expr's parser prints a multi-line report.
pub fn compile_message(expression: &str, err: &expr::Error) -> String {
    let text = err.to_string();
    let detail = text
        .lines()
        .rev()
        .find(|line| line.contains('='))
        .map(|line| line.trim().trim_start_matches('=').trim().to_string())
        .unwrap_or_else(|| text.lines().last().unwrap_or_default().trim().to_string());
    format!("`{expression}` is not a valid expression: {detail}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(expression: &str) -> AssertionOutcome {
        let mut vars = Variables::new("f", "e");
        vars.set("user_id", json!("u-1"));
        vars.set("n", json!(2));
        vars.set_step(
            "login",
            json!({"body": {"token": "t"}}).into(),
            IndexMap::new(),
        );
        let result = json!({
            "status": 201,
            "body": {"id": "u-1", "items": [{"price": 3, "quantity": 2}], "email": "a@b.co", "name": "x"},
            "headers": {"Content-Type": "application/json; charset=utf-8"},
            "rows": [{"status": "pending"}],
            "value": 1,
            "count": 2,
            "duration_ms": 12
        });
        let map = result.as_object().unwrap();
        let scope = Scope::new(&vars, Some(map));
        Evaluator::default().check(
            &Assertion {
                expression: expression.into(),
                message: Some("m".into()),
            },
            &vars,
            &scope,
        )
    }

    #[test]
    fn every_example_of_the_language_page_holds() {
        for expression in [
            "status == 201",
            "body.items[0].quantity == 2",
            "len(body.items) > 0",
            r#"headers["Content-Type"] contains "json""#,
            "rows[0].status == 'pending'",
            "value != nil",
            r#"body.email matches "^.+@.+$""#,
            "all(body.items, .price > 0)",
            "duration_ms < 500",
            r#"body.id == "{{user_id}}""#,
            "count == ${n}",
            "body.id exists",
            "body.missing not exists",
            "body.name is string",
            "body.items.length == 1",
            "response.time < 1000",
            "login.body.token == 't'",
        ] {
            let outcome = check(expression);
            assert!(outcome.passed, "{expression}: {outcome:?}");
        }
    }

    #[test]
    fn json_converts_as_serde_would_and_big_numbers_stay_numbers() {
        let value = json!({"id": 7, "ratio": 0.5, "tags": ["a", null, true], "nested": {"k": -3}});
        assert_eq!(to_expr(&value), expr::to_value(&value).unwrap());
        let big = json!({"id": u64::MAX, "name": "x"});
        assert_eq!(
            to_expr(&big),
            expr::Value::Map(
                [
                    ("id".to_string(), expr::Value::Float(u64::MAX as f64)),
                    ("name".to_string(), expr::Value::String("x".into())),
                ]
                .into_iter()
                .collect()
            )
        );
    }

    #[test]
    fn a_failure_shows_the_values_it_saw() {
        let outcome = check("body.items[0].quantity == 3 && status == 201");
        assert!(!outcome.passed);
        assert_eq!(outcome.error, None);
        assert_eq!(outcome.message.as_deref(), Some("m"));
        assert_eq!(
            outcome.actual,
            IndexMap::from([
                ("body.items[0].quantity".to_string(), json!(2)),
                ("status".to_string(), json!(201)),
            ])
        );
    }

    #[test]
    fn errors_are_reported_not_raised() {
        let bad = check("status ==");
        assert!(!bad.passed);
        assert!(
            bad.error
                .as_deref()
                .unwrap()
                .contains("is not a valid expression"),
            "{bad:?}"
        );
        let missing = check("body.id == ${nobody}");
        assert!(
            missing
                .error
                .as_deref()
                .unwrap()
                .contains("`nobody` is not defined")
        );
        let not_bool = check("status");
        assert_eq!(
            not_bool.error.as_deref(),
            Some("the expression gave 201, not true or false")
        );
    }
}
