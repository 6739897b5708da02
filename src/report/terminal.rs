//! What `testmesh run` prints: a line per step, the details of failures under the step, a block
//! per flow and a summary of the run, plus an optional progress line for long runs on a TTY.
//!
//! Colour is the caller's choice ([`Style::color`], on for a TTY only); without it no escape
//! code is written, not even one that came inside a response body: control characters from
//! results are printed escaped (`\u{1b}`), so a server cannot drive the user's terminal.

use std::borrow::Cow;
use std::io::{self, Write};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use anstyle::{AnsiColor, Effects};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;

use super::step_label;
use super::totals::Totals;
use crate::engine::result::{AttemptResult, FlowResult, FlowStatus, StepResult, StepStatus};

/// How many lines of a response body a failure shows.
const BODY_LINES: usize = 20;
/// How many bytes of a response body a failure shows.
const BODY_BYTES: usize = 1024;
/// How many characters of a value an assertion's `actual` line shows.
const VALUE_CHARS: usize = 120;

/// How to print: with colour or without.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, look: anstyle::Style, text: &str) -> String {
        if self.color {
            format!("{}{text}{}", look.render(), look.render_reset())
        } else {
            text.to_owned()
        }
    }
}

const GREEN: anstyle::Style = AnsiColor::Green.on_default();
const RED: anstyle::Style = AnsiColor::Red.on_default();
const MAGENTA: anstyle::Style = AnsiColor::Magenta.on_default();
const YELLOW: anstyle::Style = AnsiColor::Yellow.on_default();
const BOLD: anstyle::Style = anstyle::Style::new().effects(Effects::BOLD);
const DIM: anstyle::Style = anstyle::Style::new().effects(Effects::DIMMED);

fn step_mark(status: StepStatus) -> (&'static str, anstyle::Style) {
    match status {
        StepStatus::Passed => ("✓", GREEN),
        StepStatus::Failed => ("✗", RED),
        StepStatus::Error => ("!", MAGENTA),
        StepStatus::Skipped => ("-", DIM),
        StepStatus::Cancelled => ("⊘", YELLOW),
    }
}

fn flow_mark(status: FlowStatus) -> (&'static str, anstyle::Style) {
    match status {
        FlowStatus::Passed => ("✓", GREEN),
        FlowStatus::Failed => ("✗", RED),
        FlowStatus::Error | FlowStatus::TimedOut => ("!", MAGENTA),
        FlowStatus::Cancelled => ("⊘", YELLOW),
    }
}

fn flow_status_text(status: FlowStatus) -> &'static str {
    match status {
        FlowStatus::Passed => "passed",
        FlowStatus::Failed => "failed",
        FlowStatus::Error => "error",
        FlowStatus::Cancelled => "cancelled",
        FlowStatus::TimedOut => "timed out",
    }
}

/// One line for a step: status, label, action, the HTTP exchange when there is one, attempts and
/// duration; a skipped or cancelled step shows why instead of what it did.
pub fn step_line(step: &StepResult, style: &Style) -> String {
    let (symbol, look) = step_mark(step.status);
    let mut line = format!(
        "  {} {}",
        style.paint(look, symbol),
        style.paint(BOLD, &one_line(&step_label(step)))
    );
    if let Some(name) = step.name.as_deref().filter(|name| *name != step.id) {
        line.push_str(&format!(" \"{}\"", one_line(name)));
    }
    line.push_str("  ");
    line.push_str(&style.paint(DIM, &one_line(&step.action)));
    if let Some(exchange) = step.last_attempt().and_then(http_exchange) {
        line.push_str("  ");
        line.push_str(&exchange);
    }
    if step.attempts.len() > 1 {
        line.push_str(&format!("  {} attempts", step.attempts.len()));
    }
    match step.status {
        StepStatus::Skipped | StepStatus::Cancelled => {
            let reason = step.reason.as_deref().map(one_line);
            let why = match reason {
                Some(reason) => format!("{}: {reason}", step.status.as_str()),
                None => step.status.as_str().to_owned(),
            };
            line.push_str("  ");
            line.push_str(&style.paint(look, &why));
        }
        StepStatus::Passed | StepStatus::Failed | StepStatus::Error => {}
    }
    if step.status != StepStatus::Skipped {
        let duration = format!("({})", human_ms(step.duration_ms));
        line.push_str("  ");
        line.push_str(&style.paint(DIM, &duration));
    }
    line
}

