//! The result of running a flow: every step, attempt, assertion and captured value. The same
//! type is printed by `testmesh run --report json` and stored by executors, so it is plain data
//! (serde) with no behaviour beyond a few summaries.

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::recorded::Recorded;

/// How a whole flow run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowStatus {
    Passed,
    /// An assertion did not hold.
    Failed,
    /// A step could not run: a refused connection, a bad value, a step timeout.
    Error,
    /// Stopped by the user (Ctrl-C) or by the caller.
    Cancelled,
    /// The flow-level timeout ran out.
    TimedOut,
}

impl FlowStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FlowStatus::Passed => "passed",
            FlowStatus::Failed => "failed",
            FlowStatus::Error => "error",
            FlowStatus::Cancelled => "cancelled",
            FlowStatus::TimedOut => "timed_out",
        }
    }
}

/// How one step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Passed,
    Failed,
    Error,
    Skipped,
    Cancelled,
}

impl StepStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Passed => "passed",
            StepStatus::Failed => "failed",
            StepStatus::Error => "error",
            StepStatus::Skipped => "skipped",
            StepStatus::Cancelled => "cancelled",
        }
    }
}

/// Which list a step belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Setup,
    Main,
    Teardown,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Setup => "setup",
            Phase::Main => "main",
            Phase::Teardown => "teardown",
        }
    }
}

/// One flow run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowResult {
    pub execution_id: String,
    pub flow_name: String,
    /// The file the flow came from, when it came from one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub status: FlowStatus,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub duration_ms: u64,
    pub steps: Vec<StepResult>,
    /// Every value captured during the run, by flat name.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub captured: IndexMap<String, Value>,
    /// Why the flow ended early (timeout, cancellation, a setup failure), when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl FlowResult {
    /// Counts steps by status, in the order passed, failed (failed or error), skipped.
    pub fn counts(&self) -> StepCounts {
        let mut counts = StepCounts::default();
        for step in &self.steps {
            match step.status {
                StepStatus::Passed => counts.passed += 1,
                StepStatus::Failed => counts.failed += 1,
                StepStatus::Error => counts.errored += 1,
                StepStatus::Skipped | StepStatus::Cancelled => counts.skipped += 1,
            }
        }
        counts
    }
}

/// Step totals of one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepCounts {
    pub passed: usize,
    pub failed: usize,
    pub errored: usize,
    pub skipped: usize,
}

/// One step, with all its attempts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepResult {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub action: String,
    pub phase: Phase,
    pub status: StepStatus,
    pub started_at: DateTime<Utc>,
    pub duration_ms: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<AttemptResult>,
    /// Values captured by `output`, by variable name.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub captured: IndexMap<String, Value>,
    /// Why the step was skipped or cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl StepResult {
    /// The attempt that decided the step's status.
    pub fn last_attempt(&self) -> Option<&AttemptResult> {
        self.attempts.last()
    }
}

/// One try of a step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptResult {
    /// Counted from 1.
    pub attempt: u32,
    pub status: StepStatus,
    pub started_at: DateTime<Utc>,
    pub duration_ms: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assertions: Vec<AssertionOutcome>,
    /// A runtime error: what failed, where, with which value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What was sent (for HTTP: method, url, headers, body), truncated; built only when read,
    /// like `response`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Recorded>,
    /// The action's result (for HTTP: status, headers, body). Shared with the variables that
    /// later steps read it by, rather than copied, and built only when read (see [`Recorded`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<Recorded>,
}

/// One assertion, checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssertionOutcome {
    /// The expression as written.
    pub expression: String,
    pub passed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The values of the paths the expression reads, as it saw them.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub actual: IndexMap<String, Value>,
    /// Set when the expression could not be evaluated at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
