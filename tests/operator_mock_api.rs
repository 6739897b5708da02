//! The reconcilers against kube-rs's mock API server (a `tower_test` handle that plays the API
//! server): each test states the exact requests a reconcile makes — status patches on the
//! status subresource, Events, reads of Secrets — and what their bodies hold, and what went
//! onto the (in-memory) run queue.

mod support;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use http::{Method, Request, Response};
use kube::Client;
use kube::client::Body;
use serde_json::json;
use support::*;
use testmesh::engine::FlowStatus;
use testmesh::operator::{leader, results, testenvironment, testflow, testschedule};
use testmesh::queue::{FlowRef, ResultMessage, ScheduleRef, Trigger, TriggerKind};
use testmesh::resources::TestEnvironment;

#[tokio::test]
async fn an_invalid_flow_gets_false_conditions_naming_the_field_and_an_event() {
    let h = harness("2026-03-01T10:00:00Z");
    let bad = flow(
        json!({"steps": [{"id": "a", "action": "htp_request"}]}),
        json!({}),
        json!(null),
    );
    let server = api_server(
        h.handle,
        vec![
            expect(Method::POST, EVENTS, json!({})),
            expect(
                Method::PATCH,
                FLOW_STATUS,
                serde_json::to_value(&bad).unwrap(),
            ),
        ],
    );
    testflow::reconcile(Arc::new(bad), h.ctx.clone())
        .await
        .unwrap();
    drop(h.ctx);
    let bodies = server.await.unwrap();
    assert_eq!(bodies[0]["reason"], "ValidationFailed");
    assert_eq!(bodies[0]["type"], "Warning");
    assert!(
        bodies[0]["note"]
            .as_str()
            .unwrap()
            .contains("spec.steps[0].action")
    );
    let patch = &bodies[1];
    assert_eq!(patch["apiVersion"], "testmesh.io/v1alpha1");
    assert_eq!(patch["kind"], "TestFlow");
    let validated = condition(patch, "Validated");
    assert_eq!(validated["status"], "False");
    let message = validated["message"].as_str().unwrap();
    assert!(message.contains("spec.steps[0].action"), "{message}");
    assert!(message.contains("htp_request"), "{message}");
    assert_eq!(condition(patch, "Ready")["status"], "False");
    assert_eq!(condition(patch, "Stalled")["status"], "True");
    assert_eq!(patch["status"]["observedGeneration"], 3);
    assert!(h.queue.lock().runs.is_empty());
}

