//! Actions that repeat until an expression holds: `db_poll` (over a query's result),
//! `websocket` (over each received message, as `message`) and `kafka_consumer` (over each
//! message read). The runner drives them because the expression sees the variables as
//! assertions do.

use std::time::Duration;

use serde_json::{Map, Value};
use tokio::time::Instant;

use super::Run;
use crate::engine::actions::fields::duration;
use crate::engine::actions::{ActionError, ActionOutput, database, kafka, websocket};
use crate::engine::evaluate::Scope;

const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);
const DEFAULT_POLL_TIMEOUT: Duration = Duration::from_secs(30);
/// What `db_poll` waits for when no condition is given.
const DEFAULT_DB_CONDITION: &str = "row_count > 0";

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
        let interval = duration(config, "interval", DEFAULT_INTERVAL)?;
        let limit = duration(config, "timeout", DEFAULT_POLL_TIMEOUT)?;
        let mut query_config = config.clone();
        query_config.remove("interval");
        query_config.remove("timeout");
        if let Some(query_timeout) = query_config.remove("query_timeout") {
            query_config.insert("timeout".into(), query_timeout);
        }
        let started = Instant::now();
        let mut attempts = 0u64;
        loop {
            attempts += 1;
            let last = match database::query(&query_config, &self.session.databases).await {
                Ok(mut output) => {
                    let scope = Scope::new(&self.vars, Some(&output.result));
                    match self.evaluator.condition(&condition, &self.vars, &scope) {
                        Ok(true) => {
                            output
                                .result
                                .insert("attempts".into(), Value::from(attempts));
                            output.result.insert("success".into(), Value::Bool(true));
                            return Ok(output);
                        }
                        Ok(false) => format!(
                            "the last result had row_count {}",
                            output.result.get("row_count").unwrap_or(&Value::Null)
                        ),
                        Err(err) => {
                            return Err(ActionError::invalid("condition", err));
                        }
                    }
                }
                Err(err @ ActionError::InvalidConfig { .. }) => return Err(err),
                Err(
                    ActionError::Failed(message)
                    | ActionError::NestedFailed(message)
                    | ActionError::Unmet(message),
                ) => message,
            };
            if started.elapsed() + interval > limit {
                return Err(ActionError::Failed(format!(
                    "`{condition}` did not hold within {} ({attempts} queries); {last}",
                    humantime::format_duration(limit)
                )));
            }
            tokio::time::sleep(interval).await;
        }
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
