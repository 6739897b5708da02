//! The storage path: TimescaleDB when the extension can be created (the metrics table becomes a
//! hypertable with a retention policy and an hourly continuous aggregate), plain PostgreSQL
//! otherwise (BRIN index on time, a view with the same hourly shape, retention by our own job).
//! Both paths expose `metrics.flow_hourly` with the same columns, so readers need not care.

use serde::Serialize;
use sqlx::{AssertSqlSafe, PgConnection};

use super::error::StoreError;

/// Which path the store uses; logged at start and shown by `/readyz`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageMode {
    Timescale,
    Plain,
}

impl StorageMode {
    pub fn as_str(self) -> &'static str {
        match self {
            StorageMode::Timescale => "timescaledb",
            StorageMode::Plain => "plain",
        }
    }
}

/// The hourly aggregate's query, built from constants only, (pass rate and duration percentiles per flow), bucketing with
/// `bucket`.
fn hourly_select(bucket: &str) -> String {
    format!(
        "SELECT {bucket} AS bucket, namespace, flow_name, count(*) AS runs, \
         avg(CASE WHEN status = 'passed' THEN 1.0 ELSE 0.0 END) AS pass_rate, \
         percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS p50_ms, \
         percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95_ms \
         FROM metrics.run_metrics GROUP BY 1, 2, 3"
    )
}

/// Tries TimescaleDB, falls back to plain tables; idempotent.
pub async fn set_up(
    conn: &mut PgConnection,
    retention_days: u32,
) -> Result<StorageMode, StoreError> {
    match sqlx::query("CREATE EXTENSION IF NOT EXISTS timescaledb")
        .execute(&mut *conn)
        .await
    {
        Ok(_) => {
            set_up_timescale(conn, retention_days).await?;
            Ok(StorageMode::Timescale)
        }
        Err(err) => {
            tracing::info!(reason = %err, "TimescaleDB is not available: plain tables with BRIN indexes and a retention job");
            set_up_plain(conn).await?;
            Ok(StorageMode::Plain)
        }
    }
}

async fn set_up_plain(conn: &mut PgConnection) -> Result<(), StoreError> {
    let view = hourly_select("date_trunc('hour', time)");
    sqlx::query(AssertSqlSafe(format!(
        "CREATE OR REPLACE VIEW metrics.flow_hourly AS {view}"
    )))
    .execute(&mut *conn)
    .await
    .map_err(StoreError::query("create the metrics.flow_hourly view"))?;
    Ok(())
}

async fn set_up_timescale(conn: &mut PgConnection, retention_days: u32) -> Result<(), StoreError> {
    sqlx::query(
        "SELECT create_hypertable('metrics.run_metrics', 'time', \
         if_not_exists => TRUE, migrate_data => TRUE)",
    )
    .execute(&mut *conn)
    .await
    .map_err(StoreError::query("make metrics.run_metrics a hypertable"))?;
    sqlx::query("SELECT remove_retention_policy('metrics.run_metrics', if_exists => TRUE)")
        .execute(&mut *conn)
        .await
        .map_err(StoreError::query("replace the metrics retention policy"))?;
    sqlx::query("SELECT add_retention_policy('metrics.run_metrics', make_interval(days => $1))")
        .bind(i32::try_from(retention_days).unwrap_or(i32::MAX))
        .execute(&mut *conn)
        .await
        .map_err(StoreError::query("add the metrics retention policy"))?;
    let is_aggregate: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM timescaledb_information.continuous_aggregates \
         WHERE view_schema = 'metrics' AND view_name = 'flow_hourly')",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(StoreError::query("look for the continuous aggregate"))?;
    if is_aggregate {
        return Ok(());
    }
    sqlx::query("DROP VIEW IF EXISTS metrics.flow_hourly")
        .execute(&mut *conn)
        .await
        .map_err(StoreError::query("drop the plain metrics.flow_hourly view"))?;
    sqlx::query(AssertSqlSafe(format!(
        "CREATE MATERIALIZED VIEW metrics.flow_hourly WITH (timescaledb.continuous) AS \
         {} WITH NO DATA",
        hourly_select("time_bucket(INTERVAL '1 hour', time)")
    )))
    .execute(&mut *conn)
    .await
    .map_err(StoreError::query(
        "create the metrics.flow_hourly continuous aggregate",
    ))?;
    sqlx::query(
        "SELECT add_continuous_aggregate_policy('metrics.flow_hourly', \
         start_offset => INTERVAL '3 hours', end_offset => INTERVAL '1 hour', \
         schedule_interval => INTERVAL '30 minutes', if_not_exists => TRUE)",
    )
    .execute(&mut *conn)
    .await
    .map_err(StoreError::query("add the continuous aggregate policy"))?;
    Ok(())
}
