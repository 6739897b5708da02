//! `testmesh import openapi|postman|har|curl`: turns another tool's requests into flow files.
//! The flows go to `--out DIR` (one file per flow) or to stdout (one YAML document per flow);
//! what could not be translated is listed on stderr. Input that cannot be read exits 2.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use super::exit::Exit;
use super::output;
use crate::import::flow_text::flow_yaml;
use crate::import::names::file_name;
use crate::import::{Imported, curl, har, openapi, postman};

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub source: ImportSource,
    /// Write each flow to a file in this folder (created if missing) instead of stdout.
    #[arg(long, global = true, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ImportSource {
    /// An OpenAPI 3.0 or 3.1 document (JSON or YAML): a flow per tag, a step per operation.
    Openapi {
        /// The document.
        spec: PathBuf,
    },
    /// A Postman collection (v2.1): a flow per folder, a step per request.
    Postman {
        /// The exported collection (JSON).
        collection: PathBuf,
    },
    /// A HAR recording: one flow, a step per exchange.
    Har {
        /// The .har file.
        file: PathBuf,
    },
    /// A curl command line: one step.
    Curl {
        /// The whole command, quoted as one argument: 'curl -X POST …'.
        command: String,
    },
}

pub fn import(args: ImportArgs) -> Exit {
    let result = match &args.source {
        ImportSource::Openapi { spec } => openapi::import(spec),
        ImportSource::Postman { collection } => postman::import(collection),
        ImportSource::Har { file } => har::import(file),
        ImportSource::Curl { command } => curl::import(command),
    };
    let imported = match result {
        Ok(imported) => imported,
        Err(err) => {
            eprintln!("error: {err}");
            return Exit::InvalidInput;
        }
    };
    let exit = match &args.out {
        Some(folder) => write_files(&imported, folder),
        None => {
            let documents: Vec<String> = imported.flows.iter().map(flow_yaml).collect();
            output::text(&documents.concat());
            Exit::Passed
        }
    };
    report(&imported);
    exit
}

fn write_files(imported: &Imported, folder: &Path) -> Exit {
    if let Err(err) = std::fs::create_dir_all(folder) {
        eprintln!("error: cannot create {}: {err}", folder.display());
        return Exit::RuntimeError;
    }
    let mut names = crate::import::names::UniqueNames::default();
    for flow in &imported.flows {
        let stem = file_name(&flow.name);
        let stem = names.take(stem.trim_end_matches(".yaml"), "flow");
        let path = folder.join(format!("{stem}.yaml"));
        if let Err(err) = std::fs::write(&path, flow_yaml(flow)) {
            eprintln!("error: cannot write {}: {err}", path.display());
            return Exit::RuntimeError;
        }
        eprintln!("wrote {}", path.display());
    }
    Exit::Passed
}

/// Lists on stderr what the import could not translate, then a summary.
fn report(imported: &Imported) {
    for item in &imported.untranslated {
        eprintln!("not translated: {item}");
    }
    let flows = imported.flows.len();
    let steps: usize = imported.flows.iter().map(|flow| flow.steps.len()).sum();
    eprintln!(
        "imported {flows} {}, {steps} {}; {} not translated",
        if flows == 1 { "flow" } else { "flows" },
        if steps == 1 { "step" } else { "steps" },
        imported.untranslated.len()
    );
}
