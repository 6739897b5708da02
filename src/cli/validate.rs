//! `testmesh validate`: loads and checks flows without running them.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::exit::Exit;
use super::inputs::{VariableArgs, environment, print_diagnostics};
use super::output;
use crate::checks::check_loaded;
use crate::flow::{Diagnostic, load_paths};

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Flow files, TestFlow manifests or folders of them.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub variables: VariableArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Fail (exit code 2) on warnings too, such as names that must come from an environment
    /// when none was given.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

/// Loads, validates, prints; exits 2 when any error was found (or, with `--strict`, any
/// warning).
pub fn validate(args: ValidateArgs) -> Exit {
    let (diagnostics, flow_count) = check(&args.paths, &args.variables);
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    let failed = errors > 0 || (args.strict && warnings > 0);
    match args.format {
        Format::Json => {
            let report = serde_json::json!({
                "valid": !failed,
                "flows": flow_count,
                "errors": errors,
                "warnings": warnings,
                "diagnostics": diagnostics,
            });
            output::line(&serde_json::to_string_pretty(&report).unwrap_or_default());
        }
        Format::Human => {
            print_diagnostics(&diagnostics);
            let plural = if flow_count == 1 { "flow" } else { "flows" };
            if !failed {
                output::line(&format!(
                    "{flow_count} {plural} valid ({warnings} warnings)"
                ));
            } else if errors == 0 {
                eprintln!(
                    "{warnings} warnings in {flow_count} {plural}, and --strict fails on warnings"
                );
            } else {
                eprintln!("{errors} errors, {warnings} warnings in {flow_count} {plural}");
            }
        }
    }
    if !failed {
        Exit::Passed
    } else {
        Exit::InvalidInput
    }
}

/// Loads and validates; returns every diagnostic and how many flows were read.
pub fn check(paths: &[PathBuf], variables: &VariableArgs) -> (Vec<Diagnostic>, usize) {
    let loaded = load_paths(paths);
    let (known, environment_error) = match environment(variables, &loaded) {
        Ok(env) => (env.known_names(), None),
        Err(message) => (Default::default(), Some(Diagnostic::error(message))),
    };
    let (mut diagnostics, count) = check_loaded(&loaded, &known);
    diagnostics.extend(environment_error);
    (diagnostics, count)
}
