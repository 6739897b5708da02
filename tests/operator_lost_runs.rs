//! The lost-run check: a run the operator counts as active that the queue no longer holds is
//! enqueued again under the same id within its start deadline, ended as `error` past it (or
//! past its own limit when an executor had taken it), `status.active` is freed exactly once,
//! and a result that comes late changes nothing. Against the mock API server (the exact status
//! writes and Events) and a real PostgreSQL (TESTMESH_TEST_DATABASE_URL); the queue is the
//! in-memory twin, or a Redis server the test starts itself and restarts empty, with the real
//! executor binary running the runs.

mod common;
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use http::Method;
use kube::runtime::reflector::{self, store::Writer};
use kube::runtime::watcher;
use serde_json::{Value, json};
use support::*;
use testmesh::engine::{FlowResult, FlowStatus};
use testmesh::operator::cached_flow::CachedTestFlow;
use testmesh::operator::context::Context;
use testmesh::operator::lost_runs::{self, LOST_FROM_QUEUE, LOST_WHILE_RUNNING, LostRunSettings};
use testmesh::operator::queue::{MemoryQueue, RedisQueue, RunQueue};
use testmesh::operator::runs::{RunRequest, run_message, stable_hash};
use testmesh::operator::{results, testflow};
use testmesh::queue::{ResultMessage, RunMessage, ScheduleRef, Streams, Trigger, TriggerKind};
use testmesh::resources::{ConcurrencyPolicy, TestFlow, TestSchedule};
use testmesh::store::{FinishedRun, RunRecord, Store, StoreOptions};

use common::executor_process::{ExecutorProcess, ExecutorSetup, eventually};
use common::own_services::OwnRedis;
use common::services::fresh_database;

const FLOW: &str = "/apis/testmesh.io/v1alpha1/namespaces/ns/testflows/orders";
const SCHEDULE: &str = "/apis/testmesh.io/v1alpha1/namespaces/ns/testschedules/nightly";
const WAIT: Duration = Duration::from_secs(60);

const SETTINGS: LostRunSettings = LostRunSettings {
    interval: Duration::from_secs(30),
    max_run_duration: Duration::from_secs(3600),
    probe_every: Duration::from_secs(5),
};

/// A clock the test moves forward.
#[derive(Clone)]
struct TestClock {
    base: DateTime<Utc>,
    seconds: Arc<AtomicI64>,
}

impl TestClock {
    fn advance(&self, seconds: i64) {
        self.seconds.fetch_add(seconds, Ordering::SeqCst);
    }

    fn now(&self) -> DateTime<Utc> {
        self.base + chrono::Duration::seconds(self.seconds.load(Ordering::SeqCst))
    }
}

/// The operator's context with a store, a movable clock and flow and schedule caches.
struct World {
    ctx: Context,
    store: Store,
    clock: TestClock,
    flows: Writer<CachedTestFlow>,
    schedules: Writer<TestSchedule>,
}

/// A world on a fresh database, and the handle that plays the API server; none without
/// PostgreSQL.
async fn world(test: &str, base: DateTime<Utc>, runs: RunQueue) -> Option<(World, Handle)> {
    let url = fresh_database(test).await?;
    Some(world_on(&url, base, runs).await)
}

async fn world_on(url: &str, base: DateTime<Utc>, runs: RunQueue) -> (World, Handle) {
    let store = Store::connect(url, StoreOptions::default()).await.unwrap();
    store.migrate().await.unwrap();
    let harness = harness_with(&base.to_rfc3339(), runs, MemoryQueue::default());
    let clock = TestClock {
        base,
        seconds: Arc::default(),
    };
    let (schedule_cache, schedules) = reflector::store::<TestSchedule>();
    let mut ctx = (*harness.ctx)
        .clone()
        .with_store(store.clone())
        .with_schedules(schedule_cache);
    let moving = clock.clone();
    ctx.clock = Arc::new(move || moving.now());
    let world = World {
        ctx,
        store,
        clock,
        flows: harness.flows,
        schedules,
    };
    (world, harness.handle)
}

