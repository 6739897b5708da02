//! Where `run_flow` finds the flow it calls. Locally, [`FlowFiles`] reads a file (a path
//! relative to the calling flow's folder, or the `name` of a flow in that folder); an executor
//! gives its runs a resolver that reads TestFlows from the cluster instead. Each called flow has
//! an identity (a canonical file path, a namespace/name), which the runner keeps on a call
//! stack to stop flows that call each other in a cycle.

use std::fmt;
use std::path::{Path, PathBuf};

use futures::future::BoxFuture;

use crate::flow::FlowSpec;
use crate::flow::load::load_paths;

/// A flow found by a resolver.
#[derive(Debug, Clone)]
pub struct CalledFlow {
    /// The same for every way of naming this flow: what cycles are detected on.
    pub identity: String,
    /// Where it came from, for results and messages (a file, a TestFlow).
    pub location: String,
    pub spec: FlowSpec,
    /// The folder of its file, for the flows and files it names in turn.
    pub base_dir: Option<PathBuf>,
}

/// Finds the flows that `run_flow` calls.
pub trait FlowResolver: Send + Sync + fmt::Debug {
    /// The flow `target` names, called from a flow whose folder is `base_dir`.
    fn find<'a>(
        &'a self,
        target: &'a str,
        base_dir: Option<&'a Path>,
    ) -> BoxFuture<'a, Result<CalledFlow, String>>;

    /// The identity of the flow a run started from, given as the run's `source`.
    fn identity(&self, source: &str) -> String {
        source.to_string()
    }
}

/// Flow files on disk.
#[derive(Debug, Clone, Copy, Default)]
pub struct FlowFiles;

impl FlowResolver for FlowFiles {
    fn find<'a>(
        &'a self,
        target: &'a str,
        base_dir: Option<&'a Path>,
    ) -> BoxFuture<'a, Result<CalledFlow, String>> {
        let base = base_dir.unwrap_or_else(|| Path::new("."));
        let found = find_file(base, target).map(|(file, spec)| CalledFlow {
            identity: canonical(&file),
            location: file.display().to_string(),
            base_dir: file.parent().map(Path::to_path_buf),
            spec,
        });
        Box::pin(async move { found })
    }

    fn identity(&self, source: &str) -> String {
        canonical(Path::new(source))
    }
}

fn canonical(file: &Path) -> String {
    file.canonicalize()
        .unwrap_or_else(|_| file.to_path_buf())
        .display()
        .to_string()
}

/// The file and flow `target` names: a path (with or without `.yaml`/`.yml`), or the `name` of a
/// flow in a file under `base`.
pub fn find_file(base: &Path, target: &str) -> Result<(PathBuf, FlowSpec), String> {
    let direct = base.join(target);
    let candidates = [
        direct.clone(),
        direct.with_extension("yaml"),
        direct.with_extension("yml"),
    ];
    if let Some(file) = candidates.iter().find(|p| p.is_file()) {
        let loaded = load_paths(std::slice::from_ref(file));
        if loaded.has_errors() {
            let problems: Vec<String> =
                loaded.diagnostics.iter().map(ToString::to_string).collect();
            return Err(format!(
                "{} does not load: {}",
                file.display(),
                problems.join("; ")
            ));
        }
        return loaded
            .flows()
            .next()
            .map(|flow| (file.clone(), flow.spec.clone()))
            .ok_or_else(|| format!("{} holds no flow", file.display()));
    }
    let loaded = load_paths(&[base.to_path_buf()]);
    loaded
        .flows()
        .find(|flow| flow.spec.name == target)
        .map(|flow| (flow.file.clone(), flow.spec.clone()))
        .ok_or_else(|| {
            format!(
                "no flow file `{target}` and no flow named `{target}` under {}",
                base.display()
            )
        })
}
