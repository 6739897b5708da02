//! Taking runs off the queue: read new entries (or claim idle ones), set poison aside, mark
//! the rest `running` in one statement, and start each as its own task while slots are free.
//! On stop it reads no more, waits for running flows within the grace period, then lets the
//! recorder finish.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::Utc;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::Shared;
use super::backoff;
use super::readiness::Dependency;
use super::recorder::{self, Finished};
use super::run;
use crate::engine::FlowStatus;
use crate::engine::builtins;
use crate::flow::LoadedFlow;
use crate::flow::positions::Positions;
use crate::flow::validate::{KnownNames, validate};
use crate::queue::{Delivery, FlowRef, ResultMessage, RunMessage, Trigger};
use crate::store::RejectedRun;

pub struct Intake {
    shared: Arc<Shared>,
    slots: Arc<Semaphore>,
    tasks: JoinSet<()>,
    /// Cancelled when the grace period ends: stops the flows still running.
    abandon: CancellationToken,
}

impl Intake {
    pub fn new(shared: Arc<Shared>) -> Self {
        let slots = Arc::new(Semaphore::new(shared.config.concurrency.max(1)));
        Self {
            shared,
            slots,
            tasks: JoinSet::new(),
            abandon: CancellationToken::new(),
        }
    }

    pub async fn run(mut self, stop: CancellationToken) {
        let channel = self.shared.config.concurrency.max(1) * 4;
        let (finished_tx, finished_rx) = mpsc::channel(channel);
        let recorder_stop = CancellationToken::new();
        let recorder = tokio::spawn(recorder::run(
            self.shared.clone(),
            finished_rx,
            recorder_stop.clone(),
        ));
        let claim_every = self.shared.config.visibility_timeout / 2;
        let mut last_claim: Option<Instant> = None;
        while !stop.is_cancelled() {
            let first = tokio::select! {
                () = stop.cancelled() => break,
                permit = self.slots.clone().acquire_owned() => permit,
            };
            let Ok(first) = first else { break };
            let free = 1 + self.slots.available_permits();
            drop(first);
            let claim = last_claim.is_none_or(|at| at.elapsed() >= claim_every);
            let read = if claim {
                last_claim = Some(Instant::now());
                self.shared
                    .queue
                    .claim_idle(
                        &self.shared.config.executor_id,
                        self.shared.config.visibility_timeout,
                        free,
                    )
                    .await
            } else {
                // Read one batch ahead of the free slots: under load the runs waiting for a slot
                // are marked running in one statement instead of one by one as slots free up.
                self.shared
                    .reader
                    .read_runs(
                        &self.shared.config.executor_id,
                        free + self.shared.config.concurrency,
                        self.shared.config.read_block,
                    )
                    .await
            };
            match read {
                Ok(deliveries) => {
                    self.shared.readiness.report(Dependency::Redis, None);
                    if claim && !deliveries.is_empty() {
                        tracing::info!(
                            count = deliveries.len(),
                            "claimed runs another executor left"
                        );
                    }
                    self.dispatch(deliveries, &finished_tx, &stop).await;
                }
                Err(err) => {
                    let message = err.to_string();
                    tracing::warn!(error = %message, "cannot read runs; retrying");
                    self.shared
                        .readiness
                        .report(Dependency::Redis, Some(&message));
                    tokio::select! {
                        () = stop.cancelled() => break,
                        () = tokio::time::sleep(std::time::Duration::from_millis(500)) => {}
                    }
                }
            }
            while self.tasks.try_join_next().is_some() {}
        }
        self.drain(finished_tx, recorder, recorder_stop).await;
    }

    /// Waits for running flows within the grace period, then for the recorder.
    async fn drain(
        mut self,
        finished_tx: mpsc::Sender<Finished>,
        recorder: tokio::task::JoinHandle<()>,
        recorder_stop: CancellationToken,
    ) {
        let grace = self.shared.config.shutdown_grace;
        tracing::info!(
            running = self.tasks.len(),
            grace_s = grace.as_secs_f64(),
            "stopping: no new runs; letting running flows finish"
        );
        let finished_in_time = tokio::time::timeout(grace, async {
            while self.tasks.join_next().await.is_some() {}
        })
        .await
        .is_ok();
        if !finished_in_time {
            tracing::warn!(
                running = self.tasks.len(),
                "grace period over: leaving unfinished runs to another executor"
            );
            self.abandon.cancel();
            self.tasks.abort_all();
            while self.tasks.join_next().await.is_some() {}
        }
        drop(finished_tx);
        let mut recorder = recorder;
        if tokio::time::timeout(grace.max(std::time::Duration::from_secs(5)), &mut recorder)
            .await
            .is_err()
        {
            recorder_stop.cancel();
            let _ = recorder.await;
        }
        tracing::info!("executor stopped");
    }

