//! `testmesh run`: loads, validates and runs flows — one at a time with each step printed as it
//! ends, or in parallel up to `--jobs` with a block per flow — prints a summary, writes the
//! requested reports, and exits with a code that tells passed, failed, invalid input and
//! runtime errors apart. Ctrl-C stops the steps and runs
//! teardown; a second Ctrl-C stops teardown too.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use clap::Args;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::exit::Exit;
use super::inputs::{Environment, VariableArgs, environment, print_diagnostics};
use super::output;
use crate::engine::panics::internal_error;
use crate::engine::{FlowResult, FlowStatus, RunEvent, RunOptions, RunTrace, builtins, run_flow};
use crate::flow::data_source::{self, DataCase};
use crate::flow::validate::validate as validate_flow;
use crate::flow::{Loaded, LoadedFlow, load_paths};
use crate::report::terminal::{
    Progress, Style, flow_block, flow_footer, flow_header, step_block, summary,
};
use crate::report::{ReportTarget, parse_report_arg, write_report};
use crate::telemetry::{self, LogFormat};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Flow files, TestFlow manifests, TestEnvironment manifests, or folders of them.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub variables: VariableArgs,
    /// Run only flows with one of these tags (comma-separated or repeated).
    #[arg(long, value_delimiter = ',', value_name = "TAG")]
    pub tags: Vec<String>,
    /// How many flows run at once (default: the number of cores).
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// Write a report: junit=FILE, json=FILE or html=FILE (repeatable).
    #[arg(long = "report", value_name = "KIND=FILE", value_parser = parse_report_arg)]
    pub reports: Vec<ReportTarget>,
    /// Format of log lines on stderr (warnings by default; RUST_LOG for more).
    #[arg(long, env = "TESTMESH_LOG_FORMAT", value_enum, default_value = "auto")]
    pub log_format: LogFormat,
}

/// Loads and checks the flows, then runs them on a runtime shaped for how many run at once: one
/// thread when they run one after the other (a lone flow's steps, connection and timers then
/// never hand work between threads), a worker per core when several run at once.
pub fn run(args: RunArgs) -> Exit {
    telemetry::init("run", args.log_format, "warn");
    let loaded = load_paths(&args.paths);
    let prepared = match prepare(&args, &loaded, &|_| true) {
        Ok(prepared) => prepared,
        Err(exit) => return exit,
    };
    let runtime = match super::runtime(prepared.one_at_a_time()) {
        Ok(runtime) => runtime,
        Err(exit) => return exit,
    };
    let (exit, results) = runtime.block_on(async {
        let cancel = CancellationToken::new();
        let abort = CancellationToken::new();
        watch_interrupts(cancel.clone(), abort.clone(), None);
        run_cases(prepared, &args.reports, &cancel, &abort).await
    });
    // The process ends here, so what it loaded and recorded goes back to the system with it:
    // freeing it one allocation at a time (tens of thousands for a thousand-step flow) would
    // only delay the exit.
    std::mem::forget((loaded, results));
    exit
}

/// Loads and checks the flows of `args`, runs those `selected` keeps (until `cancel`, which
/// leaves teardown to run, or `abort`), prints them and writes the reports: `watch`'s run, on
/// its runtime and with its Ctrl-C.
pub(super) async fn run_flows(
    args: &RunArgs,
    selected: &dyn Fn(&LoadedFlow) -> bool,
    cancel: &CancellationToken,
    abort: &CancellationToken,
) -> Exit {
    let loaded = load_paths(&args.paths);
    match prepare(args, &loaded, selected) {
        Ok(prepared) => run_cases(prepared, &args.reports, cancel, abort).await.0,
        Err(exit) => exit,
    }
}

/// Flows checked and ready to run.
struct Prepared<'a> {
    cases: Vec<Case<'a>>,
    env: Environment,
    /// How many cases run at once.
    jobs: usize,
}

impl Prepared<'_> {
    fn one_at_a_time(&self) -> bool {
        self.jobs == 1 || self.cases.len() == 1
    }
}

