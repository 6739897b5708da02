//! The JSON report: a version, totals and the results as they are.

use serde_json::json;
use testmesh::engine::result::FlowResult;
use testmesh::report::json::json_report;

use crate::fixtures::*;

#[test]
fn has_version_summary_and_flows() {
    let results = all_flows();
    let report = json_report(&results);
    assert_eq!(report["version"], 1);
    assert_eq!(
        report["summary"],
        json!({
            "flows": 6, "passed": 2, "failed": 2, "errored": 1, "cancelled": 0, "timed_out": 1,
            "steps": {"total": 12, "passed": 6, "failed": 2, "errored": 1, "skipped": 3}
        })
    );
    let flows: Vec<FlowResult> = serde_json::from_value(report["flows"].clone()).unwrap();
    assert_eq!(flows, results);
}

#[test]
fn empty_run() {
    let report = json_report(&[]);
    assert_eq!(report["summary"]["flows"], 0);
    assert_eq!(report["flows"], json!([]));
}
