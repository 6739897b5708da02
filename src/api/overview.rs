//! `GET /overview`: the morning view — runs and pass rate of the last 24 hours, flows whose
//! latest finished run did not pass, the latest runs, and the flaky flows of the last 7 days.
//! Draft runs from the flow editor count in the latest runs only.

use axum::Json;
use chrono::Duration;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::executions::{EXECUTION_COLUMNS, Execution};
use super::flaky::{FlakyFlow, flaky_flows};
use super::scope::Scoped;

/// How many recent runs the overview lists.
const RECENT: i64 = 10;

/// A flow whose latest finished run failed, errored or timed out.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FailingFlow {
    pub namespace: String,
    pub name: String,
    pub last_run: Execution,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Overview {
    /// Runs queued in the last 24 hours.
    #[serde(rename = "runs24h")]
    pub runs_24h: i64,
    /// Passed over finished runs of the last 24 hours; null when none finished.
    #[serde(rename = "passRate24h")]
    pub pass_rate_24h: Option<f64>,
    pub failing_flows: Vec<FailingFlow>,
    pub recent_runs: Vec<Execution>,
    pub flaky_flows: Vec<FlakyFlow>,
}

#[utoipa::path(get, path = "/api/v1/overview", tag = "overview",
    responses((status = 200, body = Overview), (status = 401, body = ErrorBody)))]
pub async fn get(Scoped(state): Scoped) -> Result<Json<Overview>, ApiError> {
    let scope = state.scope.sql();
    let pool = state.store.pool();
    let (runs_24h, pass_rate_24h): (i64, Option<f64>) = sqlx::query_as(
        "SELECT count(*), (avg(CASE WHEN status = 'passed' THEN 1.0 ELSE 0.0 END) \
           FILTER (WHERE status NOT IN ('queued', 'running')))::float8 \
         FROM executions.runs WHERE queued_at >= now() - interval '24 hours' AND NOT draft \
           AND ($1::text[] IS NULL OR namespace = ANY($1))",
    )
    .bind(&scope)
    .fetch_one(pool)
    .await
    .map_err(ApiError::query("count the runs of the last day"))?;
    let failing: Vec<Execution> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT * FROM (SELECT DISTINCT ON (namespace, flow_name) {EXECUTION_COLUMNS} \
           FROM executions.runs WHERE status NOT IN ('queued', 'running', 'cancelled') \
             AND NOT draft AND ($1::text[] IS NULL OR namespace = ANY($1)) \
           ORDER BY namespace, flow_name, queued_at DESC, run_id DESC) latest \
         WHERE status IN ('failed', 'error', 'timed_out') ORDER BY queued_at DESC"
    )))
    .bind(&scope)
    .fetch_all(pool)
    .await
    .map_err(ApiError::query("find failing flows"))?;
    let recent_runs: Vec<Execution> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {EXECUTION_COLUMNS} FROM executions.runs \
         WHERE ($1::text[] IS NULL OR namespace = ANY($1)) \
         ORDER BY queued_at DESC, run_id DESC LIMIT $2"
    )))
    .bind(&scope)
    .bind(RECENT)
    .fetch_all(pool)
    .await
    .map_err(ApiError::query("list recent runs"))?;
    let flaky = flaky_flows(&state, None, Duration::days(7)).await?;
    Ok(Json(Overview {
        runs_24h,
        pass_rate_24h,
        failing_flows: failing
            .into_iter()
            .map(|run| FailingFlow {
                namespace: run.namespace.clone(),
                name: run.flow_name.clone(),
                last_run: run,
            })
            .collect(),
        recent_runs,
        flaky_flows: flaky,
    }))
}
