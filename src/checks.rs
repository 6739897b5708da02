//! Checks everything loaded from a set of files, as `testmesh validate` does: each flow against
//! the engine's built-in names, and each TestSchedule's cron and time zone as the operator reads
//! them. The command line and the API's validate and draft-run endpoints share it, so a file
//! passes or fails the same way wherever it is checked.

use crate::engine::builtins;
use crate::flow::validate::{KnownNames, validate as validate_flow};
use crate::flow::{Diagnostic, Loaded};
use crate::operator::schedule::check_manifest_spec;

/// Validates what was loaded (flows, and the cron and time zone of schedules) against the
/// names `known` defines: the loader's diagnostics, then each document's, and how many flows
/// there were. The API's `POST /validate` answers with the same.
pub fn check_loaded(loaded: &Loaded, known: &KnownNames) -> (Vec<Diagnostic>, usize) {
    let mut diagnostics = loaded.diagnostics.clone();
    let mut count = 0;
    for flow in loaded.flows() {
        count += 1;
        diagnostics.extend(validate_flow(flow, known, builtins::NAMES));
    }
    for schedule in loaded.schedules() {
        for (pointer, message) in check_manifest_spec(&schedule.spec) {
            diagnostics.push(
                Diagnostic::error(message)
                    .in_file(schedule.file.display().to_string())
                    .at(schedule.positions.find(&pointer)),
            );
        }
    }
    (diagnostics, count)
}
