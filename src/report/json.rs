//! The JSON report: the flow results as they are (the shape of
//! [`FlowResult`](crate::engine::result::FlowResult)), under a version number and the run's
//! totals, for tools that read every detail.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use super::totals::Totals;
use super::{ReportError, create_parent, io_error};
use crate::engine::result::FlowResult;

/// The version of the report's shape; raised when a field changes meaning or goes away.
pub const JSON_REPORT_VERSION: u32 = 1;

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    summary: Totals,
    flows: &'a [FlowResult],
}

impl<'a> JsonReport<'a> {
    fn new(results: &'a [FlowResult]) -> Self {
        JsonReport {
            version: JSON_REPORT_VERSION,
            summary: Totals::of(results),
            flows: results,
        }
    }
}

/// `{"version": 1, "summary": {...}, "flows": [...]}`.
pub fn json_report(results: &[FlowResult]) -> Value {
    // Results hold only string-keyed maps and JSON values, which always convert.
    serde_json::to_value(JsonReport::new(results))
        .expect("a flow result always converts to a JSON value")
}

/// Writes [`json_report`] to `path`, pretty-printed, creating its parent directories.
pub fn write_json_report(path: &Path, results: &[FlowResult]) -> Result<(), ReportError> {
    create_parent(path)?;
    let file = File::create(path).map_err(|source| io_error(path, source))?;
    let mut writer = BufWriter::new(file);
    serde_json::to_writer_pretty(&mut writer, &JsonReport::new(results)).map_err(|source| {
        ReportError::Json {
            path: path.to_path_buf(),
            source,
        }
    })?;
    writer
        .write_all(b"\n")
        .and_then(|()| writer.flush())
        .map_err(|source| io_error(path, source))
}
