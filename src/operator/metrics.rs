//! The operator's Prometheus metrics, registered in the registry that `/metrics` serves.

use prometheus::{Gauge, IntCounter, IntCounterVec, IntGauge, Opts, Registry};

/// Counters and gauges the controllers update.
#[derive(Clone)]
pub struct Metrics {
    /// When the scheduler last looked at a schedule (unix seconds).
    pub last_tick: Gauge,
    /// Runs enqueued, by trigger (schedule, annotation, change).
    pub enqueued: IntCounterVec,
    /// Runs not enqueued, by reason (forbid, missed_deadline, suspended, invalid_flow, duplicate).
    pub skipped: IntCounterVec,
    /// Reconcile errors, by kind.
    pub reconcile_errors: IntCounterVec,
    /// Finished runs reported by executors, by status.
    pub results: IntCounterVec,
    /// Runs waiting for an executor.
    pub queue_depth: IntGauge,
    /// Queued execution rows that could not be written (the executor records the run anyway).
    pub queued_row_failures: IntCounter,
    /// Reconciles that finished without error, by kind.
    pub reconciles: IntCounterVec,
    /// Status writes sent to the API server, by kind: a resync of unchanged objects adds none.
    pub status_writes: IntCounterVec,
    /// Runs the queue lost, ended as `error`, by reason (queued, running).
    pub runs_lost: IntCounterVec,
    /// Runs the queue lost within their start deadline, enqueued again under the same id.
    pub runs_requeued: IntCounter,
    /// Lost-run checks done (each compares the active runs with the queue and the store).
    pub lost_run_checks: IntCounter,
}

impl Metrics {
    /// Creates the metrics and registers them in `registry`.
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let metrics = Self {
            last_tick: Gauge::new(
                "testmesh_scheduler_last_tick_timestamp_seconds",
                "When the scheduler last evaluated a schedule, in unix seconds",
            )?,
            enqueued: IntCounterVec::new(
                Opts::new("testmesh_runs_enqueued_total", "Runs enqueued, by trigger"),
                &["trigger"],
            )?,
            skipped: IntCounterVec::new(
                Opts::new(
                    "testmesh_runs_skipped_total",
                    "Runs not enqueued, by reason",
                ),
                &["reason"],
            )?,
            reconcile_errors: IntCounterVec::new(
                Opts::new(
                    "testmesh_reconcile_errors_total",
                    "Reconcile errors, by resource kind",
                ),
                &["kind"],
            )?,
            results: IntCounterVec::new(
                Opts::new(
                    "testmesh_run_results_total",
                    "Finished runs reported by executors, by status",
                ),
                &["status"],
            )?,
            queue_depth: IntGauge::new(
                "testmesh_queue_depth",
                "Runs in the runs stream not yet delivered to an executor",
            )?,
            queued_row_failures: IntCounter::new(
                "testmesh_queued_row_failures_total",
                "Enqueued runs whose queued execution row could not be written to PostgreSQL",
            )?,
            reconciles: IntCounterVec::new(
                Opts::new(
                    "testmesh_reconciles_total",
                    "Reconciles that finished without error, by resource kind",
                ),
                &["kind"],
            )?,
            status_writes: IntCounterVec::new(
                Opts::new(
                    "testmesh_status_writes_total",
                    "Status writes sent to the Kubernetes API, by resource kind",
                ),
                &["kind"],
            )?,
            runs_lost: IntCounterVec::new(
                Opts::new(
                    "testmesh_runs_lost_total",
                    "Runs lost from the queue and ended as error, by reason (queued: before any \
                     executor took them; running: with their executor)",
                ),
                &["reason"],
            )?,
            runs_requeued: IntCounter::new(
                "testmesh_runs_requeued_total",
                "Runs lost from the queue within their start deadline and enqueued again",
            )?,
            lost_run_checks: IntCounter::new(
                "testmesh_lost_run_checks_total",
                "Lost-run checks done by the leader (active runs compared with the queue and the store)",
            )?,
        };
        registry.register(Box::new(metrics.last_tick.clone()))?;
        registry.register(Box::new(metrics.enqueued.clone()))?;
        registry.register(Box::new(metrics.skipped.clone()))?;
        registry.register(Box::new(metrics.reconcile_errors.clone()))?;
        registry.register(Box::new(metrics.results.clone()))?;
        registry.register(Box::new(metrics.queue_depth.clone()))?;
        registry.register(Box::new(metrics.queued_row_failures.clone()))?;
        registry.register(Box::new(metrics.reconciles.clone()))?;
        registry.register(Box::new(metrics.status_writes.clone()))?;
        registry.register(Box::new(metrics.runs_lost.clone()))?;
        registry.register(Box::new(metrics.runs_requeued.clone()))?;
        registry.register(Box::new(metrics.lost_run_checks.clone()))?;
        Ok(metrics)
    }
}
