//! Types and helpers shared by the three resources: object references, the concurrency policy,
//! the summary of a run kept in status, run health, `metav1.Condition` bookkeeping, and object
//! names made from display names.

use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The annotation whose every new value asks for one run.
pub const RUN_REQUESTED_ANNOTATION: &str = "testmesh.io/run-requested";

/// How many recent results `health` is computed over.
pub const HEALTH_WINDOW: usize = 20;

/// Condition types.
pub const READY: &str = "Ready";
pub const VALIDATED: &str = "Validated";
pub const RECONCILING: &str = "Reconciling";
pub const STALLED: &str = "Stalled";

/// A resource in the same namespace, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LocalRef {
    #[schemars(length(min = 1))]
    pub name: String,
}

/// What happens when a run is due while another run of the same flow is still active.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ConcurrencyPolicy {
    /// Start another run beside the active one.
    Allow,
    /// Skip the new run, with an Event and a metric.
    #[default]
    Forbid,
    /// Cancel the active run and start the new one.
    Replace,
}

impl ConcurrencyPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            ConcurrencyPolicy::Allow => "Allow",
            ConcurrencyPolicy::Forbid => "Forbid",
            ConcurrencyPolicy::Replace => "Replace",
        }
    }
}

/// The last finished run, as shown in status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunSummary {
    pub id: String,
    /// passed, failed, error, cancelled or timed_out.
    pub result: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub duration_ms: u64,
    pub passed_steps: u32,
    pub failed_steps: u32,
}

/// Pass rate and flip rate over the last [`HEALTH_WINDOW`] runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunHealth {
    /// Results, oldest first: `P` passed, `F` anything else.
    #[serde(default)]
    pub recent: String,
    /// Passed runs over runs, 0 to 1.
    pub pass_rate: f64,
    /// Result changes over adjacent pairs, 0 to 1: how flaky the flow is.
    pub flip_rate: f64,
}

impl RunHealth {
    /// Adds one result and recomputes the rates.
    pub fn record(&self, passed: bool) -> RunHealth {
        let mut recent: Vec<char> = self.recent.chars().collect();
        recent.push(if passed { 'P' } else { 'F' });
        if recent.len() > HEALTH_WINDOW {
            recent.drain(..recent.len() - HEALTH_WINDOW);
        }
        let passes = recent.iter().filter(|c| **c == 'P').count();
        let flips = recent.windows(2).filter(|w| w[0] != w[1]).count();
        RunHealth {
            pass_rate: passes as f64 / recent.len() as f64,
            flip_rate: if recent.len() > 1 {
                flips as f64 / (recent.len() - 1) as f64
            } else {
                0.0
            },
            recent: recent.into_iter().collect(),
        }
    }
}

/// A condition to set: type, truth, a CamelCase reason and a message for people.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionUpdate<'a> {
    pub type_: &'a str,
    pub status: bool,
    pub reason: &'a str,
    pub message: String,
}

/// Sets one condition in `conditions`, keeping its transition time when the status is unchanged.
pub fn set_condition(
    conditions: &mut Vec<Condition>,
    update: ConditionUpdate<'_>,
    generation: Option<i64>,
    now: DateTime<Utc>,
) {
    let status = if update.status { "True" } else { "False" }.to_string();
    let transition = conditions
        .iter()
        .find(|c| c.type_ == update.type_ && c.status == status)
        .map(|c| c.last_transition_time.clone())
        .unwrap_or(Time(now_timestamp(now)));
    let condition = Condition {
        type_: update.type_.to_string(),
        status,
        reason: update.reason.to_string(),
        message: update.message,
        observed_generation: generation,
        last_transition_time: transition,
    };
    match conditions.iter_mut().find(|c| c.type_ == update.type_) {
        Some(existing) => *existing = condition,
        None => conditions.push(condition),
    }
}

/// Removes the condition `type_` (a `Stalled` that no longer applies).
pub fn remove_condition(conditions: &mut Vec<Condition>, type_: &str) {
    conditions.retain(|c| c.type_ != type_);
}

/// Whether the condition `type_` is present and True.
pub fn is_true(conditions: &[Condition], type_: &str) -> bool {
    conditions
        .iter()
        .any(|c| c.type_ == type_ && c.status == "True")
}

fn now_timestamp(now: DateTime<Utc>) -> k8s_openapi::jiff::Timestamp {
    k8s_openapi::jiff::Timestamp::from_millisecond(now.timestamp_millis())
        .unwrap_or(k8s_openapi::jiff::Timestamp::UNIX_EPOCH)
}

/// A display name made into a Kubernetes object name: lowercase letters, digits and `-`.
pub fn resource_name(name: &str) -> String {
    let mut out = String::new();
    for ch in name.chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed: String = out.trim_matches('-').chars().take(63).collect();
    let trimmed = trimmed.trim_end_matches('-').to_string();
    if trimmed.is_empty() {
        "flow".into()
    } else {
        trimmed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_counts_passes_and_flips_over_a_window() {
        let mut health = RunHealth::default();
        for passed in [true, false, true, true] {
            health = health.record(passed);
        }
        assert_eq!(health.recent, "PFPP");
        assert_eq!(health.pass_rate, 0.75);
        assert!((health.flip_rate - 2.0 / 3.0).abs() < 1e-9);
        for _ in 0..30 {
            health = health.record(true);
        }
        assert_eq!(health.recent.len(), HEALTH_WINDOW);
        assert_eq!(health.pass_rate, 1.0);
    }

    #[test]
    fn a_condition_keeps_its_transition_time_while_unchanged() {
        let t0 = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let t1 = DateTime::from_timestamp(1_700_000_100, 0).unwrap();
        let mut conditions = Vec::new();
        let ready = |status, message: &str| ConditionUpdate {
            type_: READY,
            status,
            reason: "Test",
            message: message.into(),
        };
        set_condition(&mut conditions, ready(true, "a"), Some(1), t0);
        set_condition(&mut conditions, ready(true, "b"), Some(2), t1);
        assert_eq!(conditions.len(), 1);
        assert_eq!(conditions[0].message, "b");
        assert_eq!(conditions[0].observed_generation, Some(2));
        assert_eq!(
            conditions[0].last_transition_time.0.as_second(),
            1_700_000_000
        );
        set_condition(&mut conditions, ready(false, "c"), Some(2), t1);
        assert_eq!(
            conditions[0].last_transition_time.0.as_second(),
            1_700_000_100
        );
        assert!(!is_true(&conditions, READY));
    }

    #[test]
    fn names_become_valid_object_names() {
        assert_eq!(
            resource_name("User Signup — happy path!"),
            "user-signup-happy-path"
        );
        assert_eq!(resource_name("***"), "flow");
        assert_eq!(resource_name(&"a".repeat(80)).len(), 63);
    }
}
