//! The HTML report (`--report html=FILE`): one self-contained page to open after a run, with the
//! dashboard's look. Per flow (and per case of a data-driven flow): its steps with status,
//! duration and attempts, a waterfall of when each step ran, every assertion with the values it
//! saw, the request and response of each attempt as JSON that folds, the captured variables and
//! the log lines.
//!
//! The page is plain HTML and CSS with no script and no external file (no font, image or
//! stylesheet to fetch), so it renders offline, in a CI artefact viewer or from a mail. Every
//! text it shows comes from the flow results, which are masked before they are built, and is
//! escaped.

use std::fmt::Write;
use std::path::Path;

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use serde_json::Value;

use super::totals::Totals;
use super::{ReportError, create_parent, io_error, step_label};
use crate::engine::result::{
    AssertionOutcome, AttemptResult, FlowResult, FlowStatus, StepResult, StepStatus,
};

const STYLE: &str = include_str!("html.css");
/// Longest string value shown whole; longer ones are cut with a note of their length.
const LONGEST_STRING: usize = 4_000;
/// JSON deeper than this starts folded.
const OPEN_DEPTH: usize = 1;

/// Writes [`html_report`] to `path`, creating its parent directories.
pub fn write_html_report(path: &Path, results: &[FlowResult]) -> Result<(), ReportError> {
    create_parent(path)?;
    std::fs::write(path, html_report(results, Utc::now())).map_err(|source| io_error(path, source))
}

/// The report of `results`, as generated at `now`.
pub fn html_report(results: &[FlowResult], now: DateTime<Utc>) -> String {
    let mut page = String::with_capacity(4096 + results.len() * 8192);
    let totals = Totals::of(results);
    page.push_str("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    page.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    let _ = write!(
        page,
        "<title>TestMesh report: {} of {} flows passed</title><style>{STYLE}</style></head><body>",
        totals.passed, totals.flows
    );
    let _ = write!(
        page,
        "<header><h1>TestMesh report</h1><div class=\"muted\">generated {}</div>\
         <div class=\"totals\" data-testid=\"totals\"><span>{} flows</span>{}<span>{} steps: \
         {} passed, {} failed, {} errors, {} skipped</span></div></header><main>",
        now.format("%Y-%m-%d %H:%M:%S UTC"),
        totals.flows,
        flow_counts(&totals),
        totals.steps.total,
        totals.steps.passed,
        totals.steps.failed,
        totals.steps.errored,
        totals.steps.skipped,
    );
    page.push_str("<nav class=\"flows\">");
    // Flows that did not pass come first: they are what a reader opens the report for.
    let mut order: Vec<(usize, &FlowResult)> = results.iter().enumerate().collect();
    order.sort_by_key(|(_, result)| result.status == FlowStatus::Passed);
    for (index, result) in order {
        let _ = write!(
            page,
            "<a href=\"#flow-{index}\">{}<span>{}</span><span class=\"muted\">{}</span></a>",
            badge(result.status.as_str()),
            escape(&result.flow_name),
            duration(result.duration_ms)
        );
    }
    page.push_str("</nav>");
    for (index, result) in results.iter().enumerate() {
        flow_section(&mut page, index, result);
    }
    page.push_str("</main></body></html>\n");
    page
}

fn flow_counts(totals: &Totals) -> String {
    let mut counts = String::new();
    for (count, status) in [
        (totals.passed, "passed"),
        (totals.failed, "failed"),
        (totals.errored, "error"),
        (totals.timed_out, "timed_out"),
        (totals.cancelled, "cancelled"),
    ] {
        if count > 0 {
            let _ = write!(
                counts,
                "<span class=\"badge {status}\">{count} {}</span>",
                label(status)
            );
        }
    }
    counts
}

fn flow_section(page: &mut String, index: usize, result: &FlowResult) {
    let _ = write!(
        page,
        "<section class=\"flow\" id=\"flow-{index}\" data-testid=\"flow\" data-name=\"{name}\">\
         <h2>{}{name}</h2><div class=\"muted\">{}{} · started {} · {} steps</div>",
        badge(result.status.as_str()),
        result
            .source
            .as_deref()
            .map(|source| format!("{} · ", escape(source)))
            .unwrap_or_default(),
        duration(result.duration_ms),
        result.started_at.format("%H:%M:%S%.3f"),
        result.steps.len(),
        name = escape(&result.flow_name),
    );
    if let Some(error) = &result.error {
        let _ = write!(page, "<p class=\"flow-error\">{}</p>", escape(error));
    }
    page.push_str("<h3>Timeline</h3>");
    waterfall(page, result);
    page.push_str("<h3>Steps</h3>");
    for step in &result.steps {
        step_details(page, step);
    }
    if !result.captured.is_empty() {
        page.push_str("<h3>Captured variables</h3>");
        captured_table(page, &result.captured);
    }
    let logs: Vec<(&StepResult, &Value)> = result
        .steps
        .iter()
        .filter(|step| step.action == "log")
        .filter_map(|step| {
            let response = step.last_attempt()?.response.as_ref()?;
            Some((step, &**response))
        })
        .collect();
    if !logs.is_empty() {
        page.push_str("<h3>Log</h3><table data-testid=\"log\">");
        for (step, response) in logs {
            let _ = write!(
                page,
                "<tr><td class=\"mono\">{}</td><td>{}</td><td>{}</td></tr>",
                escape(&step_label(step)),
                escape(response["level"].as_str().unwrap_or("info")),
                escape(response["message"].as_str().unwrap_or_default())
            );
        }
        page.push_str("</table>");
    }
    page.push_str("</section>");
}

