//! Totals of a run, counted once so that the terminal summary, the JSON report and CI agree.

use serde::Serialize;

use crate::engine::result::{FlowResult, FlowStatus, StepCounts};

/// Flow and step counts over a set of flow results.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub flows: usize,
    pub passed: usize,
    /// Flows where an assertion did not hold.
    pub failed: usize,
    /// Flows where a step could not run.
    pub errored: usize,
    pub cancelled: usize,
    pub timed_out: usize,
    pub steps: StepTotals,
}

/// Step counts over every flow. Cancelled steps count as skipped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StepTotals {
    pub total: usize,
    pub passed: usize,
    pub failed: usize,
    pub errored: usize,
    pub skipped: usize,
}

impl Totals {
    pub fn of(results: &[FlowResult]) -> Totals {
        let mut totals = Totals::default();
        for result in results {
            totals.flows += 1;
            match result.status {
                FlowStatus::Passed => totals.passed += 1,
                FlowStatus::Failed => totals.failed += 1,
                FlowStatus::Error => totals.errored += 1,
                FlowStatus::Cancelled => totals.cancelled += 1,
                FlowStatus::TimedOut => totals.timed_out += 1,
            }
            totals.steps.add(result.counts());
        }
        totals
    }

    /// Flows that did not pass, whatever the reason: the `M` of the `N passed, M failed` line.
    pub fn not_passed(&self) -> usize {
        self.flows - self.passed
    }
}

impl StepTotals {
    fn add(&mut self, counts: StepCounts) {
        self.passed += counts.passed;
        self.failed += counts.failed;
        self.errored += counts.errored;
        self.skipped += counts.skipped;
        self.total += counts.passed + counts.failed + counts.errored + counts.skipped;
    }
}