#[tokio::test]
async fn a_valid_flow_becomes_ready_with_one_status_write_and_none_when_unchanged() {
    let h = harness("2026-03-01T10:00:00Z");
    let good = flow(json!({}), json!({}), json!(null));
    let server = api_server(
        h.handle,
        vec![expect(
            Method::PATCH,
            FLOW_STATUS,
            serde_json::to_value(&good).unwrap(),
        )],
    );
    testflow::reconcile(Arc::new(good), h.ctx.clone())
        .await
        .unwrap();
    // Already up to date: no request at all.
    let settled = flow(json!({}), json!({}), ready_status());
    testflow::reconcile(Arc::new(settled), h.ctx.clone())
        .await
        .unwrap();
    drop(h.ctx);
    let bodies = server.await.unwrap();
    assert_eq!(condition(&bodies[0], "Ready")["status"], "True");
    assert_eq!(condition(&bodies[0], "Validated")["status"], "True");
    assert!(
        bodies[0]["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["type"] != "Stalled")
    );
}

#[tokio::test]
async fn each_new_run_request_token_starts_exactly_one_run() {
    let h = harness("2026-03-01T10:00:00Z");
    let requested = flow(
        json!({}),
        json!({"testmesh.io/run-requested": "deploy-42"}),
        ready_status(),
    );
    let server = api_server(
        h.handle,
        vec![
            expect(Method::POST, EVENTS, json!({})),
            expect(
                Method::PATCH,
                FLOW_STATUS,
                serde_json::to_value(&requested).unwrap(),
            ),
        ],
    );
    testflow::reconcile(Arc::new(requested), h.ctx.clone())
        .await
        .unwrap();
    // The same token again, now echoed in status: nothing happens.
    let mut handled_status = ready_status();
    handled_status["lastRunRequest"] = json!("deploy-42");
    let handled = flow(
        json!({}),
        json!({"testmesh.io/run-requested": "deploy-42"}),
        handled_status,
    );
    testflow::reconcile(Arc::new(handled), h.ctx.clone())
        .await
        .unwrap();
    drop(h.ctx);
    let bodies = server.await.unwrap();
    assert_eq!(bodies[0]["reason"], "RunQueued");
    assert_eq!(bodies[1]["status"]["lastRunRequest"], "deploy-42");
    let runs = &h.queue.lock().runs;
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(bodies[1]["status"]["active"], json!([run.run_id]));
    assert!(run.run_id.starts_with("ann-0f1e2d3c-"), "{}", run.run_id);
    assert_eq!(run.trigger.kind, TriggerKind::Annotation);
    assert_eq!(run.trigger.token.as_deref(), Some("deploy-42"));
    assert_eq!(run.flow.name, "orders");
    assert_eq!(run.flow.generation, 3);
    assert_eq!(run.spec.name, "orders");
}

#[tokio::test]
async fn run_on_change_runs_once_per_generation() {
    let h = harness("2026-03-01T10:00:00Z");
    let changed = flow(json!({"runOnChange": true}), json!({}), ready_status());
    let server = api_server(
        h.handle,
        vec![
            expect(Method::POST, EVENTS, json!({})),
            expect(
                Method::PATCH,
                FLOW_STATUS,
                serde_json::to_value(&changed).unwrap(),
            ),
        ],
    );
    testflow::reconcile(Arc::new(changed), h.ctx.clone())
        .await
        .unwrap();
    let mut seen = ready_status();
    seen["lastChangeGeneration"] = json!(3);
    seen["active"] = json!(["chg-0f1e2d3c-3"]);
    testflow::reconcile(
        Arc::new(flow(json!({"runOnChange": true}), json!({}), seen)),
        h.ctx.clone(),
    )
    .await
    .unwrap();
    drop(h.ctx);
    let bodies = server.await.unwrap();
    assert_eq!(bodies[1]["status"]["lastChangeGeneration"], 3);
    let runs = &h.queue.lock().runs;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].run_id, "chg-0f1e2d3c-3");
    assert_eq!(runs[0].trigger.kind, TriggerKind::Change);
}

