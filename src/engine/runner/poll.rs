//! Actions that repeat until an expression holds: `db_poll` (over a query's result),
//! `prometheus.assert`, `loki.assert`, `otel.assert` and `s3.assert` (over a query's result),
//! `websocket` (over each received message, as `message`) and `kafka_consumer` (over each
//! message read). The runner drives them because the expression sees the variables as
//! assertions do.

use std::future::Future;
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::time::Instant;

use super::Run;
use crate::engine::actions::fields::duration;
use crate::engine::actions::{self, ActionError, ActionOutput, database, kafka, s3, websocket};
use crate::engine::evaluate::Scope;
use crate::flow::actions::ActionKind;

const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);
const DEFAULT_POLL_TIMEOUT: Duration = Duration::from_secs(30);
/// What `db_poll` waits for when no condition is given.
const DEFAULT_DB_CONDITION: &str = "row_count > 0";
/// What an `assert` over a query API waits for when no condition is given: an answer.
const DEFAULT_QUERY_CONDITION: &str = "count > 0";

/// What a polling action waits for, and how it says it gave up.
struct Wait {
    /// Expressions over each result; all must hold.
    conditions: Vec<String>,
    interval: Duration,
    limit: Duration,
    /// Whether an expression that cannot be evaluated ends the wait (a SQL result always has
    /// its columns), or only counts as "not yet" (a metric not yet scraped has no value).
    errors_end: bool,
    /// The result keys that the message quotes from the last result.
    shown: &'static [&'static str],
    /// The error of a wait that ran out.
    gave_up: fn(String) -> ActionError,
}