/// `POST /users → 201` from an attempt's request (method, url) and response (status).
fn http_exchange(attempt: &AttemptResult) -> Option<String> {
    let request = attempt.request.as_ref()?;
    let method = request.field("method")?.as_str()?;
    let url = request.field("url")?.as_str()?;
    let mut text = format!("{} {}", one_line(method), one_line(&url_path(url)));
    if let Some(status) = attempt.response.as_ref().and_then(|r| r.field("status")) {
        text.push_str(&format!(" → {}", one_line(&compact(status, VALUE_CHARS))));
    }
    Some(text)
}

/// The path and query of a URL with a host (`scheme://host/...`); other text as it is. The URL
/// comes from the step's record, already parsed and normalised, so cutting the text is enough.
fn url_path(url: &str) -> Cow<'_, str> {
    let Some((scheme, after_scheme)) = url.split_once("://") else {
        return Cow::Borrowed(url);
    };
    let is_scheme = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !is_scheme {
        return Cow::Borrowed(url);
    }
    let path_start = after_scheme
        .find(['/', '?', '#'])
        .unwrap_or(after_scheme.len());
    let path_and_query = after_scheme[path_start..]
        .split('#')
        .next()
        .unwrap_or_default();
    if path_and_query.starts_with('/') {
        Cow::Borrowed(path_and_query)
    } else {
        Cow::Owned(format!("/{path_and_query}"))
    }
}

/// What went wrong in a failed or errored step (empty for any other): the failed assertions with
/// the values they saw, the runtime error, and an excerpt of the request and response.
pub fn failure_details(step: &StepResult, style: &Style) -> String {
    details(step, style, "      ")
}

/// [`failure_details`] with its lines starting at `indent`, for reports that nest it elsewhere.
pub(crate) fn details(step: &StepResult, style: &Style, indent: &str) -> String {
    if !matches!(step.status, StepStatus::Failed | StepStatus::Error) {
        return String::new();
    }
    let deeper = format!("{indent}  ");
    let mut lines = Vec::new();
    let Some(attempt) = step.last_attempt() else {
        if let Some(reason) = &step.reason {
            push_block(&mut lines, indent, &style.paint(RED, "error: "), reason);
        }
        return lines.join("\n");
    };
    if step.attempts.len() > 1 {
        lines.push(style.paint(
            DIM,
            &format!(
                "{indent}attempt {} of {}:",
                attempt.attempt,
                step.attempts.len()
            ),
        ));
    }
    for assertion in attempt.assertions.iter().filter(|a| !a.passed) {
        lines.push(format!(
            "{indent}{} {}",
            style.paint(RED, "assertion failed:"),
            style.paint(BOLD, &one_line(&assertion.expression))
        ));
        if let Some(message) = &assertion.message {
            push_block(&mut lines, &deeper, "message: ", message);
        }
        for (path, value) in &assertion.actual {
            lines.push(format!(
                "{deeper}actual: {} = {}",
                one_line(path),
                one_line(&compact(value, VALUE_CHARS))
            ));
        }
        if let Some(error) = &assertion.error {
            push_block(&mut lines, &deeper, "error: ", error);
        }
    }
    if let Some(error) = &attempt.error {
        push_block(&mut lines, indent, &style.paint(RED, "error: "), error);
    }
    if let Some(request) = &attempt.request {
        let method = request.get("method").and_then(Value::as_str);
        let url = request.get("url").and_then(Value::as_str);
        if let (Some(method), Some(url)) = (method, url) {
            lines.push(format!(
                "{indent}{} {} {}",
                style.paint(DIM, "request:"),
                one_line(method),
                one_line(url)
            ));
        }
    }
    if let Some(response) = &attempt.response {
        push_response(&mut lines, response, style, indent);
    }
    lines.join("\n")
}

