//! The Redis Streams queue against a real Redis: the group sees runs enqueued before it
//! existed, an unacknowledged run is claimed by another consumer only once idle, malformed
//! entries come back as poison, and the dead-letter move acknowledges.

mod common;

use std::time::Duration;

use testmesh::queue::{RedisQueue, Streams};

use common::services::{redis_url, run_message, spec, unique_prefix};

async fn queue(test: &str) -> Option<RedisQueue> {
    let url = redis_url()?;
    Some(
        RedisQueue::connect(
            &url,
            Streams::prefixed(&unique_prefix(test)),
            Duration::from_secs(5),
        )
        .await
        .unwrap(),
    )
}

fn run(run_id: &str) -> testmesh::queue::RunMessage {
    run_message(
        run_id,
        "orders",
        spec("name: orders\nsteps:\n  - id: ping\n    action: log\n    config: {message: hi}\n"),
    )
}

#[tokio::test]
async fn runs_enqueued_before_the_group_exists_are_delivered_once() {
    let Some(queue) = queue("deliver").await else {
        return;
    };
    queue.enqueue_run(&run("r-1")).await.unwrap();
    queue.ensure_group().await.unwrap();
    queue.ensure_group().await.unwrap();
    let first = queue
        .read_runs("a", 10, Duration::from_millis(100))
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].run.as_ref().unwrap().run_id, "r-1");
    let again = queue
        .read_runs("b", 10, Duration::from_millis(100))
        .await
        .unwrap();
    assert!(
        again.is_empty(),
        "a delivered run is not delivered to another consumer"
    );
    assert_eq!(
        queue.backlog().await.unwrap(),
        Some(1),
        "delivered, not acknowledged"
    );
    queue
        .settle(&[first[0].id.clone()], &[], &[])
        .await
        .unwrap();
    assert_eq!(queue.backlog().await.unwrap(), Some(0));
}

#[tokio::test]
async fn an_unacknowledged_run_is_claimed_only_after_it_is_idle() {
    let Some(queue) = queue("claim").await else {
        return;
    };
    queue.ensure_group().await.unwrap();
    queue.enqueue_run(&run("r-2")).await.unwrap();
    let held = queue
        .read_runs("dead", 10, Duration::from_millis(100))
        .await
        .unwrap();
    assert_eq!(held.len(), 1);
    let early = queue
        .claim_idle("alive", Duration::from_secs(60), 10)
        .await
        .unwrap();
    assert!(early.is_empty());
    tokio::time::sleep(Duration::from_millis(150)).await;
    let claimed = queue
        .claim_idle("alive", Duration::from_millis(100), 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].id, held[0].id);
    assert_eq!(claimed[0].run.as_ref().unwrap().run_id, "r-2");
}

#[tokio::test]
async fn malformed_entries_are_poison_and_the_dead_letter_move_acknowledges_them() {
    let Some(queue) = queue("poison").await else {
        return;
    };
    queue.ensure_group().await.unwrap();
    queue.enqueue_raw("{\"runId\": 5}").await.unwrap();
    let read = queue
        .read_runs("a", 10, Duration::from_millis(100))
        .await
        .unwrap();
    let poison = read[0].run.as_ref().unwrap_err();
    assert!(
        poison.reason.starts_with("not a run message"),
        "{}",
        poison.reason
    );
    queue
        .dead_letter(&read[0].id, &poison.raw, &poison.reason, None)
        .await
        .unwrap();
    assert_eq!(queue.backlog().await.unwrap(), Some(0));
}

#[tokio::test]
async fn the_operator_reads_results_through_its_own_group_and_acknowledges_them() {
    let Some(queue) = queue("results").await else {
        return;
    };
    let now = chrono::Utc::now();
    let message = run("r-3");
    let result = testmesh::queue::ResultMessage {
        run_id: "r-3".into(),
        flow: message.flow.clone(),
        trigger: message.trigger.clone(),
        status: testmesh::engine::FlowStatus::Passed,
        started_at: now,
        finished_at: now,
        duration_ms: 4,
        passed_steps: 1,
        failed_steps: 0,
        error: None,
        executor_id: "exec-a".into(),
    };
    queue
        .settle(&[], std::slice::from_ref(&result), &[])
        .await
        .unwrap();
    queue.ensure_results_group("operators").await.unwrap();
    let read = queue
        .read_results("operators", "op-1", 10, Duration::from_millis(100))
        .await
        .unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].result.as_ref().unwrap(), &result);
    queue
        .ack_results("operators", &[read[0].id.clone()])
        .await
        .unwrap();
    let more = queue
        .read_results("operators", "op-1", 10, Duration::from_millis(50))
        .await
        .unwrap();
    assert!(more.is_empty());
}