    async fn dispatch(
        &mut self,
        deliveries: Vec<Delivery>,
        finished_tx: &mpsc::Sender<Finished>,
        stop: &CancellationToken,
    ) {
        // Entries this executor is already working on come back when it claims idle entries
        // (its own, after PostgreSQL was slow to answer): they are in hand, so skip them.
        let deliveries: Vec<Delivery> = match self.shared.in_flight.lock() {
            Ok(mut in_flight) => deliveries
                .into_iter()
                .filter(|d| in_flight.insert(d.id.clone()))
                .collect(),
            Err(_) => return,
        };
        if deliveries.is_empty() {
            return;
        }
        let mut runnable: Vec<(String, RunMessage)> = Vec::new();
        let mut seen = HashSet::new();
        let mut duplicates = Vec::new();
        for delivery in deliveries {
            match delivery.run {
                Err(poison) => {
                    self.poison(&delivery.id, &poison.raw, &poison.reason).await;
                    self.release(&[delivery.id]);
                }
                Ok(run) => {
                    if let Err(reason) = check(&run) {
                        let raw = serde_json::to_string(&run).unwrap_or_default();
                        self.poison(&delivery.id, &raw, &reason).await;
                        self.release(&[delivery.id]);
                    } else if seen.insert(run.run_id.clone()) {
                        runnable.push((delivery.id, run));
                    } else {
                        duplicates.push(delivery.id);
                    }
                }
            }
        }
        if runnable.is_empty() && duplicates.is_empty() {
            return;
        }
        let started_at = Utc::now();
        let messages: Vec<&RunMessage> = runnable.iter().map(|(_, run)| run).collect();
        let store = &self.shared.store;
        let executor_id = &self.shared.config.executor_id;
        let Some(started) = backoff::retry(
            "mark runs running",
            Dependency::Postgres,
            &self.shared.readiness,
            &self.abandon,
            || store.start_runs(&messages, executor_id, started_at),
        )
        .await
        else {
            let ids: Vec<String> = runnable.into_iter().map(|(id, _)| id).collect();
            self.release(&ids);
            self.release(&duplicates);
            return;
        };
        for (id, run) in runnable {
            match started.iter().find(|s| s.run_id == run.run_id) {
                Some(start) => {
                    let Ok(permit) = self.slots.clone().acquire_owned().await else {
                        return;
                    };
                    self.tasks.spawn(run::execute(
                        self.shared.clone(),
                        id,
                        run,
                        start.attempt,
                        permit,
                        finished_tx.clone(),
                        self.abandon.clone(),
                    ));
                }
                None => {
                    tracing::info!(run_id = %run.run_id, "run already recorded: acknowledging the repeat");
                    duplicates.push(id);
                }
            }
        }
        if !duplicates.is_empty() {
            let queue = &self.shared.queue;
            backoff::retry(
                "acknowledge repeated runs",
                Dependency::Redis,
                &self.shared.readiness,
                stop,
                || queue.settle(&duplicates, &[], &[]),
            )
            .await;
            self.release(&duplicates);
        }
    }

    /// Forgets entries this executor no longer holds.
    fn release(&self, ids: &[String]) {
        if let Ok(mut in_flight) = self.shared.in_flight.lock() {
            for id in ids {
                in_flight.remove(id);
            }
        }
    }

    /// Records a message that cannot run (when it names a run), keeps it in the dead-letter
    /// stream and acknowledges it. If the store or Redis fails, the message stays pending and
    /// is handled again when claimed.
    async fn poison(&self, id: &str, raw: &str, reason: &str) {
        tracing::warn!(entry = id, %reason, "poison message: recording it and moving it to the dead-letter stream");
        let message: Option<serde_json::Value> = serde_json::from_str(raw).ok();
        if let Some(rejected) = message.as_ref().and_then(|m| rejected_run(m, reason))
            && let Err(err) = self.shared.store.reject_run(&rejected).await
        {
            tracing::warn!(error = %err, "cannot record the poison run; it stays pending");
            return;
        }
        let result = message
            .as_ref()
            .and_then(|m| rejected_result(m, reason, &self.shared.config.executor_id));
        match self
            .shared
            .queue
            .dead_letter(id, raw, reason, result.as_ref())
            .await
        {
            Ok(()) => self.shared.metrics.dead_letters.inc(),
            Err(err) => {
                tracing::warn!(error = %err, "cannot move the poison message; it stays pending")
            }
        }
    }
}

