//! Kubernetes sign-in against kube-rs's mock API server (tests/common/fake_kube.rs): the
//! TokenReview and SubjectAccessReview bodies follow the Kubernetes API's conventions, a refused
//! token is refused, each namespace is allowed or denied per caller, a caller is reviewed once
//! per time to live and once for concurrent requests, starting a run asks `patch` on the flow,
//! and an API server that cannot be reached denies with a 503 over HTTP.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use serde_json::{Value, json};
use testmesh::api::{
    Admission, ApiError, AppState, AuthMode, Authentication, CatalogFlow, Environment, FlowCatalog,
    KubernetesAccess, ReviewError, RouterOptions, Schedule, Scope, SignInLimit, StoreCatalog,
    router,
};
use testmesh::store::{Store, StoreOptions};
use testmesh::telemetry::{Health, ops_router};
use tokio::sync::Notify;

use common::fake_kube::{FakeKube, FakeUser};

/// A catalog whose flows live in `qa`, `ops` and `billing`.
struct ThreeNamespaces;

impl FlowCatalog for ThreeNamespaces {
    fn flows<'a>(&'a self, _: &'a Scope) -> BoxFuture<'a, Result<Vec<CatalogFlow>, ApiError>> {
        let flows = ["billing", "ops", "qa"]
            .into_iter()
            .map(|namespace| CatalogFlow {
                conditions: Vec::new(),
                namespace: namespace.into(),
                name: "smoke".into(),
                spec: json!({"steps": []}),
            })
            .collect();
        async move { Ok(flows) }.boxed()
    }

    fn flow<'a>(
        &'a self,
        _: &'a str,
        _: &'a str,
    ) -> BoxFuture<'a, Result<Option<CatalogFlow>, ApiError>> {
        async { Ok(None) }.boxed()
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

fn users() -> Vec<FakeUser> {
    vec![
        FakeUser {
            token: "alice-token",
            name: "alice",
            groups: vec!["team-qa", "system:authenticated"],
            readable: vec!["qa", "billing"],
            patchable: vec!["qa/checkout"],
        },
        FakeUser {
            token: "admin-token",
            name: "admin",
            groups: vec!["system:masters"],
            readable: vec!["*"],
            patchable: Vec::new(),
        },
    ]
}

const TTL: Duration = Duration::from_secs(600);

fn access(fake: &FakeKube, limit: Scope) -> KubernetesAccess {
    KubernetesAccess::new(fake.serve(users()), Arc::new(ThreeNamespaces), limit, TTL)
}

fn admitted(admission: Admission) -> Arc<testmesh::api::Caller> {
    match admission {
        Admission::Admitted(caller) => caller,
        Admission::Refused { reason } => panic!("refused: {reason}"),
    }
}

fn access_reviews_of(fake: &FakeKube) -> Vec<Value> {
    fake.reviews()
        .into_iter()
        .filter(|review| review["kind"] == "SubjectAccessReview")
        .collect()
}

#[tokio::test]
async fn a_caller_sees_the_namespaces_where_they_may_get_testflows() {
    let fake = FakeKube::default();
    let access = access(&fake, Scope::all());
    let caller = admitted(access.admit("alice-token").await.unwrap());
    assert_eq!(caller.identity.user, "alice");
    assert_eq!(caller.identity.groups, ["team-qa", "system:authenticated"]);
    assert_eq!(
        caller.scope,
        Scope::only(vec!["billing".into(), "qa".into()])
    );
    assert!(!caller.scope.allows("ops"));

    let reviews = fake.reviews();
    assert_eq!(reviews[0]["apiVersion"], "authentication.k8s.io/v1");
    assert_eq!(reviews[0]["kind"], "TokenReview");
    assert_eq!(reviews[0]["spec"]["token"], "alice-token");
    let asked = access_reviews_of(&fake);
    assert_eq!(asked[0]["apiVersion"], "authorization.k8s.io/v1");
    let spec = &asked[0]["spec"];
    assert_eq!(spec["user"], "alice");
    assert_eq!(spec["uid"], "uid-alice");
    assert_eq!(spec["groups"], json!(["team-qa", "system:authenticated"]));
    assert_eq!(
        spec["resourceAttributes"],
        json!({"group": "testmesh.io", "resource": "testflows", "verb": "get"}),
        "first the question for every namespace"
    );
    let mut namespaces: Vec<&str> = asked[1..]
        .iter()
        .map(|review| {
            let attributes = &review["spec"]["resourceAttributes"];
            assert_eq!(attributes["verb"], "get");
            assert_eq!(attributes["group"], "testmesh.io");
            assert_eq!(attributes["resource"], "testflows");
            assert!(attributes.get("name").is_none());
            attributes["namespace"].as_str().unwrap()
        })
        .collect();
    namespaces.sort();
    assert_eq!(namespaces, ["billing", "ops", "qa"]);
}