/// The response's status and the start of its body; for actions without a status (log,
/// transform, assert), the result on one line.
fn push_response(lines: &mut Vec<String>, response: &Value, style: &Style, indent: &str) {
    let Some(status) = response.get("status") else {
        lines.push(format!(
            "{indent}{} {}",
            style.paint(DIM, "result:"),
            one_line(&compact(response, VALUE_CHARS))
        ));
        return;
    };
    let status = one_line(&compact(status, VALUE_CHARS)).into_owned();
    lines.push(format!(
        "{indent}{} {status}",
        style.paint(DIM, "response:")
    ));
    let body = match response.get("body") {
        None | Some(Value::Null) => return,
        Some(Value::String(text)) => Cow::Borrowed(text.as_str()),
        Some(other) => Cow::Owned(format!("{other:#}")),
    };
    if body.is_empty() {
        return;
    }
    let excerpt = Excerpt::of(&body);
    for line in &excerpt.lines {
        lines.push(format!("{indent}  {}", printable(line, false)));
    }
    if excerpt.cut_bytes > 0 {
        let note = format!(
            "{indent}  … {} more {} cut ({} of {})",
            excerpt.cut_lines,
            if excerpt.cut_lines == 1 {
                "line"
            } else {
                "lines"
            },
            human_bytes(excerpt.cut_bytes),
            human_bytes(body.len())
        );
        lines.push(style.paint(DIM, &note));
    }
}

/// The first [`BODY_LINES`] lines of a text, at most [`BODY_BYTES`] of it.
struct Excerpt<'a> {
    lines: Vec<Cow<'a, str>>,
    /// Lines not shown in full.
    cut_lines: usize,
    cut_bytes: usize,
}

impl<'a> Excerpt<'a> {
    fn of(text: &'a str) -> Self {
        let mut lines = Vec::new();
        let mut shown = 0;
        let mut partial = false;
        for line in text.lines() {
            if lines.len() == BODY_LINES || shown >= BODY_BYTES {
                break;
            }
            let room = BODY_BYTES - shown;
            if line.len() <= room {
                shown += line.len() + 1;
                lines.push(Cow::Borrowed(line));
            } else {
                let end = floor_char_boundary(line, room);
                shown += end;
                lines.push(Cow::Owned(format!("{}…", &line[..end])));
                partial = true;
                break;
            }
        }
        let whole = lines.len() - usize::from(partial);
        Excerpt {
            cut_lines: text.lines().count() - whole,
            cut_bytes: text.len().saturating_sub(shown),
            lines,
        }
    }
}

fn floor_char_boundary(text: &str, index: usize) -> usize {
    (0..=index.min(text.len()))
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0)
}

/// Pushes `first_prefix + text`, continuing further lines of `text` under it.
fn push_block(lines: &mut Vec<String>, indent: &str, label: &str, text: &str) {
    let mut text_lines = text.lines();
    let first = text_lines.next().unwrap_or("");
    lines.push(format!("{indent}{label}{}", printable(first, false)));
    for line in text_lines {
        lines.push(format!("{indent}  {}", printable(line, false)));
    }
}

/// A block for one flow: a header with its name and file, a line per step with the details of
/// failures under it, the flow's own error, and a footer with its status, counts and duration.
pub fn flow_block(result: &FlowResult, style: &Style) -> String {
    let mut lines = vec![flow_header(
        &result.flow_name,
        result.source.as_deref(),
        style,
    )];
    lines.extend(result.steps.iter().map(|step| step_block(step, style)));
    lines.push(flow_footer(result, style));
    lines.join("\n")
}

