//! JUnit XML for CI: a `testsuite` per flow, a `testcase` per step.
//!
//! A failed assertion is a `<failure>`, a runtime error an `<error>`, a skipped or cancelled step
//! `<skipped>`; earlier failed attempts of a retried step are `flakyFailure`/`rerunFailure`
//! elements. The flow's own error goes to the suite's `system-err`, and a timed-out or cancelled
//! flow also gets a `(flow)` test case, so CI counts it. Text is made safe for XML whatever it
//! holds: quick-junit escapes markup and drops control characters and ANSI escapes, and the two
//! non-characters it leaves (U+FFFE, U+FFFF) are replaced here.

use std::time::Duration;

use quick_junit::{
    NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestRerun, TestSuite, XmlString,
};

use super::terminal::{Style, details};
use super::{ReportError, step_label};
use crate::engine::result::{AttemptResult, FlowResult, FlowStatus, StepResult, StepStatus};

/// The name of the test case that stands for a flow's own error.
const FLOW_CASE: &str = "(flow)";

/// The results as a JUnit XML document.
pub fn junit_xml(results: &[FlowResult]) -> Result<String, ReportError> {
    let mut report = Report::new("testmesh");
    if let (Some(start), Some(end)) = (
        results.iter().map(|r| r.started_at).min(),
        results.iter().map(|r| r.finished_at).max(),
    ) {
        report.set_timestamp(start);
        report.set_time((end - start).to_std().unwrap_or_default());
    }
    report.add_test_suites(results.iter().map(test_suite));
    Ok(report.to_string()?)
}

fn test_suite(flow: &FlowResult) -> TestSuite {
    let mut suite = TestSuite::new(xml(&flow.flow_name));
    suite.set_timestamp(flow.started_at);
    suite.set_time(millis(flow.duration_ms));
    if let Some(source) = &flow.source {
        suite.add_property(Property::new("source", xml(source)));
    }
    suite.add_test_cases(flow.steps.iter().map(|step| test_case(flow, step)));
    if let Some(error) = &flow.error {
        suite.set_system_err(xml(error));
    }
    if let Some(case) = flow_case(flow) {
        suite.add_test_case(case);
    }
    suite
}

fn test_case(flow: &FlowResult, step: &StepResult) -> TestCase {
    let plain = Style { color: false };
    let mut status = match step.status {
        StepStatus::Passed => TestCaseStatus::success(),
        StepStatus::Failed | StepStatus::Error => {
            let kind = non_success_kind(step.status);
            let mut status = TestCaseStatus::non_success(kind);
            let message = step
                .last_attempt()
                .and_then(attempt_message)
                .or_else(|| step.reason.clone())
                .unwrap_or_else(|| format!("step {}", step.status.as_str()));
            status
                .set_message(xml(&message))
                .set_type(match kind {
                    NonSuccessKind::Failure => "assertion",
                    NonSuccessKind::Error => "error",
                })
                .set_description(xml(&details(step, &plain, "")));
            status
        }
        StepStatus::Skipped | StepStatus::Cancelled => {
            let mut status = TestCaseStatus::skipped();
            let message = match &step.reason {
                Some(reason) => format!("{}: {reason}", step.status.as_str()),
                None => step.status.as_str().to_owned(),
            };
            status.set_message(xml(&message));
            status
        }
    };
    let earlier = step.attempts.len().saturating_sub(1);
    status.add_reruns(step.attempts[..earlier].iter().filter_map(rerun));
    let mut case = TestCase::new(xml(&step_label(step)), status);
    case.set_classname(xml(&flow.flow_name))
        .set_timestamp(step.started_at)
        .set_time(millis(step.duration_ms));
    let checked = step.last_attempt().map_or(0, |a| a.assertions.len());
    if checked > 0 {
        case.set_assertions(checked);
    }
    case
}

/// An earlier attempt that did not pass, as a rerun of its step.
fn rerun(attempt: &AttemptResult) -> Option<TestRerun> {
    if !matches!(attempt.status, StepStatus::Failed | StepStatus::Error) {
        return None;
    }
    let mut rerun = TestRerun::new(non_success_kind(attempt.status));
    rerun
        .set_timestamp(attempt.started_at)
        .set_time(millis(attempt.duration_ms));
    if let Some(message) = attempt_message(attempt) {
        rerun.set_message(xml(&message));
    }
    Some(rerun)
}

/// The test case that makes a timed-out or cancelled flow count in CI.
fn flow_case(flow: &FlowResult) -> Option<TestCase> {
    let message = flow
        .error
        .clone()
        .unwrap_or_else(|| format!("flow {}", flow.status.as_str()));
    let status = match flow.status {
        FlowStatus::TimedOut => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status.set_message(xml(&message)).set_type("timeout");
            status
        }
        FlowStatus::Cancelled => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(xml(&message));
            status
        }
        FlowStatus::Passed | FlowStatus::Failed | FlowStatus::Error => return None,
    };
    let mut case = TestCase::new(FLOW_CASE, status);
    case.set_classname(xml(&flow.flow_name))
        .set_timestamp(flow.finished_at)
        .set_time(Duration::ZERO);
    Some(case)
}

/// Why an attempt did not pass: the first failed assertion (with its message), else the error.
fn attempt_message(attempt: &AttemptResult) -> Option<String> {
    let failed = attempt.assertions.iter().find(|a| !a.passed);
    match failed {
        Some(assertion) => Some(
            match assertion.message.as_deref().or(assertion.error.as_deref()) {
                Some(why) => format!("{}: {why}", assertion.expression),
                None => assertion.expression.clone(),
            },
        ),
        None => attempt.error.clone(),
    }
}

fn non_success_kind(status: StepStatus) -> NonSuccessKind {
    match status {
        StepStatus::Failed => NonSuccessKind::Failure,
        _ => NonSuccessKind::Error,
    }
}

fn millis(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

/// Text made safe for XML: quick-junit's cleaning, plus the non-characters it lets through.
fn xml(text: &str) -> XmlString {
    XmlString::new(text.replace(['\u{FFFE}', '\u{FFFF}'], "\u{FFFD}"))
}
