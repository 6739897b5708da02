//! The operator's Redis Streams side against a real Redis (TESTMESH_TEST_REDIS_URL, started by
//! `bash scripts/test.sh`): a run id is enqueued once however many operators try, two
//! schedulers reconciling the same tick enqueue one run, cancels are visible to executors, and
//! results are read through the operators' consumer group. With a database
//! (TESTMESH_TEST_DATABASE_URL) each enqueue also writes the run's `queued` execution row, which
//! never undoes the executor's later updates and whose absence never stops scheduling. Each test
//! has its own key prefix and database.

mod common;
mod support;

use std::sync::Arc;

use http::Method;
use redis::AsyncCommands;
use serde_json::json;
use support::*;
use testmesh::operator::queue::{CANCEL_KEY_PREFIX, Enqueued, MemoryQueue, RedisQueue, RunQueue};
use testmesh::operator::runs::{RunRequest, Started, run_message, start_run};
use testmesh::operator::testschedule;
use testmesh::queue::{PAYLOAD_FIELD, RESULTS_STREAM, RUNS_STREAM, Trigger, TriggerKind};
use testmesh::resources::ConcurrencyPolicy;
use testmesh::store::{StorageMode, Store, StoreOptions};

fn redis_url() -> Option<String> {
    let url = std::env::var("TESTMESH_TEST_REDIS_URL").ok();
    if url.is_none() {
        println!("skipped: TESTMESH_TEST_REDIS_URL is not set (run bash scripts/test.sh)");
    }
    url
}

fn prefix(test: &str) -> String {
    format!("test:{test}:{}:", uuid::Uuid::new_v4())
}

async fn raw(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

fn manual_request<'a>(flow: &'a testmesh::resources::TestFlow, run_id: &str) -> RunRequest<'a> {
    RunRequest {
        flow,
        run_id: run_id.into(),
        trigger: Trigger {
            kind: TriggerKind::Manual,
            schedule: None,
            scheduled_time: None,
            token: None,
        },
        environment: None,
        policy: ConcurrencyPolicy::Allow,
        start_deadline: None,
    }
}

fn message(run_id: &str) -> testmesh::queue::RunMessage {
    let flow = flow(json!({}), json!({}), json!(null));
    run_message(&manual_request(&flow, run_id), chrono::Utc::now())
}

#[tokio::test]
async fn a_run_id_is_enqueued_once_however_many_operators_try() {
    let Some(url) = redis_url() else { return };
    let prefix = prefix("once");
    let a = RedisQueue::connect(&url, &prefix).await.unwrap();
    let b = RedisQueue::connect(&url, &prefix).await.unwrap();
    let run = message("sch-abc-1772359200");
    let attempts = (0..8).map(|i| {
        let queue = if i % 2 == 0 { a.clone() } else { b.clone() };
        let run = run.clone();
        tokio::spawn(async move { queue.enqueue(&run).await.unwrap() })
    });
    let outcomes: Vec<Enqueued> = futures::future::join_all(attempts)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| matches!(o, Enqueued::Added(_)))
            .count(),
        1,
        "{outcomes:?}"
    );
    let mut connection = raw(&url).await;
    let length: u64 = connection
        .xlen(format!("{prefix}{RUNS_STREAM}"))
        .await
        .unwrap();
    assert_eq!(length, 1);
    let entries: redis::streams::StreamRangeReply = connection
        .xrange_all(format!("{prefix}{RUNS_STREAM}"))
        .await
        .unwrap();
    let payload: String = redis::from_redis_value_ref(&entries.ids[0].map[PAYLOAD_FIELD]).unwrap();
    let decoded: testmesh::queue::RunMessage = serde_json::from_str(&payload).unwrap();
    assert_eq!(decoded, run);
}

