//! The run lifecycle in `executions.runs`: queued (by the operator), running (by an executor,
//! counting attempts), finished (result, steps, metrics row and trend rollups in one
//! transaction), rejected (a poison message recorded as an error), or lost (the operator found
//! it gone from the queue, see src/operator/lost_runs.rs). Writes take batches: one statement
//! per batch.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::Store;
use super::error::StoreError;
use super::steps::StepRows;
use crate::engine::FlowResult;
use crate::queue::RunMessage;

/// Whether [`Store::insert_queued_run`] added the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueuedInsert {
    Inserted,
    /// A run with this id exists already; nothing changed.
    Duplicate,
}

/// A run an executor may now execute, as attempt `attempt` (1 for the first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedRun {
    pub run_id: String,
    pub attempt: i32,
}

/// The outcome of one attempt of a run.
#[derive(Debug, Clone)]
pub struct FinishedRun {
    pub run_id: String,
    pub attempt: i32,
    pub result: FlowResult,
}

/// What the store holds of a run: enough to tell where it is in its life, to enqueue it again
/// with the message it had, or to report its result.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RunRecord {
    pub run_id: String,
    pub namespace: String,
    pub flow_name: String,
    pub generation: i64,
    pub spec: Value,
    pub environment: Option<String>,
    pub trigger_detail: Option<Value>,
    /// queued, running, or how it ended (passed, failed, error, cancelled, timed_out).
    pub status: String,
    pub queued_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    pub passed_steps: Option<i32>,
    pub failed_steps: Option<i32>,
    pub error: Option<String>,
    pub executor_id: Option<String>,
    pub attempt: i32,
    pub start_deadline: Option<DateTime<Utc>>,
    pub timeout_seconds: Option<i64>,
    /// A draft run from the flow editor.
    pub draft: bool,
}

/// A message that cannot run, recorded so that the run does not stay queued.
#[derive(Debug, Clone)]
pub struct RejectedRun {
    pub run_id: String,
    pub namespace: String,
    pub flow_name: String,
    pub generation: i64,
    pub spec: Value,
    pub trigger: String,
    pub queued_at: DateTime<Utc>,
    pub error: String,
}

fn environment_of(run: &RunMessage) -> Option<String> {
    run.environment.as_ref().map(|env| env.name.clone())
}

fn trigger_detail(run: &RunMessage) -> String {
    serde_json::to_string(&run.trigger).unwrap_or_else(|_| "null".into())
}

fn spec_text(run: &RunMessage) -> String {
    serde_json::to_string(&run.spec).unwrap_or_else(|_| "{}".into())
}

impl Store {
    /// Adds a run in state `queued`; a second insert of the same run id changes nothing.
    pub async fn insert_queued_run(&self, run: &RunMessage) -> Result<QueuedInsert, StoreError> {
        let done = sqlx::query(
            "INSERT INTO executions.runs (run_id, namespace, flow_name, generation, spec, \
             environment, trigger, trigger_detail, status, queued_at, start_deadline, \
             timeout_seconds, draft) \
             VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8::jsonb, 'queued', $9, $10, $11, $12) \
             ON CONFLICT (run_id) DO NOTHING",
        )
        .bind(&run.run_id)
        .bind(&run.flow.namespace)
        .bind(&run.flow.name)
        .bind(run.flow.generation)
        .bind(spec_text(run))
        .bind(environment_of(run))
        .bind(run.trigger.kind.as_str())
        .bind(trigger_detail(run))
        .bind(run.enqueued_at)
        .bind(run.start_deadline)
        .bind(
            run.timeout_seconds
                .map(|s| i64::try_from(s).unwrap_or(i64::MAX)),
        )
        .bind(run.draft)
        .execute(&self.pool)
        .await
        .map_err(StoreError::query("insert a queued run"))?;
        Ok(if done.rows_affected() == 1 {
            QueuedInsert::Inserted
        } else {
            QueuedInsert::Duplicate
        })
    }

