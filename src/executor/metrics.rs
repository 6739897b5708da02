//! The executor's Prometheus metrics (`testmesh_*`). Labels are bounded: namespace, flow,
//! result, trigger, action — never a run id.

use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
};

/// Every metric the executor updates.
#[derive(Clone)]
pub struct ExecutorMetrics {
    pub runs: IntCounterVec,
    pub run_duration: HistogramVec,
    pub step_duration: HistogramVec,
    pub queue_to_start: Histogram,
    pub in_progress: IntGauge,
    pub concurrency: IntGauge,
    pub queue_backlog: IntGauge,
    pub dead_letters: IntCounter,
}

const DURATION_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
];

impl ExecutorMetrics {
    /// Creates the metrics and registers them in `registry`.
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let metrics = Self {
            runs: IntCounterVec::new(
                Opts::new("testmesh_runs_total", "Runs finished by this executor"),
                &["namespace", "flow", "result", "trigger"],
            )?,
            run_duration: HistogramVec::new(
                HistogramOpts::new("testmesh_run_duration_seconds", "Duration of flow runs")
                    .buckets(DURATION_BUCKETS.to_vec()),
                &["namespace", "flow"],
            )?,
            step_duration: HistogramVec::new(
                HistogramOpts::new("testmesh_step_duration_seconds", "Duration of steps")
                    .buckets(DURATION_BUCKETS.to_vec()),
                &["action", "result"],
            )?,
            queue_to_start: Histogram::with_opts(
                HistogramOpts::new(
                    "testmesh_queue_to_start_seconds",
                    "Time from enqueue to the start of a run",
                )
                .buckets(DURATION_BUCKETS.to_vec()),
            )?,
            in_progress: IntGauge::new(
                "testmesh_executor_runs_in_progress",
                "Runs this executor is executing now",
            )?,
            concurrency: IntGauge::new(
                "testmesh_executor_concurrency",
                "Most runs this executor executes at once",
            )?,
            queue_backlog: IntGauge::new(
                "testmesh_queue_lag",
                "Runs waiting in the executors' group: not yet delivered or not yet acknowledged",
            )?,
            dead_letters: IntCounter::new(
                "testmesh_dead_letters_total",
                "Messages moved to the dead-letter stream",
            )?,
        };
        registry.register(Box::new(metrics.runs.clone()))?;
        registry.register(Box::new(metrics.run_duration.clone()))?;
        registry.register(Box::new(metrics.step_duration.clone()))?;
        registry.register(Box::new(metrics.queue_to_start.clone()))?;
        registry.register(Box::new(metrics.in_progress.clone()))?;
        registry.register(Box::new(metrics.concurrency.clone()))?;
        registry.register(Box::new(metrics.queue_backlog.clone()))?;
        registry.register(Box::new(metrics.dead_letters.clone()))?;
        Ok(metrics)
    }
}
