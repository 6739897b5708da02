//! Who a bearer token belongs to and what they may do, asked of the Kubernetes API server as
//! `kubectl` would be answered: a **TokenReview** gives the user and groups; a
//! **SubjectAccessReview** per namespace decides what they see (`get` on `testflows.testmesh.io`)
//! and whether they may start a run of a flow (`patch` on that TestFlow, the right the
//! `testmesh.io/run-requested` annotation needs).
//!
//! A caller's namespaces are worked out once, then cached by a hash of the token (never the
//! token itself) for the cache's time to live, in a cache of bounded size. Concurrent requests
//! with the same token wait for one review. A caller allowed to read TestFlows in every
//! namespace sees every namespace; any other caller is asked about each namespace that holds a
//! flow or a run (or each of `--allowed-namespaces` when they are set). When the API server
//! cannot be asked, the answer is an error, never an allowance, and nothing is cached.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::authentication::v1::{TokenReview, TokenReviewSpec};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
};
use kube::Client;
use kube::api::{Api, PostParams};
use moka::future::Cache;
use sha2::{Digest, Sha256};

use super::catalog::FlowCatalog;
use super::scope::Scope;

/// The API group of the resource whose rights decide access.
pub const FLOW_GROUP: &str = "testmesh.io";
/// The resource whose rights decide access.
pub const FLOW_RESOURCE: &str = "testflows";
/// The most callers the cache holds.
const CACHED_CALLERS: u64 = 10_000;
/// How many SubjectAccessReviews of one caller are in flight at once.
const CONCURRENT_REVIEWS: usize = 8;

/// Who a token belongs to, as the TokenReview says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user: String,
    pub uid: Option<String>,
    pub groups: Vec<String>,
    pub extra: Option<BTreeMap<String, Vec<String>>>,
}

/// A signed-in caller: who they are and the namespaces they may see.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    pub identity: Identity,
    pub scope: Scope,
}

/// What the reviews said of a token.
#[derive(Debug, Clone, PartialEq)]
pub enum Admission {
    Admitted(Arc<Caller>),
    /// The API server does not accept the token; the reason is its own, for the log.
    Refused {
        reason: String,
    },
}

/// Why access could not be decided; the request is denied with a 503.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ReviewError {
    #[error("the Kubernetes API server did not answer a {review}: {reason}")]
    Kubernetes {
        review: &'static str,
        reason: String,
    },
    #[error("the namespaces to review could not be listed: {reason}")]
    Namespaces { reason: String },
}

/// Reviews tokens and access through a Kubernetes client, with a cache of callers.
pub struct KubernetesAccess {
    client: Client,
    catalog: Arc<dyn FlowCatalog>,
    /// The API's own scope: when it names namespaces, only those are asked about.
    limit: Scope,
    callers: Cache<[u8; 32], Admission>,
    namespaces: Cache<(), Arc<Vec<String>>>,
}

impl KubernetesAccess {
    /// Reviews through `client`; the namespaces to ask about come from `catalog` within
    /// `limit`; callers are remembered for `ttl`.
    pub fn new(client: Client, catalog: Arc<dyn FlowCatalog>, limit: Scope, ttl: Duration) -> Self {
        Self {
            client,
            catalog,
            limit,
            callers: Cache::builder()
                .max_capacity(CACHED_CALLERS)
                .time_to_live(ttl)
                .build(),
            namespaces: Cache::builder().max_capacity(1).time_to_live(ttl).build(),
        }
    }

    /// The caller `token` belongs to, with their namespaces: from the cache, or from one review
    /// shared by every request that asks for the same token meanwhile.
    pub async fn admit(&self, token: &str) -> Result<Admission, ReviewError> {
        self.callers
            .try_get_with(cache_key(token), self.review(token))
            .await
            .map_err(|err| ReviewError::clone(&err))
    }

    /// The caller `token` belongs to when their review is cached; asks nothing.
    pub async fn admitted(&self, token: &str) -> Option<Arc<Caller>> {
        match self.callers.get(&cache_key(token)).await? {
            Admission::Admitted(caller) => Some(caller),
            Admission::Refused { .. } => None,
        }
    }

    async fn review(&self, token: &str) -> Result<Admission, ReviewError> {
        let identity = match self.authenticate(token).await? {
            Ok(identity) => identity,
            Err(reason) => return Ok(Admission::Refused { reason }),
        };
        let scope = self.readable(&identity).await?;
        Ok(Admission::Admitted(Arc::new(Caller { identity, scope })))
    }

