//! Terminal output: snapshots without colour, escape codes only with it, nothing beyond the result.

use std::time::Duration;

use serde_json::json;
use testmesh::report::terminal::{
    Progress, Style, failure_details, flow_block, step_line, summary,
};

use crate::fixtures::*;

const PLAIN: Style = Style { color: false };
const COLOR: Style = Style { color: true };

#[test]
fn passed_flow_block() {
    insta::assert_snapshot!(flow_block(&passed_flow(), &PLAIN));
}

#[test]
fn failed_assertion_with_actual_values_and_exchange() {
    insta::assert_snapshot!(flow_block(&failed_assertion_flow(), &PLAIN));
}

#[test]
fn runtime_error_block() {
    insta::assert_snapshot!(flow_block(&runtime_error_flow(), &PLAIN));
}

#[test]
fn skipped_step_block() {
    insta::assert_snapshot!(flow_block(&skipped_flow(), &PLAIN));
}

#[test]
fn retries_block() {
    insta::assert_snapshot!(flow_block(&retries_flow(), &PLAIN));
}

#[test]
fn timed_out_flow_block() {
    insta::assert_snapshot!(flow_block(&timed_out_flow(), &PLAIN));
}

#[test]
fn run_summary() {
    insta::assert_snapshot!(summary(&all_flows(), Duration::from_millis(4_321), &PLAIN));
}

#[test]
fn summary_ends_with_the_line_ci_reads() {
    let text = summary(&all_flows(), Duration::from_secs(1), &COLOR);
    assert_eq!(text.lines().last(), Some("2 passed, 4 failed"));
    let text = summary(&[passed_flow()], Duration::from_secs(1), &PLAIN);
    assert_eq!(text.lines().last(), Some("1 passed, 0 failed"));
    let text = summary(&[], Duration::ZERO, &PLAIN);
    assert_eq!(text.lines().last(), Some("0 passed, 0 failed"));
}

#[test]
fn details_are_empty_for_steps_that_did_not_fail() {
    for result in all_flows() {
        for step in &result.steps {
            let details = failure_details(step, &PLAIN);
            let failed = matches!(step.status.as_str(), "failed" | "error");
            assert_eq!(details.is_empty(), !failed, "{}", step.id);
        }
    }
}

#[test]
fn escape_codes_only_with_color() {
    for result in all_flows() {
        assert!(
            flow_block(&result, &COLOR).contains("\x1b["),
            "{}",
            result.flow_name
        );
        assert!(
            !flow_block(&result, &PLAIN).contains('\x1b'),
            "{}",
            result.flow_name
        );
    }
    let wall = Duration::from_secs(1);
    assert!(summary(&all_flows(), wall, &COLOR).contains("\x1b["));
    assert!(!summary(&all_flows(), wall, &PLAIN).contains('\x1b'));
}

#[test]
fn control_characters_from_results_are_printed_escaped() {
    let mut result = failed_assertion_flow();
    let step = &mut result.steps[0];
    step.id = "bad\nid".to_owned();
    let attempt = step.attempts.last_mut().unwrap();
    attempt.response =
        Some(json!({"status": 500, "body": "\x1b[2J\x1b]0;pwned\x07 cleared"}).into());
    attempt.error = Some("boom \x1b[31m red".to_owned());
    for style in [PLAIN, COLOR] {
        let line = step_line(&result.steps[0], &style);
        assert_eq!(line.lines().count(), 1);
        let details = failure_details(&result.steps[0], &style);
        assert!(
            details.contains(r"\u{1b}[2J\u{1b}]0;pwned\u{7} cleared"),
            "{details}"
        );
        assert!(details.contains(r"boom \u{1b}[31m red"), "{details}");
    }
    assert!(!flow_block(&result, &PLAIN).contains('\x1b'));
}

#[test]
fn prints_only_what_the_result_holds() {
    let mut result = failed_assertion_flow();
    // Captured values are not part of the terminal output, whatever they hold.
    result
        .captured
        .insert("password".to_owned(), json!("hunter2-captured"));
    result.steps[0]
        .captured
        .insert("token".to_owned(), json!("hunter2-step"));
    let text = [
        flow_block(&result, &PLAIN),
        flow_block(&result, &COLOR),
        summary(&[result.clone()], Duration::from_secs(1), &PLAIN),
    ]
    .join("\n");
    assert!(!text.contains("hunter2"), "{text}");
    // The request is masked before it reaches the reporter, and headers are not printed.
    assert!(!text.contains("Authorization"), "{text}");
    assert!(!text.contains(&result.execution_id), "{text}");
    for debug_marker in [
        "StepResult",
        "AttemptResult",
        "Some(",
        "None",
        "{ ",
        "IndexMap",
    ] {
        assert!(!text.contains(debug_marker), "{debug_marker} in {text}");
    }
}

#[test]
fn progress_works_hidden() {
    let progress = Progress::new(2, false);
    progress.start("users");
    progress.start("orders");
    progress.inc("users");
    progress.println("a line above the bar").unwrap();
    progress.inc("orders");
    progress.finish();
}

#[test]
fn progress_works_enabled_even_without_a_terminal() {
    let progress = Progress::new(1, true);
    progress.start("users");
    progress.println("a line above the bar").unwrap();
    progress.inc("users");
    progress.finish();
}
