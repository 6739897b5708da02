//! Exports flows back to the tools they may have come from: `http_request` steps as curl
//! command lines (`curl`) or as the requests of a Postman collection (`postman`). Steps of
//! other actions have no counterpart there and are reported as skipped.

pub mod curl;
pub mod postman;

use crate::flow::actions::ActionKind;
use crate::flow::load::LoadedFlow;
use crate::flow::model::Step;

/// A step the export left out: where it is (`file: flow > step`) and its action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub place: String,
    pub action: String,
}

/// The `http_request` steps of a flow (setup, steps, teardown, in order), and the steps of
/// other actions as skipped.
pub fn http_steps<'f>(flow: &'f LoadedFlow, skipped: &mut Vec<Skipped>) -> Vec<&'f Step> {
    let spec = &flow.spec;
    let mut found = Vec::new();
    for (phase, steps) in [
        ("setup", &spec.setup),
        ("steps", &spec.steps),
        ("teardown", &spec.teardown),
    ] {
        for (index, step) in steps.iter().enumerate() {
            if ActionKind::from_name(&step.action) == Some(ActionKind::HttpRequest) {
                found.push(step);
            } else {
                let id = step
                    .id
                    .clone()
                    .unwrap_or_else(|| format!("{phase}[{index}]"));
                skipped.push(Skipped {
                    place: format!("{}: {} > {id}", flow.file_label(), spec.name),
                    action: step.action.clone(),
                });
            }
        }
    }
    found
}
