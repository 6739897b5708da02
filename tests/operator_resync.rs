//! The operator's controllers, wired as `testmesh operator` wires them, against a mock API server
//! that answers like a real one: objects carry `managedFields` for two managers, half of them
//! the client-side `kubectl apply` annotation, and a status write is stored (with its own
//! managedFields entry and a new resourceVersion) and served by the next list. A watch can be
//! ended with 410 Gone, which makes the watchers list everything again: a full resync.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use http::{Method, Request, Response, StatusCode};
use kube::client::Body;
use kube::{Client, ResourceExt};
use prometheus::Registry;
use serde_json::{Value, json};
use testmesh::operator::context::Context;
use testmesh::operator::metrics::Metrics;
use testmesh::operator::queue::{MemoryQueue, RunQueue};
use testmesh::operator::role;
use testmesh::resources::cache::LAST_APPLIED_ANNOTATION;

type Handle = tower_test::mock::Handle<Request<Body>, Response<Body>>;
type Responder = tower_test::mock::SendResponse<Response<Body>>;

const GROUP: &str = "/apis/testmesh.io/v1alpha1";
const FLOWS: usize = 6;
const SCHEDULES: usize = 2;

/// What the mock API server holds and has seen.
#[derive(Default)]
struct Cluster {
    /// `plural/namespace/name` → object.
    objects: HashMap<String, Value>,
    resource_version: u64,
    /// Status writes, by `plural/namespace/name`.
    status_writes: Vec<String>,
    /// Open watches, answered only to end them with 410 Gone.
    watches: Vec<Responder>,
    unexpected: Vec<String>,
}

fn managed_fields(status: bool) -> Value {
    let mut entries = vec![json!({
        "manager": "kubectl", "operation": "Apply", "apiVersion": "testmesh.io/v1alpha1",
        "time": "2026-03-01T09:00:00Z", "fieldsType": "FieldsV1",
        "fieldsV1": {"f:metadata": {"f:labels": {"f:team": {}}}, "f:spec": {"f:steps": {}}}
    })];
    if status {
        entries.push(json!({
            "manager": "testmesh-operator", "operation": "Apply", "subresource": "status",
            "apiVersion": "testmesh.io/v1alpha1", "time": "2026-03-01T09:00:01Z",
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:status": {"f:conditions": {}, "f:observedGeneration": {}}}
        }));
    }
    json!(entries)
}

fn real_shaped(kind: &str, name: &str, index: usize, spec: Value) -> Value {
    let mut annotations = json!({});
    if index.is_multiple_of(2) {
        annotations[LAST_APPLIED_ANNOTATION] = json!(
            json!({"apiVersion": "testmesh.io/v1alpha1", "kind": kind, "spec": spec}).to_string()
        );
    }
    json!({
        "apiVersion": "testmesh.io/v1alpha1",
        "kind": kind,
        "metadata": {
            "name": name, "namespace": "qa", "uid": format!("uid-{name}"),
            "resourceVersion": "1", "generation": 1,
            "creationTimestamp": "2026-03-01T09:00:00Z",
            "labels": {"team": "shop"}, "annotations": annotations,
            "managedFields": managed_fields(false)
        },
        "spec": spec
    })
}

fn seeded() -> Cluster {
    let mut cluster = Cluster::default();
    for i in 0..FLOWS {
        let name = format!("flow-{i}");
        let spec = json!({"steps": [{"id": "health", "action": "http_request",
                                     "config": {"url": "http://svc/healthz"}}]});
        cluster.objects.insert(
            format!("testflows/qa/{name}"),
            real_shaped("TestFlow", &name, i, spec),
        );
    }
    for i in 0..SCHEDULES {
        let name = format!("nightly-{i}");
        let spec = json!({"schedule": "0 3 * * *", "timeZone": "Europe/Berlin",
                          "flowRef": {"name": format!("flow-{i}")}});
        cluster.objects.insert(
            format!("testschedules/qa/{name}"),
            real_shaped("TestSchedule", &name, i, spec),
        );
    }
    cluster
}

fn reply(status: StatusCode, body: &Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(serde_json::to_vec(body).unwrap()))
        .unwrap()
}