#[tokio::test]
async fn forbid_skips_with_an_event_and_a_metric_and_replace_cancels() {
    let h = harness("2026-03-01T10:00:00Z");
    let mut busy = ready_status();
    busy["active"] = json!(["ann-0f1e2d3c-old"]);
    let forbid = flow(
        json!({}),
        json!({"testmesh.io/run-requested": "t2"}),
        busy.clone(),
    );
    let replace = flow(
        json!({"concurrencyPolicy": "Replace"}),
        json!({"testmesh.io/run-requested": "t3"}),
        busy,
    );
    let server = api_server(
        h.handle,
        vec![
            expect(Method::POST, EVENTS, json!({})),
            expect(
                Method::PATCH,
                FLOW_STATUS,
                serde_json::to_value(&forbid).unwrap(),
            ),
            expect(Method::POST, EVENTS, json!({})),
            expect(
                Method::PATCH,
                FLOW_STATUS,
                serde_json::to_value(&replace).unwrap(),
            ),
        ],
    );
    testflow::reconcile(Arc::new(forbid), h.ctx.clone())
        .await
        .unwrap();
    testflow::reconcile(Arc::new(replace), h.ctx.clone())
        .await
        .unwrap();
    drop(h.ctx);
    let bodies = server.await.unwrap();
    assert_eq!(bodies[0]["reason"], "RunSkipped");
    assert!(bodies[0]["note"].as_str().unwrap().contains("Forbid"));
    assert_eq!(bodies[1]["status"]["lastRunRequest"], "t2");
    assert_eq!(bodies[1]["status"]["active"], json!(["ann-0f1e2d3c-old"]));
    assert_eq!(bodies[2]["reason"], "RunQueued");
    let state = h.queue.lock();
    assert_eq!(state.cancelled, ["ann-0f1e2d3c-old"]);
    assert_eq!(state.runs.len(), 1);
    assert_eq!(bodies[3]["status"]["active"], json!([state.runs[0].run_id]));
    let metrics = prometheus::TextEncoder::new()
        .encode_to_string(&h.registry.gather())
        .unwrap();
    assert!(
        metrics.contains("testmesh_runs_skipped_total{reason=\"forbid\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("testmesh_runs_enqueued_total{trigger=\"annotation\"} 1"));
}

#[tokio::test]
async fn a_bad_cron_or_zone_is_a_false_condition_naming_field_and_value() {
    let h = harness("2026-03-01T10:00:00Z");
    let bad_cron = schedule(
        json!({"schedule": "0 25 * * *", "flowRef": {"name": "orders"}}),
        json!(null),
    );
    let bad_zone = schedule(
        json!({"schedule": "@hourly", "timeZone": "Europe/Atlantis", "flowRef": {"name": "orders"}}),
        json!(null),
    );
    let server = api_server(
        h.handle,
        vec![
            expect(Method::POST, EVENTS, json!({})),
            expect(
                Method::PATCH,
                SCHEDULE_STATUS,
                serde_json::to_value(&bad_cron).unwrap(),
            ),
            expect(Method::PATCH, EVENTS, json!({})),
            expect(
                Method::PATCH,
                SCHEDULE_STATUS,
                serde_json::to_value(&bad_zone).unwrap(),
            ),
        ],
    );
    testschedule::reconcile(Arc::new(bad_cron), h.ctx.clone())
        .await
        .unwrap();
    testschedule::reconcile(Arc::new(bad_zone), h.ctx.clone())
        .await
        .unwrap();
    drop(h.ctx);
    let bodies = server.await.unwrap();
    assert_eq!(bodies[0]["reason"], "InvalidSchedule");
    let ready = condition(&bodies[1], "Ready");
    assert_eq!(ready["status"], "False");
    let message = ready["message"].as_str().unwrap();
    assert!(
        message.starts_with("spec.schedule: cron expression \"0 25 * * *\""),
        "{message}"
    );
    let zone = condition(&bodies[3], "Ready")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        zone.contains("spec.timeZone") && zone.contains("Europe/Atlantis"),
        "{zone}"
    );
    assert!(h.queue.lock().runs.is_empty());
}

#[tokio::test]
async fn a_due_tick_enqueues_one_run_with_the_deterministic_id() {
    let mut h = harness("2026-03-01T10:00:20Z");
    cache_flow(&mut h.flows, &flow(json!({}), json!({}), ready_status()));
    let spec = json!({"schedule": "0 * * * *", "timeZone": "Europe/Berlin",
                      "flowRef": {"name": "orders"}, "startingDeadlineSeconds": 60});
    let status = json!({"activeSince": "2026-03-01T08:30:00Z",
                        "observedSchedule": "0 * * * *@Europe/Berlin",
                        "lastScheduleTime": "2026-03-01T09:00:00Z"});
    let due = schedule(spec.clone(), status);
    let server = api_server(
        h.handle,
        vec![
            expect(Method::POST, EVENTS, json!({})),
            expect(
                Method::PATCH,
                SCHEDULE_STATUS,
                serde_json::to_value(&due).unwrap(),
            ),
        ],
    );
    let action = testschedule::reconcile(Arc::new(due), h.ctx.clone())
        .await
        .unwrap();
    assert!(
        format!("{action:?}").contains("requeue_after: Some("),
        "{action:?}"
    );
    drop(h.ctx);
    let bodies = server.await.unwrap();
    let status = &bodies[1]["status"];
    assert_eq!(status["lastScheduleTime"], "2026-03-01T10:00:00Z");
    assert_eq!(status["nextScheduleTime"], "2026-03-01T11:00:00Z");
    assert_eq!(status["active"], json!(["sch-5c4b3a29-1772359200"]));
    assert_eq!(condition(&bodies[1], "Ready")["status"], "True");
    let runs = &h.queue.lock().runs;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].run_id, "sch-5c4b3a29-1772359200");
    assert_eq!(runs[0].trigger.kind, TriggerKind::Schedule);
    assert_eq!(
        runs[0].start_deadline.unwrap().to_rfc3339(),
        "2026-03-01T10:01:00+00:00"
    );
}

