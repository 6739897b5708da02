//! `GET /flows` and `GET /flows/{namespace}/{name}`: flow definitions from the catalog, each
//! with its last run and pass rate from the store; the detail adds the spec, the run history
//! and a daily trend.

use std::collections::HashMap;

use axum::Json;
use axum::extract::Path;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::app::AppState;
use super::catalog::{CatalogFlow, FlowCondition};
use super::error::{ApiError, ErrorBody};
use super::params::{Bucket, QueryParams};
use super::scope::Scoped;
use super::trends::{TrendBucket, TrendQuery, default_span, trend};
use crate::resources::common::READY;

/// How many runs the history of a flow shows.
const HISTORY: i64 = 20;

/// A run in a list of runs.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct RunSummary {
    pub run_id: String,
    pub status: String,
    pub started_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
}

/// A flow with its last run and pass rate (over its finished runs).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FlowListItem {
    pub namespace: String,
    pub name: String,
    /// The spec's name, which people read.
    pub display_name: String,
    pub tags: Vec<String>,
    pub last_run: Option<RunSummary>,
    pub pass_rate: Option<f64>,
    /// Finished runs.
    pub runs: i64,
    /// False when the operator found the flow invalid or not runnable (its `Ready` condition
    /// is False); None when only the store knows the flow.
    pub ready: Option<bool>,
    /// Why it is not ready: the validator's findings, each naming its step and field.
    pub not_ready_reason: Option<String>,
    /// The TestFlow's status conditions.
    pub conditions: Vec<FlowCondition>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FlowList {
    pub items: Vec<FlowListItem>,
}

/// A flow with its definition, history and trend.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlowDetail {
    #[serde(flatten)]
    pub flow: FlowListItem,
    /// The FlowSpec (camelCase), as the latest run had it.
    #[schema(value_type = Object)]
    pub spec: Value,
    /// The latest runs, newest first.
    pub history: Vec<RunSummary>,
    /// Daily buckets over the last 30 days.
    pub trend: Vec<TrendBucket>,
}

/// Run statistics of one flow.
#[derive(Debug, Default, Clone)]
struct FlowStats {
    last_run: Option<RunSummary>,
    pass_rate: Option<f64>,
    runs: i64,
}

type StatsRow = (
    String,
    String,
    i64,
    Option<f64>,
    Option<String>,
    Option<String>,
    Option<DateTime<Utc>>,
    Option<i64>,
);

/// Statistics of every flow in scope, or of one flow.
async fn stats(
    state: &AppState,
    only: Option<(&str, &str)>,
) -> Result<HashMap<(String, String), FlowStats>, ApiError> {
    let rows: Vec<StatsRow> = sqlx::query_as(
        "WITH scoped AS (SELECT * FROM executions.runs \
           WHERE ($1::text[] IS NULL OR namespace = ANY($1)) \
             AND ($2::text IS NULL OR (namespace = $2 AND flow_name = $3))), \
         totals AS (SELECT namespace, flow_name, \
             count(*) FILTER (WHERE status NOT IN ('queued', 'running')) AS runs, \
             (avg(CASE WHEN status = 'passed' THEN 1.0 ELSE 0.0 END) \
               FILTER (WHERE status NOT IN ('queued', 'running')))::float8 AS pass_rate \
           FROM scoped GROUP BY 1, 2), \
         latest AS (SELECT DISTINCT ON (namespace, flow_name) namespace, flow_name, run_id, \
             status, started_at, duration_ms FROM scoped \
           ORDER BY namespace, flow_name, queued_at DESC, run_id DESC) \
         SELECT t.namespace, t.flow_name, t.runs, t.pass_rate, l.run_id, l.status, \
           l.started_at, l.duration_ms \
         FROM totals t LEFT JOIN latest l USING (namespace, flow_name)",
    )
    .bind(state.scope.sql())
    .bind(only.map(|(ns, _)| ns))
    .bind(only.map(|(_, name)| name))
    .fetch_all(state.store.pool())
    .await
    .map_err(ApiError::query("read flow statistics"))?;
    Ok(rows
        .into_iter()
        .map(
            |(ns, name, runs, pass_rate, run_id, status, started_at, duration_ms)| {
                let last_run = run_id.zip(status).map(|(run_id, status)| RunSummary {
                    run_id,
                    status,
                    started_at,
                    duration_ms,
                });
                (
                    (ns, name),
                    FlowStats {
                        last_run,
                        pass_rate,
                        runs,
                    },
                )
            },
        )
        .collect())
}