#[tokio::test]
async fn two_schedulers_on_the_same_tick_enqueue_one_run() {
    let Some(url) = redis_url() else { return };
    let prefix = prefix("tick");
    let spec = json!({"schedule": "*/5 * * * *", "flowRef": {"name": "orders"}});
    let status = json!({"activeSince": "2026-03-01T09:00:00Z",
                        "observedSchedule": "*/5 * * * *@UTC",
                        "lastScheduleTime": "2026-03-01T09:55:00Z"});
    let object = schedule(spec, status);
    let mut servers = Vec::new();
    let mut reconciles = Vec::new();
    // Two replicas (a leader and one that still believes it leads, or one restarted).
    for replica in 0..2 {
        let queue = RedisQueue::connect(&url, &prefix).await.unwrap();
        let mut h = harness_with(
            "2026-03-01T10:00:03Z",
            RunQueue::Redis(queue),
            MemoryQueue::default(),
        );
        cache_flow(&mut h.flows, &flow(json!({}), json!({}), ready_status()));
        let mut expected = Vec::new();
        if replica == 0 {
            expected.push(expect(Method::POST, EVENTS, json!({})));
        }
        expected.push(expect(
            Method::PATCH,
            SCHEDULE_STATUS,
            serde_json::to_value(&object).unwrap(),
        ));
        servers.push((replica, h.handle, expected));
        reconciles.push(h.ctx);
    }
    // Replica 0 enqueues first and announces it; replica 1 finds the run id taken.
    let mut bodies = Vec::new();
    for ((_, handle, expected), ctx) in servers.into_iter().zip(reconciles) {
        let server = api_server(handle, expected);
        testschedule::reconcile(Arc::new(object.clone()), ctx.clone())
            .await
            .unwrap();
        drop(ctx);
        bodies.push(server.await.unwrap());
    }
    let mut connection = raw(&url).await;
    let length: u64 = connection
        .xlen(format!("{prefix}{RUNS_STREAM}"))
        .await
        .unwrap();
    assert_eq!(length, 1, "one run for the 10:00 tick");
    for replica in &bodies {
        let status = &replica.last().unwrap()["status"];
        assert_eq!(status["lastScheduleTime"], "2026-03-01T10:00:00Z");
        assert_eq!(status["active"], json!(["sch-5c4b3a29-1772359200"]));
    }
}

#[tokio::test]
async fn replace_leaves_a_cancel_mark_for_the_executors() {
    let Some(url) = redis_url() else { return };
    let prefix = prefix("cancel");
    let queue = RunQueue::Redis(RedisQueue::connect(&url, &prefix).await.unwrap());
    queue.cancel("ann-0f1e2d3c-old").await.unwrap();
    let mut connection = raw(&url).await;
    let mark: Option<String> = connection
        .get(format!("{prefix}{CANCEL_KEY_PREFIX}ann-0f1e2d3c-old"))
        .await
        .unwrap();
    assert_eq!(mark.as_deref(), Some("1"));
}

