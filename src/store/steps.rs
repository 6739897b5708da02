//! Step rows of finished runs: one row per try of each step, with its assertions, captured
//! values, and the request and response cut to the configured size. The engine has already
//! masked secrets in all of it.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::error::StoreError;
use super::payload::truncate_payload;
use crate::engine::FlowResult;

/// Rows of `executions.steps`, as arrays for one UNNEST insert.
#[derive(Default)]
pub struct StepRows {
    run_id: Vec<String>,
    step_index: Vec<i32>,
    attempt: Vec<i32>,
    step_id: Vec<String>,
    name: Vec<Option<String>>,
    action: Vec<String>,
    phase: Vec<&'static str>,
    status: Vec<&'static str>,
    started_at: Vec<DateTime<Utc>>,
    duration_ms: Vec<i64>,
    assertions: Vec<Option<String>>,
    captured: Vec<Option<String>>,
    request: Vec<Option<String>>,
    response: Vec<Option<String>>,
    error: Vec<Option<String>>,
}

fn json_text(value: &impl serde::Serialize) -> Option<String> {
    serde_json::to_string(value).ok()
}

fn int(n: impl TryInto<i32>) -> i32 {
    n.try_into().unwrap_or(i32::MAX)
}

impl StepRows {
    /// Adds every try of every step of `result`. A step that never ran (skipped) has one row
    /// with attempt 0 and the reason as its error.
    pub fn add(&mut self, run_id: &str, result: &FlowResult, max_payload_bytes: usize) {
        for (index, step) in result.steps.iter().enumerate() {
            let captured = (!step.captured.is_empty())
                .then(|| json_text(&step.captured))
                .flatten();
            let mut push = |attempt: i32,
                            status: &'static str,
                            started_at: DateTime<Utc>,
                            duration_ms: u64,
                            assertions: Option<String>,
                            request: Option<&Value>,
                            response: Option<&Value>,
                            error: Option<String>| {
                self.run_id.push(run_id.to_string());
                self.step_index.push(int(index));
                self.attempt.push(attempt);
                self.step_id.push(step.id.clone());
                self.name.push(step.name.clone());
                self.action.push(step.action.clone());
                self.phase.push(step.phase.as_str());
                self.status.push(status);
                self.started_at.push(started_at);
                self.duration_ms
                    .push(i64::try_from(duration_ms).unwrap_or(i64::MAX));
                self.assertions.push(assertions);
                self.captured.push(captured.clone());
                self.request
                    .push(request.map(|v| truncate_payload(v, max_payload_bytes).to_string()));
                self.response
                    .push(response.map(|v| truncate_payload(v, max_payload_bytes).to_string()));
                self.error.push(error);
            };
            if step.attempts.is_empty() {
                push(
                    0,
                    step.status.as_str(),
                    step.started_at,
                    step.duration_ms,
                    None,
                    None,
                    None,
                    step.reason.clone(),
                );
            }
            for attempt in &step.attempts {
                push(
                    int(attempt.attempt),
                    attempt.status.as_str(),
                    attempt.started_at,
                    attempt.duration_ms,
                    json_text(&attempt.assertions),
                    attempt.request.as_deref(),
                    attempt.response.as_deref(),
                    attempt.error.clone(),
                );
            }
        }
    }

    /// Inserts the rows in one statement.
    pub async fn insert(self, tx: &mut sqlx::PgConnection) -> Result<(), StoreError> {
        if self.run_id.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO executions.steps (run_id, step_index, attempt, step_id, name, action, \
             phase, status, started_at, duration_ms, assertions, captured, request, response, \
             error) \
             SELECT run_id, step_index, attempt, step_id, name, action, phase, status, \
             started_at, duration_ms, assertions::jsonb, captured::jsonb, request::jsonb, \
             response::jsonb, error \
             FROM UNNEST($1::text[], $2::int4[], $3::int4[], $4::text[], $5::text[], $6::text[], \
             $7::text[], $8::text[], $9::timestamptz[], $10::int8[], $11::text[], $12::text[], \
             $13::text[], $14::text[], $15::text[]) \
             AS t(run_id, step_index, attempt, step_id, name, action, phase, status, started_at, \
             duration_ms, assertions, captured, request, response, error) \
             ON CONFLICT DO NOTHING",
        )
        .bind(self.run_id)
        .bind(self.step_index)
        .bind(self.attempt)
        .bind(self.step_id)
        .bind(self.name)
        .bind(self.action)
        .bind(self.phase)
        .bind(self.status)
        .bind(self.started_at)
        .bind(self.duration_ms)
        .bind(self.assertions)
        .bind(self.captured)
        .bind(self.request)
        .bind(self.response)
        .bind(self.error)
        .execute(tx)
        .await
        .map_err(StoreError::query("insert step rows"))?;
        Ok(())
    }
}
