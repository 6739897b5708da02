//! What `run` and `validate` share: reading `--var`, `--secret` and `--env-file`, merging
//! TestEnvironment manifests given on the command line, and printing diagnostics.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;
use indexmap::IndexMap;
use serde_json::Value;

use super::environment_file::{self, EnvironmentFile};
use crate::flow::action_defaults::ActionDefaults;
use crate::flow::validate::KnownNames;
use crate::flow::{Diagnostic, Loaded};

/// Variables and secrets from the command line.
#[derive(Debug, Clone, Default, Args)]
pub struct VariableArgs {
    /// An environment file (repeatable; later files win): dotenv lines, or a YAML/JSON file
    /// (.yaml, .yml, .json) with variables, secrets, headers, services and action_defaults.
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_files: Vec<PathBuf>,
    /// A variable, NAME=VALUE (repeatable; wins over env files).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// A secret, NAME=VALUE, or NAME alone to read it from the environment variable of that
    /// name. Secret values are masked (***) in every output.
    #[arg(long = "secret", value_name = "NAME[=VALUE]")]
    pub secrets: Vec<String>,
}

/// The environment a run starts from.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    pub variables: IndexMap<String, Value>,
    pub secrets: IndexMap<String, String>,
    pub headers: IndexMap<String, String>,
    pub services: IndexMap<String, String>,
    pub action_defaults: ActionDefaults,
    /// True when something was given (`--var`, `--secret`, `--env-file`, a TestEnvironment),
    /// even an empty file: what the flows need from an environment is then known.
    pub given: bool,
}

impl Environment {
    /// What a flow may use without defining it.
    pub fn known_names(&self) -> KnownNames {
        KnownNames {
            names: self
                .variables
                .keys()
                .chain(self.secrets.keys())
                .cloned()
                .collect(),
            open: !self.given,
            services: self.services.keys().cloned().collect(),
            action_defaults: self.action_defaults.clone(),
        }
    }

    fn add_file(&mut self, file: EnvironmentFile) {
        for (name, value) in file.variables {
            self.secrets.shift_remove(&name);
            self.variables.insert(name, Value::String(value));
        }
        for (name, value) in file.secrets {
            self.variables.shift_remove(&name);
            self.secrets.insert(name, value);
        }
        self.headers.extend(file.headers);
        self.services.extend(file.services);
        self.action_defaults.extend(&file.action_defaults);
    }
}

/// Builds the environment: TestEnvironment manifests, then env files, then `--var`, `--secret`.
pub fn environment(args: &VariableArgs, loaded: &Loaded) -> Result<Environment, String> {
    let mut env = Environment {
        given: loaded.environments().next().is_some()
            || !args.env_files.is_empty()
            || !args.vars.is_empty()
            || !args.secrets.is_empty(),
        ..Environment::default()
    };
    for manifest in loaded.environments() {
        for (name, value) in manifest.variables.iter().chain(&manifest.services) {
            env.variables
                .insert(name.clone(), Value::String(value.clone()));
        }
        env.headers.extend(manifest.headers.clone());
        env.services.extend(manifest.services.clone());
        if let Some(problem) = manifest.action_defaults.unknown_action() {
            return Err(format!(
                "{}: spec.actionDefaults: {problem}",
                manifest.file.display()
            ));
        }
        env.action_defaults.extend(&manifest.action_defaults);
    }
    for file in &args.env_files {
        if environment_file::is_structured(file) {
            env.add_file(environment_file::read(file)?);
            continue;
        }
        let entries = dotenvy::from_path_iter(file)
            .map_err(|err| format!("--env-file {}: {err}", file.display()))?;
        for entry in entries {
            let (name, value) =
                entry.map_err(|err| format!("--env-file {}: {err}", file.display()))?;
            env.variables.insert(name, Value::String(value));
        }
    }
    for pair in &args.vars {
        let (name, value) = split_pair(pair, "--var")?;
        env.variables.insert(name, Value::String(value));
    }
    for item in &args.secrets {
        let (name, value) = match item.split_once('=') {
            Some(_) => split_pair(item, "--secret")?,
            None => {
                let value = std::env::var(item).map_err(|_| {
                    format!("--secret {item}: no environment variable {item} is set (or write --secret {item}=VALUE)")
                })?;
                (item.clone(), value)
            }
        };
        env.secrets.insert(name, value);
    }
    Ok(env)
}

fn split_pair(pair: &str, flag: &str) -> Result<(String, String), String> {
    match pair.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_string(), value.to_string()))
        }
        _ => Err(format!("{flag} {pair:?}: expected NAME=VALUE")),
    }
}

/// Prints diagnostics to stderr, colouring the severity on a terminal.
pub fn print_diagnostics(diagnostics: &[Diagnostic]) {
    let color = std::io::stderr().is_terminal();
    for diagnostic in diagnostics {
        let text = diagnostic.to_string();
        if color {
            let style = if diagnostic.is_error() {
                anstyle::AnsiColor::Red.on_default().bold()
            } else {
                anstyle::AnsiColor::Yellow.on_default()
            };
            let word = if diagnostic.is_error() {
                "error:"
            } else {
                "warning:"
            };
            eprintln!(
                "{}",
                text.replacen(word, &format!("{style}{word}{style:#}"), 1)
            );
        } else {
            eprintln!("{text}");
        }
    }
}
