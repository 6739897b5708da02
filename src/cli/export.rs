//! `testmesh export postman FLOW…` and `testmesh export curl FLOW`: the HTTP steps of flows as
//! a Postman collection or as curl command lines, on stdout; skipped steps are listed on stderr.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::exit::Exit;
use super::inputs::print_diagnostics;
use super::output;
use crate::export::{Skipped, curl, http_steps, postman};
use crate::flow::load_paths;

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(subcommand)]
    pub target: ExportTarget,
}

#[derive(Debug, Subcommand)]
pub enum ExportTarget {
    /// A Postman collection (v2.1, JSON): a folder per flow, a request per HTTP step.
    Postman {
        /// Flow files or folders of them.
        #[arg(required = true, value_name = "FLOW")]
        flows: Vec<PathBuf>,
        /// The collection's name.
        #[arg(long, default_value = "TestMesh flows")]
        name: String,
    },
    /// A curl command line per HTTP step, one per line.
    Curl {
        /// The flow file.
        flow: PathBuf,
    },
}

pub fn export(args: ExportArgs) -> Exit {
    let paths = match &args.target {
        ExportTarget::Postman { flows, .. } => flows.clone(),
        ExportTarget::Curl { flow } => vec![flow.clone()],
    };
    let loaded = load_paths(&paths);
    print_diagnostics(&loaded.diagnostics);
    if loaded.has_errors() {
        return Exit::InvalidInput;
    }
    if loaded.flows().next().is_none() {
        eprintln!(
            "error: no flow found in {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Exit::InvalidInput;
    }
    let mut skipped: Vec<Skipped> = Vec::new();
    match &args.target {
        ExportTarget::Postman { name, .. } => {
            let folders = loaded
                .flows()
                .map(|flow| {
                    let steps = http_steps(flow, &mut skipped);
                    let env: Vec<(String, String)> = flow
                        .spec
                        .env
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    let place = format!("{}: {}", flow.file_label(), flow.spec.name);
                    postman::folder(&flow.spec.name, &env, &steps, &place, &mut skipped)
                })
                .collect();
            let collection = postman::collection(name, folders);
            output::line(&serde_json::to_string_pretty(&collection).unwrap_or_default());
        }
        ExportTarget::Curl { .. } => {
            for flow in loaded.flows() {
                for step in http_steps(flow, &mut skipped) {
                    match curl::command_line(step) {
                        Ok(line) => output::line(&line),
                        Err(reason) => skipped.push(Skipped {
                            place: format!(
                                "{}: {} > {}",
                                flow.file_label(),
                                flow.spec.name,
                                step.id.as_deref().unwrap_or("step")
                            ),
                            action: reason,
                        }),
                    }
                }
            }
        }
    }
    for item in &skipped {
        eprintln!("skipped: {}: {}", item.place, item.action);
    }
    Exit::Passed
}