/// The flows of `loaded` that the tags of `args` and `selected` keep, checked against the
/// environment of `args` and split into cases; a problem is printed and ends the run with the
/// exit code returned.
fn prepare<'a>(
    args: &RunArgs,
    loaded: &'a Loaded,
    selected: &dyn Fn(&LoadedFlow) -> bool,
) -> Result<Prepared<'a>, Exit> {
    let env = match environment(&args.variables, loaded) {
        Ok(env) => env,
        Err(message) => {
            eprintln!("error: {message}");
            return Err(Exit::InvalidInput);
        }
    };
    let flows: Vec<&LoadedFlow> = loaded
        .flows()
        .filter(|flow| args.tags.is_empty() || flow.spec.tags.iter().any(|t| args.tags.contains(t)))
        .filter(|flow| selected(flow))
        .collect();
    let known = env.known_names();
    let mut diagnostics = loaded.diagnostics.clone();
    for flow in &flows {
        diagnostics.extend(validate_flow(flow, &known, builtins::NAMES));
    }
    print_diagnostics(&diagnostics);
    if diagnostics.iter().any(|d| d.is_error()) {
        eprintln!("not running: fix the errors above (testmesh validate checks without running)");
        return Err(Exit::InvalidInput);
    }
    if flows.is_empty() {
        let filter = if args.tags.is_empty() {
            String::new()
        } else {
            format!(" with tags {}", args.tags.join(", "))
        };
        eprintln!(
            "error: no flows found{filter} in {}",
            display_paths(&args.paths)
        );
        return Err(Exit::InvalidInput);
    }

    // A flow with a `data_source` is one case per row; validation has already read it.
    let mut cases = Vec::new();
    for flow in &flows {
        match data_source::cases(&flow.spec, flow.file.parent()) {
            Ok(found) => cases.extend(found.into_iter().map(|case| (case, *flow))),
            Err(message) => {
                eprintln!("error: {}: {message}", flow.file_label());
                return Err(Exit::InvalidInput);
            }
        }
    }
    let jobs = args
        .jobs
        .map(usize::from)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    Ok(Prepared { cases, env, jobs })
}

/// Runs the prepared cases, one after the other or up to `jobs` at once, prints the summary
/// and writes the reports; gives back the exit and the results.
async fn run_cases(
    prepared: Prepared<'_>,
    reports: &[ReportTarget],
    cancel: &CancellationToken,
    abort: &CancellationToken,
) -> (Exit, Vec<FlowResult>) {
    let style = Style {
        color: std::io::stdout().is_terminal(),
    };
    let clock = Instant::now();
    let one_at_a_time = prepared.one_at_a_time();
    let Prepared { cases, env, jobs } = prepared;
    let results = if one_at_a_time {
        run_streaming(cases, &env, cancel, abort, style).await
    } else {
        run_parallel(cases, &env, cancel, abort, style, jobs).await
    };
    output::line(&summary(&results, clock.elapsed(), &style));

    let mut exit = exit_for(&results, cancel.is_cancelled());
    for target in reports {
        if let Err(err) = write_report(target.kind, &target.path, &results) {
            eprintln!("error: {err}");
            if exit == Exit::Passed {
                exit = Exit::RuntimeError;
            }
        }
    }
    (exit, results)
}

/// One run to make: a flow, or one row of its data source.
type Case<'a> = (DataCase, &'a LoadedFlow);

/// The options of one case's run: the environment, then the row's values.
fn options_for(
    case: &DataCase,
    flow: &LoadedFlow,
    env: &Environment,
    cancel: &CancellationToken,
    abort: &CancellationToken,
) -> RunOptions {
    let mut variables = env.variables.clone();
    variables.extend(case.variables.clone());
    RunOptions {
        variables,
        secrets: env.secrets.clone(),
        default_headers: env.headers.clone(),
        services: env.services.clone(),
        action_defaults: env.action_defaults.clone(),
        base_dir: flow.file.parent().map(PathBuf::from),
        source: Some(flow.file_label()),
        cancel: cancel.clone(),
        abort: abort.clone(),
        trace: RunTrace {
            trigger: Some("cli".into()),
            ..RunTrace::default()
        },
        ..RunOptions::default()
    }
}

/// One flow at a time, each step printed as it finishes.
async fn run_streaming(
    cases: Vec<Case<'_>>,
    env: &Environment,
    cancel: &CancellationToken,
    abort: &CancellationToken,
    style: Style,
) -> Vec<FlowResult> {
    let mut results = Vec::with_capacity(cases.len());
    for (case, flow) in cases {
        if cancel.is_cancelled() {
            break;
        }
        let (events, mut received) = tokio::sync::mpsc::unbounded_channel();
        let printer = tokio::spawn(async move {
            while let Some(event) = received.recv().await {
                if let RunEvent::StepFinished { step, .. } = event {
                    output::line(&step_block(&step, &style));
                }
            }
        });
        let source = flow.file_label();
        output::line(&flow_header(&case.spec.name, Some(&source), &style));
        let options = RunOptions {
            events: Some(events),
            ..options_for(&case, flow, env, cancel, abort)
        };
        // A task of its own, as in `run_parallel`: the steps then share a worker thread with
        // the connections they use, instead of crossing threads on every request.
        let spec = case.spec;
        let name = spec.name.clone();
        let run = tokio::spawn(async move { run_flow(&spec, options).await }).await;
        let _ = printer.await;
        let result = run.unwrap_or_else(|err| crashed(name, source, err));
        output::line(&format!("{}\n", flow_footer(&result, &style)));
        results.push(result);
    }
    results
}