#[tokio::test]
async fn results_are_read_through_the_operators_group_and_acknowledged() {
    let Some(url) = redis_url() else { return };
    let prefix = prefix("results");
    let queue = RedisQueue::connect(&url, &prefix).await.unwrap();
    queue.ensure_results_group().await.unwrap();
    queue.ensure_results_group().await.unwrap();
    let result = json!({
        "runId": "r1", "flow": {"namespace": "ns", "name": "orders", "generation": 3},
        "trigger": {"kind": "manual"}, "status": "passed",
        "startedAt": "2026-03-01T10:00:00Z", "finishedAt": "2026-03-01T10:00:01Z",
        "durationMs": 1000, "passedSteps": 2, "failedSteps": 0, "executorId": "e1"
    });
    let mut connection = raw(&url).await;
    let stream = format!("{prefix}{RESULTS_STREAM}");
    let _: String = connection
        .xadd(&stream, "*", &[(PAYLOAD_FIELD, result.to_string())])
        .await
        .unwrap();
    let _: String = connection
        .xadd(&stream, "*", &[(PAYLOAD_FIELD, "not json")])
        .await
        .unwrap();
    let entries = queue.read_results("op-a", false, 10, 1000).await.unwrap();
    assert_eq!(entries.len(), 2);
    let decoded = entries[0].1.as_ref().unwrap();
    assert_eq!(decoded.run_id, "r1");
    assert!(entries[1].1.is_err());
    // Unacknowledged entries come back when this consumer reads its pending list.
    assert_eq!(
        queue.read_results("op-a", true, 10, 0).await.unwrap().len(),
        2
    );
    for (id, _) in &entries {
        queue.ack_result(id).await.unwrap();
    }
    assert!(
        queue
            .read_results("op-a", true, 10, 0)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(queue.depth().await.unwrap(), 0);
}

/// A harness enqueueing on Redis under `prefix`, and its context writing rows to `store`.
async fn harness_with_store(
    url: &str,
    prefix: &str,
    store: Store,
) -> (Harness, testmesh::operator::context::Context) {
    let queue = RedisQueue::connect(url, prefix).await.unwrap();
    let h = harness_with(
        "2026-03-01T10:00:00Z",
        RunQueue::Redis(queue),
        MemoryQueue::default(),
    );
    let ctx = (*h.ctx).clone().with_store(store);
    (h, ctx)
}

async fn runs_in_stream(url: &str, prefix: &str) -> u64 {
    raw(url)
        .await
        .xlen(format!("{prefix}{RUNS_STREAM}"))
        .await
        .unwrap()
}

async fn row(store: &Store, run_id: &str) -> (String, i32, String, String, String) {
    sqlx::query_as(
        "SELECT status, attempt, namespace, flow_name, trigger FROM executions.runs \
         WHERE run_id = $1",
    )
    .bind(run_id)
    .fetch_one(store.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn each_enqueue_writes_one_queued_row_that_never_undoes_the_executor() {
    let Some(url) = redis_url() else { return };
    let Some(database) = common::services::fresh_database("opqueued").await else {
        return;
    };
    let store = Store::connect(&database, StoreOptions::default())
        .await
        .unwrap();
    assert_eq!(store.migrate().await.unwrap(), StorageMode::Plain);
    let prefix = prefix("queued");
    let (_harness, ctx) = harness_with_store(&url, &prefix, store.clone()).await;
    let flow = flow(json!({}), json!({}), ready_status());
    let mut active = Vec::new();

    let started = start_run(&ctx, manual_request(&flow, "man-orders-1"), &mut active)
        .await
        .unwrap();
    assert_eq!(started, Started::Enqueued);
    assert_eq!(
        row(&store, "man-orders-1").await,
        (
            "queued".into(),
            0,
            "ns".into(),
            "orders".into(),
            "manual".into()
        )
    );

    // The executor takes the run: first attempt, running.
    let message = run_message(&manual_request(&flow, "man-orders-1"), chrono::Utc::now());
    let taken = store
        .start_runs(&[&message], "exec-a", chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(taken[0].attempt, 1);

    // A retried enqueue of the same run id adds no stream entry and leaves the row running.
    active.clear();
    let again = start_run(&ctx, manual_request(&flow, "man-orders-1"), &mut active)
        .await
        .unwrap();
    assert_eq!(again, Started::Duplicate);
    assert_eq!(row(&store, "man-orders-1").await.0, "running");
    assert_eq!(row(&store, "man-orders-1").await.1, 1);
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM executions.runs")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(rows, 1);
    assert_eq!(runs_in_stream(&url, &prefix).await, 1);
    assert_eq!(ctx.metrics.queued_row_failures.get(), 0);
}

#[tokio::test]
async fn a_database_outage_costs_a_metric_and_never_the_run() {
    let Some(url) = redis_url() else { return };
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let unreachable = Store::connect_lazy(
        &format!("postgres://testmesh@127.0.0.1:{port}/testmesh"),
        StoreOptions::default(),
    )
    .unwrap();
    let prefix = prefix("outage");
    let (h, ctx) = harness_with_store(&url, &prefix, unreachable).await;
    let flow = flow(json!({}), json!({}), ready_status());
    let mut active = Vec::new();

    let started = start_run(&ctx, manual_request(&flow, "man-orders-2"), &mut active)
        .await
        .unwrap();
    assert_eq!(started, Started::Enqueued);
    assert_eq!(active, vec!["man-orders-2".to_string()]);
    assert_eq!(runs_in_stream(&url, &prefix).await, 1);
    assert_eq!(ctx.metrics.queued_row_failures.get(), 1);
    let exported = prometheus::TextEncoder::new()
        .encode_to_string(&h.registry.gather())
        .unwrap();
    assert!(
        exported.contains("testmesh_queued_row_failures_total 1"),
        "{exported}"
    );
}