impl World {
    /// The TestFlow as the controller's cache (and a GET) sees it, with `active` runs.
    fn flow_with_active(&mut self, spec: Value, active: &[&str]) -> TestFlow {
        let mut status = ready_status();
        status["active"] = json!(active);
        status["lastRunRequest"] = json!("t1");
        let object = flow(spec, json!({"testmesh.io/run-requested": "t1"}), status);
        cache_flow(&mut self.flows, &object);
        object
    }

    async fn record(&self, run_id: &str) -> RunRecord {
        let mut records = self.store.run_records(&[run_id.to_string()]).await.unwrap();
        assert_eq!(records.len(), 1, "no row for {run_id}");
        records.remove(0)
    }

    fn lost_total(&self, reason: &str) -> u64 {
        self.ctx
            .metrics
            .runs_lost
            .with_label_values(&[reason])
            .get()
    }
}

fn requested(token: &str, spec: Value) -> TestFlow {
    flow(
        spec,
        json!({"testmesh.io/run-requested": token}),
        ready_status(),
    )
}

/// The id of the run the annotation token `token` starts on the test flow.
fn annotation_run_id(token: &str) -> String {
    format!("ann-0f1e2d3c-{}", stable_hash(token))
}

/// What the API server answers a status write of the flow with.
fn patched_flow() -> Value {
    serde_json::to_value(flow(json!({}), json!({}), ready_status())).unwrap()
}

fn late_result(run: &RunMessage, status: FlowStatus) -> ResultMessage {
    ResultMessage {
        run_id: run.run_id.clone(),
        flow: run.flow.clone(),
        trigger: run.trigger.clone(),
        status,
        started_at: run.enqueued_at,
        finished_at: run.enqueued_at + chrono::Duration::seconds(1),
        duration_ms: 1000,
        passed_steps: 1,
        failed_steps: 0,
        error: None,
        executor_id: "executor-late".into(),
    }
}

fn passed(run: &RunMessage) -> FlowResult {
    FlowResult {
        execution_id: run.run_id.clone(),
        flow_name: run.flow.name.clone(),
        source: None,
        status: FlowStatus::Passed,
        started_at: run.enqueued_at,
        finished_at: run.enqueued_at,
        duration_ms: 0,
        steps: Vec::new(),
        captured: Default::default(),
        error: None,
    }
}

#[tokio::test]
async fn a_queued_run_the_queue_lost_is_enqueued_again_under_the_same_id_within_its_deadline() {
    let base: DateTime<Utc> = "2026-03-01T10:00:00Z".parse().unwrap();
    let queue = MemoryQueue::default();
    let Some((mut w, handle)) = world("lost_requeue", base, RunQueue::Memory(queue.clone())).await
    else {
        return;
    };
    let server = api_server(
        handle,
        vec![
            expect(Method::POST, EVENTS, json!({})),
            expect(Method::PATCH, FLOW_STATUS, patched_flow()),
            expect(Method::POST, EVENTS, json!({})),
        ],
    );
    let ctx = Arc::new(w.ctx.clone());
    testflow::reconcile(Arc::new(requested("t1", json!({}))), ctx.clone())
        .await
        .unwrap();
    let original = queue.lock().runs[0].clone();
    assert_eq!(
        original.start_deadline,
        Some("2026-03-01T10:10:00Z".parse().unwrap()),
        "a run gets the 10-minute queue timeout when nothing sets a deadline"
    );
    w.flow_with_active(json!({}), &[&original.run_id]);
    // Redis lost the entry before any executor read it.
    queue.lock().runs.clear();

    w.clock.advance(5 * 60);
    let checked = lost_runs::check(&w.ctx, &SETTINGS).await.unwrap();
    assert_eq!(checked.requeued, vec![original.run_id.clone()]);
    assert!(checked.lost.is_empty());
    let again = queue.lock().runs.clone();
    assert_eq!(again, vec![original.clone()], "the same message, same id");
    assert_eq!(w.record(&original.run_id).await.status, "queued");
    assert_eq!(w.ctx.metrics.runs_requeued.get(), 1);

    // The queue holds it now: the next check leaves it alone.
    let checked = lost_runs::check(&w.ctx, &SETTINGS).await.unwrap();
    assert_eq!(checked.active, 1);
    assert!(checked.requeued.is_empty() && checked.lost.is_empty());
    assert_eq!(queue.lock().runs.len(), 1);

    drop((ctx, w));
    let bodies = server.await.unwrap();
    assert_eq!(bodies[2]["reason"], "RunRequeued");
    assert_eq!(bodies[2]["type"], "Normal");
    let note = bodies[2]["note"].as_str().unwrap();
    assert!(note.contains(&original.run_id), "{note}");
    assert!(note.contains("enqueued again under the same id"), "{note}");
}