/// One row per step: a bar placed where the step ran within the flow's time.
fn waterfall(page: &mut String, result: &FlowResult) {
    let start = result.started_at;
    let total = result
        .steps
        .iter()
        .map(|step| offset_ms(start, step.started_at) + step.duration_ms)
        .chain([result.duration_ms])
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    page.push_str("<div class=\"waterfall\" data-testid=\"waterfall\">");
    for step in &result.steps {
        let left = offset_ms(start, step.started_at) as f64 / total * 100.0;
        let width = step.duration_ms as f64 / total * 100.0;
        let _ = write!(
            page,
            "<span class=\"label\" title=\"{label}\">{label}</span><span class=\"track\">\
             <span class=\"bar {status}\" data-testid=\"bar\" style=\"left:{left:.2}%;width:{width:.2}%\"></span>\
             </span><span class=\"time\">{}</span>",
            duration(step.duration_ms),
            label = escape(&step_label(step)),
            status = step.status.as_str(),
        );
    }
    page.push_str("</div>");
}

fn offset_ms(start: DateTime<Utc>, at: DateTime<Utc>) -> u64 {
    u64::try_from((at - start).num_milliseconds()).unwrap_or(0)
}

fn step_details(page: &mut String, step: &StepResult) {
    let open = matches!(step.status, StepStatus::Failed | StepStatus::Error);
    let attempts = step.attempts.len();
    let _ = write!(
        page,
        "<details class=\"step\" data-testid=\"step\" data-status=\"{}\"{}><summary>{}{}<b>{}</b>\
         <span class=\"muted\">{}</span><span class=\"muted\">{}</span>{}</summary><div class=\"step-body\">",
        step.status.as_str(),
        if open { " open" } else { "" },
        badge(step.status.as_str()),
        match step.phase {
            crate::engine::result::Phase::Main => String::new(),
            phase => format!("<span class=\"phase\">{}</span>", phase.as_str()),
        },
        escape(step.name.as_deref().unwrap_or(&step.id)),
        escape(&step.action),
        duration(step.duration_ms),
        if attempts > 1 {
            format!("<span class=\"muted\">{attempts} attempts</span>")
        } else {
            String::new()
        },
    );
    if step.name.is_some() {
        let _ = write!(
            page,
            "<div class=\"muted mono\">id {}</div>",
            escape(&step.id)
        );
    }
    if let Some(reason) = &step.reason {
        let _ = write!(page, "<p class=\"muted\">{}</p>", escape(reason));
    }
    for attempt in &step.attempts {
        if attempts > 1 {
            let _ = write!(
                page,
                "<h3>Attempt {} {} <span class=\"muted\">{}</span></h3>",
                attempt.attempt,
                badge(attempt.status.as_str()),
                duration(attempt.duration_ms)
            );
        }
        attempt_details(page, attempt);
    }
    if !step.captured.is_empty() {
        captured_table(page, &step.captured);
    }
    page.push_str("</div></details>");
}

/// Captured variables and their values, one row each.
fn captured_table(page: &mut String, captured: &IndexMap<String, Value>) {
    page.push_str("<table data-testid=\"captured\"><tr><th>captured</th><th>value</th></tr>");
    for (name, value) in captured {
        let _ = write!(
            page,
            "<tr><td class=\"mono\">{}</td><td class=\"mono\">{}</td></tr>",
            escape(name),
            escape(&short_json(value))
        );
    }
    page.push_str("</table>");
}

fn attempt_details(page: &mut String, attempt: &AttemptResult) {
    if let Some(error) = &attempt.error {
        let _ = write!(page, "<p class=\"step-error\">{}</p>", escape(error));
    }
    if !attempt.assertions.is_empty() {
        page.push_str(
            "<table data-testid=\"assertions\"><tr><th>assertion (expected)</th><th>result</th>\
             <th>actual</th><th>message</th></tr>",
        );
        for assertion in &attempt.assertions {
            assertion_row(page, assertion);
        }
        page.push_str("</table>");
    }
    if let Some(request) = &attempt.request {
        page.push_str(
            "<div class=\"json\" data-testid=\"request\"><details><summary>Request</summary>",
        );
        json_tree(page, request, 0);
        page.push_str("</details></div>");
    }
    if let Some(response) = &attempt.response {
        page.push_str(
            "<div class=\"json\" data-testid=\"response\"><details><summary>Response</summary>",
        );
        json_tree(page, response, 0);
        page.push_str("</details></div>");
    }
}