    /// Marks runs `running` on `executor_id`, adding the rows the operator did not insert.
    /// A run seen before that has not finished (its executor died) starts again as the next
    /// attempt. Runs that already finished are left out of the answer: they must not run again.
    pub async fn start_runs(
        &self,
        runs: &[&RunMessage],
        executor_id: &str,
        started_at: DateTime<Utc>,
    ) -> Result<Vec<StartedRun>, StoreError> {
        if runs.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<(String, i32)> = sqlx::query_as(
            "INSERT INTO executions.runs AS r (run_id, namespace, flow_name, generation, spec, \
             environment, trigger, trigger_detail, status, queued_at, started_at, executor_id, \
             attempt) \
             SELECT t.run_id, t.namespace, t.flow_name, t.generation, t.spec::jsonb, \
             t.environment, t.trigger, t.trigger_detail::jsonb, 'running', t.queued_at, $10, $11, 1 \
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int8[], $5::text[], $6::text[], \
             $7::text[], $8::text[], $9::timestamptz[]) \
             AS t(run_id, namespace, flow_name, generation, spec, environment, trigger, \
             trigger_detail, queued_at) \
             ON CONFLICT (run_id) DO UPDATE SET status = 'running', \
             started_at = EXCLUDED.started_at, executor_id = EXCLUDED.executor_id, \
             attempt = r.attempt + 1 \
             WHERE r.status IN ('queued', 'running') \
             RETURNING r.run_id, r.attempt",
        )
        .bind(runs.iter().map(|r| r.run_id.clone()).collect::<Vec<_>>())
        .bind(runs.iter().map(|r| r.flow.namespace.clone()).collect::<Vec<_>>())
        .bind(runs.iter().map(|r| r.flow.name.clone()).collect::<Vec<_>>())
        .bind(runs.iter().map(|r| r.flow.generation).collect::<Vec<_>>())
        .bind(runs.iter().map(|r| spec_text(r)).collect::<Vec<_>>())
        .bind(runs.iter().map(|r| environment_of(r)).collect::<Vec<_>>())
        .bind(runs.iter().map(|r| r.trigger.kind.as_str()).collect::<Vec<_>>())
        .bind(runs.iter().map(|r| trigger_detail(r)).collect::<Vec<_>>())
        .bind(runs.iter().map(|r| r.enqueued_at).collect::<Vec<_>>())
        .bind(started_at)
        .bind(executor_id)
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::query("mark runs running"))?;
        Ok(rows
            .into_iter()
            .map(|(run_id, attempt)| StartedRun { run_id, attempt })
            .collect())
    }

    /// Records finished runs, their steps and their metrics rows in one transaction. Only a
    /// run still `running` at the same attempt is recorded (a run another executor took over is
    /// not); the answer lists the run ids that were.
    pub async fn finish_runs(&self, runs: &[FinishedRun]) -> Result<Vec<String>, StoreError> {
        if runs.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(StoreError::query("begin recording results"))?;
        let accepted: Vec<(String, String, String, Option<String>, bool)> = sqlx::query_as(
            "UPDATE executions.runs AS r SET status = t.status, started_at = t.started_at, \
             finished_at = t.finished_at, duration_ms = t.duration_ms, \
             passed_steps = t.passed, failed_steps = t.failed, skipped_steps = t.skipped, \
             error = t.error \
             FROM UNNEST($1::text[], $2::int4[], $3::text[], $4::timestamptz[], \
             $5::timestamptz[], $6::int8[], $7::int4[], $8::int4[], $9::int4[], $10::text[]) \
             AS t(run_id, attempt, status, started_at, finished_at, duration_ms, passed, failed, \
             skipped, error) \
             WHERE r.run_id = t.run_id AND r.attempt = t.attempt AND r.status = 'running' \
             RETURNING r.run_id, r.namespace, r.flow_name, r.environment, r.draft",
        )
        .bind(runs.iter().map(|r| r.run_id.clone()).collect::<Vec<_>>())
        .bind(runs.iter().map(|r| r.attempt).collect::<Vec<_>>())
        .bind(
            runs.iter()
                .map(|r| r.result.status.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(runs.iter().map(|r| r.result.started_at).collect::<Vec<_>>())
        .bind(
            runs.iter()
                .map(|r| r.result.finished_at)
                .collect::<Vec<_>>(),
        )
        .bind(
            runs.iter()
                .map(|r| millis(r.result.duration_ms))
                .collect::<Vec<_>>(),
        )
        .bind(counts(runs, |c| c.passed))
        .bind(counts(runs, |c| c.failed + c.errored))
        .bind(counts(runs, |c| c.skipped))
        .bind(
            runs.iter()
                .map(|r| r.result.error.clone())
                .collect::<Vec<_>>(),
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(StoreError::query("record run results"))?;

        let mut steps = StepRows::default();
        let mut metrics = MetricRows::default();
        for (run_id, namespace, flow_name, environment, draft) in &accepted {
            let Some(run) = runs.iter().find(|r| &r.run_id == run_id) else {
                continue;
            };
            steps.add(run_id, &run.result, self.options.max_payload_bytes);
            // A draft from the editor is no flow's history: it stays out of trends and flakiness.
            if !draft {
                metrics.add(namespace, flow_name, environment.clone(), &run.result);
            }
        }
        steps.insert(&mut tx).await?;
        metrics.insert(&mut tx).await?;
        tx.commit()
            .await
            .map_err(StoreError::query("commit run results"))?;
        Ok(accepted.into_iter().map(|(run_id, ..)| run_id).collect())
    }

    /// Records a run that cannot be executed as `error`, unless it already finished.
    pub async fn reject_run(&self, run: &RejectedRun) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO executions.runs AS r (run_id, namespace, flow_name, generation, spec, \
             trigger, status, queued_at, finished_at, error) \
             VALUES ($1, $2, $3, $4, $5, $6, 'error', $7, now(), $8) \
             ON CONFLICT (run_id) DO UPDATE SET status = 'error', finished_at = now(), \
             error = EXCLUDED.error WHERE r.status IN ('queued', 'running')",
        )
        .bind(&run.run_id)
        .bind(&run.namespace)
        .bind(&run.flow_name)
        .bind(run.generation)
        .bind(&run.spec)
        .bind(&run.trigger)
        .bind(run.queued_at)
        .bind(&run.error)
        .execute(&self.pool)
        .await
        .map_err(StoreError::query("record a rejected run"))?;
        Ok(())
    }
}

