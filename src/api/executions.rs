//! `GET /executions` (filters, cursor pages, sort) and `GET /executions/{runId}` (the run with
//! every attempt of every step: assertions, captured values, request and response).

use axum::Json;
use axum::extract::Path;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{Postgres, QueryBuilder};
use utoipa::ToSchema;

use super::app::AppState;
use super::cursor::Cursor;
use super::error::{ApiError, ErrorBody};
use super::params::{QueryParams, RUN_STATUSES, SortOrder, TRIGGERS, check_range};
use super::scope::Scoped;
use crate::engine::result::StepResult;

/// The columns of [`Execution`], in `executions.runs`.
pub const EXECUTION_COLUMNS: &str = "run_id, namespace, flow_name, generation, environment, \
     trigger, status, queued_at, started_at, finished_at, duration_ms, \
     COALESCE(passed_steps, 0) AS passed_steps, COALESCE(failed_steps, 0) AS failed_steps, error, \
     draft";

/// One run of a flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct Execution {
    pub run_id: String,
    pub namespace: String,
    pub flow_name: String,
    pub generation: i64,
    pub environment: Option<String>,
    /// schedule, annotation, change or manual.
    pub trigger: String,
    /// queued, running, passed, failed, error, cancelled or timed_out.
    pub status: String,
    pub queued_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    pub passed_steps: i32,
    pub failed_steps: i32,
    pub error: Option<String>,
    /// A draft run from the flow editor (`POST /runs`), not a run of a TestFlow.
    #[serde(default)]
    pub draft: bool,
}

/// A page of executions; `nextCursor` fetches the next one, null on the last page.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionPage {
    pub items: Vec<Execution>,
    pub next_cursor: Option<String>,
}

/// A run with its steps.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionDetail {
    #[serde(flatten)]
    pub execution: Execution,
    pub steps: Vec<ExecutionStep>,
}

/// One attempt of one step (a step retried twice has three; a skipped step has attempt 0).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionStep {
    pub step_index: i32,
    pub step_id: String,
    pub name: Option<String>,
    pub action: String,
    /// setup, main or teardown.
    pub phase: String,
    pub status: String,
    pub attempt: i32,
    pub started_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    #[schema(value_type = Vec<AssertionOutcome>)]
    pub assertions: Value,
    #[schema(value_type = Object)]
    pub captured: Value,
    #[schema(value_type = Object)]
    pub request: Option<Value>,
    #[schema(value_type = Object)]
    pub response: Option<Value>,
    pub error: Option<String>,
}

/// One checked assertion, with the values its paths had.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssertionOutcome {
    pub expression: String,
    pub passed: bool,
    pub message: Option<String>,
    /// path → the value seen there.
    #[schema(value_type = Object)]
    pub actual: Value,
    pub error: Option<String>,
}

impl ExecutionStep {
    /// The rows of one step as the engine reports it: one per attempt, or one with attempt 0
    /// when it never ran — the same rows the store keeps.
    pub fn from_engine(index: i32, step: &StepResult) -> Vec<ExecutionStep> {
        let captured = serde_json::to_value(&step.captured).unwrap_or(Value::Null);
        let captured = if step.captured.is_empty() {
            Value::Object(Default::default())
        } else {
            captured
        };
        let base = ExecutionStep {
            step_index: index,
            step_id: step.id.clone(),
            name: step.name.clone(),
            action: step.action.clone(),
            phase: step.phase.as_str().into(),
            status: step.status.as_str().into(),
            attempt: 0,
            started_at: Some(step.started_at),
            duration_ms: i64::try_from(step.duration_ms).ok(),
            assertions: Value::Array(Vec::new()),
            captured,
            request: None,
            response: None,
            error: step.reason.clone(),
        };
        if step.attempts.is_empty() {
            return vec![base];
        }
        step.attempts
            .iter()
            .map(|attempt| ExecutionStep {
                attempt: i32::try_from(attempt.attempt).unwrap_or(i32::MAX),
                status: attempt.status.as_str().into(),
                started_at: Some(attempt.started_at),
                duration_ms: i64::try_from(attempt.duration_ms).ok(),
                assertions: serde_json::to_value(&attempt.assertions)
                    .unwrap_or(Value::Array(Vec::new())),
                request: attempt.request.as_deref().cloned(),
                response: attempt.response.as_deref().cloned(),
                error: attempt.error.clone(),
                ..base.clone()
            })
            .collect()
    }
}

