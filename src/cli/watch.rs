//! `testmesh watch`: runs the flows once, then again whenever a file one of them is made of
//! changes (its own file, its `env_file`, its data, a flow it calls), on the terminal report,
//! until Ctrl-C. Only the flows a change touches run again. Editors save in bursts (a write, a
//! rename, a metadata change), so changes are debounced: a run starts once the files have been
//! still for `--debounce`. A change during a run queues one more run after it. Ctrl-C during a
//! run stops its steps and runs teardown, then exits; a second Ctrl-C stops teardown too.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::Args;
use notify_debouncer_full::notify::{EventKind, RecursiveMode, event::AccessKind};
use notify_debouncer_full::{DebounceEventResult, new_debouncer};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::exit::Exit;
use super::run::{RunArgs, run_flows, watch_interrupts};
use super::watched_files::{absolute, files_of};
use crate::flow::load_paths;
use crate::telemetry;

#[derive(Debug, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// How long the files must be still before the flows run again.
    #[arg(long, default_value = "300ms", value_parser = humantime::parse_duration)]
    pub debounce: Duration,
}

pub async fn watch(args: WatchArgs) -> Exit {
    telemetry::init("watch", args.run.log_format, "warn");
    let (sender, mut changes) = mpsc::unbounded_channel::<Vec<PathBuf>>();
    let debouncer = new_debouncer(args.debounce, None, move |events: DebounceEventResult| {
        let Ok(events) = events else { return };
        let paths: Vec<PathBuf> = events
            .into_iter()
            .filter(|event| changes_content(&event.kind))
            .flat_map(|event| event.event.paths)
            .collect();
        if !paths.is_empty() {
            let _ = sender.send(paths);
        }
    });
    let mut debouncer = match debouncer {
        Ok(debouncer) => debouncer,
        Err(err) => {
            eprintln!("error: cannot watch files: {err}");
            return Exit::RuntimeError;
        }
    };
    let mut watched = Watched::default();
    for path in &args.run.paths {
        let path = absolute(path);
        let (target, mode) = if path.is_dir() {
            (path, RecursiveMode::Recursive)
        } else {
            (parent_of(&path), RecursiveMode::NonRecursive)
        };
        if let Err(err) = debouncer.watch(&target, mode) {
            eprintln!("error: cannot watch {}: {err}", target.display());
            return Exit::InvalidInput;
        }
        watched.add(target, mode);
    }

    let cancel = CancellationToken::new();
    let abort = CancellationToken::new();
    let running = Arc::new(AtomicBool::new(true));
    watch_interrupts(cancel.clone(), abort.clone(), Some(running.clone()));
    let mut exit = run_flows(&args.run, &|_| true, &cancel, &abort).await;
    while !cancel.is_cancelled() {
        running.store(false, Ordering::SeqCst);
        let files = files_by_flow(&args.run.paths);
        for dir in files
            .iter()
            .flat_map(|(_, files)| files)
            .map(|f| parent_of(f))
        {
            if !watched.covers(&dir) {
                match debouncer.watch(&dir, RecursiveMode::NonRecursive) {
                    Ok(()) => watched.add(dir, RecursiveMode::NonRecursive),
                    Err(err) => eprintln!("warning: cannot watch {}: {err}", dir.display()),
                }
            }
        }
        eprintln!("watching for changes (Ctrl-C to stop)");
        let Some((changed, affected)) = next_change(&mut changes, &args.run.paths, &cancel).await
        else {
            break;
        };
        running.store(true, Ordering::SeqCst);
        eprintln!(
            "\n{} changed: running {} again\n",
            listed(&changed),
            listed(&affected)
        );
        exit = run_flows(
            &args.run,
            &|flow| affected.contains(&absolute(&flow.file)),
            &cancel,
            &abort,
        )
        .await;
    }
    drop(debouncer);
    exit
}

/// Waits for changes that touch a flow under `paths`: the files changed that flows are made
/// of, and those flows' files. None once `cancel` is cancelled.
async fn next_change(
    changes: &mut mpsc::UnboundedReceiver<Vec<PathBuf>>,
    paths: &[PathBuf],
    cancel: &CancellationToken,
) -> Option<(BTreeSet<PathBuf>, BTreeSet<PathBuf>)> {
    loop {
        let mut changed: BTreeSet<PathBuf> = tokio::select! {
            Some(paths) = changes.recv() => paths.into_iter().collect(),
            _ = cancel.cancelled() => return None,
        };
        while let Ok(more) = changes.try_recv() {
            changed.extend(more);
        }
        // A flow file that does not load is no flow yet, but saving it may fix it.
        let mut affected: BTreeSet<PathBuf> = changed
            .iter()
            .filter(|file| is_flow_file(file, paths))
            .cloned()
            .collect();
        let mut relevant = affected.clone();
        for (flow, files) in files_by_flow(paths) {
            let touched: Vec<&PathBuf> = files.intersection(&changed).collect();
            if !touched.is_empty() {
                relevant.extend(touched.into_iter().cloned());
                affected.insert(flow);
            }
        }
        if !affected.is_empty() {
            return Some((relevant, affected));
        }
    }
}