fn assertion_row(page: &mut String, assertion: &AssertionOutcome) {
    let (class, text) = match (&assertion.error, assertion.passed) {
        (Some(_), _) => ("result-failed", "error"),
        (None, true) => ("result-passed", "passed"),
        (None, false) => ("result-failed", "failed"),
    };
    let mut actual = String::new();
    for (path, value) in &assertion.actual {
        let _ = write!(
            actual,
            "<div><span class=\"muted\">{}</span> = {}</div>",
            escape(path),
            escape(&short_json(value))
        );
    }
    let mut message = assertion.message.clone().unwrap_or_default();
    if let Some(error) = &assertion.error {
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(error);
    }
    let _ = write!(
        page,
        "<tr><td class=\"mono\">{}</td><td class=\"{class}\">{text}</td><td class=\"mono\">{actual}</td>\
         <td>{}</td></tr>",
        escape(&assertion.expression),
        escape(&message)
    );
}

/// A JSON value as nested `<details>` that fold, the first levels open.
fn json_tree(page: &mut String, value: &Value, depth: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            let _ = write!(
                page,
                "<details{}><summary class=\"muted\">{{…}} {} keys</summary>",
                if depth < OPEN_DEPTH { " open" } else { "" },
                map.len()
            );
            for (key, child) in map {
                json_entry(page, &escape(key), child, depth);
            }
            page.push_str("</details>");
        }
        Value::Array(items) if !items.is_empty() => {
            let _ = write!(
                page,
                "<details{}><summary class=\"muted\">[…] {} items</summary>",
                if depth < OPEN_DEPTH { " open" } else { "" },
                items.len()
            );
            for (index, child) in items.iter().enumerate() {
                json_entry(page, &index.to_string(), child, depth);
            }
            page.push_str("</details>");
        }
        scalar => {
            let _ = write!(page, "<div class=\"entry\">{}</div>", scalar_html(scalar));
        }
    }
}

fn json_entry(page: &mut String, key: &str, child: &Value, depth: usize) {
    let folds = match child {
        Value::Object(map) => !map.is_empty(),
        Value::Array(items) => !items.is_empty(),
        _ => false,
    };
    if folds {
        let _ = write!(page, "<div><span class=\"key\">{key}</span>:</div>");
        json_tree(page, child, depth + 1);
    } else {
        let _ = write!(
            page,
            "<div class=\"entry\"><span class=\"key\">{key}</span>: {}</div>",
            scalar_html(child)
        );
    }
}

fn scalar_html(value: &Value) -> String {
    match value {
        Value::String(text) => format!("<span class=\"string\">{}</span>", escape(&quoted(text))),
        Value::Number(number) => format!("<span class=\"number\">{number}</span>"),
        Value::Object(_) => "<span class=\"literal\">{}</span>".into(),
        Value::Array(_) => "<span class=\"literal\">[]</span>".into(),
        other => format!("<span class=\"literal\">{other}</span>"),
    }
}

/// A string as JSON writes it, cut after [`LONGEST_STRING`] characters.
fn quoted(text: &str) -> String {
    match text.char_indices().nth(LONGEST_STRING) {
        Some((cut, _)) => format!(
            "{}… ({} characters in all)",
            Value::String(text[..cut].to_string()),
            text.chars().count()
        ),
        None => Value::String(text.to_string()).to_string(),
    }
}

/// A value on one line, cut after [`LONGEST_STRING`] characters.
fn short_json(value: &Value) -> String {
    let text = match value {
        Value::String(text) => return quoted(text),
        other => other.to_string(),
    };
    match text.char_indices().nth(LONGEST_STRING) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

fn badge(status: &str) -> String {
    format!("<span class=\"badge {status}\">{}</span>", label(status))
}

fn label(status: &str) -> &'static str {
    match status {
        "passed" => "Passed",
        "failed" => "Failed",
        "error" => "Error",
        "timed_out" => "Timed out",
        "cancelled" => "Cancelled",
        "skipped" => "Skipped",
        _ => "Unknown",
    }
}

fn duration(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{:.2} s", ms as f64 / 1000.0),
        _ => format!("{}m {:02}s", ms / 60_000, (ms % 60_000) / 1000),
    }
}