#[tokio::test]
async fn a_queued_run_lost_past_its_deadline_ends_as_error_once_and_a_late_result_changes_nothing()
{
    let base: DateTime<Utc> = "2026-03-01T10:00:00Z".parse().unwrap();
    let queue = MemoryQueue::default();
    let Some((mut w, handle)) = world("lost_queued", base, RunQueue::Memory(queue.clone())).await
    else {
        return;
    };
    let ctx = Arc::new(w.ctx.clone());
    // The reconcile that starts the run, and what the API server answers later.
    let mut status = ready_status();
    status["health"] = json!({"recent": "PP", "passRate": 1.0, "flipRate": 0.0});
    status["lastRunRequest"] = json!("t1");
    let run_id = annotation_run_id("t1");
    let run_id = run_id.as_str();
    let mut listed = status.clone();
    listed["active"] = json!([run_id]);
    let active_flow = flow(
        json!({}),
        json!({"testmesh.io/run-requested": "t1"}),
        listed,
    );
    let settled_flow = flow(
        json!({}),
        json!({"testmesh.io/run-requested": "t1"}),
        status.clone(),
    );
    let server = api_server(
        handle,
        vec![
            expect(Method::POST, EVENTS, json!({})),
            expect(Method::PATCH, FLOW_STATUS, patched_flow()),
            // The check past the deadline: one status write and one Event.
            expect(
                Method::GET,
                FLOW,
                serde_json::to_value(&active_flow).unwrap(),
            ),
            expect(Method::PATCH, FLOW_STATUS, patched_flow()),
            expect(Method::POST, EVENTS, json!({})),
            // A check whose cache is stale, past the result grace: a read, no write.
            expect(
                Method::GET,
                FLOW,
                serde_json::to_value(&settled_flow).unwrap(),
            ),
            // A new run of the Forbid flow (its RunQueued Event is a repeat of the first).
            expect(Method::PATCH, EVENTS, json!({})),
            expect(Method::PATCH, FLOW_STATUS, patched_flow()),
        ],
    );
    testflow::reconcile(Arc::new(requested("t1", json!({}))), ctx.clone())
        .await
        .unwrap();
    let original = queue.lock().runs[0].clone();
    assert_eq!(original.run_id, run_id);
    w.flow_with_active(json!({}), &[run_id]);
    queue.lock().runs.clear();

    w.clock.advance(11 * 60);
    let checked = lost_runs::check(&w.ctx, &SETTINGS).await.unwrap();
    assert_eq!(checked.lost, vec![run_id.to_string()]);
    assert!(checked.requeued.is_empty());
    assert!(queue.lock().runs.is_empty(), "not enqueued again");
    let record = w.record(run_id).await;
    assert_eq!(record.status, "error");
    assert_eq!(record.error.as_deref(), Some(LOST_FROM_QUEUE));
    assert_eq!(w.lost_total("queued"), 1);

    // The cache has not seen the status write yet: nothing is written twice.
    let checked = lost_runs::check(&w.ctx, &SETTINGS).await.unwrap();
    assert!(checked.lost.is_empty() && checked.reported.is_empty());
    w.clock.advance(60);
    let checked = lost_runs::check(&w.ctx, &SETTINGS).await.unwrap();
    assert!(checked.lost.is_empty());
    assert_eq!(w.lost_total("queued"), 1);

    // A late executor can neither start nor record it, and its result message changes nothing.
    let started = w
        .store
        .start_runs(&[&original], "executor-late", w.clock.now())
        .await
        .unwrap();
    assert!(started.is_empty());
    let recorded = w
        .store
        .finish_runs(&[FinishedRun {
            run_id: run_id.into(),
            attempt: 1,
            result: passed(&original),
        }])
        .await
        .unwrap();
    assert!(recorded.is_empty());
    results::apply_result(&w.ctx, &late_result(&original, FlowStatus::Passed))
        .await
        .unwrap();
    let after = w.record(run_id).await;
    assert_eq!(after, record, "the store is unchanged");

    // Forbid lets the next run start.
    let mut next = settled_flow.clone();
    next.metadata
        .annotations
        .get_or_insert_default()
        .insert("testmesh.io/run-requested".into(), "t2".into());
    testflow::reconcile(Arc::new(next), ctx.clone())
        .await
        .unwrap();
    let runs = queue.lock().runs.clone();
    assert_eq!(runs.len(), 1);
    assert_ne!(runs[0].run_id, run_id);

    drop((ctx, w));
    let bodies = server.await.unwrap();
    let lost = &bodies[3]["status"];
    assert!(lost.get("active").is_none(), "{lost}");
    assert_eq!(lost["lastRun"]["id"], run_id);
    assert_eq!(lost["lastRun"]["result"], "error");
    assert_eq!(
        lost["health"]["recent"], "PPF",
        "counted as a run that did not pass"
    );
    assert_eq!(bodies[4]["reason"], "RunLost");
    assert_eq!(bodies[4]["type"], "Warning");
    let note = bodies[4]["note"].as_str().unwrap();
    assert!(note.contains(LOST_FROM_QUEUE), "{note}");
    assert_eq!(bodies[7]["status"]["active"], json!([runs[0].run_id]));
}

