//! The API's cluster catalog against kube-rs's mock API server (a `tower_test` handle that plays
//! the Kubernetes API): it lists and watches TestFlows, TestSchedules and TestEnvironments in
//! each watched namespace, answers from the store's catalog until those lists arrive, then from
//! its caches within the API's scope, and still finds in the store a flow the cluster lost.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Timelike;
use futures::FutureExt;
use futures::future::BoxFuture;
use http::{Request, Response};
use kube::Client;
use kube::client::Body;
use serde_json::{Value, json};
use testmesh::api::{
    ApiError, CatalogFlow, ClusterCatalog, Environment, FlowCatalog, Schedule, Scope,
};

type Handle = tower_test::mock::Handle<Request<Body>, Response<Body>>;

/// The store's side: one flow that ran but is not in the cluster.
struct StoreSide;

fn stored_flow(namespace: &str, name: &str) -> CatalogFlow {
    CatalogFlow {
        namespace: namespace.into(),
        name: name.into(),
        spec: json!({"name": "from the store", "steps": []}),
        conditions: Vec::new(),
    }
}

impl FlowCatalog for StoreSide {
    fn flows<'a>(&'a self, _: &'a Scope) -> BoxFuture<'a, Result<Vec<CatalogFlow>, ApiError>> {
        async { Ok(vec![stored_flow("qa", "retired")]) }.boxed()
    }

    fn flow<'a>(
        &'a self,
        namespace: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<CatalogFlow>, ApiError>> {
        async move { Ok((name == "retired").then(|| stored_flow(namespace, name))) }.boxed()
    }

    fn schedules<'a>(&'a self, _: &'a Scope) -> BoxFuture<'a, Result<Vec<Schedule>, ApiError>> {
        async { Ok(Vec::new()) }.boxed()
    }

    fn environments<'a>(
        &'a self,
        _: &'a Scope,
    ) -> BoxFuture<'a, Result<Vec<Environment>, ApiError>> {
        async { Ok(Vec::new()) }.boxed()
    }
}

fn object(kind: &str, namespace: &str, name: &str, spec: Value, status: Value) -> Value {
    json!({
        "apiVersion": "testmesh.io/v1alpha1",
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace, "uid": format!("uid-{namespace}-{name}"),
                     "resourceVersion": "7", "generation": 1},
        "spec": spec,
        "status": status,
    })
}

/// What the cluster holds, per namespace and resource plural.
fn items(namespace: &str, plural: &str) -> Vec<Value> {
    let steps = json!([{"id": "ping", "action": "http_request", "config": {"url": "http://svc/"}}]);
    match (namespace, plural) {
        ("qa", "testflows") => vec![
            object(
                "TestFlow",
                "qa",
                "orders",
                json!({"name": "Orders happy path", "tags": ["smoke"], "steps": steps,
                       "environmentRef": {"name": "staging"}}),
                json!({}),
            ),
            object(
                "TestFlow",
                "qa",
                "cart",
                json!({"steps": steps}),
                json!({"conditions": [{"type": "Ready", "status": "False",
                    "reason": "ValidationFailed", "lastTransitionTime": "2026-03-01T02:00:00Z",
                    "message": "the flow is not valid: step `ping`: spec.steps[0].action: unknown action `htp`"}]}),
            ),
        ],
        ("ops", "testflows") => vec![object(
            "TestFlow",
            "ops",
            "backup",
            json!({"steps": steps}),
            json!({}),
        )],
        ("qa", "testschedules") => vec![
            object(
                "TestSchedule",
                "qa",
                "nightly",
                json!({"schedule": "0 2 * * *", "timeZone": "UTC", "flowRef": {"name": "orders"}}),
                json!({"lastScheduleTime": "2026-03-01T02:00:00Z"}),
            ),
            object(
                "TestSchedule",
                "qa",
                "paused",
                json!({"schedules": ["*/5 * * * *"], "suspend": true,
                       "flowSelector": {"matchLabels": {"tier": "smoke", "app": "shop"}}}),
                json!({}),
            ),
        ],
        ("qa", "testenvironments") => vec![object(
            "TestEnvironment",
            "qa",
            "staging",
            json!({"variables": {"BASE_URL": "http://shop.qa"},
                   "valueFrom": [{"name": "TOKEN", "secretKeyRef": {"name": "shop-creds", "key": "token"}}]}),
            json!({}),
        )],
        _ => Vec::new(),
    }
}

/// Plays the API server: answers lists from [`items`] and holds watches open (nothing changes).
/// Returns the paths of the lists it answered.
fn cluster(mut handle: Handle) -> Arc<Mutex<Vec<String>>> {
    let lists = Arc::new(Mutex::new(Vec::new()));
    let seen = lists.clone();
    tokio::spawn(async move {
        let mut watches = Vec::new();
        while let Some((request, send)) = handle.next_request().await {
            let path = request.uri().path().to_string();
            let query = request.uri().query().unwrap_or_default().to_string();
            if query.contains("watch=true") {
                watches.push(send);
                continue;
            }
            let parts: Vec<&str> = path.split('/').collect();
            let (namespace, plural) = match parts.as_slice() {
                [
                    "",
                    "apis",
                    "testmesh.io",
                    "v1alpha1",
                    "namespaces",
                    ns,
                    plural,
                ] => (*ns, *plural),
                _ => panic!("unexpected request {path}?{query}"),
            };
            let list = json!({
                "apiVersion": "testmesh.io/v1alpha1",
                "kind": "List",
                "metadata": {"resourceVersion": "7"},
                "items": items(namespace, plural),
            });
            seen.lock().unwrap().push(path);
            send.send_response(
                Response::builder()
                    .body(Body::from(serde_json::to_vec(&list).unwrap()))
                    .unwrap(),
            );
        }
    });
    lists
}