/// `text` safe inside an element or a quoted attribute.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::result::Phase;
    use serde_json::json;

    fn at(ms: i64) -> DateTime<Utc> {
        "2026-12-01T10:00:00Z".parse::<DateTime<Utc>>().unwrap()
            + chrono::Duration::milliseconds(ms)
    }

    fn step(
        id: &str,
        status: StepStatus,
        start: i64,
        ms: u64,
        attempt: AttemptResult,
    ) -> StepResult {
        StepResult {
            id: id.into(),
            name: None,
            action: "http_request".into(),
            phase: Phase::Main,
            status,
            started_at: at(start),
            duration_ms: ms,
            attempts: vec![attempt],
            captured: IndexMap::new(),
            reason: None,
        }
    }

    fn attempt(status: StepStatus, ms: u64) -> AttemptResult {
        AttemptResult {
            attempt: 1,
            status,
            started_at: at(0),
            duration_ms: ms,
            assertions: Vec::new(),
            error: None,
            request: None,
            response: None,
        }
    }

    fn result() -> FlowResult {
        let mut failed = attempt(StepStatus::Failed, 300);
        failed.assertions.push(AssertionOutcome {
            expression: "body.total == 30".into(),
            passed: false,
            message: Some("the total <counts> tax".into()),
            actual: IndexMap::from([("body.total".to_string(), json!(27.5))]),
            error: None,
        });
        failed.request = Some(json!({"method": "GET", "headers": {"Authorization": "***"}}).into());
        failed.response =
            Some(json!({"status": 200, "body": {"total": 27.5, "items": [{"sku": "A-1"}]}}).into());
        let mut first = step(
            "login",
            StepStatus::Passed,
            0,
            100,
            attempt(StepStatus::Passed, 100),
        );
        first.captured.insert("token".into(), json!("***"));
        FlowResult {
            execution_id: "run-1".into(),
            flow_name: "Orders <script>alert(1)</script>".into(),
            source: Some("flows/orders.yaml".into()),
            status: FlowStatus::Failed,
            started_at: at(0),
            finished_at: at(400),
            duration_ms: 400,
            steps: vec![first, step("total", StepStatus::Failed, 100, 300, failed)],
            captured: IndexMap::from([("token".to_string(), json!("***"))]),
            error: None,
        }
    }

    #[test]
    fn every_text_from_a_result_is_escaped() {
        let page = html_report(&[result()], at(0));
        assert!(!page.contains("<script>alert(1)</script>"));
        assert!(page.contains("Orders &lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("the total &lt;counts&gt; tax"));
    }

    #[test]
    fn bars_sit_where_each_step_ran_within_the_flow() {
        let page = html_report(&[result()], at(0));
        assert!(page.contains(
            "class=\"bar passed\" data-testid=\"bar\" style=\"left:0.00%;width:25.00%\""
        ));
        assert!(page.contains(
            "class=\"bar failed\" data-testid=\"bar\" style=\"left:25.00%;width:75.00%\""
        ));
    }

    #[test]
    fn a_failed_assertion_shows_its_expression_the_value_seen_and_opens_its_step() {
        let page = html_report(&[result()], at(0));
        assert!(page.contains(
            "<td class=\"mono\">body.total == 30</td><td class=\"result-failed\">failed</td>"
        ));
        assert!(page.contains("body.total</span> = 27.5"));
        assert!(page.contains("data-status=\"failed\" open>"));
        assert!(page.contains("data-status=\"passed\"><summary>"));
    }

    #[test]
    fn masked_values_stay_masked_and_json_folds_below_the_first_level() {
        let page = html_report(&[result()], at(0));
        assert!(page.contains("<span class=\"key\">Authorization</span>: <span class=\"string\">&quot;***&quot;</span>"));
        assert!(page.contains("<details open><summary class=\"muted\">{…} 2 keys</summary>"));
        assert!(page.contains("<details><summary class=\"muted\">[…] 1 items</summary>"));
        assert!(
            !page.contains("http://") && !page.contains("https://"),
            "no external reference"
        );
    }

    #[test]
    fn flows_that_did_not_pass_lead_the_list() {
        let mut passed = result();
        passed.flow_name = "Health".into();
        passed.status = FlowStatus::Passed;
        let page = html_report(&[passed, result()], at(0));
        let nav = &page[page.find("<nav").unwrap()..page.find("</nav>").unwrap()];
        assert!(nav.find("href=\"#flow-1\"").unwrap() < nav.find("href=\"#flow-0\"").unwrap());
    }

    #[test]
    fn long_strings_are_cut_with_their_length() {
        let long = "x".repeat(LONGEST_STRING + 10);
        let text = quoted(&long);
        assert!(text.ends_with(&format!("… ({} characters in all)", LONGEST_STRING + 10)));
        assert_eq!(duration(999), "999 ms");
        assert_eq!(duration(1_500), "1.50 s");
        assert_eq!(duration(61_000), "1m 01s");
    }
}
