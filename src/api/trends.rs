//! `GET /trends`: pass rate and duration p50/p95 per hour or day of finished runs, read from the
//! rollups the store keeps as runs finish (`metrics.flow_rollup` when a flow is named,
//! `metrics.namespace_rollup` when namespaces are, by the filter or the API's scope, and
//! `metrics.all_rollup` otherwise; see migrations/0003_trend_rollups.sql and
//! 0006_all_flows_rollup.sql). Their duration
//! histograms merge across hours, flows and namespaces, which exact percentiles cannot (so
//! `metrics.flow_hourly` serves one flow by the hour only, and on the plain path it is a view over
//! every row): a month of all flows reads a few thousand rows. Run counts and pass rates are
//! exact; p50 and p95 are within 2 % of percentile_cont over the runs.

use axum::Json;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sqlx::{Postgres, QueryBuilder};
use utoipa::ToSchema;

use super::app::AppState;
use super::error::{ApiError, ErrorBody};
use super::params::{Bucket, QueryParams, check_range};
use super::scope::Scope;
use super::scope::Scoped;

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
pub async fn get(Scoped(state): Scoped, params: QueryParams) -> Result<Json<Trends>, ApiError> {
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

/// The buckets of `query`, oldest first; empty buckets are left out. Buckets are whole: the
/// first one starts at `from` truncated to the hour or day.
pub async fn trend(state: &AppState, query: &TrendQuery<'_>) -> Result<Vec<TrendBucket>, ApiError> {
    let mut sql = rollup_query(query, &state.scope);
    sql.build_query_as()
        .fetch_all(state.store.pool())
        .await
        .map_err(ApiError::query("compute a trend"))
}

/// Percentiles interpolate between neighbouring ranks as percentile_cont does, each rank read
/// from its histogram bin: the values are within the histogram's 2 % of the exact ones.
fn rollup_query(query: &TrendQuery<'_>, scope: &Scope) -> QueryBuilder<Postgres> {
    let allowed = scope.sql();
    let table = match (query.flow, query.namespace, &allowed) {
        (Some(_), ..) => "metrics.flow_rollup",
        (None, Some(_), _) | (None, None, Some(_)) => "metrics.namespace_rollup",
        (None, None, None) => "metrics.all_rollup",
    };
    let mut sql = QueryBuilder::new(
        "WITH merged AS (SELECT bucket, bin, sum(runs) AS runs, sum(passed) AS passed FROM ",
    );
    sql.push(table).push(" WHERE grain = ");
    sql.push_bind(query.bucket.unit())
        .push(" AND bucket >= date_trunc(")
        .push_bind(query.bucket.unit())
        .push(", ")
        .push_bind(query.from)
        .push(", 'UTC') AND bucket < ")
        .push_bind(query.to);
    if let Some(flow) = query.flow {
        sql.push(" AND flow_name = ").push_bind(flow.to_string());
    }
    if let Some(namespace) = query.namespace {
        sql.push(" AND namespace = ")
            .push_bind(namespace.to_string());
    }
    if let Some(allowed) = allowed {
        sql.push(" AND namespace = ANY(")
            .push_bind(allowed)
            .push(")");
    }
    sql.push(
        " GROUP BY bucket, bin), \
         ranked AS (SELECT bucket, bin, passed, \
           sum(runs) OVER (PARTITION BY bucket ORDER BY bin) AS up_to, \
           sum(runs) OVER (PARTITION BY bucket) AS total FROM merged), \
         ranks AS (SELECT bucket AS start, total, sum(passed) AS passed, \
           metrics.bin_duration(min(bin) FILTER (WHERE up_to > floor(0.5 * (total - 1)))) AS p50_low, \
           metrics.bin_duration(min(bin) FILTER (WHERE up_to > ceil(0.5 * (total - 1)))) AS p50_high, \
           metrics.bin_duration(min(bin) FILTER (WHERE up_to > floor(0.95 * (total - 1)))) AS p95_low, \
           metrics.bin_duration(min(bin) FILTER (WHERE up_to > ceil(0.95 * (total - 1)))) AS p95_high \
           FROM ranked GROUP BY bucket, total) \
         SELECT start, total::int8 AS runs, (passed::float8 / total::float8) AS pass_rate, \
           p50_low + (0.5 * (total - 1) - floor(0.5 * (total - 1)))::float8 * (p50_high - p50_low) AS p50_ms, \
           p95_low + (0.95 * (total - 1) - floor(0.95 * (total - 1)))::float8 * (p95_high - p95_low) AS p95_ms \
         FROM ranks ORDER BY start",
    );
    sql
}
