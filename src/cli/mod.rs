//! The command line: one subcommand per role. `run`, `validate`, `convert`, `mock`, `import`
//! and `export` need nothing but files; the cluster roles come with their own subcommands.

mod api;
mod convert;
mod environment_file;
mod executor;
mod exit;
mod export;
mod import;
mod inputs;
mod migrate;
mod mock;
mod operator;
mod output;

mod run;
mod store_args;
mod validate;
mod watch;
mod watched_files;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use exit::Exit;

/// Kubernetes-native end-to-end integration tests, run locally, in CI or in a cluster.
#[derive(Debug, Parser)]
#[command(name = "testmesh", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run flows from files and folders, and report the results.
    Run(run::RunArgs),
    /// Check flows without running them.
    Validate(validate::ValidateArgs),
    /// Run flows, then run each again when a file it is made of changes, until Ctrl-C.
    Watch(watch::WatchArgs),
    /// Print the TestFlow manifest for a flow file.
    Convert {
        /// The flow file.
        file: PathBuf,
        /// metadata.namespace of the manifest.
        #[arg(long)]
        namespace: Option<String>,
    },
    /// Serve the endpoints of a mock definition file until Ctrl-C.
    Mock {
        /// YAML with an `endpoints` list.
        file: PathBuf,
        /// Port on 127.0.0.1 (default: a free one).
        #[arg(long)]
        port: Option<u16>,
    },
    /// Take runs off the queue, execute them and record their results.
    Executor(Box<executor::ExecutorArgs>),
    /// Serve the read API, live events and the dashboard.
    Api(Box<api::ApiArgs>),
    /// Apply the database migrations and exit.
    Migrate {
        #[command(flatten)]
        store: store_args::StoreArgs,
        /// Log format.
        #[arg(long, env = "TESTMESH_LOG_FORMAT", value_enum, default_value = "auto")]
        log_format: crate::telemetry::LogFormat,
    },
    /// Run the operator: reconcile TestFlows, TestSchedules and TestEnvironments; enqueue runs.
    Operator(operator::OperatorArgs),
    /// Print the CustomResourceDefinitions as multi-document YAML (for `kubectl apply -f -`).
    Crds,
    /// Make flow files from an OpenAPI document, a Postman collection, a HAR file or a curl line.
    Import(import::ImportArgs),
    /// Write the HTTP steps of flows as a Postman collection or as curl command lines.
    Export(export::ExportArgs),
    /// Print the JSON Schema of flow files or of a manifest kind, for editors.
    Schema {
        /// Which schema.
        #[arg(value_enum, default_value = "flow")]
        kind: SchemaArg,
    },
}

/// The schemas `testmesh schema` prints.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum SchemaArg {
    /// Flow files, with or without the `flow:` root.
    Flow,
    /// TestFlow manifests.
    Testflow,
    /// TestSchedule manifests.
    Testschedule,
    /// TestEnvironment manifests.
    Environment,
}

/// Parses the arguments, runs the subcommand and turns its outcome into an exit code. The
/// commands that only read files run without an async runtime; `run` starts the one its flows
/// need; the others run on a worker per core.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let exit = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Validate(args) => validate::validate(args),
        Command::Convert { file, namespace } => convert::convert(&file, namespace.as_deref()),
        Command::Mock { file, port } => on_runtime(mock::mock(&file, port)),
        Command::Executor(args) => on_runtime(executor::executor(*args)),
        Command::Migrate { store, log_format } => on_runtime(migrate::migrate(store, log_format)),
        Command::Operator(args) => on_runtime(operator::operator(args)),
        Command::Crds => {
            output::text(&crate::resources::crd::all_yaml());
            Exit::Passed
        }
        Command::Schema { kind } => {
            use crate::resources::editor_schema::{SchemaKind, schema_text};
            let kind = match kind {
                SchemaArg::Flow => SchemaKind::Flow,
                SchemaArg::Testflow => SchemaKind::TestFlow,
                SchemaArg::Testschedule => SchemaKind::TestSchedule,
                SchemaArg::Environment => SchemaKind::Environment,
            };
            output::text(&schema_text(kind));
            Exit::Passed
        }
        Command::Api(args) => on_runtime(api::api(*args)),
        Command::Watch(args) => on_runtime(watch::watch(args)),
        Command::Import(args) => import::import(args),
        Command::Export(args) => export::export(args),
    };
    crate::telemetry::shutdown();
    exit.into()
}

/// Runs a long-running role to its end on a worker per core.
fn on_runtime(role: impl Future<Output = Exit>) -> Exit {
    match runtime(false) {
        Ok(runtime) => runtime.block_on(role),
        Err(exit) => exit,
    }
}

/// The async runtime of a command: a single thread, or a worker per core; the error is printed.
fn runtime(one_thread: bool) -> Result<tokio::runtime::Runtime, Exit> {
    let mut builder = if one_thread {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    builder.enable_all().build().map_err(|err| {
        eprintln!("error: cannot start the async runtime: {err}");
        Exit::RuntimeError
    })
}
