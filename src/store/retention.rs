//! Retention: runs (with their steps, by cascade) queued more than N days ago are deleted, and
//! on the plain path the metrics rows too (TimescaleDB's own policy drops old metrics chunks),
//! and on both paths the trend and flip rollup buckets that ended before the cutoff.
//! The executors run it periodically; a try-lock lets one of them do it at a time.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use super::Store;
use super::error::StoreError;
use super::timescale::StorageMode;

/// Rows are deleted in chunks of this many, so that no statement holds locks for long.
const CHUNK: i64 = 5_000;

/// The advisory lock key of the retention job.
const RETENTION_LOCK: i64 = 0x7465_7374_6d72_6574;

/// What a retention pass deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionOutcome {
    pub runs: u64,
    pub metrics: u64,
}

/// The periodic retention job.
#[derive(Debug, Clone)]
pub struct Retention {
    pub store: Store,
    pub mode: StorageMode,
    pub every: Duration,
}

impl Retention {
    /// Runs a pass now and then every `every`, until `stop` is cancelled.
    pub async fn run(self, stop: tokio_util::sync::CancellationToken) {
        loop {
            let days = i64::from(self.store.options.retention_days);
            let cutoff = Utc::now() - chrono::Duration::days(days);
            match self.store.delete_older_than(cutoff, self.mode).await {
                Ok(deleted) if deleted != RetentionOutcome::default() => {
                    tracing::info!(runs = deleted.runs, metrics = deleted.metrics, %cutoff, "retention deleted old rows");
                }
                Ok(_) => {}
                Err(err) => {
                    tracing::warn!(error = %err, "retention pass failed; trying again later")
                }
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(self.every) => {}
            }
        }
    }
}

impl Store {
    /// Deletes runs queued before `cutoff` (steps go with them) and, on the plain path, metrics
    /// rows before it. Does nothing when another role holds the retention lock.
    pub async fn delete_older_than(
        &self,
        cutoff: DateTime<Utc>,
        mode: StorageMode,
    ) -> Result<RetentionOutcome, StoreError> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(|source| StoreError::Connect { source })?;
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(RETENTION_LOCK)
            .fetch_one(&mut *conn)
            .await
            .map_err(StoreError::query("take the retention lock"))?;
        if !locked {
            return Ok(RetentionOutcome::default());
        }
        let outcome = delete_in_chunks(&mut conn, cutoff, mode).await;
        let unlock = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(RETENTION_LOCK)
            .execute(&mut *conn)
            .await;
        let outcome = outcome?;
        unlock.map_err(StoreError::query("release the retention lock"))?;
        Ok(outcome)
    }
}

async fn delete_in_chunks(
    conn: &mut sqlx::PgConnection,
    cutoff: DateTime<Utc>,
    mode: StorageMode,
) -> Result<RetentionOutcome, StoreError> {
    let mut outcome = RetentionOutcome::default();
    loop {
        let done = sqlx::query(
            "DELETE FROM executions.runs WHERE run_id IN (SELECT run_id FROM executions.runs \
             WHERE queued_at < $1 LIMIT $2)",
        )
        .bind(cutoff)
        .bind(CHUNK)
        .execute(&mut *conn)
        .await
        .map_err(StoreError::query("delete old runs"))?;
        outcome.runs += done.rows_affected();
        if done.rows_affected() < CHUNK as u64 {
            break;
        }
    }
    if mode == StorageMode::Plain {
        loop {
            let done = sqlx::query(
                "DELETE FROM metrics.run_metrics WHERE ctid IN (SELECT ctid FROM \
                 metrics.run_metrics WHERE time < $1 LIMIT $2)",
            )
            .bind(cutoff)
            .bind(CHUNK)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::query("delete old metrics rows"))?;
            outcome.metrics += done.rows_affected();
            if done.rows_affected() < CHUNK as u64 {
                break;
            }
        }
    }
    for table in [
        "metrics.flow_rollup",
        "metrics.namespace_rollup",
        "metrics.all_rollup",
        "metrics.flow_flips",
    ] {
        sqlx::query(AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE bucket + CASE grain WHEN 'hour' THEN interval '1 hour' \
             ELSE interval '1 day' END <= $1"
        )))
        .bind(cutoff)
        .execute(&mut *conn)
        .await
        .map_err(StoreError::query("delete old trend rollups"))?;
    }
    Ok(outcome)
}