fn list(cluster: &Cluster, plural: &str, kind: &str) -> Value {
    let mut items: Vec<&Value> = cluster
        .objects
        .iter()
        .filter(|(key, _)| key.starts_with(&format!("{plural}/")))
        .map(|(_, object)| object)
        .collect();
    items.sort_by_key(|o| o["metadata"]["name"].as_str().unwrap().to_string());
    json!({"apiVersion": "v1", "kind": format!("{kind}List"),
           "metadata": {"resourceVersion": cluster.resource_version.to_string()},
           "items": items})
}

/// Answers one request as the API server would.
async fn answer(cluster: &Mutex<Cluster>, request: Request<Body>, respond: Responder) {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let query = request.uri().query().unwrap_or_default().to_string();
    let metadata_only = request
        .headers()
        .get("accept")
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("as=PartialObjectMetadata"));
    let body = request.into_body().collect_bytes().await.unwrap();
    let mut cluster = cluster.lock().unwrap();
    if method == Method::GET && query.contains("watch=true") {
        cluster.watches.push(respond);
        return;
    }
    let parts: Vec<&str> = path.trim_start_matches(GROUP).split('/').collect();
    let response = match (method.clone(), parts.as_slice()) {
        (
            Method::GET,
            [
                "",
                plural @ ("testflows" | "testschedules" | "testenvironments"),
            ],
        ) => {
            let kind = match *plural {
                "testflows" => "TestFlow",
                "testschedules" => "TestSchedule",
                _ => "TestEnvironment",
            };
            reply(StatusCode::OK, &list(&cluster, plural, kind))
        }
        (Method::GET, ["", "namespaces", namespace, plural, name]) => {
            match cluster.objects.get(&format!("{plural}/{namespace}/{name}")) {
                Some(object) => reply(StatusCode::OK, object),
                None => reply(
                    StatusCode::NOT_FOUND,
                    &json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                            "reason": "NotFound", "code": 404, "message": "not found"}),
                ),
            }
        }
        (Method::PATCH, ["", "namespaces", namespace, plural, name, "status"]) => {
            let key = format!("{plural}/{namespace}/{name}");
            let patch: Value = serde_json::from_slice(&body).unwrap();
            cluster.resource_version += 1;
            let version = cluster.resource_version.to_string();
            cluster.status_writes.push(key.clone());
            let object = cluster.objects.get_mut(&key).unwrap();
            object["status"] = patch["status"].clone();
            object["metadata"]["resourceVersion"] = json!(version);
            object["metadata"]["managedFields"] = managed_fields(true);
            reply(StatusCode::OK, &object.clone())
        }
        // Secrets and ConfigMaps only trigger reconciles: asked for as metadata, never values.
        (Method::GET, _)
            if (path == "/api/v1/secrets" || path == "/api/v1/configmaps") && metadata_only =>
        {
            reply(
                StatusCode::OK,
                &json!({"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadataList",
                    "metadata": {"resourceVersion": cluster.resource_version.to_string()},
                    "items": []}),
            )
        }
        _ => {
            cluster.unexpected.push(format!("{method} {path}?{query}"));
            reply(StatusCode::NOT_FOUND, &json!({}))
        }
    };
    respond.send_response(response);
}

fn serve(mut handle: Handle, cluster: Arc<Mutex<Cluster>>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while let Some((request, respond)) = handle.next_request().await {
            answer(&cluster, request, respond).await;
        }
    })
}

/// Ends every open watch with 410 Gone, as an API server does when its watch cache has moved
/// past the watcher's resourceVersion: each watcher lists everything again.
fn expire_watches(cluster: &Mutex<Cluster>) {
    let watches = std::mem::take(&mut cluster.lock().unwrap().watches);
    let gone = json!({"type": "ERROR", "object": {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "too old resource version", "reason": "Expired", "code": 410}});
    for watch in watches {
        let mut line = serde_json::to_vec(&gone).unwrap();
        line.push(b'\n');
        watch.send_response(
            Response::builder()
                .status(StatusCode::OK)
                .body(Body::from(line))
                .unwrap(),
        );
    }
}

