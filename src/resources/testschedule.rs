//! The TestSchedule resource: when to run which flows. Schedules are cron expressions (5 or 6
//! fields, or descriptors such as `@hourly`) in an IANA time zone.

use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, LabelSelector};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{ConcurrencyPolicy, LocalRef, RunSummary};

/// Runs flows on a schedule.
#[derive(CustomResource, Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "testmesh.io",
    version = "v1alpha1",
    kind = "TestSchedule",
    namespaced,
    status = "TestScheduleStatus",
    shortname = "ts",
    category = "testmesh",
    doc = "Runs TestFlows on a cron schedule.",
    printcolumn = r#"{"name":"Schedule","type":"string","jsonPath":".spec.schedule"}"#,
    printcolumn = r#"{"name":"Time Zone","type":"string","jsonPath":".spec.timeZone"}"#,
    printcolumn = r#"{"name":"Suspend","type":"boolean","jsonPath":".spec.suspend"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Last Schedule","type":"date","jsonPath":".status.lastScheduleTime"}"#,
    printcolumn = r#"{"name":"Next","type":"date","jsonPath":".status.nextScheduleTime"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "has(self.flowRef) != has(self.flowSelector)",
     "message": "set exactly one of flowRef and flowSelector"},
    {"rule": "has(self.schedule) != has(self.schedules)",
     "message": "set exactly one of schedule and schedules"}
]))]
pub struct TestScheduleSpec {
    /// A cron expression: 5 fields, 6 with seconds first, or a descriptor such as `@hourly`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub schedule: Option<String>,
    /// Several cron expressions; a run is due when any of them is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub schedules: Option<Vec<String>>,
    /// IANA time zone the expressions are read in, such as Europe/Berlin. Default UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// The TestFlow to run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow_ref: Option<LocalRef>,
    /// Run every TestFlow whose labels match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow_selector: Option<LabelSelector>,
    /// Overrides the flows' own environmentRef.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment_ref: Option<LocalRef>,
    /// No run starts while true; resuming does not run the ticks missed meanwhile.
    #[serde(default)]
    pub suspend: bool,
    #[serde(default)]
    pub concurrency_policy: ConcurrencyPolicy,
    /// A tick missed by more than this (operator down, leader change) is skipped, not run late.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub starting_deadline_seconds: Option<i64>,
}

impl TestScheduleSpec {
    /// The cron expressions, whichever field holds them.
    pub fn expressions(&self) -> Vec<String> {
        match (&self.schedule, &self.schedules) {
            (Some(one), _) => vec![one.clone()],
            (None, Some(many)) => many.clone(),
            (None, None) => Vec::new(),
        }
    }

    /// The time zone name, UTC when unset.
    pub fn zone(&self) -> &str {
        self.time_zone.as_deref().unwrap_or("UTC")
    }
}

/// What the scheduler did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestScheduleStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(default)]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
    /// The scheduled time of the last run enqueued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_schedule_time: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_schedule_time: Option<DateTime<Utc>>,
    /// Ticks count from this time on: set when the schedule is created, edited or resumed, so
    /// that none of these fires a run for a time before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_since: Option<DateTime<Utc>>,
    /// The expressions and zone `activeSince` belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_schedule: Option<String>,
    /// Ids of runs enqueued and not finished.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub active: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<RunSummary>,
    /// The last `testmesh.io/run-requested` token handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run_request: Option<String>,
}
