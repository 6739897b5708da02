//! The TestFlow resource: a flow (the same model the command line reads, camelCase) plus how the
//! cluster runs it, and a status that shows validation, the last run and the flow's health.

use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{ConcurrencyPolicy, LocalRef, RunHealth, RunSummary};
use crate::flow::{FlowDuration, FlowSpec};

/// A flow that lives in the cluster.
#[derive(CustomResource, Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "testmesh.io",
    version = "v1alpha1",
    kind = "TestFlow",
    namespaced,
    status = "TestFlowStatus",
    shortname = "tf",
    category = "testmesh",
    doc = "An end-to-end test flow: ordered steps with captures and assertions.",
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Last Result","type":"string","jsonPath":".status.lastRun.result"}"#,
    printcolumn = r#"{"name":"Last Run","type":"date","jsonPath":".status.lastRun.finishedAt"}"#,
    printcolumn = r#"{"name":"Pass Rate","type":"number","jsonPath":".status.health.passRate"}"#,
    printcolumn = r#"{"name":"Suspended","type":"boolean","jsonPath":".spec.suspend","priority":1}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct TestFlowSpec {
    /// The flow itself: name, env, setup, steps, teardown, config.
    #[serde(flatten)]
    pub flow: FlowSpec,
    /// The TestEnvironment whose variables, secrets and headers the runs use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment_ref: Option<LocalRef>,
    /// No run starts while true (schedules, annotations and changes are ignored).
    #[serde(default)]
    pub suspend: bool,
    /// Run once for every new generation of this resource.
    #[serde(default)]
    pub run_on_change: bool,
    /// Limit for a whole run, teardown included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<FlowDuration>,
    /// What a new run does while one is active.
    #[serde(default)]
    pub concurrency_policy: ConcurrencyPolicy,
}

/// What the operator observed and what the runs did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestFlowStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready` (valid and runnable) and `Validated` (the validator's findings).
    #[serde(default)]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<RunSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_successful_time: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<RunHealth>,
    /// Ids of runs enqueued and not finished (annotation and change runs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub active: Vec<String>,
    /// The last `testmesh.io/run-requested` token that started (or was refused) a run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run_request: Option<String>,
    /// The last generation `runOnChange` ran for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_change_generation: Option<i64>,
}