struct Operator {
    ctx: Context,
    cluster: Arc<Mutex<Cluster>>,
    clock: Arc<Mutex<DateTime<Utc>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Operator {
    fn drop(&mut self) {
        self.tasks.iter().for_each(|task| task.abort());
    }
}

fn start_operator() -> Operator {
    let (service, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let client = Client::new(service, "default");
    let cluster = Arc::new(Mutex::new(seeded()));
    let clock = Arc::new(Mutex::new("2026-03-01T10:00:00Z".parse().unwrap()));
    let now = clock.clone();
    let metrics = Metrics::register(&Registry::new()).unwrap();
    let (ctx, controllers) = role::controllers(&client, None, |flows, environments, _| {
        Context::new(
            client.clone(),
            RunQueue::Memory(MemoryQueue::default()),
            metrics,
            flows,
            environments,
            Arc::new(move || *now.lock().unwrap()),
            Some("test".into()),
        )
    });
    let mut tasks = vec![serve(handle, cluster.clone())];
    tasks.extend(controllers.into_iter().map(tokio::spawn));
    Operator {
        ctx,
        cluster,
        clock,
        tasks,
    }
}

impl Operator {
    fn reconciles(&self, kind: &str) -> u64 {
        self.ctx.metrics.reconciles.with_label_values(&[kind]).get()
    }

    /// Waits (at most 20 s) until the controllers have reconciled every object `rounds` times.
    async fn settle(&self, rounds: u64) {
        for _ in 0..400 {
            if self.reconciles("TestFlow") >= rounds * FLOWS as u64
                && self.reconciles("TestSchedule") >= rounds * SCHEDULES as u64
            {
                // Give a write that would follow the last reconcile time to arrive.
                tokio::time::sleep(Duration::from_millis(300)).await;
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "not every object was reconciled {rounds} time(s): {} flows, {} schedules",
            self.reconciles("TestFlow"),
            self.reconciles("TestSchedule")
        );
    }

    fn status_writes(&self) -> Vec<String> {
        let mut writes = self.cluster.lock().unwrap().status_writes.clone();
        writes.sort();
        writes
    }
}

#[tokio::test]
async fn cached_flows_carry_no_managed_fields_and_no_last_applied_copy() {
    let operator = start_operator();
    operator.settle(1).await;
    let cached = operator.ctx.flows.state();
    assert_eq!(cached.len(), FLOWS);
    for flow in &cached {
        assert_eq!(flow.metadata.managed_fields, None, "{}", flow.name_any());
        assert!(
            !flow.annotations().contains_key(LAST_APPLIED_ANNOTATION),
            "{}",
            flow.name_any()
        );
        assert_eq!(flow.labels()["team"], "shop");
        assert_eq!(flow.metadata.resource_version.as_deref(), Some("1"));
        let spec = flow.expand().unwrap().spec;
        assert_eq!(
            spec.flow.steps[0].action,
            "http_request",
            "{}",
            flow.name_any()
        );
    }
    let served_with_copy = operator
        .cluster
        .lock()
        .unwrap()
        .objects
        .values()
        .filter(|o| o["metadata"]["annotations"][LAST_APPLIED_ANNOTATION].is_string())
        .count();
    assert!(
        served_with_copy >= FLOWS / 2,
        "the mock serves real-shaped objects"
    );
    assert_eq!(
        operator.cluster.lock().unwrap().unexpected,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn a_resync_of_unchanged_objects_writes_no_status() {
    let operator = start_operator();
    // First sight: each object gets its status, once.
    operator.settle(1).await;
    let first = operator.status_writes();
    assert_eq!(first.len(), FLOWS + SCHEDULES, "{first:#?}");
    let mut unique = first.clone();
    unique.dedup();
    assert_eq!(unique, first, "one write per object");

    // Half an hour later the watches expire, and everything is listed again with the status
    // written above: every object is reconciled again, and nothing is written.
    *operator.clock.lock().unwrap() = "2026-03-01T10:30:00Z".parse().unwrap();
    expire_watches(&operator.cluster);
    operator.settle(2).await;
    assert_eq!(operator.status_writes(), first, "a resync wrote a status");
    let cached = operator.ctx.flows.state();
    assert!(cached.iter().all(|flow| flow.status.is_some()));
    assert!(
        cached
            .iter()
            .all(|flow| flow.metadata.managed_fields.is_none())
    );
    assert_eq!(
        operator
            .ctx
            .metrics
            .status_writes
            .with_label_values(&["TestFlow"])
            .get(),
        FLOWS as u64
    );
    assert_eq!(
        operator.cluster.lock().unwrap().unexpected,
        Vec::<String>::new()
    );
}