#[tokio::test]
async fn a_caller_allowed_everywhere_sees_every_namespace_after_one_question() {
    let fake = FakeKube::default();
    let caller = admitted(
        access(&fake, Scope::all())
            .admit("admin-token")
            .await
            .unwrap(),
    );
    assert_eq!(caller.scope, Scope::all());
    assert_eq!(fake.count("SubjectAccessReview"), 1);
}

#[tokio::test]
async fn the_api_scope_limits_the_namespaces_asked_about() {
    let fake = FakeKube::default();
    let limit = Scope::new(&["qa".into(), "ops".into()]);
    let caller = admitted(access(&fake, limit).admit("admin-token").await.unwrap());
    assert_eq!(caller.scope, Scope::only(vec!["ops".into(), "qa".into()]));
    let asked: Vec<Value> = access_reviews_of(&fake)
        .iter()
        .map(|review| review["spec"]["resourceAttributes"]["namespace"].clone())
        .collect();
    assert_eq!(asked.len(), 2, "{asked:?}");
    assert!(!asked.contains(&json!("billing")) && !asked.contains(&Value::Null));
}

#[tokio::test]
async fn a_token_the_api_server_does_not_accept_is_refused() {
    let fake = FakeKube::default();
    match access(&fake, Scope::all()).admit("stolen").await.unwrap() {
        Admission::Refused { reason } => assert_eq!(reason, "token not recognised"),
        Admission::Admitted(caller) => panic!("admitted {caller:?}"),
    }
    assert_eq!(fake.count("SubjectAccessReview"), 0);
}

#[tokio::test]
async fn a_second_request_asks_nothing() {
    let fake = FakeKube::default();
    let access = access(&fake, Scope::all());
    let first = admitted(access.admit("alice-token").await.unwrap());
    let asked = fake.reviews().len();
    let second = admitted(access.admit("alice-token").await.unwrap());
    assert_eq!(fake.reviews().len(), asked);
    assert_eq!(first, second);
    admitted(access.admit("admin-token").await.unwrap());
    assert!(fake.reviews().len() > asked, "another token is reviewed");
}

#[tokio::test]
async fn a_short_time_to_live_reviews_again() {
    let fake = FakeKube::default();
    let access = KubernetesAccess::new(
        fake.serve(users()),
        Arc::new(ThreeNamespaces),
        Scope::all(),
        Duration::from_millis(1),
    );
    admitted(access.admit("admin-token").await.unwrap());
    tokio::time::sleep(Duration::from_millis(20)).await;
    admitted(access.admit("admin-token").await.unwrap());
    assert_eq!(fake.count("TokenReview"), 2);
}

#[tokio::test]
async fn concurrent_requests_of_one_caller_share_one_review() {
    let release = Arc::new(Notify::new());
    let fake = FakeKube::holding_first_token_review(release.clone());
    let access = Arc::new(access(&fake, Scope::all()));
    let waiting: Vec<_> = (0..10)
        .map(|_| {
            let access = access.clone();
            tokio::spawn(async move { access.admit("alice-token").await })
        })
        .collect();
    // Every request is under way before the first review is answered.
    for _ in 0..100 {
        if fake.count("TokenReview") > 0 {
            break;
        }
        tokio::task::yield_now().await;
    }
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
    release.notify_one();
    for task in waiting {
        assert_eq!(
            admitted(task.await.unwrap().unwrap()).identity.user,
            "alice"
        );
    }
    assert_eq!(fake.count("TokenReview"), 1);
}

