//! Data-driven runs in an executor. A flow with an inline `data_source` runs once per row, as
//! the CLI does, one case after the other; the run is still one execution (the store, the API
//! and the dashboard know runs, not cases). Its steps are the cases' steps, each id prefixed with
//! its row (`row2.create`, as `run_flow` nests ids under the calling step), so every case shows
//! and the step counts add up; its status is the worst case's, its captured values are kept per
//! row, and its error names the cases that ended early. An executor reads no files: a
//! `data_source` naming one is an error asking for inline rows.

use chrono::Utc;
use serde_json::Value;

use crate::engine::{FlowResult, FlowStatus};
use crate::flow::FlowSpec;
use crate::flow::data_source::{self, DataCase};

/// The cases of `spec`: the flow itself without a `data_source`, else one per inline row.
pub fn cases_of(spec: &FlowSpec) -> Result<Vec<DataCase>, String> {
    let names_a_file = match &spec.data_source {
        Some(Value::String(_)) => true,
        Some(Value::Object(map)) => map.contains_key("file") || map.contains_key("path"),
        _ => false,
    };
    if names_a_file {
        return Err(
            "data_source: an executor reads no files; give the rows inline (a list of rows, or \
             `rows:`)"
                .into(),
        );
    }
    data_source::cases(spec, None)
}

/// The row prefix of the steps and captured values of case `index` (from 0).
fn row(index: usize) -> String {
    format!("row{}", index + 1)
}

/// How bad a status is, to keep the worst case's.
fn severity(status: FlowStatus) -> u8 {
    match status {
        FlowStatus::Passed => 0,
        FlowStatus::Failed => 1,
        FlowStatus::Error => 2,
        FlowStatus::TimedOut => 3,
        FlowStatus::Cancelled => 4,
    }
}

/// One result for the cases of one run: the result itself when there is one case.
pub fn combine(flow_name: &str, mut results: Vec<FlowResult>) -> FlowResult {
    if results.len() == 1 {
        return results.remove(0);
    }
    let now = Utc::now();
    let started_at = results.first().map_or(now, |r| r.started_at);
    let finished_at = results.last().map_or(now, |r| r.finished_at);
    let mut combined = FlowResult {
        execution_id: results
            .first()
            .map(|r| r.execution_id.clone())
            .unwrap_or_default(),
        flow_name: flow_name.to_string(),
        source: results.first().and_then(|r| r.source.clone()),
        status: FlowStatus::Passed,
        started_at,
        finished_at,
        duration_ms: u64::try_from((finished_at - started_at).num_milliseconds()).unwrap_or(0),
        steps: Vec::new(),
        captured: Default::default(),
        error: None,
    };
    let mut errors = Vec::new();
    for (index, result) in results.into_iter().enumerate() {
        let prefix = row(index);
        if severity(result.status) > severity(combined.status) {
            combined.status = result.status;
        }
        if let Some(error) = result.error {
            errors.push(format!("{prefix} ({}): {error}", result.flow_name));
        }
        for mut step in result.steps {
            step.id = format!("{prefix}.{}", step.id);
            combined.steps.push(step);
        }
        for (name, value) in result.captured {
            combined.captured.insert(format!("{prefix}.{name}"), value);
        }
    }
    if !errors.is_empty() {
        combined.error = Some(errors.join("; "));
    }
    combined
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::result::{Phase, StepResult, StepStatus};

    fn flow(yaml: &str) -> FlowSpec {
        let mut loaded = crate::flow::load::Loaded::default();
        crate::flow::load::load_text(yaml, std::path::Path::new("f.yaml"), &mut loaded);
        loaded.flows().next().unwrap().spec.clone()
    }

    fn result(name: &str, status: FlowStatus, error: Option<&str>) -> FlowResult {
        let now = Utc::now();
        FlowResult {
            execution_id: "run-1".into(),
            flow_name: name.into(),
            source: None,
            status,
            started_at: now,
            finished_at: now,
            duration_ms: 0,
            steps: vec![StepResult {
                id: "check".into(),
                name: None,
                action: "assert".into(),
                phase: Phase::Main,
                status: StepStatus::Passed,
                started_at: now,
                duration_ms: 0,
                attempts: Vec::new(),
                captured: Default::default(),
                reason: None,
            }],
            captured: [("said".to_string(), Value::from(name))]
                .into_iter()
                .collect(),
            error: error.map(str::to_string),
        }
    }

    #[test]
    fn a_file_data_source_asks_for_inline_rows_and_inline_rows_are_cases() {
        let file = flow(
            "name: f\ndata_source: rows.csv\nsteps:\n  - {id: a, action: log, config: {message: x}}\n",
        );
        assert_eq!(
            cases_of(&file).unwrap_err(),
            "data_source: an executor reads no files; give the rows inline (a list of rows, or \
             `rows:`)"
        );
        let inline = flow(
            "name: f\ndata_source: {rows: [{n: 1}, {n: 2}]}\nsteps:\n  - {id: a, action: log, config: {message: x}}\n",
        );
        let cases = cases_of(&inline).unwrap();
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[1].variables["n"], 2);
    }

    #[test]
    fn cases_combine_into_one_result_with_row_prefixes_and_the_worst_status() {
        let one = combine("greet", vec![result("greet", FlowStatus::Failed, None)]);
        assert_eq!(one.steps[0].id, "check");
        let combined = combine(
            "greet",
            vec![
                result("greet [row 1: n=1]", FlowStatus::Passed, None),
                result(
                    "greet [row 2: n=2]",
                    FlowStatus::Error,
                    Some("setup failed"),
                ),
                result("greet [row 3: n=3]", FlowStatus::Failed, None),
            ],
        );
        assert_eq!(combined.status, FlowStatus::Error);
        assert_eq!(combined.flow_name, "greet");
        let ids: Vec<&str> = combined.steps.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["row1.check", "row2.check", "row3.check"]);
        assert_eq!(combined.captured["row3.said"], "greet [row 3: n=3]");
        assert_eq!(
            combined.error.as_deref(),
            Some("row2 (greet [row 2: n=2]): setup failed")
        );
    }
}