async fn until_synced(catalog: &ClusterCatalog) {
    for _ in 0..500 {
        if catalog.synced() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the catalog never received its lists");
}

fn names(flows: &[CatalogFlow]) -> Vec<String> {
    flows
        .iter()
        .map(|flow| format!("{}/{}", flow.namespace, flow.name))
        .collect()
}

#[tokio::test]
async fn the_store_answers_until_the_lists_arrive() {
    let (service, _handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let catalog = ClusterCatalog::start(
        Client::new(service, "default"),
        &["qa".to_string()],
        Arc::new(StoreSide),
    );
    assert!(!catalog.synced());
    let flows = catalog.flows(&Scope::default()).await.unwrap();
    assert_eq!(names(&flows), ["qa/retired"]);
    assert_eq!(flows[0].spec["name"], "from the store");
    assert!(catalog.flow("qa", "orders").await.unwrap().is_none());
}

#[tokio::test]
async fn flows_come_from_each_watched_namespace_within_the_scope() {
    let (service, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let lists = cluster(handle);
    let catalog = ClusterCatalog::start(
        Client::new(service, "default"),
        &["qa".to_string(), "ops".to_string()],
        Arc::new(StoreSide),
    );
    until_synced(&catalog).await;
    let mut listed = lists.lock().unwrap().clone();
    listed.sort();
    assert_eq!(
        listed,
        [
            "/apis/testmesh.io/v1alpha1/namespaces/ops/testenvironments",
            "/apis/testmesh.io/v1alpha1/namespaces/ops/testflows",
            "/apis/testmesh.io/v1alpha1/namespaces/ops/testschedules",
            "/apis/testmesh.io/v1alpha1/namespaces/qa/testenvironments",
            "/apis/testmesh.io/v1alpha1/namespaces/qa/testflows",
            "/apis/testmesh.io/v1alpha1/namespaces/qa/testschedules",
        ],
        "one list per kind in each watched namespace, none cluster-wide"
    );

    let all = catalog.flows(&Scope::default()).await.unwrap();
    assert_eq!(names(&all), ["ops/backup", "qa/cart", "qa/orders"]);
    let cart = &all[1];
    assert_eq!(
        cart.conditions.len(),
        1,
        "the invalid flow keeps its conditions"
    );
    assert_eq!(cart.conditions[0].type_, "Ready");
    assert_eq!(cart.conditions[0].status, "False");
    assert!(cart.conditions[0].message.contains("unknown action `htp`"));
    assert!(all[2].conditions.is_empty());
    let orders = &all[2];
    assert_eq!(orders.spec["name"], "Orders happy path");
    assert_eq!(orders.spec["tags"], json!(["smoke"]));
    assert_eq!(orders.spec["steps"][0]["id"], "ping");
    assert!(
        orders.spec.get("environmentRef").is_none(),
        "the spec is the flow's, as runs carry it: {}",
        orders.spec
    );
    let qa_only = catalog.flows(&Scope::new(&["qa".into()])).await.unwrap();
    assert_eq!(names(&qa_only), ["qa/cart", "qa/orders"]);

    let detail = catalog.flow("qa", "orders").await.unwrap().unwrap();
    assert_eq!(detail.spec["name"], "Orders happy path");
    let retired = catalog.flow("qa", "retired").await.unwrap().unwrap();
    assert_eq!(
        retired.spec["name"], "from the store",
        "history stays reachable"
    );
    assert!(catalog.flow("qa", "nothing").await.unwrap().is_none());
}

#[tokio::test]
async fn schedules_and_environments_come_from_the_cluster_without_secret_values() {
    let (service, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    cluster(handle);
    let catalog = ClusterCatalog::start(
        Client::new(service, "default"),
        &["qa".to_string()],
        Arc::new(StoreSide),
    );
    until_synced(&catalog).await;

    let schedules = catalog.schedules(&Scope::default()).await.unwrap();
    assert_eq!(schedules.len(), 2);
    let nightly = &schedules[0];
    assert_eq!(
        (nightly.name.as_str(), nightly.flow.as_str()),
        ("nightly", "orders")
    );
    assert_eq!(nightly.schedules, ["0 2 * * *"]);
    assert_eq!(nightly.time_zone.as_deref(), Some("UTC"));
    assert_eq!(
        nightly.last_schedule_time.unwrap().to_rfc3339(),
        "2026-03-01T02:00:00+00:00"
    );
    assert_eq!(nightly.next_runs.len(), 5);
    assert!(
        nightly
            .next_runs
            .iter()
            .all(|at| at.hour() == 2 && at.minute() == 0)
    );
    assert!(nightly.next_runs.windows(2).all(|w| w[0] < w[1]));
    let paused = &schedules[1];
    assert!(paused.suspended);
    assert!(
        paused.next_runs.is_empty(),
        "a suspended schedule has no next runs"
    );
    assert_eq!(paused.flow, "app=shop,tier=smoke");

    let environments = catalog.environments(&Scope::default()).await.unwrap();
    assert_eq!(environments.len(), 1);
    let staging = &environments[0];
    assert_eq!(staging.variables["BASE_URL"], "http://shop.qa");
    assert_eq!(staging.secret_refs.len(), 1);
    assert_eq!(
        (
            staging.secret_refs[0].kind.as_str(),
            staging.secret_refs[0].name.as_str(),
            staging.secret_refs[0].key.as_str()
        ),
        ("Secret", "shop-creds", "token")
    );
    assert_eq!(staging.flows, ["orders"]);
    assert!(
        catalog
            .environments(&Scope::new(&["ops".into()]))
            .await
            .unwrap()
            .is_empty()
    );
}