/// The first line of a flow's block: its name and, when it came from a file, the file.
pub fn flow_header(flow_name: &str, source: Option<&str>, style: &Style) -> String {
    let mut header = style.paint(BOLD, &one_line(flow_name));
    if let Some(source) = source {
        header.push_str(&format!(
            "  {}",
            style.paint(DIM, &format!("({})", one_line(source)))
        ));
    }
    header
}

/// One step's line, with the details of a failure under it.
pub fn step_block(step: &StepResult, style: &Style) -> String {
    let details = failure_details(step, style);
    if details.is_empty() {
        step_line(step, style)
    } else {
        format!("{}\n{details}", step_line(step, style))
    }
}

/// The end of a flow's block: its own error, then its status, counts and duration.
pub fn flow_footer(result: &FlowResult, style: &Style) -> String {
    let mut lines = Vec::new();
    if let Some(error) = &result.error {
        push_block(&mut lines, "  ", &style.paint(RED, "flow error: "), error);
    }
    let (symbol, look) = flow_mark(result.status);
    let counts = result.counts();
    let mut parts = vec![format!("{} passed", counts.passed)];
    for (count, what) in [
        (counts.failed, "failed"),
        (counts.errored, "error"),
        (counts.skipped, "skipped"),
    ] {
        if count > 0 {
            parts.push(format!("{count} {what}"));
        }
    }
    lines.push(format!(
        "{} {} {}  {} of {} {}  {}",
        style.paint(look, symbol),
        style.paint(BOLD, &one_line(&result.flow_name)),
        style.paint(look, flow_status_text(result.status)),
        parts.join(", "),
        result.steps.len(),
        if result.steps.len() == 1 {
            "step"
        } else {
            "steps"
        },
        style.paint(DIM, &format!("({})", human_ms(result.duration_ms)))
    ));
    lines.join("\n")
}

/// Totals over the run and the flows that did not pass. The last line is always
/// `N passed, M failed` (flows; every flow that did not pass counts as failed), without colour,
/// for CI tools that read it.
pub fn summary(results: &[FlowResult], wall: Duration, style: &Style) -> String {
    let totals = Totals::of(results);
    let mut lines = Vec::new();
    let mut flows = vec![
        style.paint(GREEN, &format!("{} passed", totals.passed)),
        style.paint(RED, &format!("{} failed", totals.failed)),
    ];
    for (count, what) in [
        (totals.errored, "error"),
        (totals.timed_out, "timed out"),
        (totals.cancelled, "cancelled"),
    ] {
        if count > 0 {
            flows.push(style.paint(MAGENTA, &format!("{count} {what}")));
        }
    }
    lines.push(format!(
        "{} {}  ({} total)",
        style.paint(BOLD, "flows:"),
        flows.join(", "),
        totals.flows
    ));
    let steps = totals.steps;
    lines.push(format!(
        "{} {} passed, {} failed, {} error, {} skipped  ({} total)",
        style.paint(BOLD, "steps:"),
        steps.passed,
        steps.failed,
        steps.errored,
        steps.skipped,
        steps.total
    ));
    let wall_ms = u64::try_from(wall.as_millis()).unwrap_or(u64::MAX);
    lines.push(format!(
        "{} {}",
        style.paint(BOLD, "time: "),
        human_ms(wall_ms)
    ));
    let not_passed: Vec<_> = results
        .iter()
        .filter(|result| result.status != FlowStatus::Passed)
        .collect();
    if !not_passed.is_empty() {
        lines.push(style.paint(BOLD, "failed flows:"));
        for result in not_passed {
            let (symbol, look) = flow_mark(result.status);
            let mut line = format!(
                "  {} {}",
                style.paint(look, symbol),
                one_line(&result.flow_name)
            );
            if let Some(source) = &result.source {
                line.push_str(&format!("  {}", one_line(source)));
            }
            line.push_str(&format!("  {}", flow_status_text(result.status)));
            lines.push(line);
        }
    }
    lines.push(format!(
        "{} passed, {} failed",
        totals.passed,
        totals.not_passed()
    ));
    lines.join("\n")
}