impl Run<'_> {
    /// `db_poll`: runs the query every `interval` until `condition` holds over its result, or
    /// `timeout` runs out. Connection errors count as "not yet" so a database that is still
    /// starting can be waited for; the last one is reported if time runs out.
    pub(super) async fn poll_database(
        &mut self,
        config: &Map<String, Value>,
        raw: &Map<String, Value>,
    ) -> Result<ActionOutput, ActionError> {
        let condition = match raw.get("condition") {
            None | Some(Value::Null) => DEFAULT_DB_CONDITION.to_string(),
            Some(Value::String(text)) => text.clone(),
            Some(other) => {
                return Err(ActionError::invalid(
                    "condition",
                    format!("expected an expression such as `row_count > 0`, found {other}"),
                ));
            }
        };
        let wait = Wait {
            conditions: vec![condition],
            interval: duration(config, "interval", DEFAULT_INTERVAL)?,
            limit: duration(config, "timeout", DEFAULT_POLL_TIMEOUT)?,
            errors_end: true,
            shown: &["row_count"],
            gave_up: ActionError::Failed,
        };
        let mut query_config = config.clone();
        query_config.remove("interval");
        query_config.remove("timeout");
        if let Some(query_timeout) = query_config.remove("query_timeout") {
            query_config.insert("timeout".into(), query_timeout);
        }
        let session = self.session.clone();
        self.poll(&wait, || database::query(&query_config, &session.databases))
            .await
    }

    /// `prometheus.assert`, `loki.assert`, `otel.assert`, `s3.assert`: runs the action's query
    /// every `interval` until its `condition` and `assert` expressions (and the checks of
    /// `s3.assert`'s own keys) hold over the result, or `within` (or `timeout`) runs out.
    /// Unreachable servers and results without the values an expression reads count as "not
    /// yet": metrics arrive with a scrape delay, logs with an ingestion delay, and a trace
    /// fills in as services flush their spans. `s3.assert` looks once unless given `within`.
    pub(super) async fn assert_query(
        &mut self,
        kind: ActionKind,
        config: &Map<String, Value>,
        raw: &Map<String, Value>,
    ) -> Result<ActionOutput, ActionError> {
        let mut conditions = if kind == ActionKind::S3Assert {
            s3::conditions(config)?
        } else {
            Vec::new()
        };
        for key in ["condition", "assert"] {
            match raw.get(key) {
                None | Some(Value::Null) => {}
                Some(Value::String(text)) => conditions.push(text.clone()),
                Some(Value::Array(items)) if key == "assert" => {
                    for (index, item) in items.iter().enumerate() {
                        let Value::String(text) = item else {
                            return Err(ActionError::invalid(
                                format!("assert[{index}]"),
                                format!("expected an expression such as `value > 0`, found {item}"),
                            ));
                        };
                        conditions.push(text.clone());
                    }
                }
                Some(other) => {
                    return Err(ActionError::invalid(
                        key,
                        format!("expected an expression such as `value > 0`, found {other}"),
                    ));
                }
            }
        }
        if conditions.is_empty() {
            conditions.push(DEFAULT_QUERY_CONDITION.to_string());
        }
        // An object store answers at once: `s3.assert` looks once unless given `within`, and
        // its `timeout` bounds each request.
        let limit = match config.get("within").filter(|value| !value.is_null()) {
            Some(_) => duration(config, "within", DEFAULT_POLL_TIMEOUT)?,
            None if kind == ActionKind::S3Assert => Duration::ZERO,
            None => duration(config, "timeout", DEFAULT_POLL_TIMEOUT)?,
        };
        let wait = Wait {
            conditions,
            interval: duration(config, "interval", DEFAULT_INTERVAL)?,
            limit,
            errors_end: false,
            shown: match kind {
                ActionKind::PrometheusAssert => &["value"],
                ActionKind::S3Assert => &["exists", "size"],
                _ => &["count"],
            },
            gave_up: ActionError::Unmet,
        };
        let mut query_config = config.clone();
        for key in ["within", "timeout", "interval"] {
            if key != "timeout" || kind != ActionKind::S3Assert {
                query_config.remove(key);
            }
        }
        let session = self.session.clone();
        self.poll(&wait, || actions::execute(kind, &query_config, &session))
            .await
    }

    /// Runs `attempt` until `wait`'s expressions hold over its result; see [`Wait`].
    async fn poll<F, Fut>(
        &mut self,
        wait: &Wait,
        mut attempt: F,
    ) -> Result<ActionOutput, ActionError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<ActionOutput, ActionError>>,
    {
        let started = Instant::now();
        let mut attempts = 0u64;
        loop {
            attempts += 1;
            let last = match attempt().await {
                Ok(mut output) => match self.all_hold(&wait.conditions, &output.result) {
                    Ok(None) => {
                        output
                            .result
                            .insert("attempts".into(), Value::from(attempts));
                        output.result.insert("success".into(), Value::Bool(true));
                        return Ok(output);
                    }
                    Ok(Some(_)) => {
                        let shown: Vec<String> = wait
                            .shown
                            .iter()
                            .map(|key| {
                                let value = output.result.get(*key).unwrap_or(&Value::Null);
                                format!("{key} {value}")
                            })
                            .collect();
                        format!("the last result had {}", shown.join(", "))
                    }
                    Err(err) if wait.errors_end => {
                        return Err(ActionError::invalid("condition", err));
                    }
                    Err(err) => err,
                },
                Err(err @ ActionError::InvalidConfig { .. }) => return Err(err),
                Err(
                    ActionError::Failed(message)
                    | ActionError::NestedFailed(message)
                    | ActionError::Unmet(message),
                ) => message,
            };
            if started.elapsed() + wait.interval > wait.limit {
                let expressions: Vec<String> =
                    wait.conditions.iter().map(|c| format!("`{c}`")).collect();
                let tried = if wait.limit.is_zero() {
                    String::new()
                } else {
                    format!(
                        " within {} ({attempts} queries)",
                        humantime::format_duration(wait.limit)
                    )
                };
                return Err((wait.gave_up)(format!(
                    "{} did not hold{tried}; {last}",
                    expressions.join(" and ")
                )));
            }
            tokio::time::sleep(wait.interval).await;
        }
    }

    /// The first of `conditions` that does not hold over `result`, or `None` when all do.
    fn all_hold<'c>(
        &mut self,
        conditions: &'c [String],
        result: &Map<String, Value>,
    ) -> Result<Option<&'c str>, String> {
        let scope = Scope::new(&self.vars, Some(result));
        for condition in conditions {
            if !self.evaluator.condition(condition, &self.vars, &scope)? {
                return Ok(Some(condition));
            }
        }
        Ok(None)
    }

    /// `websocket`: the action receives; this checks its `until` against each message.
    pub(super) async fn websocket(
        &mut self,
        config: &Map<String, Value>,
        raw: &Map<String, Value>,
    ) -> Result<ActionOutput, ActionError> {
        let until = until(raw, "message.status == \"shipped\"")?;
        let vars = &self.vars;
        let evaluator = &mut self.evaluator;
        let holds = |message: &Value| {
            let Some(expression) = until.as_deref() else {
                return Ok(true);
            };
            let seen = Map::from_iter([("message".to_string(), message.clone())]);
            let scope = Scope::new(vars, Some(&seen));
            evaluator.condition(expression, vars, &scope)
        };
        websocket::execute(config, until.as_deref(), &self.session.websockets, holds).await
    }

    /// `kafka_consumer`: reads messages until `count` of them make `until` true (every message
    /// counts without one). `until` sees the message's `key`, `value`, `headers`, `offset`,
    /// `partition`, `timestamp` and `topic`, and the flow's variables.
    pub(super) async fn consume_kafka(
        &mut self,
        config: &Map<String, Value>,
        raw: &Map<String, Value>,
    ) -> Result<ActionOutput, ActionError> {
        let until = until(raw, "value.id == 7")?;
        let vars = &self.vars;
        let evaluator = &mut self.evaluator;
        let mut matches = |message: &Map<String, Value>| match &until {
            None => Ok(true),
            Some(expression) => {
                let scope = Scope::new(vars, Some(message));
                evaluator.condition(expression, vars, &scope)
            }
        };
        kafka::consume::consume(config, &self.session.kafka, until.as_deref(), &mut matches).await
    }
}

/// The `until` expression as written (`example` shows one in the error for a wrong type).
fn until(raw: &Map<String, Value>, example: &str) -> Result<Option<String>, ActionError> {
    match raw.get("until") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(other) => Err(ActionError::invalid(
            "until",
            format!("expected an expression such as `{example}`, found {other}"),
        )),
    }
}