impl Store {
    /// The records of `run_ids` that exist, in one statement.
    pub async fn run_records(&self, run_ids: &[String]) -> Result<Vec<RunRecord>, StoreError> {
        if run_ids.is_empty() {
            return Ok(Vec::new());
        }
        sqlx::query_as(
            "SELECT run_id, namespace, flow_name, generation, spec, environment, trigger_detail, \
             status, queued_at, started_at, finished_at, duration_ms, passed_steps, \
             failed_steps, error, executor_id, attempt, start_deadline, timeout_seconds, draft \
             FROM executions.runs WHERE run_id = ANY($1)",
        )
        .bind(run_ids)
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::query("read runs"))
    }

    /// Ends a run the queue lost as `error` with `reason`, only if it is still as `seen` (same
    /// status and attempt): a run an executor finished or took over meanwhile is left alone,
    /// and a second call changes nothing. Answers whether this call ended it.
    pub async fn end_lost_run(
        &self,
        seen: &RunRecord,
        finished_at: DateTime<Utc>,
        reason: &str,
    ) -> Result<bool, StoreError> {
        let ended = sqlx::query(
            "UPDATE executions.runs SET status = 'error', finished_at = $2, error = $3, \
             duration_ms = CASE WHEN started_at IS NULL THEN NULL \
               ELSE GREATEST(0, (EXTRACT(EPOCH FROM ($2 - started_at)) * 1000)::int8) END \
             WHERE run_id = $1 AND status = $4 AND attempt = $5",
        )
        .bind(&seen.run_id)
        .bind(finished_at)
        .bind(reason)
        .bind(&seen.status)
        .bind(seen.attempt)
        .execute(&self.pool)
        .await
        .map_err(StoreError::query("record a lost run"))?;
        Ok(ended.rows_affected() == 1)
    }
}

fn millis(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

fn counts(
    runs: &[FinishedRun],
    pick: impl Fn(crate::engine::result::StepCounts) -> usize,
) -> Vec<i32> {
    runs.iter()
        .map(|r| i32::try_from(pick(r.result.counts())).unwrap_or(i32::MAX))
        .collect()
}

/// Rows of `metrics.run_metrics`, as arrays for `metrics.record_runs` (which adds them to the
/// trend rollups too, in the same transaction).
#[derive(Default)]
struct MetricRows {
    time: Vec<DateTime<Utc>>,
    namespace: Vec<String>,
    flow_name: Vec<String>,
    environment: Vec<Option<String>>,
    status: Vec<&'static str>,
    duration_ms: Vec<i64>,
}

impl MetricRows {
    fn add(
        &mut self,
        namespace: &str,
        flow_name: &str,
        environment: Option<String>,
        result: &FlowResult,
    ) {
        self.time.push(result.started_at);
        self.namespace.push(namespace.to_string());
        self.flow_name.push(flow_name.to_string());
        self.environment.push(environment);
        self.status.push(result.status.as_str());
        self.duration_ms.push(millis(result.duration_ms));
    }

    async fn insert(self, tx: &mut sqlx::PgConnection) -> Result<(), StoreError> {
        if self.time.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "SELECT metrics.record_runs($1::timestamptz[], $2::text[], $3::text[], $4::text[], \
             $5::text[], $6::int8[])",
        )
        .bind(self.time)
        .bind(self.namespace)
        .bind(self.flow_name)
        .bind(self.environment)
        .bind(self.status)
        .bind(self.duration_ms)
        .execute(tx)
        .await
        .map_err(StoreError::query("insert metrics rows"))?;
        Ok(())
    }
}