#[tokio::test]
async fn a_schedule_whose_flow_was_deleted_runs_nothing() {
    let h = harness("2026-03-01T10:00:20Z");
    let orphan = schedule(
        json!({"schedule": "0 * * * *", "flowRef": {"name": "orders"}}),
        json!({"activeSince": "2026-03-01T08:30:00Z", "observedSchedule": "0 * * * *@UTC"}),
    );
    // Not in the cache: the API is asked, and says the flow is gone.
    let server = api_server(
        h.handle,
        vec![
            not_found("/apis/testmesh.io/v1alpha1/namespaces/ns/testflows/orders"),
            expect(Method::POST, EVENTS, json!({})),
            expect(
                Method::PATCH,
                SCHEDULE_STATUS,
                serde_json::to_value(&orphan).unwrap(),
            ),
        ],
    );
    testschedule::reconcile(Arc::new(orphan), h.ctx.clone())
        .await
        .unwrap();
    drop(h.ctx);
    let bodies = server.await.unwrap();
    assert_eq!(bodies[1]["reason"], "FlowNotFound");
    let ready = condition(&bodies[2], "Ready");
    assert_eq!(ready["status"], "False");
    assert_eq!(
        ready["message"],
        "spec.flowRef: TestFlow \"orders\" not found in namespace ns"
    );
    assert!(h.queue.lock().runs.is_empty());
}

#[tokio::test]
async fn a_suspended_schedule_fires_nothing_and_resuming_starts_counting_then() {
    let mut h = harness("2026-03-01T10:00:20Z");
    cache_flow(&mut h.flows, &flow(json!({}), json!({}), ready_status()));
    let suspended = schedule(
        json!({"schedule": "0 * * * *", "flowRef": {"name": "orders"}, "suspend": true}),
        json!({"activeSince": "2026-03-01T05:00:00Z", "observedSchedule": "0 * * * *@UTC",
               "lastScheduleTime": "2026-03-01T06:00:00Z"}),
    );
    let resumed = schedule(
        json!({"schedule": "0 * * * *", "flowRef": {"name": "orders"}}),
        json!({"observedSchedule": "0 * * * *@UTC", "lastScheduleTime": "2026-03-01T06:00:00Z"}),
    );
    let server = api_server(
        h.handle,
        vec![
            expect(
                Method::PATCH,
                SCHEDULE_STATUS,
                serde_json::to_value(&suspended).unwrap(),
            ),
            expect(
                Method::PATCH,
                SCHEDULE_STATUS,
                serde_json::to_value(&resumed).unwrap(),
            ),
        ],
    );
    testschedule::reconcile(Arc::new(suspended), h.ctx.clone())
        .await
        .unwrap();
    testschedule::reconcile(Arc::new(resumed), h.ctx.clone())
        .await
        .unwrap();
    drop(h.ctx);
    let bodies = server.await.unwrap();
    assert!(bodies[0]["status"].get("activeSince").is_none());
    assert_eq!(bodies[1]["status"]["activeSince"], "2026-03-01T10:00:20Z");
    assert!(
        h.queue.lock().runs.is_empty(),
        "10:00 passed while suspended"
    );
}

#[tokio::test]
async fn a_missing_secret_key_is_named_without_any_value() {
    let mut h = harness("2026-03-01T10:00:00Z");
    cache_flow(
        &mut h.flows,
        &flow(
            json!({"environmentRef": {"name": "staging"}}),
            json!({}),
            ready_status(),
        ),
    );
    let env: TestEnvironment = serde_json::from_value(json!({
        "apiVersion": "testmesh.io/v1alpha1", "kind": "TestEnvironment",
        "metadata": {"name": "staging", "namespace": "ns", "generation": 2},
        "spec": {"valueFrom": [
            {"name": "DB_PASSWORD", "secretKeyRef": {"name": "db", "key": "password"}},
            {"name": "REGION", "configMapKeyRef": {"name": "settings", "key": "region"}}]}
    }))
    .unwrap();
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "ns"},
                        "data": {"username": "c3VwZXItc2VjcmV0LXZhbHVl"}});
    let server = api_server(
        h.handle,
        vec![
            expect(Method::GET, "/api/v1/namespaces/ns/secrets/db", secret),
            not_found("/api/v1/namespaces/ns/configmaps/settings"),
            expect(Method::POST, EVENTS, json!({})),
            expect(
                Method::PATCH,
                ENV_STATUS,
                serde_json::to_value(&env).unwrap(),
            ),
        ],
    );
    testenvironment::reconcile(Arc::new(env), h.ctx.clone())
        .await
        .unwrap();
    drop(h.ctx);
    let bodies = server.await.unwrap();
    let ready = condition(&bodies[3], "Ready");
    assert_eq!(ready["status"], "False");
    assert_eq!(
        ready["message"],
        "key \"password\" not found in Secret \"db\"; ConfigMap \"settings\" not found"
    );
    assert_eq!(bodies[3]["status"]["flows"], 1);
    for body in &bodies {
        let text = body.to_string();
        assert!(!text.contains("c3VwZXItc2VjcmV0LXZhbHVl") && !text.contains("super-secret"));
    }
    drop(h.environments);
}

