//! `POST /validate`: a flow's YAML in (a flow file or a TestFlow manifest, with an optional
//! TestSchedule beside it), the validator's findings out, each with its line and column, the
//! step it is in and the field, plus the path of that step (`steps[1].config.then[0]`) so
//! the editor can put the finding on its node. Nothing is stored; the editor calls it on
//! every edit, after a pause.
//!
//! No environment is known here, so a name only an environment could define is a warning, as
//! `testmesh validate` says without `--env-file`.

use std::path::Path;

use axum::Json;
use axum::body::Bytes;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use crate::checks::check_loaded;
use crate::flow::load::{Loaded, load_text};
use crate::flow::validate::KnownNames;
use crate::flow::{Diagnostic, Severity};

/// The label of the posted text in messages.
const FILE_LABEL: &str = "flow.yaml";

/// What the validator says of the posted YAML.
#[derive(Debug, Serialize, ToSchema)]
pub struct ValidationReport {
    /// True when there is no error (warnings allowed).
    pub valid: bool,
    /// How many flows the YAML holds.
    pub flows: usize,
    pub errors: usize,
    pub warnings: usize,
    pub diagnostics: Vec<PlacedDiagnostic>,
}

/// One finding.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlacedDiagnostic {
    /// error or warning.
    pub severity: String,
    pub message: String,
    /// From 1, when known.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// The step's id.
    pub step: Option<String>,
    /// The field, from the flow (`steps[2].config.url`; `spec.` first in a manifest).
    pub field: Option<String>,
    /// The path of the innermost step holding the field, without `spec.`
    /// (`steps[1].config.steps[0]`).
    pub step_path: Option<String>,
    /// The field within that step (`config.url`, `assert[0]`).
    pub step_field: Option<String>,
}

/// Validates `text`.
pub fn validate_text(text: &str) -> ValidationReport {
    let mut loaded = Loaded::default();
    load_text(text, Path::new(FILE_LABEL), &mut loaded);
    let known = KnownNames {
        open: true,
        ..KnownNames::default()
    };
    let (diagnostics, flows) = check_loaded(&loaded, &known);
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    ValidationReport {
        valid: errors == 0,
        flows,
        errors,
        warnings: diagnostics.len() - errors,
        diagnostics: diagnostics.into_iter().map(placed).collect(),
    }
}

fn placed(diagnostic: Diagnostic) -> PlacedDiagnostic {
    let (step_path, step_field) = match diagnostic.field.as_deref().and_then(split_step_path) {
        Some((path, rest)) => (Some(path), (!rest.is_empty()).then_some(rest)),
        None => (None, None),
    };
    PlacedDiagnostic {
        severity: match diagnostic.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
        .to_string(),
        message: diagnostic.message,
        line: diagnostic.line,
        column: diagnostic.column,
        step: diagnostic.step,
        field: diagnostic.field,
        step_path,
        step_field,
    }
}

/// `name[3]` → (`name`, Some(3)); `name` → (`name`, None).
fn indexed(segment: &str) -> (&str, Option<usize>) {
    match segment.split_once('[') {
        Some((name, rest)) => (name, rest.trim_end_matches(']').parse().ok()),
        None => (segment, None),
    }
}

/// Splits a field into the path of the innermost step holding it and the rest:
/// `spec.steps[1].config.then[0].config.url` → (`steps[1].config.then[0]`, `config.url`).
/// None when the field is not inside a step.
pub fn split_step_path(field: &str) -> Option<(String, String)> {
    let field = field.strip_prefix("spec.").unwrap_or(field);
    let segments: Vec<&str> = field.split('.').collect();
    let mut end = match indexed(segments.first()?) {
        ("setup" | "steps" | "teardown", Some(_)) => 1,
        _ => return None,
    };
    loop {
        match segments.get(end..) {
            Some([config, list, ..])
                if *config == "config"
                    && matches!(indexed(list), ("steps" | "then" | "else", Some(_))) =>
            {
                end += 2;
            }
            Some([config, branch, steps, ..])
                if *config == "config"
                    && matches!(indexed(branch), ("branches", Some(_)))
                    && matches!(indexed(steps), ("steps", Some(_))) =>
            {
                end += 3;
            }
            Some([config, branch, ..])
                if *config == "config" && matches!(indexed(branch), ("branches", Some(_))) =>
            {
                end += 2;
            }
            _ => break,
        }
    }
    Some((segments[..end].join("."), segments[end..].join(".")))
}

#[utoipa::path(post, path = "/api/v1/validate", tag = "editor",
    request_body(content = String, content_type = "application/yaml",
        description = "A flow file or a TestFlow manifest (and optionally a TestSchedule)"),
    responses((status = 200, body = ValidationReport), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody)))]
pub async fn validate(body: Bytes) -> Result<Json<ValidationReport>, ApiError> {
    let text = std::str::from_utf8(&body).map_err(|err| {
        ApiError::bad(
            "body",
            format!("the YAML is not UTF-8 text (byte {})", err.valid_up_to()),
        )
    })?;
    Ok(Json(validate_text(text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_paths_end_at_the_innermost_step() {
        let split = |field: &str| split_step_path(field).map(|(a, b)| format!("{a} | {b}"));
        assert_eq!(
            split("steps[2].config.url").unwrap(),
            "steps[2] | config.url"
        );
        assert_eq!(
            split("spec.steps[1].config.then[0].config.url").unwrap(),
            "steps[1].config.then[0] | config.url"
        );
        assert_eq!(
            split("steps[0].config.branches[1].steps[0].action").unwrap(),
            "steps[0].config.branches[1].steps[0] | action"
        );
        assert_eq!(
            split("teardown[0].config.steps").unwrap(),
            "teardown[0] | config.steps"
        );
        assert_eq!(split("setup[3]").unwrap(), "setup[3] | ");
        assert_eq!(split("env.TOKEN"), None);
    }
}