/// A value as compact JSON, cut to `max` characters with `…`.
fn compact(value: &Value, max: usize) -> String {
    let text = value.to_string();
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text,
    }
}

/// `text` on one line: line breaks and other control characters escaped.
fn one_line(text: &str) -> Cow<'_, str> {
    printable(text, true)
}

/// `text` with control characters escaped (`\u{1b}`), line breaks too when `escape_newlines`.
fn printable(text: &str, escape_newlines: bool) -> Cow<'_, str> {
    let keep = |c: char| !c.is_control() || c == '\t' || (c == '\n' && !escape_newlines);
    if text.chars().all(keep) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if keep(c) {
            out.push(c);
        } else {
            out.extend(c.escape_default());
        }
    }
    Cow::Owned(out)
}

/// `34 ms`, `1.25 s`, `2m 05s`.
fn human_ms(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{:.2} s", ms as f64 / 1_000.0),
        _ => format!("{}m {:02}s", ms / 60_000, ms % 60_000 / 1_000),
    }
}

/// `512 B`, `2.0 KiB`, `3.1 MiB`.
fn human_bytes(bytes: usize) -> String {
    const KIB: f64 = 1024.0;
    let value = bytes as f64;
    if value < KIB {
        format!("{bytes} B")
    } else if value < KIB * KIB {
        format!("{:.1} KiB", value / KIB)
    } else {
        format!("{:.1} MiB", value / (KIB * KIB))
    }
}

/// A progress line on standard error while flows run: flows done out of the total and the names
/// of those running. When disabled (not a TTY) nothing is drawn and [`Progress::println`] prints
/// plainly.
pub struct Progress {
    bar: ProgressBar,
    running: Mutex<Vec<String>>,
}

impl Progress {
    /// `enabled` is the caller's choice: true only when standard error is a terminal.
    pub fn new(total: u64, enabled: bool) -> Self {
        let bar = if enabled {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            let look = ProgressStyle::with_template("{spinner} {pos}/{len} flows  {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
            bar.set_style(look);
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        } else {
            ProgressBar::hidden()
        };
        Progress {
            bar,
            running: Mutex::new(Vec::new()),
        }
    }

    /// A flow started.
    pub fn start(&self, flow_name: &str) {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        running.push(flow_name.to_owned());
        self.bar.set_message(running_message(&running));
    }

    /// A flow finished: one more done, one fewer running.
    pub fn inc(&self, flow_name: &str) {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(index) = running.iter().position(|name| name == flow_name) {
            running.remove(index);
        }
        self.bar.set_message(running_message(&running));
        self.bar.inc(1);
    }

    /// Prints `text` on standard output, above the progress line, without tearing it.
    pub fn println(&self, text: &str) -> io::Result<()> {
        self.bar.suspend(|| {
            let mut out = io::stdout().lock();
            writeln!(out, "{text}")?;
            out.flush()
        })
    }

    /// Removes the progress line.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

fn running_message(running: &[String]) -> String {
    if running.is_empty() {
        String::new()
    } else {
        format!("running: {}", one_line(&running.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::url_path;

    #[test]
    fn a_step_line_shows_the_path_and_query_of_a_url() {
        let cases = [
            ("http://api:8080/users/7?page=2#top", "/users/7?page=2"),
            ("https://user:pw@example.com", "/"),
            ("http://example.com?q=1", "/?q=1"),
            ("http://[::1]:3000/health", "/health"),
            ("not a url", "not a url"),
            ("see http ://x/y", "see http ://x/y"),
            ("mailto:someone@example.com", "mailto:someone@example.com"),
        ];
        for (url, shown) in cases {
            assert_eq!(url_path(url), shown, "{url}");
        }
    }
}