#[tokio::test]
async fn a_failed_result_updates_flow_and_schedule_status_once_each_and_emits_an_event() {
    let h = harness("2026-03-01T10:00:00Z");
    let mut status = ready_status();
    status["active"] = json!(["sch-5c4b3a29-1772359200"]);
    status["health"] = json!({"recent": "PPP", "passRate": 1.0, "flipRate": 0.0});
    let current = flow(json!({}), json!({}), status);
    let sched = schedule(
        json!({"schedule": "0 * * * *", "flowRef": {"name": "orders"}}),
        json!({"active": ["sch-5c4b3a29-1772359200"]}),
    );
    let server = api_server(
        h.handle,
        vec![
            expect(
                Method::GET,
                "/apis/testmesh.io/v1alpha1/namespaces/ns/testflows/orders",
                serde_json::to_value(&current).unwrap(),
            ),
            expect(
                Method::PATCH,
                FLOW_STATUS,
                serde_json::to_value(&current).unwrap(),
            ),
            expect(Method::POST, EVENTS, json!({})),
            expect(
                Method::GET,
                "/apis/testmesh.io/v1alpha1/namespaces/ns/testschedules/nightly",
                serde_json::to_value(&sched).unwrap(),
            ),
            expect(
                Method::PATCH,
                SCHEDULE_STATUS,
                serde_json::to_value(&sched).unwrap(),
            ),
        ],
    );
    let started: DateTime<Utc> = "2026-03-01T10:00:01Z".parse().unwrap();
    let result = ResultMessage {
        run_id: "sch-5c4b3a29-1772359200".into(),
        flow: FlowRef {
            namespace: "ns".into(),
            name: "orders".into(),
            generation: 3,
            uid: Some("0f1e2d3c-aaaa-bbbb-cccc-000000000001".into()),
        },
        trigger: Trigger {
            kind: TriggerKind::Schedule,
            schedule: Some(ScheduleRef {
                namespace: "ns".into(),
                name: "nightly".into(),
                uid: "5c4b3a29-0000-0000-0000-000000000002".into(),
            }),
            scheduled_time: None,
            token: None,
        },
        status: FlowStatus::Failed,
        started_at: started,
        finished_at: started + chrono::Duration::seconds(2),
        duration_ms: 2000,
        passed_steps: 1,
        failed_steps: 1,
        error: Some("assertion status == 200 failed".into()),
        executor_id: "executor-0".into(),
    };
    results::apply_result(&h.ctx, &result).await.unwrap();
    drop(h.ctx);
    let bodies = server.await.unwrap();
    let flow_status = &bodies[1]["status"];
    assert_eq!(flow_status["lastRun"]["result"], "failed");
    assert_eq!(flow_status["lastRun"]["failedSteps"], 1);
    assert_eq!(flow_status["health"]["recent"], "PPPF");
    assert_eq!(flow_status["health"]["passRate"], 0.75);
    assert!(flow_status.get("active").is_none(), "{flow_status}");
    assert_eq!(bodies[2]["reason"], "RunFailed");
    assert!(
        bodies[2]["note"]
            .as_str()
            .unwrap()
            .contains("assertion status == 200 failed")
    );
    assert_eq!(
        bodies[4]["status"]["lastRun"]["id"],
        "sch-5c4b3a29-1772359200"
    );
}

