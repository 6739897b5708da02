//! `GET /trends`: pass rate and duration p50/p95 per hour or day, from `metrics.run_metrics`
//! (finished runs). For one flow by the hour it reads the hourly aggregate
//! `metrics.flow_hourly` — TimescaleDB's continuous aggregate when the store runs on it, a view
//! otherwise — since its rows are exactly those buckets. Percentiles cannot be combined across
//! hours or flows, so every other shape is computed from the rows with percentile_cont.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sqlx::{Postgres, QueryBuilder};
use utoipa::ToSchema;

use super::app::AppState;
use super::error::{ApiError, ErrorBody};
use super::params::{Bucket, QueryParams, check_range};
use super::scope::Scope;

/// The most buckets one answer holds.
const MAX_BUCKETS: i64 = 2_000;

/// Runs that finished in one time bucket.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct TrendBucket {
    pub start: DateTime<Utc>,
    pub runs: i64,
    /// Passed runs over all runs, 0..1.
    pub pass_rate: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Trends {
    pub buckets: Vec<TrendBucket>,
}

/// What a trend covers.
#[derive(Debug, Clone)]
pub struct TrendQuery<'a> {
    pub namespace: Option<&'a str>,
    pub flow: Option<&'a str>,
    pub bucket: Bucket,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

#[utoipa::path(get, path = "/api/v1/trends", tag = "trends",
    params(
        ("namespace" = Option<String>, Query, description = "Only this namespace"),
        ("flow" = Option<String>, Query, description = "Only this flow name"),
        ("bucket" = Option<String>, Query, description = "hour or day (default day)"),
        ("from" = Option<String>, Query, description = "RFC 3339; default 48 hours or 30 days back"),
        ("to" = Option<String>, Query, description = "RFC 3339; default now"),
    ),
    responses((status = 200, body = Trends), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    params: QueryParams,
) -> Result<Json<Trends>, ApiError> {
    let namespace = params.text("namespace");
    state.scope.check_filter(namespace)?;
    let bucket = params.bucket()?;
    let to = params.time("to")?.unwrap_or_else(Utc::now);
    let from = params
        .time("from")?
        .unwrap_or_else(|| to - default_span(bucket));
    check_range(Some(from), Some(to))?;
    let width = match bucket {
        Bucket::Hour => Duration::hours(1),
        Bucket::Day => Duration::days(1),
    };
    if (to - from).num_seconds() / width.num_seconds() > MAX_BUCKETS {
        return Err(ApiError::bad(
            "from",
            format!(
                "the range holds more than {MAX_BUCKETS} {} buckets",
                bucket.unit()
            ),
        ));
    }
    let query = TrendQuery {
        namespace,
        flow: params.text("flow"),
        bucket,
        from,
        to,
    };
    let buckets = trend(&state, &query).await?;
    Ok(Json(Trends { buckets }))
}

/// How far back a trend reaches when `from` is not given.
pub fn default_span(bucket: Bucket) -> Duration {
    match bucket {
        Bucket::Hour => Duration::hours(48),
        Bucket::Day => Duration::days(30),
    }
}

/// The buckets of `query`, oldest first; empty buckets are left out.
pub async fn trend(state: &AppState, query: &TrendQuery<'_>) -> Result<Vec<TrendBucket>, ApiError> {
    let mut sql = match (query.bucket, query.namespace, query.flow) {
        (Bucket::Hour, Some(namespace), Some(flow)) => hourly_aggregate(namespace, flow, query),
        _ => from_rows(query, &state.scope),
    };
    sql.build_query_as()
        .fetch_all(state.store.pool())
        .await
        .map_err(ApiError::query("compute a trend"))
}

fn hourly_aggregate(namespace: &str, flow: &str, query: &TrendQuery<'_>) -> QueryBuilder<Postgres> {
    let mut sql = QueryBuilder::new(
        "SELECT bucket AS start, runs::int8 AS runs, pass_rate::float8 AS pass_rate, \
         p50_ms::float8 AS p50_ms, p95_ms::float8 AS p95_ms FROM metrics.flow_hourly \
         WHERE namespace = ",
    );
    sql.push_bind(namespace.to_string())
        .push(" AND flow_name = ")
        .push_bind(flow.to_string())
        .push(" AND bucket >= date_trunc('hour', ")
        .push_bind(query.from)
        .push(", 'UTC') AND bucket < ")
        .push_bind(query.to)
        .push(" ORDER BY bucket");
    sql
}

fn from_rows(query: &TrendQuery<'_>, scope: &Scope) -> QueryBuilder<Postgres> {
    let mut sql = QueryBuilder::new(format!(
        "SELECT date_trunc('{}', time, 'UTC') AS start, count(*) AS runs, \
         avg(CASE WHEN status = 'passed' THEN 1.0 ELSE 0.0 END)::float8 AS pass_rate, \
         percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS p50_ms, \
         percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95_ms \
         FROM metrics.run_metrics WHERE time >= ",
        query.bucket.unit()
    ));
    sql.push_bind(query.from)
        .push(" AND time < ")
        .push_bind(query.to);
    if let Some(allowed) = scope.sql() {
        sql.push(" AND namespace = ANY(")
            .push_bind(allowed)
            .push(")");
    }
    if let Some(namespace) = query.namespace {
        sql.push(" AND namespace = ")
            .push_bind(namespace.to_string());
    }
    if let Some(flow) = query.flow {
        sql.push(" AND flow_name = ").push_bind(flow.to_string());
    }
    sql.push(" GROUP BY 1 ORDER BY 1");
    sql
}
