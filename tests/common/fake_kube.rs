//! A Kubernetes API server that answers TokenReviews and SubjectAccessReviews, on kube-rs's
//! mock service (`tower_test`): each known token is a user with groups and the namespaces
//! where they may get and patch TestFlows (`*` for every namespace). It keeps the body of every
//! review it was sent, and can hold its first TokenReview answer until released.

use std::sync::{Arc, Mutex};

use http::{Request, Response};
use kube::Client;
use kube::client::Body;
use serde_json::{Value, json};
use tokio::sync::Notify;

/// One user the fake API server knows.
#[derive(Debug, Clone)]
pub struct FakeUser {
    pub token: &'static str,
    pub name: &'static str,
    pub groups: Vec<&'static str>,
    /// Where they may get TestFlows; `*` is every namespace.
    pub readable: Vec<&'static str>,
    /// `namespace/flow` pairs they may patch.
    pub patchable: Vec<&'static str>,
}

/// The fake server's side: what it was asked.
#[derive(Clone, Default)]
pub struct FakeKube {
    reviews: Arc<Mutex<Vec<Value>>>,
    /// When set, the first TokenReview waits for a notification before it is answered.
    hold_first_token_review: Option<Arc<Notify>>,
}

impl FakeKube {
    /// A fake whose first TokenReview is answered only once `release` is notified.
    pub fn holding_first_token_review(release: Arc<Notify>) -> Self {
        Self {
            hold_first_token_review: Some(release),
            ..Self::default()
        }
    }

    /// Every review body sent so far, in order.
    pub fn reviews(&self) -> Vec<Value> {
        self.reviews.lock().unwrap().clone()
    }

    /// How many reviews of `kind` (TokenReview or SubjectAccessReview) were sent.
    pub fn count(&self, kind: &str) -> usize {
        self.reviews()
            .iter()
            .filter(|review| review["kind"] == kind)
            .count()
    }

    /// A client of a fake API server that knows `users`.
    pub fn serve(&self, users: Vec<FakeUser>) -> Client {
        let (service, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
        let reviews = self.reviews.clone();
        let mut hold = self.hold_first_token_review.clone();
        tokio::spawn(async move {
            while let Some((request, send)) = handle.next_request().await {
                let path = request.uri().path().to_string();
                let body = request.into_body().collect_bytes().await.unwrap();
                let review: Value = serde_json::from_slice(&body).unwrap();
                reviews.lock().unwrap().push(review.clone());
                let status = match path.as_str() {
                    "/apis/authentication.k8s.io/v1/tokenreviews" => {
                        if let Some(release) = hold.take() {
                            release.notified().await;
                        }
                        token_review(&users, &review)
                    }
                    "/apis/authorization.k8s.io/v1/subjectaccessreviews" => {
                        access_review(&users, &review)
                    }
                    other => panic!("unexpected request to {other}"),
                };
                let mut answer = review;
                answer["status"] = status;
                send.send_response(
                    Response::builder()
                        .body(Body::from(serde_json::to_vec(&answer).unwrap()))
                        .unwrap(),
                );
            }
        });
        Client::new(service, "default")
    }
}

fn token_review(users: &[FakeUser], review: &Value) -> Value {
    let token = review["spec"]["token"].as_str().unwrap_or_default();
    match users.iter().find(|user| user.token == token) {
        Some(user) => json!({
            "authenticated": true,
            "user": {"username": user.name, "uid": format!("uid-{}", user.name),
                     "groups": user.groups},
        }),
        None => json!({"authenticated": false, "error": "token not recognised"}),
    }
}

fn access_review(users: &[FakeUser], review: &Value) -> Value {
    let spec = &review["spec"];
    let attributes = &spec["resourceAttributes"];
    let Some(user) = users.iter().find(|user| spec["user"] == user.name) else {
        return json!({"allowed": false});
    };
    let on_flows = attributes["group"] == "testmesh.io" && attributes["resource"] == "testflows";
    let namespace = attributes["namespace"].as_str().unwrap_or_default();
    let allowed = on_flows
        && match attributes["verb"].as_str() {
            Some("get") => user
                .readable
                .iter()
                .any(|ns| *ns == "*" || (!namespace.is_empty() && *ns == namespace)),
            Some("patch") => {
                let target = format!("{namespace}/{}", attributes["name"].as_str().unwrap_or("*"));
                user.patchable.iter().any(|flow| *flow == target)
            }
            _ => false,
        };
    json!({"allowed": allowed})
}