fn list_item(flow: &CatalogFlow, stats: FlowStats) -> FlowListItem {
    let display_name = flow
        .spec
        .get("name")
        .and_then(Value::as_str)
        .filter(|name| !name.is_empty())
        .unwrap_or(&flow.name)
        .to_string();
    let tags = flow
        .spec
        .get("tags")
        .and_then(Value::as_array)
        .map(|tags| {
            tags.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let ready = flow.conditions.iter().find(|c| c.type_ == READY);
    FlowListItem {
        namespace: flow.namespace.clone(),
        name: flow.name.clone(),
        display_name,
        tags,
        last_run: stats.last_run,
        pass_rate: stats.pass_rate,
        runs: stats.runs,
        ready: ready.map(|c| c.status == "True"),
        not_ready_reason: ready
            .filter(|c| c.status != "True")
            .map(|c| c.message.clone()),
        conditions: flow.conditions.clone(),
    }
}

#[utoipa::path(get, path = "/api/v1/flows", tag = "flows",
    params(
        ("namespace" = Option<String>, Query, description = "Only this namespace"),
        ("tag" = Option<String>, Query, description = "Only flows with this tag"),
        ("q" = Option<String>, Query, description = "Text in the name or display name"),
    ),
    responses((status = 200, body = FlowList), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn list(Scoped(state): Scoped, params: QueryParams) -> Result<Json<FlowList>, ApiError> {
    let namespace = params.text("namespace");
    state.scope.check_filter(namespace)?;
    let tag = params.text("tag");
    let needle = params.text("q").map(str::to_lowercase);
    let flows = state.catalog.flows(&state.scope).await?;
    let mut stats = stats(&state, None).await?;
    let items = flows
        .iter()
        .filter(|flow| state.scope.allows(&flow.namespace))
        .filter(|flow| namespace.is_none_or(|ns| flow.namespace == ns))
        .map(|flow| {
            let key = (flow.namespace.clone(), flow.name.clone());
            list_item(flow, stats.remove(&key).unwrap_or_default())
        })
        .filter(|item| tag.is_none_or(|tag| item.tags.iter().any(|t| t == tag)))
        .filter(|item| {
            needle.as_deref().is_none_or(|needle| {
                item.name.to_lowercase().contains(needle)
                    || item.display_name.to_lowercase().contains(needle)
            })
        })
        .collect();
    Ok(Json(FlowList { items }))
}

#[utoipa::path(get, path = "/api/v1/flows/{namespace}/{name}", tag = "flows",
    params(("namespace" = String, Path), ("name" = String, Path)),
    responses((status = 200, body = FlowDetail), (status = 404, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn get(
    Scoped(state): Scoped,
    Path((namespace, name)): Path<(String, String)>,
) -> Result<Json<FlowDetail>, ApiError> {
    state.scope.check(&namespace)?;
    let not_found = || ApiError::not_found(format!("flow {namespace}/{name}"));
    let flow = state
        .catalog
        .flow(&namespace, &name)
        .await?
        .ok_or_else(not_found)?;
    let flow_stats = stats(&state, Some((&namespace, &name)))
        .await?
        .remove(&(namespace.clone(), name.clone()))
        .unwrap_or_default();
    let history: Vec<RunSummary> = sqlx::query_as(
        "SELECT run_id, status, started_at, duration_ms FROM executions.runs \
         WHERE namespace = $1 AND flow_name = $2 ORDER BY queued_at DESC, run_id DESC LIMIT $3",
    )
    .bind(&namespace)
    .bind(&name)
    .bind(HISTORY)
    .fetch_all(state.store.pool())
    .await
    .map_err(ApiError::query("read the history of a flow"))?;
    let to = Utc::now();
    let trend = trend(
        &state,
        &TrendQuery {
            namespace: Some(&namespace),
            flow: Some(&name),
            bucket: Bucket::Day,
            from: to - default_span(Bucket::Day),
            to,
        },
    )
    .await?;
    Ok(Json(FlowDetail {
        flow: list_item(&flow, flow_stats),
        spec: flow.spec,
        history,
        trend,
    }))
}
