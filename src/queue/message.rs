//! The run request and the run result. A run message carries references and a snapshot of the
//! flow spec, never secret values: the executor resolves secrets itself.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::engine::FlowStatus;
use crate::flow::FlowSpec;

/// Asks an executor to run one flow once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunMessage {
    /// Unique per run. For a scheduled run it is derived from the schedule uid and the
    /// scheduled time, so a replay or a second operator can never make a second run.
    pub run_id: String,
    pub flow: FlowRef,
    /// The flow as it was when the run was requested.
    pub spec: FlowSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<EnvironmentRef>,
    pub trigger: Trigger,
    pub enqueued_at: DateTime<Utc>,
    /// A run not started by then is recorded as missed instead of run late.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_deadline: Option<DateTime<Utc>>,
    /// Limit for the whole run, from the TestFlow's `timeout`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
    /// The W3C `traceparent` of the operator's span that enqueued the run, when tracing is on:
    /// the executor's span of the run is its child.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    /// A draft run: a `manual` run of a spec the flow editor sent (`POST /api/v1/runs`), not of
    /// a TestFlow. Recorded and marked as a draft; no TestFlow's status is touched.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub draft: bool,
}

/// Which TestFlow, at which generation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlowRef {
    pub namespace: String,
    pub name: String,
    #[serde(default)]
    pub generation: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
}

/// A TestEnvironment by name; its secret values stay in the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentRef {
    pub namespace: String,
    pub name: String,
}

/// A TestSchedule by name and uid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleRef {
    pub namespace: String,
    pub name: String,
    pub uid: String,
}

/// What started a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Trigger {
    pub kind: TriggerKind,
    /// For a schedule: which one, and the time it was due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<ScheduleRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_time: Option<DateTime<Utc>>,
    /// For an annotation: the run-requested token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// The kinds of trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TriggerKind {
    /// A TestSchedule tick.
    Schedule,
    /// The `testmesh.io/run-requested` annotation.
    Annotation,
    /// A new generation of a TestFlow with `runOnChange`.
    Change,
    /// Anything else (an API call, a test).
    Manual,
}

impl TriggerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TriggerKind::Schedule => "schedule",
            TriggerKind::Annotation => "annotation",
            TriggerKind::Change => "change",
            TriggerKind::Manual => "manual",
        }
    }
}

/// What an executor reports when a run ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResultMessage {
    pub run_id: String,
    pub flow: FlowRef,
    pub trigger: Trigger,
    pub status: FlowStatus,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub duration_ms: u64,
    pub passed_steps: u32,
    pub failed_steps: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub executor_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_message_round_trips_through_json() {
        let message = RunMessage {
            run_id: "sched-abc-1700000000".into(),
            flow: FlowRef {
                namespace: "qa".into(),
                name: "orders".into(),
                generation: 3,
                uid: None,
            },
            spec: FlowSpec {
                name: "orders".into(),
                ..FlowSpec::default()
            },
            environment: Some(EnvironmentRef {
                namespace: "qa".into(),
                name: "staging".into(),
            }),
            trigger: Trigger {
                kind: TriggerKind::Schedule,
                schedule: None,
                scheduled_time: None,
                token: None,
            },
            enqueued_at: Utc::now(),
            start_deadline: None,
            timeout_seconds: Some(60),
            traceparent: Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into()),
            draft: false,
        };
        let text = serde_json::to_string(&message).unwrap();
        assert!(text.contains("\"runId\""), "{text}");
        assert!(text.contains("\"traceparent\""), "{text}");
        assert_eq!(serde_json::from_str::<RunMessage>(&text).unwrap(), message);
    }
}