    /// The TokenReview of `token`: the identity, or the reason it is refused.
    pub async fn authenticate(&self, token: &str) -> Result<Result<Identity, String>, ReviewError> {
        let review = TokenReview {
            spec: TokenReviewSpec {
                token: Some(token.to_string()),
                ..TokenReviewSpec::default()
            },
            ..TokenReview::default()
        };
        let answered = Api::<TokenReview>::all(self.client.clone())
            .create(&PostParams::default(), &review)
            .await
            .map_err(|err| ReviewError::Kubernetes {
                review: "TokenReview",
                reason: err.to_string(),
            })?;
        let status = answered.status.unwrap_or_default();
        let user = status.user.unwrap_or_default();
        match (status.authenticated, user.username) {
            (Some(true), Some(username)) if !username.is_empty() => Ok(Ok(Identity {
                user: username,
                uid: user.uid,
                groups: user.groups.unwrap_or_default(),
                extra: user.extra,
            })),
            _ => Ok(Err(status
                .error
                .unwrap_or_else(|| "the token is not authenticated".into()))),
        }
    }

    /// The namespaces `identity` may read TestFlows in.
    async fn readable(&self, identity: &Identity) -> Result<Scope, ReviewError> {
        let candidates = match self.limit.namespaces() {
            Some(limit) => Arc::new(limit.to_vec()),
            None => {
                if self.may(identity, "get", None, None).await? {
                    return Ok(Scope::all());
                }
                self.candidates().await?
            }
        };
        // The questions are made first, then run a few at a time.
        let questions: Vec<_> = candidates
            .iter()
            .map(|namespace| async move {
                let allowed = self.may(identity, "get", Some(namespace), None).await?;
                Ok::<_, ReviewError>(allowed.then(|| namespace.clone()))
            })
            .collect();
        let answers: Vec<Option<String>> = futures::stream::iter(questions)
            .buffer_unordered(CONCURRENT_REVIEWS)
            .try_collect()
            .await?;
        Ok(Scope::only(answers.into_iter().flatten().collect()))
    }

    /// Every namespace that holds a flow or a run, listed once per time to live.
    async fn candidates(&self) -> Result<Arc<Vec<String>>, ReviewError> {
        self.namespaces
            .try_get_with((), async {
                self.catalog
                    .namespaces()
                    .await
                    .map(Arc::new)
                    .map_err(|err| ReviewError::Namespaces {
                        reason: err.to_string(),
                    })
            })
            .await
            .map_err(|err| ReviewError::clone(&err))
    }

    /// Whether `caller` may start a run of the flow `namespace/flow`: `patch` on that TestFlow.
    pub async fn may_start_run(
        &self,
        caller: &Caller,
        namespace: &str,
        flow: &str,
    ) -> Result<bool, ReviewError> {
        self.may(&caller.identity, "patch", Some(namespace), Some(flow))
            .await
    }

    /// The SubjectAccessReview of `verb` on TestFlows (one by `name`, or all) in `namespace`
    /// (or in every namespace).
    async fn may(
        &self,
        identity: &Identity,
        verb: &str,
        namespace: Option<&str>,
        name: Option<&str>,
    ) -> Result<bool, ReviewError> {
        let review = SubjectAccessReview {
            spec: SubjectAccessReviewSpec {
                user: Some(identity.user.clone()),
                uid: identity.uid.clone(),
                groups: Some(identity.groups.clone()),
                extra: identity.extra.clone(),
                resource_attributes: Some(ResourceAttributes {
                    namespace: namespace.map(str::to_string),
                    verb: Some(verb.to_string()),
                    group: Some(FLOW_GROUP.to_string()),
                    resource: Some(FLOW_RESOURCE.to_string()),
                    name: name.map(str::to_string),
                    ..ResourceAttributes::default()
                }),
                ..SubjectAccessReviewSpec::default()
            },
            ..SubjectAccessReview::default()
        };
        let answered = Api::<SubjectAccessReview>::all(self.client.clone())
            .create(&PostParams::default(), &review)
            .await
            .map_err(|err| ReviewError::Kubernetes {
                review: "SubjectAccessReview",
                reason: err.to_string(),
            })?;
        Ok(answered.status.is_some_and(|status| status.allowed))
    }
}

/// The cache's key of a token: its SHA-256, so that tokens are not kept.
fn cache_key(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}