/// Whether `file` is a YAML file `testmesh run PATHS` would load (hidden files are not).
fn is_flow_file(file: &Path, paths: &[PathBuf]) -> bool {
    let yaml = file
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e == "yaml" || e == "yml");
    let hidden = file
        .file_name()
        .is_some_and(|name| name.to_string_lossy().starts_with('.'));
    yaml && !hidden
        && file.is_file()
        && paths.iter().map(|p| absolute(p)).any(|path| {
            if path.is_dir() {
                file.starts_with(&path)
            } else {
                file == path
            }
        })
}

/// Whether a file event can change what a flow reads: not a mere read of a file.
fn changes_content(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(access) => matches!(
            access,
            AccessKind::Close(notify_debouncer_full::notify::event::AccessMode::Write)
        ),
        EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_) => true,
        EventKind::Any | EventKind::Other => false,
    }
}

/// Each flow file under `paths` (absolute) with the files it is made of.
fn files_by_flow(paths: &[PathBuf]) -> Vec<(PathBuf, BTreeSet<PathBuf>)> {
    let loaded = load_paths(paths);
    let mut by_flow: Vec<(PathBuf, BTreeSet<PathBuf>)> = Vec::new();
    for flow in loaded.flows() {
        let file = absolute(&flow.file);
        let files = files_of(flow);
        match by_flow.iter_mut().find(|(known, _)| *known == file) {
            Some((_, known)) => known.extend(files),
            None => by_flow.push((file, files)),
        }
    }
    by_flow
}

/// The folders watched, and how.
#[derive(Debug, Default)]
struct Watched(Vec<(PathBuf, RecursiveMode)>);

impl Watched {
    fn add(&mut self, dir: PathBuf, mode: RecursiveMode) {
        self.0.push((dir, mode));
    }

    /// Whether changes in `dir` already arrive.
    fn covers(&self, dir: &Path) -> bool {
        self.0.iter().any(|(watched, mode)| match mode {
            RecursiveMode::Recursive => dir.starts_with(watched),
            RecursiveMode::NonRecursive => dir == watched,
        })
    }
}

fn parent_of(file: &Path) -> PathBuf {
    file.parent()
        .map_or_else(|| PathBuf::from("/"), Path::to_path_buf)
}

/// The paths, comma-separated, each relative to the current folder when under it.
fn listed(paths: &BTreeSet<PathBuf>) -> String {
    paths
        .iter()
        .map(|p| shown_path(p))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `path` relative to the current folder when it is under it.
fn shown_path(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|dir| {
            path.strip_prefix(absolute(&dir))
                .ok()
                .map(Path::to_path_buf)
        })
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_watched_recursively_covers_its_subfolders_and_a_flat_one_only_itself() {
        let mut watched = Watched::default();
        watched.add(PathBuf::from("/flows"), RecursiveMode::Recursive);
        watched.add(PathBuf::from("/data"), RecursiveMode::NonRecursive);
        assert!(watched.covers(Path::new("/flows/orders")));
        assert!(watched.covers(Path::new("/data")));
        assert!(!watched.covers(Path::new("/data/more")));
        assert!(!watched.covers(Path::new("/elsewhere")));
    }

    #[test]
    fn reading_a_file_is_no_change_and_writing_one_is() {
        use notify_debouncer_full::notify::event::{AccessMode, CreateKind, ModifyKind};
        assert!(!changes_content(&EventKind::Access(AccessKind::Open(
            AccessMode::Read
        ))));
        assert!(!changes_content(&EventKind::Access(AccessKind::Close(
            AccessMode::Read
        ))));
        assert!(changes_content(&EventKind::Access(AccessKind::Close(
            AccessMode::Write
        ))));
        assert!(changes_content(&EventKind::Modify(ModifyKind::Any)));
        assert!(changes_content(&EventKind::Create(CreateKind::File)));
    }
}
