//! Live events for the dashboard: `started`, `step` and `finished` for each run, on the run's
//! own stream (`testmesh:events:{run_id}`, capped and expiring), with `started` and `finished`
//! also on the shared feed (`testmesh:live`). Each entry has an `event` field (the kind) and a
//! `message` field (JSON). Events are for watching; the store is the record.

use serde::Serialize;
use serde_json::Value;

/// The kinds of live event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LiveEventKind {
    /// `message`: {runId, namespace, flowName, status: "running", startedAt, attempt, executorId}
    Started,
    /// `message`: {runId, stepIndex, step} with the step as the engine reports it (masked).
    Step,
    /// `message`: the run's ResultMessage.
    Finished,
}

impl LiveEventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LiveEventKind::Started => "started",
            LiveEventKind::Step => "step",
            LiveEventKind::Finished => "finished",
        }
    }

    /// Whether the shared feed carries this kind too.
    pub fn on_feed(self) -> bool {
        !matches!(self, LiveEventKind::Step)
    }
}

/// One event of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveEvent {
    pub run_id: String,
    pub kind: LiveEventKind,
    pub message: Value,
}