#[utoipa::path(get, path = "/api/v1/executions", tag = "executions",
    params(
        ("namespace" = Option<String>, Query, description = "Only this namespace"),
        ("flow" = Option<String>, Query, description = "Only this flow name"),
        ("environment" = Option<String>, Query, description = "Only this environment"),
        ("status" = Option<String>, Query, description = "Comma list of statuses"),
        ("trigger" = Option<String>, Query, description = "schedule, annotation, change or manual"),
        ("from" = Option<String>, Query, description = "Queued at or after (RFC 3339)"),
        ("to" = Option<String>, Query, description = "Queued before (RFC 3339)"),
        ("cursor" = Option<String>, Query, description = "nextCursor of the previous page"),
        ("limit" = Option<i64>, Query, description = "1..200, default 50"),
        ("sort" = Option<String>, Query, description = "asc or desc by queue time (default desc)"),
    ),
    responses((status = 200, body = ExecutionPage), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    Scoped(state): Scoped,
    params: QueryParams,
) -> Result<Json<ExecutionPage>, ApiError> {
    let namespace = params.text("namespace");
    state.scope.check_filter(namespace)?;
    let statuses = params.one_of_list("status", RUN_STATUSES)?;
    let triggers = params.one_of_list("trigger", TRIGGERS)?;
    let from = params.time("from")?;
    let to = params.time("to")?;
    check_range(from, to)?;
    let limit = params.limit()?;
    let sort = params.sort()?;
    let cursor = params.text("cursor").map(Cursor::decode).transpose()?;

    let mut sql = QueryBuilder::<Postgres>::new(format!(
        "SELECT {EXECUTION_COLUMNS} FROM executions.runs WHERE TRUE"
    ));
    if let Some(allowed) = state.scope.sql() {
        sql.push(" AND namespace = ANY(")
            .push_bind(allowed)
            .push(")");
    }
    if let Some(namespace) = namespace {
        sql.push(" AND namespace = ")
            .push_bind(namespace.to_string());
    }
    if let Some(flow) = params.text("flow") {
        sql.push(" AND flow_name = ").push_bind(flow.to_string());
    }
    if let Some(environment) = params.text("environment") {
        sql.push(" AND environment = ")
            .push_bind(environment.to_string());
    }
    if let Some(statuses) = statuses {
        sql.push(" AND status = ANY(").push_bind(statuses).push(")");
    }
    if let Some(triggers) = triggers {
        sql.push(" AND trigger = ANY(")
            .push_bind(triggers)
            .push(")");
    }
    if let Some(from) = from {
        sql.push(" AND queued_at >= ").push_bind(from);
    }
    if let Some(to) = to {
        sql.push(" AND queued_at < ").push_bind(to);
    }
    let (after, order) = match sort {
        SortOrder::Desc => ("<", "DESC"),
        SortOrder::Asc => (">", "ASC"),
    };
    if let Some(cursor) = &cursor {
        // Written out rather than as a row comparison so that the queued_at indexes bound it.
        sql.push(format!(" AND queued_at {after}= "))
            .push_bind(cursor.queued_at)
            .push(format!(" AND (queued_at {after} "))
            .push_bind(cursor.queued_at)
            .push(format!(" OR run_id {after} "))
            .push_bind(cursor.run_id.clone())
            .push(")");
    }
    sql.push(format!(
        " ORDER BY queued_at {order}, run_id {order} LIMIT "
    ))
    .push_bind(limit + 1);

    let mut items: Vec<Execution> = sql
        .build_query_as()
        .fetch_all(state.store.pool())
        .await
        .map_err(ApiError::query("list executions"))?;
    let more = items.len() as i64 > limit;
    items.truncate(limit as usize);
    let next_cursor = more.then(|| items.last()).flatten().map(|last| {
        Cursor {
            queued_at: last.queued_at,
            run_id: last.run_id.clone(),
        }
        .encode()
    });
    Ok(Json(ExecutionPage { items, next_cursor }))
}

#[utoipa::path(get, path = "/api/v1/executions/{runId}", tag = "executions",
    params(("runId" = String, Path, description = "The run id")),
    responses((status = 200, body = ExecutionDetail), (status = 404, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn get(
    Scoped(state): Scoped,
    Path(run_id): Path<String>,
) -> Result<Json<ExecutionDetail>, ApiError> {
    let execution = find(&state, &run_id).await?;
    let steps = steps_of(&state, &run_id).await?;
    Ok(Json(ExecutionDetail { execution, steps }))
}

/// The run `run_id`: a 404 when it does not exist, a 403 naming its namespace when that lies
/// outside the scope.
pub async fn find(state: &AppState, run_id: &str) -> Result<Execution, ApiError> {
    let execution: Option<Execution> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {EXECUTION_COLUMNS} FROM executions.runs WHERE run_id = $1"
    )))
    .bind(run_id)
    .fetch_optional(state.store.pool())
    .await
    .map_err(ApiError::query("read an execution"))?;
    let execution =
        execution.ok_or_else(|| ApiError::not_found(format!("execution {run_id:?}")))?;
    state.scope.check(&execution.namespace)?;
    Ok(execution)
}

/// Every attempt of every step of a run, in order.
pub async fn steps_of(state: &AppState, run_id: &str) -> Result<Vec<ExecutionStep>, ApiError> {
    sqlx::query_as(
        "SELECT step_index, step_id, name, action, phase, status, attempt, started_at, \
         duration_ms, COALESCE(assertions, '[]'::jsonb) AS assertions, \
         COALESCE(captured, '{}'::jsonb) AS captured, request, response, error \
         FROM executions.steps WHERE run_id = $1 ORDER BY step_index, attempt",
    )
    .bind(run_id)
    .fetch_all(state.store.pool())
    .await
    .map_err(ApiError::query("read the steps of an execution"))
}