/// Up to `jobs` flows at once, each printed as a block when it ends, under a progress line.
async fn run_parallel(
    cases: Vec<Case<'_>>,
    env: &Environment,
    cancel: &CancellationToken,
    abort: &CancellationToken,
    style: Style,
    jobs: usize,
) -> Vec<FlowResult> {
    let progress = Arc::new(Progress::new(
        cases.len() as u64,
        std::io::stderr().is_terminal(),
    ));
    let permits = Arc::new(Semaphore::new(jobs));
    let mut tasks = tokio::task::JoinSet::new();
    let count = cases.len();
    let mut flows_by_task = std::collections::HashMap::with_capacity(count);
    for (order, (case, flow)) in cases.into_iter().enumerate() {
        let options = options_for(&case, flow, env, cancel, abort);
        let spec = case.spec;
        let permits = permits.clone();
        let progress = progress.clone();
        let named = (order, spec.name.clone(), flow.file_label());
        let task = tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            progress.start(&spec.name);
            let result = run_flow(&spec, options).await;
            progress.inc(&spec.name);
            (order, result)
        });
        flows_by_task.insert(task.id(), named);
    }
    let mut results: Vec<Option<FlowResult>> = vec![None; count];
    while let Some(joined) = tasks.join_next().await {
        let (order, result) = match joined {
            Ok(finished) => finished,
            Err(err) => {
                let Some((order, name, source)) = flows_by_task.remove(&err.id()) else {
                    continue;
                };
                (order, crashed(name, source, err))
            }
        };
        let _ = progress.println(&format!("{}\n", flow_block(&result, &style)));
        results[order] = Some(result);
    }
    progress.finish();
    results.into_iter().flatten().collect()
}

/// The result of a flow whose task ended without one (`run_flow` keeps the engine's panics
/// in its result, so only one raised while setting a run up lands here): an error, so the
/// exit code and the reports count it.
fn crashed(flow_name: String, source: String, err: tokio::task::JoinError) -> FlowResult {
    let reason = match err.try_into_panic() {
        Ok(payload) => internal_error("the engine", payload.as_ref()),
        Err(err) => format!("the run was stopped: {err}"),
    };
    let now = chrono::Utc::now();
    FlowResult {
        execution_id: uuid::Uuid::new_v4().to_string(),
        flow_name,
        source: Some(source),
        status: FlowStatus::Error,
        started_at: now,
        finished_at: now,
        duration_ms: 0,
        steps: Vec::new(),
        captured: Default::default(),
        error: Some(reason),
    }
}

/// The exit code for a set of results: interruption, then runtime errors, then failures.
pub fn exit_for(results: &[FlowResult], interrupted: bool) -> Exit {
    let any = |status: FlowStatus| results.iter().any(|r| r.status == status);
    if interrupted || any(FlowStatus::Cancelled) {
        Exit::Interrupted
    } else if any(FlowStatus::Error) || any(FlowStatus::TimedOut) {
        Exit::RuntimeError
    } else if any(FlowStatus::Failed) {
        Exit::TestsFailed
    } else {
        Exit::Passed
    }
}

/// First Ctrl-C: stop the steps, run teardown. Second: stop teardown too. Under `watch`,
/// `running` tells whether flows are running: between runs, Ctrl-C just stops watching.
pub(super) fn watch_interrupts(
    cancel: CancellationToken,
    abort: CancellationToken,
    running: Option<Arc<AtomicBool>>,
) {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        if running.is_some_and(|running| !running.load(Ordering::SeqCst)) {
            eprintln!("\nstopped watching");
            cancel.cancel();
            return;
        }
        eprintln!(
            "\ninterrupted: stopping the steps and running teardown (Ctrl-C again to stop now)"
        );
        cancel.cancel();
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("stopping now, teardown included");
            abort.cancel();
        }
    });
}

fn display_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_flow_whose_task_panicked_counts_as_a_runtime_error() {
        let joined = tokio::spawn(async {
            let flows: Vec<FlowResult> = Vec::new();
            std::hint::black_box(&flows)[0].clone()
        })
        .await;
        let result = crashed(
            "orders".into(),
            "flows/orders.yaml".into(),
            joined.unwrap_err(),
        );
        assert_eq!(result.status, FlowStatus::Error);
        assert_eq!(result.source.as_deref(), Some("flows/orders.yaml"));
        let reason = result.error.as_deref().unwrap();
        assert!(
            reason.starts_with("the engine stopped on an internal error: index out of bounds"),
            "{reason}"
        );
        assert_eq!(exit_for(&[result], false), Exit::RuntimeError);
    }
}