/// A scheduled run of `flow`, its queued row, and an executor's start of it.
async fn scheduled_run_started(w: &World, flow: &TestFlow, started: DateTime<Utc>) -> RunMessage {
    let request = RunRequest {
        flow,
        run_id: "sch-5c4b3a29-1772359200".into(),
        trigger: Trigger {
            kind: TriggerKind::Schedule,
            schedule: Some(ScheduleRef {
                namespace: "ns".into(),
                name: "nightly".into(),
                uid: "5c4b3a29-0000-0000-0000-000000000002".into(),
            }),
            scheduled_time: Some(w.clock.base),
            token: None,
        },
        environment: None,
        policy: ConcurrencyPolicy::Forbid,
        start_deadline: None,
    };
    let mut run = run_message(&request, w.clock.base);
    run.start_deadline = Some(w.clock.base + chrono::Duration::minutes(10));
    w.store.insert_queued_run(&run).await.unwrap();
    let taken = w
        .store
        .start_runs(&[&run], "executor-0", started)
        .await
        .unwrap();
    assert_eq!(taken.len(), 1);
    run
}

#[tokio::test]
async fn a_running_run_whose_pending_entry_vanished_is_lost_only_past_its_own_limit() {
    let base: DateTime<Utc> = "2026-03-01T10:00:00Z".parse().unwrap();
    let queue = MemoryQueue::default();
    let Some((mut w, handle)) = world("lost_running", base, RunQueue::Memory(queue.clone())).await
    else {
        return;
    };
    let object = flow(json!({"timeout": "5m"}), json!({}), ready_status());
    let run = scheduled_run_started(&w, &object, base + chrono::Duration::minutes(1)).await;
    assert_eq!(run.timeout_seconds, Some(300));
    let schedule_object = schedule(
        json!({"schedule": "0 * * * *", "flowRef": {"name": "orders"}}),
        json!({"active": [run.run_id]}),
    );
    w.schedules
        .apply_watcher_event(&watcher::Event::Apply(schedule_object.clone()));
    cache_flow(&mut w.flows, &object);
    let server = api_server(
        handle,
        vec![
            expect(Method::GET, FLOW, serde_json::to_value(&object).unwrap()),
            expect(Method::PATCH, FLOW_STATUS, patched_flow()),
            expect(Method::POST, EVENTS, json!({})),
            expect(
                Method::GET,
                SCHEDULE,
                serde_json::to_value(&schedule_object).unwrap(),
            ),
            expect(
                Method::PATCH,
                SCHEDULE_STATUS,
                serde_json::to_value(&schedule_object).unwrap(),
            ),
        ],
    );

    // Within its 5-minute limit and the grace to record it: left alone, though nothing is
    // pending (its executor may be running it still).
    w.clock.advance(6 * 60 + 59);
    let checked = lost_runs::check(&w.ctx, &SETTINGS).await.unwrap();
    assert_eq!(checked.active, 1);
    assert!(checked.lost.is_empty() && checked.requeued.is_empty());
    assert_eq!(w.record(&run.run_id).await.status, "running");

    w.clock.advance(2);
    let checked = lost_runs::check(&w.ctx, &SETTINGS).await.unwrap();
    assert_eq!(checked.lost, vec![run.run_id.clone()]);
    assert!(
        queue.lock().runs.is_empty(),
        "a started run is not enqueued again"
    );
    let record = w.record(&run.run_id).await;
    assert_eq!(record.status, "error");
    assert_eq!(record.error.as_deref(), Some(LOST_WHILE_RUNNING));
    assert_eq!(w.lost_total("running"), 1);
    assert_eq!(w.lost_total("queued"), 0);

    // Its executor comes back with a result: the store refuses it, the operator ignores it.
    let recorded = w
        .store
        .finish_runs(&[FinishedRun {
            run_id: run.run_id.clone(),
            attempt: 1,
            result: passed(&run),
        }])
        .await
        .unwrap();
    assert!(recorded.is_empty());
    results::apply_result(&w.ctx, &late_result(&run, FlowStatus::Passed))
        .await
        .unwrap();
    assert_eq!(w.record(&run.run_id).await, record);

    drop(w);
    let bodies = server.await.unwrap();
    assert_eq!(bodies[1]["status"]["lastRun"]["result"], "error");
    assert_eq!(bodies[2]["reason"], "RunLost");
    assert!(
        bodies[2]["note"]
            .as_str()
            .unwrap()
            .contains(LOST_WHILE_RUNNING)
    );
    let schedule_status = &bodies[4]["status"];
    assert!(schedule_status.get("active").is_none(), "{schedule_status}");
    assert_eq!(schedule_status["lastRun"]["id"], run.run_id);
    assert_eq!(schedule_status["lastRun"]["result"], "error");
}