#[tokio::test]
async fn a_result_that_races_a_reconcile_is_written_again_without_losing_the_new_active_run() {
    let h = harness("2026-03-01T10:00:00Z");
    let mut status = ready_status();
    status["active"] = json!(["run-old"]);
    let mut before = flow(json!({}), json!({}), status.clone());
    before.metadata.resource_version = Some("7".into());
    // Between the read and the write, a reconcile started another run.
    status["active"] = json!(["run-old", "run-new"]);
    let mut after = flow(json!({}), json!({}), status);
    after.metadata.resource_version = Some("8".into());
    const FLOW: &str = "/apis/testmesh.io/v1alpha1/namespaces/ns/testflows/orders";
    let server = api_server(
        h.handle,
        vec![
            expect(Method::GET, FLOW, serde_json::to_value(&before).unwrap()),
            conflict(Method::PATCH, FLOW_STATUS),
            expect(Method::GET, FLOW, serde_json::to_value(&after).unwrap()),
            expect(
                Method::PATCH,
                FLOW_STATUS,
                serde_json::to_value(&after).unwrap(),
            ),
        ],
    );
    let started: DateTime<Utc> = "2026-03-01T10:00:01Z".parse().unwrap();
    let result = ResultMessage {
        run_id: "run-old".into(),
        flow: FlowRef {
            namespace: "ns".into(),
            name: "orders".into(),
            generation: 3,
            uid: Some("0f1e2d3c-aaaa-bbbb-cccc-000000000001".into()),
        },
        trigger: Trigger {
            kind: TriggerKind::Annotation,
            schedule: None,
            scheduled_time: None,
            token: Some("t1".into()),
        },
        status: FlowStatus::Passed,
        started_at: started,
        finished_at: started + chrono::Duration::seconds(1),
        duration_ms: 1000,
        passed_steps: 1,
        failed_steps: 0,
        error: None,
        executor_id: "executor-0".into(),
    };
    results::apply_result(&h.ctx, &result).await.unwrap();
    drop(h.ctx);
    let bodies = server.await.unwrap();
    assert_eq!(bodies[1]["metadata"]["resourceVersion"], "7");
    assert_eq!(bodies[3]["metadata"]["resourceVersion"], "8");
    assert_eq!(bodies[3]["status"]["active"], json!(["run-new"]));
    assert_eq!(bodies[3]["status"]["lastRun"]["id"], "run-old");
}

#[tokio::test]
async fn the_lease_is_created_when_absent_and_not_taken_while_another_holds_it() {
    let (service, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let client = Client::new(service, "default");
    let lock = leader::LeaseLock::new(
        kube::Api::namespaced(client, "ops"),
        "testmesh-operator",
        "replica-a",
        Duration::from_secs(15),
    );
    const LEASE: &str = "/apis/coordination.k8s.io/v1/namespaces/ops/leases/testmesh-operator";
    let fresh = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "testmesh-operator", "namespace": "ops", "resourceVersion": "7"},
        "spec": {"holderIdentity": "replica-b", "leaseDurationSeconds": 15,
                 "renewTime": "2026-03-01T09:59:55.000000Z"}});
    let server = api_server(
        handle,
        vec![
            not_found(LEASE),
            expect(
                Method::POST,
                "/apis/coordination.k8s.io/v1/namespaces/ops/leases",
                fresh.clone(),
            ),
            expect(Method::GET, LEASE, fresh.clone()),
            expect(Method::GET, LEASE, fresh.clone()),
            expect(Method::PUT, LEASE, fresh),
        ],
    );
    let now: DateTime<Utc> = "2026-03-01T10:00:00Z".parse().unwrap();
    assert!(lock.try_acquire_or_renew(now).await.unwrap());
    assert!(
        !lock.try_acquire_or_renew(now).await.unwrap(),
        "replica-b holds it"
    );
    let later = now + chrono::Duration::seconds(30);
    assert!(
        lock.try_acquire_or_renew(later).await.unwrap(),
        "expired: taken over"
    );
    drop(lock);
    let bodies = server.await.unwrap();
    assert_eq!(bodies[1]["spec"]["holderIdentity"], "replica-a");
    assert_eq!(bodies[4]["spec"]["holderIdentity"], "replica-a");
    assert_eq!(bodies[4]["spec"]["leaseTransitions"], 1);
    assert_eq!(bodies[4]["metadata"]["resourceVersion"], "7");
}
