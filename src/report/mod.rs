//! Reports of finished runs: what `testmesh run` prints while flows finish and the files it writes
//! for CI and people (`--report junit=FILE`, `--report json=FILE`, `--report html=FILE`).
//!
//! Every reporter reads [`FlowResult`] values and prints what is in them, nothing more: secrets
//! are masked before a result is built, so a reporter never reaches for other data (no `Debug`
//! dumps, no environment) that could leak them.
//!
//! - [`terminal`]: lines people read, with colour on a TTY and a progress line for long runs.
//! - [`junit`]: JUnit XML, a test suite per flow and a test case per step.
//! - [`json`]: the results as they are, with totals, for tools of our own.
//! - [`html`]: one self-contained page to read a run in a browser, offline.
//! - [`totals`]: the counts the other three agree on.

pub mod html;
pub mod json;
pub mod junit;
pub mod terminal;
pub mod totals;

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::engine::result::{FlowResult, Phase, StepResult};

/// A report could not be built or written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write report {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("cannot write JSON report {}: {source}", path.display())]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("cannot build JUnit XML: {0}")]
    Junit(#[from] quick_junit::SerializeError),
}

/// Which file format `--report` asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    Junit,
    Json,
    Html,
}

impl ReportKind {
    /// Every kind, in the order the help text lists them.
    pub const ALL: [ReportKind; 3] = [ReportKind::Junit, ReportKind::Json, ReportKind::Html];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::Junit => "junit",
            ReportKind::Json => "json",
            ReportKind::Html => "html",
        }
    }
}

impl fmt::Display for ReportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `--report KIND=FILE` argument, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportTarget {
    pub kind: ReportKind,
    pub path: PathBuf,
}

/// Parses `junit=FILE`, `json=FILE` or `html=FILE`. The error names the bad value and the
/// accepted kinds, so it can be shown as it is (clap's `value_parser` accepts this function).
pub fn parse_report_arg(s: &str) -> Result<ReportTarget, String> {
    let accepted = ReportKind::ALL.map(ReportKind::as_str).join(", ");
    let Some((kind, path)) = s.split_once('=') else {
        return Err(format!(
            "invalid report `{s}`: expected KIND=FILE, where KIND is one of {accepted}"
        ));
    };
    let kind = ReportKind::ALL
        .into_iter()
        .find(|known| known.as_str() == kind.trim())
        .ok_or_else(|| {
            format!("invalid report kind `{kind}` in `{s}`: expected one of {accepted}")
        })?;
    if path.trim().is_empty() {
        return Err(format!(
            "invalid report `{s}`: the file name after `{kind}=` is empty"
        ));
    }
    Ok(ReportTarget {
        kind,
        path: PathBuf::from(path),
    })
}

/// Writes a report of `kind` to `path`, creating its parent directories.
pub fn write_report(
    kind: ReportKind,
    path: &Path,
    results: &[FlowResult],
) -> Result<(), ReportError> {
    match kind {
        ReportKind::Junit => {
            let xml = junit::junit_xml(results)?;
            create_parent(path)?;
            fs::write(path, xml).map_err(|source| io_error(path, source))
        }
        ReportKind::Json => json::write_json_report(path, results),
        ReportKind::Html => html::write_html_report(path, results),
    }
}

/// Creates the directories `path` will live in.
fn create_parent(path: &Path) -> Result<(), ReportError> {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => {
            fs::create_dir_all(parent).map_err(|source| io_error(parent, source))
        }
        _ => Ok(()),
    }
}

fn io_error(path: &Path, source: io::Error) -> ReportError {
    ReportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// How every reporter names a step: its id, after its phase for setup and teardown steps
/// (`setup/seed_db`), so that ids repeated across phases stay apart.
pub fn step_label(step: &StepResult) -> String {
    match step.phase {
        Phase::Main => step.id.clone(),
        Phase::Setup | Phase::Teardown => format!("{}/{}", step.phase.as_str(), step.id),
    }
}