/// Checks that a run can execute: a flow with steps that validates.
fn check(run: &RunMessage) -> Result<(), String> {
    if run.run_id.trim().is_empty() {
        return Err("the run message has an empty runId".into());
    }
    if run.spec.steps.is_empty() && run.spec.setup.is_empty() {
        return Err(format!(
            "flow {}/{} has no steps",
            run.flow.namespace, run.flow.name
        ));
    }
    let loaded = LoadedFlow {
        spec: run.spec.clone(),
        file: format!("{}/{}", run.flow.namespace, run.flow.name).into(),
        document: 0,
        positions: Positions::default(),
        manifest: None,
    };
    let known = KnownNames {
        names: HashSet::new(),
        open: true,
        ..KnownNames::default()
    };
    let errors: Vec<String> = validate(&loaded, &known, builtins::NAMES)
        .into_iter()
        .filter(|d| d.is_error())
        .map(|d| match &d.step {
            Some(step) => format!("step {step}: {}", d.message),
            None => d.message,
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "flow {}/{} does not validate: {}",
            run.flow.namespace,
            run.flow.name,
            errors.join("; ")
        ))
    }
}

/// What can be recorded of a poison message: only when its JSON names a run id.
/// The run id a message names, if any.
fn named_run_id(value: &serde_json::Value) -> Option<String> {
    let run_id = value.get("runId")?.as_str()?.trim();
    (!run_id.is_empty()).then(|| run_id.to_string())
}

fn rejected_run(value: &serde_json::Value, reason: &str) -> Option<RejectedRun> {
    let run_id = named_run_id(value)?;
    let text = |pointer: &str| {
        value
            .pointer(pointer)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let trigger = match text("/trigger/kind").as_str() {
        kind @ ("schedule" | "annotation" | "change") => kind.to_string(),
        _ => "manual".to_string(),
    };
    Some(RejectedRun {
        namespace: text("/flow/namespace"),
        flow_name: text("/flow/name"),
        generation: value
            .pointer("/flow/generation")
            .and_then(|v| v.as_i64())
            .unwrap_or(0),
        spec: value.get("spec").cloned().unwrap_or(serde_json::json!({})),
        trigger,
        queued_at: value
            .get("enqueuedAt")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_else(Utc::now),
        error: reason.to_string(),
        run_id,
    })
}

/// The error result of a message that cannot run, when it names its run, flow and trigger well
/// enough for the operator to find the objects whose status lists the run as active.
fn rejected_result(
    value: &serde_json::Value,
    reason: &str,
    executor_id: &str,
) -> Option<ResultMessage> {
    let run_id = named_run_id(value)?;
    let flow: FlowRef = serde_json::from_value(value.get("flow")?.clone()).ok()?;
    let trigger: Trigger = serde_json::from_value(value.get("trigger")?.clone()).ok()?;
    let now = Utc::now();
    Some(ResultMessage {
        run_id,
        flow,
        trigger,
        status: FlowStatus::Error,
        started_at: now,
        finished_at: now,
        duration_ms: 0,
        passed_steps: 0,
        failed_steps: 0,
        error: Some(reason.to_string()),
        executor_id: executor_id.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> serde_json::Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn a_poison_message_with_a_run_id_is_recorded_and_one_without_is_not() {
        let rejected = rejected_run(
            &json(r#"{"runId": "r-1", "flow": {"namespace": "qa", "name": "orders"}, "spec": 3}"#),
            "not a run message",
        )
        .unwrap();
        assert_eq!(rejected.run_id, "r-1");
        assert_eq!(
            (rejected.namespace.as_str(), rejected.flow_name.as_str()),
            ("qa", "orders")
        );
        assert_eq!(rejected.trigger, "manual");
        assert!(rejected_run(&json(r#"{"runId": "  ", "flow": {}}"#), "x").is_none());
        assert!(rejected_run(&json(r#"{"flow": {}}"#), "x").is_none());
    }

    #[test]
    fn a_poison_run_that_names_its_flow_and_trigger_gets_an_error_result_for_the_operator() {
        let raw = r#"{"runId": "sch-1", "flow": {"namespace": "qa", "name": "orders", "generation": 2},
            "trigger": {"kind": "schedule", "schedule": {"namespace": "qa", "name": "nightly", "uid": "u-1"}},
            "spec": {"steps": []}}"#;
        let result =
            rejected_result(&json(raw), "flow qa/orders has no steps", "executor-1").unwrap();
        assert_eq!(result.run_id, "sch-1");
        assert_eq!(result.flow.name, "orders");
        assert_eq!(result.trigger.schedule.unwrap().name, "nightly");
        assert_eq!(result.status, FlowStatus::Error);
        assert_eq!(result.error.as_deref(), Some("flow qa/orders has no steps"));
        assert!(
            rejected_result(
                &json(r#"{"runId": "r-1", "flow": {"namespace": "qa"}}"#),
                "x",
                "e"
            )
            .is_none()
        );
    }
}