// --- against a Redis server of the test's own, restarted empty, and the executor binary -------

/// The flow once the run requested by token `t1` started: its status lists `run_id` as active.
fn listing_active(spec: &Value, run_id: &str) -> TestFlow {
    let mut listed = ready_status();
    listed["lastRunRequest"] = json!("t1");
    listed["active"] = json!([run_id]);
    flow(
        spec.clone(),
        json!({"testmesh.io/run-requested": "t1"}),
        listed,
    )
}

/// The flow once the run of `t1` is over, with a new request `t2`.
fn requested_again(spec: Value) -> TestFlow {
    let mut done = ready_status();
    done["lastRunRequest"] = json!("t1");
    flow(spec, json!({"testmesh.io/run-requested": "t2"}), done)
}

fn http_flow_spec(url: &str) -> Value {
    json!({"steps": [{"id": "call", "action": "http_request",
        "config": {"method": "GET", "url": url}, "assert": ["status == 200"]}]})
}

async fn wait_status(store: &Store, run_id: &str, wanted: &str, executor: &ExecutorProcess) {
    let found = tokio::time::timeout(WAIT, async {
        loop {
            let records = store.run_records(&[run_id.to_string()]).await.unwrap();
            if records.first().is_some_and(|r| r.status == wanted) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(
        found.is_ok(),
        "run {run_id} never became {wanted}; executor log:\n{}",
        executor.log_text()
    );
}

fn executor(database_url: &str, redis: &OwnRedis) -> ExecutorProcess {
    ExecutorProcess::spawn(&ExecutorSetup {
        database_url,
        redis_url: &redis.url(),
        prefix: "",
        executor_id: "executor-lost",
        extra: &[],
        env: &[],
    })
}

/// The result the executor published for `run_id`, from the results stream.
async fn published_result(redis: &OwnRedis, run_id: &str) -> ResultMessage {
    let queue = testmesh::queue::RedisQueue::connect(
        &redis.url(),
        Streams::default(),
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    eventually("the run's result message", WAIT, || async {
        let client = redis::Client::open(redis.url()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.ok()?;
        let entries: redis::streams::StreamRangeReply =
            redis::AsyncCommands::xrange_all(&mut conn, &queue.streams().results)
                .await
                .ok()?;
        entries.ids.iter().find_map(|entry| {
            let text: String = entry.get("message")?;
            let result: ResultMessage = serde_json::from_str(&text).ok()?;
            (result.run_id == run_id).then_some(result)
        })
    })
    .await
}

#[tokio::test]
async fn a_run_redis_lost_in_a_restart_is_enqueued_again_at_once_passes_and_the_flow_runs_again() {
    let Some(database_url) = fresh_database("lost_redis_requeue").await else {
        return;
    };
    let Some(mut redis) = OwnRedis::start() else {
        return;
    };
    let http = common::http_server::start().await;
    let spec = http_flow_spec(&http.url("/status/200"));
    let operator_queue = RedisQueue::connect(&redis.url(), "").await.unwrap();
    let (mut w, handle) =
        world_on(&database_url, Utc::now(), RunQueue::Redis(operator_queue)).await;
    let first = requested("t1", spec.clone());
    let run_id = annotation_run_id("t1");
    let run_id = run_id.as_str();
    let active_flow = listing_active(&spec, run_id);
    let server = api_server(
        handle,
        vec![
            expect(Method::POST, EVENTS, json!({})),
            expect(Method::PATCH, FLOW_STATUS, patched_flow()),
            expect(Method::POST, EVENTS, json!({})),
            expect(
                Method::GET,
                FLOW,
                serde_json::to_value(&active_flow).unwrap(),
            ),
            expect(Method::PATCH, FLOW_STATUS, patched_flow()),
            // The next run's RunQueued Event repeats the first.
            expect(Method::PATCH, EVENTS, json!({})),
            expect(Method::PATCH, FLOW_STATUS, patched_flow()),
        ],
    );
    let ctx = w.ctx.clone();
    let shared = Arc::new(ctx.clone());
    testflow::reconcile(Arc::new(first), shared.clone())
        .await
        .unwrap();
    cache_flow(&mut w.flows, &active_flow);
    // The check runs at once, then every hour: only the restart can make it look again.
    let watch = tokio::spawn(lost_runs::watch(
        vec![ctx.clone()],
        LostRunSettings {
            interval: Duration::from_secs(3600),
            max_run_duration: Duration::from_secs(3600),
            probe_every: Duration::from_millis(100),
        },
    ));
    eventually("the check at start", WAIT, || async {
        (ctx.metrics.lost_run_checks.get() == 1).then_some(())
    })
    .await;
    assert_eq!(ctx.metrics.runs_requeued.get(), 0, "the queue held the run");
    redis.restart_empty();
    eventually("the run enqueued again", WAIT, || async {
        (ctx.metrics.runs_requeued.get() == 1).then_some(())
    })
    .await;
    assert_eq!(ctx.metrics.lost_run_checks.get(), 2);
    let process = executor(&database_url, &redis);
    wait_status(&w.store, run_id, "passed", &process).await;
    let result = published_result(&redis, run_id).await;
    results::apply_result(&ctx, &result).await.unwrap();

    let next = requested_again(spec.clone());
    testflow::reconcile(Arc::new(next), shared.clone())
        .await
        .unwrap();
    watch.abort();
    let bodies = server.await.unwrap();
    assert_eq!(bodies[2]["reason"], "RunRequeued");
    assert!(bodies[4]["status"].get("active").is_none(), "{}", bodies[4]);
    assert_eq!(bodies[4]["status"]["lastRun"]["result"], "passed");
    let next_id = bodies[6]["status"]["active"][0]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(next_id, run_id);
    wait_status(&w.store, &next_id, "passed", &process).await;
    assert_eq!(w.lost_total("queued"), 0);
}

#[tokio::test]
async fn a_run_redis_lost_past_its_start_deadline_ends_as_error_and_the_flow_runs_again() {
    let Some(database_url) = fresh_database("lost_redis_error").await else {
        return;
    };
    let Some(redis) = OwnRedis::start() else {
        return;
    };
    let http = common::http_server::start().await;
    let spec = http_flow_spec(&http.url("/status/200"));
    let operator_queue = RedisQueue::connect(&redis.url(), "").await.unwrap();
    let (mut w, handle) =
        world_on(&database_url, Utc::now(), RunQueue::Redis(operator_queue)).await;
    let run_id = annotation_run_id("t1");
    let run_id = run_id.as_str();
    let active_flow = listing_active(&spec, run_id);
    let server = api_server(
        handle,
        vec![
            expect(Method::POST, EVENTS, json!({})),
            expect(Method::PATCH, FLOW_STATUS, patched_flow()),
            expect(
                Method::GET,
                FLOW,
                serde_json::to_value(&active_flow).unwrap(),
            ),
            expect(Method::PATCH, FLOW_STATUS, patched_flow()),
            expect(Method::POST, EVENTS, json!({})),
            expect(Method::PATCH, EVENTS, json!({})),
            expect(Method::PATCH, FLOW_STATUS, patched_flow()),
        ],
    );
    let shared = Arc::new(w.ctx.clone());
    testflow::reconcile(Arc::new(requested("t1", spec.clone())), shared.clone())
        .await
        .unwrap();
    cache_flow(&mut w.flows, &active_flow);
    // Redis loses everything (this server is the test's own).
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("FLUSHALL").query_async(&mut conn).await.unwrap();

    w.clock.advance(11 * 60);
    let checked = lost_runs::check(&w.ctx, &SETTINGS).await.unwrap();
    assert_eq!(checked.lost, vec![run_id.to_string()]);
    let record = w.record(run_id).await;
    assert_eq!(record.status, "error");
    assert_eq!(record.error.as_deref(), Some(LOST_FROM_QUEUE));

    let next = requested_again(spec);
    testflow::reconcile(Arc::new(next), shared.clone())
        .await
        .unwrap();
    let process = executor(&database_url, &redis);
    let bodies = server.await.unwrap();
    assert_eq!(bodies[4]["reason"], "RunLost");
    let next_id = bodies[6]["status"]["active"][0]
        .as_str()
        .unwrap()
        .to_string();
    wait_status(&w.store, &next_id, "passed", &process).await;
    assert_eq!(w.record(run_id).await, record, "the lost run never ran");
}

#[tokio::test]
async fn a_running_run_is_held_while_its_entry_is_pending_and_lost_once_redis_loses_it() {
    let Some(database_url) = fresh_database("lost_redis_running").await else {
        return;
    };
    let Some(redis) = OwnRedis::start() else {
        return;
    };
    let http = common::http_server::start().await;
    let mut spec = http_flow_spec(&http.url("/slow?ms=120000"));
    spec["timeout"] = json!("5m");
    let operator_queue = RedisQueue::connect(&redis.url(), "").await.unwrap();
    let (mut w, handle) =
        world_on(&database_url, Utc::now(), RunQueue::Redis(operator_queue)).await;
    let run_id = annotation_run_id("t1");
    let run_id = run_id.as_str();
    let active_flow = listing_active(&spec, run_id);
    let server = api_server(
        handle,
        vec![
            expect(Method::POST, EVENTS, json!({})),
            expect(Method::PATCH, FLOW_STATUS, patched_flow()),
            expect(
                Method::GET,
                FLOW,
                serde_json::to_value(&active_flow).unwrap(),
            ),
            expect(Method::PATCH, FLOW_STATUS, patched_flow()),
            expect(Method::POST, EVENTS, json!({})),
        ],
    );
    testflow::reconcile(
        Arc::new(requested("t1", spec.clone())),
        Arc::new(w.ctx.clone()),
    )
    .await
    .unwrap();
    cache_flow(&mut w.flows, &active_flow);
    let mut process = executor(&database_url, &redis);
    wait_status(&w.store, run_id, "running", &process).await;
    eventually("the slow request", WAIT, || async {
        (http.slow_requests() >= 1).then_some(())
    })
    .await;
    process.kill();

    // Past its limit, but its entry is still pending with the dead executor: another executor
    // may claim it, so it is not lost.
    w.clock.advance(8 * 60);
    let checked = lost_runs::check(&w.ctx, &SETTINGS).await.unwrap();
    assert_eq!(checked.active, 1);
    assert!(checked.lost.is_empty(), "{checked:?}");

    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("FLUSHALL").query_async(&mut conn).await.unwrap();
    let checked = lost_runs::check(&w.ctx, &SETTINGS).await.unwrap();
    assert_eq!(checked.lost, vec![run_id.to_string()]);
    let record = w.record(run_id).await;
    assert_eq!(record.status, "error");
    assert_eq!(record.error.as_deref(), Some(LOST_WHILE_RUNNING));
    assert_eq!(w.lost_total("running"), 1);

    drop(w);
    let bodies = server.await.unwrap();
    assert!(bodies[3]["status"].get("active").is_none(), "{}", bodies[3]);
    assert_eq!(bodies[4]["reason"], "RunLost");
}

#[tokio::test]
async fn a_run_with_no_row_and_no_entry_is_lost_at_once_from_the_status_that_lists_it() {
    let base: DateTime<Utc> = "2026-03-01T10:00:00Z".parse().unwrap();
    let queue = MemoryQueue::default();
    let Some((mut w, handle)) = world("lost_no_row", base, RunQueue::Memory(queue.clone())).await
    else {
        return;
    };
    // Enqueued while PostgreSQL was away (no queued row), then lost by Redis.
    let run_id = annotation_run_id("t1");
    let listed = w.flow_with_active(json!({}), &[&run_id]);
    let server = api_server(
        handle,
        vec![
            expect(Method::GET, FLOW, serde_json::to_value(&listed).unwrap()),
            expect(Method::PATCH, FLOW_STATUS, patched_flow()),
            expect(Method::POST, EVENTS, json!({})),
        ],
    );
    let checked = lost_runs::check(&w.ctx, &SETTINGS).await.unwrap();
    assert_eq!(checked.lost, vec![run_id.clone()]);
    assert!(queue.lock().runs.is_empty());
    assert!(
        w.store
            .run_records(std::slice::from_ref(&run_id))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(w.lost_total("queued"), 1);
    drop(w);
    let bodies = server.await.unwrap();
    assert!(bodies[1]["status"].get("active").is_none(), "{}", bodies[1]);
    assert_eq!(bodies[1]["status"]["lastRun"]["result"], "error");
    assert_eq!(bodies[2]["reason"], "RunLost");
}