#[tokio::test]
async fn starting_a_run_asks_patch_on_that_testflow() {
    let fake = FakeKube::default();
    let access = access(&fake, Scope::all());
    let alice = admitted(access.admit("alice-token").await.unwrap());
    assert!(
        access
            .may_start_run(&alice, "qa", "checkout")
            .await
            .unwrap()
    );
    assert!(!access.may_start_run(&alice, "qa", "refunds").await.unwrap());
    assert!(
        !access
            .may_start_run(&alice, "ops", "checkout")
            .await
            .unwrap()
    );
    let last = access_reviews_of(&fake).pop().unwrap();
    assert_eq!(
        last["spec"]["resourceAttributes"],
        json!({"namespace": "ops", "verb": "patch", "group": "testmesh.io",
               "resource": "testflows", "name": "checkout"})
    );
}

fn unreachable_client() -> kube::Client {
    let config = kube::Config::new("http://127.0.0.1:1".parse().unwrap());
    kube::Client::try_from(config).unwrap()
}

#[tokio::test]
async fn an_unreachable_api_server_is_an_error_and_nothing_is_cached() {
    let access = KubernetesAccess::new(
        unreachable_client(),
        Arc::new(ThreeNamespaces),
        Scope::all(),
        TTL,
    );
    for _ in 0..2 {
        match access.admit("alice-token").await {
            Err(ReviewError::Kubernetes { review, .. }) => assert_eq!(review, "TokenReview"),
            other => panic!("expected an error, got {other:?}"),
        }
    }
}

/// The API over a lazily connected store (sign-in answers before any handler reads it).
async fn serve(auth: Authentication) -> (String, tokio::task::JoinHandle<()>) {
    let store = Store::connect_lazy(
        "postgres://nobody@127.0.0.1:1/none",
        StoreOptions::default(),
    )
    .unwrap();
    let state = AppState {
        catalog: Arc::new(StoreCatalog {
            store: store.clone(),
        }),
        store,
        live: None,
        scope: Scope::all(),
        drafts: None,
    };
    let options = RouterOptions {
        auth,
        ..RouterOptions::default()
    };
    let app = router(
        state,
        &options,
        ops_router(prometheus::Registry::new(), Health::default()),
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    (base, server)
}

#[tokio::test]
async fn an_unreachable_api_server_denies_with_503() {
    let access = KubernetesAccess::new(
        unreachable_client(),
        Arc::new(ThreeNamespaces),
        Scope::all(),
        TTL,
    );
    let auth = Authentication::new(
        AuthMode::Kubernetes(Arc::new(access)),
        SignInLimit::new(std::num::NonZeroU32::new(10).unwrap()),
    );
    let (base, server) = serve(auth).await;
    let response = reqwest::Client::new()
        .get(format!("{base}/api/v1/executions"))
        .bearer_auth("alice-token")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unavailable");
    server.abort();
}

#[tokio::test]
async fn failed_sign_ins_are_limited_per_address_and_counted() {
    let fake = FakeKube::default();
    let registry = prometheus::Registry::new();
    let limit = SignInLimit::new(std::num::NonZeroU32::new(3).unwrap());
    limit.register(&registry).unwrap();
    let auth = Authentication::new(
        AuthMode::Kubernetes(Arc::new(access(&fake, Scope::all()))),
        limit,
    );
    let (base, server) = serve(auth).await;
    let client = reqwest::Client::new();
    let signed_in = client
        .get(format!("{base}/api/v1/session"))
        .bearer_auth("alice-token")
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 200);
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let response = client
            .get(format!("{base}/api/v1/executions"))
            .bearer_auth("stolen")
            .send()
            .await
            .unwrap();
        if response.status() == 429 {
            assert!(response.headers().contains_key("retry-after"));
        }
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429]);
    let session = |token: &'static str| {
        client
            .get(format!("{base}/api/v1/session"))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(
        session("alice-token").await.unwrap().status(),
        200,
        "a caller signed in before the address was blocked goes on"
    );
    assert_eq!(
        session("admin-token").await.unwrap().status(),
        429,
        "a token not yet reviewed waits like the rest of the address"
    );
    let stolen_reviews = fake
        .reviews()
        .iter()
        .filter(|review| review["spec"]["token"] == "stolen")
        .count();
    assert_eq!(stolen_reviews, 1, "a refused token is remembered too");
    let metrics = prometheus::TextEncoder::new()
        .encode_to_string(&registry.gather())
        .unwrap();
    assert!(
        metrics.contains("testmesh_api_auth_failures_total{reason=\"refused\"} 4"),
        "{metrics}"
    );
    assert!(
        metrics.contains("testmesh_api_auth_failures_total{reason=\"throttled\"} 3"),
        "{metrics}"
    );
    server.abort();
}
