//! Static checks of a loaded flow, before anything runs: required fields, step ids, actions and
//! their config keys, references that cannot resolve, expressions that do not compile, capture
//! paths that do not parse. Each finding names the file, line, column, step and field.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde_json::Value;

use super::action_defaults::ActionDefaults;
use super::actions::{ActionKind, KeyType, LateReferences, branches_are_steps};
use super::diagnostic::{Diagnostic, did_you_mean};
use super::expression::{prepare_for_check, unwrap_expression};
use super::load::{LoadedFlow, field_of_pointer};
use super::model::Step;
use super::output::OutputSource;
use super::path::CapturePath;
use super::reference::{exact_reference, references, root_of};
use super::source::pointer_segment;

/// What the environment a flow will run in defines: names (`--var`, `--env-file`, a
/// TestEnvironment), services and per-action defaults.
#[derive(Debug, Clone, Default)]
pub struct KnownNames {
    pub names: HashSet<String>,
    /// True when no environment was given, so what an environment supplies is not known: a
    /// plain name nothing defines, a `${service.NAME}` and an action's connection key are then
    /// warnings (they must come from the environment at run time), not errors. A flow with an
    /// `env_file` has an environment.
    pub open: bool,
    /// The services `${service.NAME}` may name.
    pub services: HashSet<String>,
    /// Config each action type gets from the environment, under the step's own.
    pub action_defaults: ActionDefaults,
}

/// The variable holding the environment's services: `${service.NAME}`.
pub const SERVICES: &str = "service";

/// Validates one flow.
pub fn validate(flow: &LoadedFlow, known: &KnownNames, builtins: &[&str]) -> Vec<Diagnostic> {
    let mut check = Checker {
        flow,
        known,
        open: known.open && flow.spec.env_file.is_none(),
        action_defaults: known.action_defaults.by_kind(),
        diagnostics: Vec::new(),
        defined: known.names.clone(),
        later_steps: HashMap::new(),
        steps_run: HashMap::new(),
        late: None,
        compiled: HashMap::new(),
        capture_paths: HashMap::new(),
    };
    check.defined.extend(builtins.iter().map(|s| s.to_string()));
    check.run();
    check.diagnostics
}

struct Checker<'a> {
    flow: &'a LoadedFlow,
    known: &'a KnownNames,
    /// No environment at all: what one supplies is a warning (see [`KnownNames::open`]).
    open: bool,
    action_defaults: HashMap<ActionKind, serde_json::Map<String, Value>>,
    diagnostics: Vec<Diagnostic>,
    /// Names a reference may use at the current point.
    defined: HashSet<String>,
    /// Ids and outputs of steps not reached yet, for a better message.
    later_steps: HashMap<String, String>,
    /// The phases (`setup`, `steps`, `teardown`) whose step of each id has run at the current
    /// point: an id that has run in two is shadowed, and a reference to it is ambiguous.
    steps_run: HashMap<String, Vec<&'static str>>,
    /// While a step's config is checked: its pointer and the references its action fills
    /// itself (the mock server's response templates), which need no definition.
    late: Option<(String, &'static LateReferences)>,
    /// Whether each expression text checked so far compiles (None) or why not: flows repeat
    /// the same assertions over many steps, and compiling is most of a check's work.
    compiled: HashMap<String, Option<String>>,
    /// Whether each capture path checked so far parses (None) or why not, for the same reason.
    capture_paths: HashMap<String, Option<String>>,
}

/// Step lists in run order, with their pointer prefix and default id prefix.
const LISTS: [(&str, &str); 3] = [
    ("setup", "setup"),
    ("steps", "step"),
    ("teardown", "teardown"),
];

impl Checker<'_> {
    fn prefix(&self) -> &'static str {
        if self.flow.manifest.is_some() {
            "spec."
        } else {
            ""
        }
    }

    fn report(&mut self, mut diagnostic: Diagnostic, pointer: &str, step: Option<&str>) {
        diagnostic = diagnostic
            .in_file(self.flow.file_label())
            .at(self.flow.positions.find(pointer));
        let field = field_of_pointer(pointer);
        if !field.is_empty() {
            diagnostic = diagnostic.field(format!("{}{field}", self.prefix()));
        }
        if let Some(step) = step {
            diagnostic = diagnostic.in_step(step);
        }
        self.diagnostics.push(diagnostic);
    }

    fn run(&mut self) {
        let spec = &self.flow.spec;
        if spec.name.trim().is_empty() {
            self.report(Diagnostic::error("`name` is required"), "/name", None);
        }
        if spec.steps.is_empty() {
            self.report(
                Diagnostic::error("`steps` is required and must list at least one step"),
                "/steps",
                None,
            );
        }
        self.check_env_file();
        self.check_data_source();
        for (name, text) in &spec.env {
            let pointer = format!("/env/{}", pointer_segment(name));
            self.check_references_in_text(text, &pointer, None);
            self.defined.insert(name.clone());
        }
        let all_steps: Vec<(&'static str, usize, &Step, String)> = LISTS
            .iter()
            .flat_map(|(list, id_prefix)| {
                let steps = match *list {
                    "setup" => &spec.setup,
                    "steps" => &spec.steps,
                    _ => &spec.teardown,
                };
                steps.iter().enumerate().map(move |(index, step)| {
                    let id = step
                        .id
                        .clone()
                        .unwrap_or_else(|| format!("{id_prefix}_{}", index + 1));
                    (*list, index, step, id)
                })
            })
            .collect();
        // Ids are unique within a phase; the same cleanup step before and after the main steps
        // is common, and the later phase's result shadows the earlier one.
        let mut seen_ids: HashMap<(&str, &str), usize> = HashMap::new();
        for (list, index, step, id) in &all_steps {
            let pointer = format!("/{list}/{index}/id");
            if let Some(first) = seen_ids.get(&(*list, id.as_str())) {
                let first = field_of_pointer(&format!("/{list}/{first}"));
                let message = format!("duplicate step id `{id}` (first used at {first})");
                self.report(Diagnostic::error(message), &pointer, Some(id));
            } else {
                seen_ids.insert((*list, id.as_str()), *index);
            }
            if step.id.is_some() && !is_valid_id(id) {
                let message = format!(
                    "step id `{id}` cannot be referenced: use letters, digits, `_` and `-`, starting with a letter or `_`"
                );
                self.report(Diagnostic::error(message), &pointer, Some(id));
            }
            self.later_steps.insert(id.clone(), id.clone());
            for output in step.output.keys() {
                self.later_steps.insert(output.clone(), id.clone());
            }
        }
        for (list, index, step, id) in &all_steps {
            self.check_step(step, &format!("/{list}/{index}"), id);
            self.defined.insert(id.clone());
            self.defined.extend(step.output.keys().cloned());
            let phases = self.steps_run.entry(id.clone()).or_default();
            if !phases.contains(list) {
                phases.push(list);
            }
        }
    }

    /// A `data_source` must be readable, and its fields are variables of the flow.
    fn check_data_source(&mut self) {
        let Some(source) = &self.flow.spec.data_source else {
            return;
        };
        match super::data_source::rows_of(source, self.flow.file.parent()) {
            Ok(rows) => {
                for row in rows {
                    self.defined.extend(row.keys().cloned());
                }
            }
            Err(err) => self.report(Diagnostic::error(err), "/data_source", None),
        }
    }

    fn check_env_file(&mut self) {
        let Some(env_file) = &self.flow.spec.env_file else {
            return;
        };
        let base = self.flow.file.parent().unwrap_or(Path::new("."));
        let path = base.join(env_file);
        match dotenvy::from_path_iter(&path) {
            Ok(entries) => {
                for (name, _) in entries.flatten() {
                    self.defined.insert(name);
                }
            }
            Err(err) => {
                let message = format!("cannot read env_file {}: {err}", path.display());
                self.report(Diagnostic::error(message), "/env_file", None);
            }
        }
    }

    fn check_step(&mut self, step: &Step, pointer: &str, id: &str) {
        let action_pointer = format!("{pointer}/action");
        let kind = if step.action.trim().is_empty() {
            self.report(
                Diagnostic::error("`action` is required"),
                &action_pointer,
                Some(id),
            );
            None
        } else if let Some(kind) = ActionKind::from_name(&step.action) {
            Some(kind)
        } else {
            let known = ActionKind::known_names();
            let hint = did_you_mean(&step.action, known.iter().copied())
                .map(|s| format!("did you mean `{s}`? "))
                .unwrap_or_default();
            let message = format!(
                "unknown action `{}`: {hint}known actions are {}",
                step.action,
                known.join(", ")
            );
            self.report(Diagnostic::error(message), &action_pointer, Some(id));
            None
        };
        if let Some(kind) = kind {
            self.check_config_keys(step, kind, pointer, id);
        }
        let config_pointer = format!("{pointer}/config");
        let raw_keys = kind.map_or(&[][..], ActionKind::raw_config_keys);
        self.late = kind
            .and_then(ActionKind::late_references)
            .map(|late| (config_pointer.clone(), late));
        for (key, value) in &step.config {
            if kind == Some(ActionKind::Assert) && key == "assertions" {
                continue;
            }
            let child = format!("{config_pointer}/{}", pointer_segment(key));
            if raw_keys.contains(&key.as_str()) {
                match (value, key.as_str()) {
                    (
                        Value::String(expression),
                        "condition" | "if" | "expression" | "until" | "assert",
                    ) => self.check_expression(expression, &child, id),
                    (Value::Array(items), "assert") => {
                        for (i, item) in items.iter().enumerate() {
                            if let Value::String(expression) = item {
                                self.check_expression(expression, &format!("{child}/{i}"), id);
                            }
                        }
                    }
                    _ => {}
                }
                continue;
            }
            self.check_references_in_value(value, &child, Some(id));
        }
        self.late = None;
        if let Some(kind) = kind {
            self.check_nested_steps(step, kind, &config_pointer, id);
        }
        if let Some(condition) = &step.when {
            self.check_expression(condition, &format!("{pointer}/when"), id);
        }
        let config_assertions: Vec<(String, String)> = match (kind, step.config.get("assertions")) {
            (Some(ActionKind::Assert), Some(Value::Array(items))) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| {
                    let text = item
                        .as_str()
                        .or_else(|| item.get("expression").and_then(Value::as_str))?;
                    Some((text.to_string(), format!("{config_pointer}/assertions/{i}")))
                })
                .collect(),
            _ => Vec::new(),
        };
        let step_assertions = step
            .assert
            .iter()
            .enumerate()
            .map(|(i, a)| (a.expression.clone(), format!("{pointer}/assert/{i}")));
        for (expression, at) in step_assertions.chain(config_assertions) {
            self.check_expression(&expression, &at, id);
        }
        if let Some(schema) = &step.schema
            && let Err(err) = super::json_schema::compile(schema, self.flow.file.parent())
        {
            self.report(
                Diagnostic::error(err),
                &format!("{pointer}/schema"),
                Some(id),
            );
        }
        for (name, source) in &step.output {
            let at = format!("{pointer}/output/{}", pointer_segment(name));
            match OutputSource::of(source) {
                OutputSource::Path(path) => {
                    let problem = checked_once(&mut self.capture_paths, path, |path| {
                        CapturePath::parse(path).err()
                    });
                    if let Some(err) = problem {
                        self.report(Diagnostic::error(err), &at, Some(id));
                    }
                }
                OutputSource::Value(value) => self.check_references_in_value(value, &at, Some(id)),
            }
        }
    }

    /// Checks the steps nested in a control-flow step as steps of their own (ids, actions,
    /// config, references), named `parent.key.child`. Loop variables are defined inside a
    /// `for_each`; nested captures are defined for the steps after the parent.
    fn check_nested_steps(
        &mut self,
        step: &Step,
        kind: ActionKind,
        config_pointer: &str,
        id: &str,
    ) {
        let mut lists: Vec<(String, String, &Value)> = Vec::new();
        for key in kind.nested_step_keys() {
            if let Some(value) = step.config.get(*key) {
                let name = match kind {
                    ActionKind::Condition => format!("{id}.{key}"),
                    ActionKind::ForEach => format!("{id}[]"),
                    _ => id.to_string(),
                };
                lists.push((format!("{config_pointer}/{key}"), name, value));
            }
        }
        if kind == ActionKind::Parallel
            && let Some(Value::Array(branches)) = step.config.get("branches")
            && branches_are_steps(branches)
        {
            let value = &step.config["branches"];
            lists.push((format!("{config_pointer}/branches"), id.to_string(), value));
        } else if kind == ActionKind::Parallel
            && let Some(Value::Array(branches)) = step.config.get("branches")
        {
            for (index, branch) in branches.iter().enumerate() {
                let at = format!("{config_pointer}/branches/{index}");
                let Some(steps) = branch.get("steps") else {
                    let message = "a parallel branch is a map with `name` and `steps`";
                    self.report(Diagnostic::error(message), &at, Some(id));
                    continue;
                };
                let name = match branch.get("name").and_then(Value::as_str) {
                    Some(name) => format!("{id}.{name}"),
                    None => format!("{id}.branch_{}", index + 1),
                };
                lists.push((format!("{at}/steps"), name, steps));
            }
        }
        if kind == ActionKind::ForEach {
            for (key, default) in [("as", "item"), ("item", "item"), ("index", "index")] {
                let name = step
                    .config
                    .get(key)
                    .and_then(Value::as_str)
                    .unwrap_or(default);
                self.defined.insert(name.to_string());
            }
        }
        for (at, parent, value) in lists {
            let steps: Vec<Step> = match serde_json::from_value(value.clone()) {
                Ok(steps) => steps,
                Err(err) => {
                    let message = format!("{kind}: not a list of steps: {err}");
                    self.report(Diagnostic::error(message), &at, Some(id));
                    continue;
                }
            };
            let mut seen = HashSet::new();
            for (index, nested) in steps.iter().enumerate() {
                let own = nested
                    .id
                    .clone()
                    .unwrap_or_else(|| format!("step_{}", index + 1));
                let full = format!("{parent}.{own}");
                let nested_pointer = format!("{at}/{index}");
                if !seen.insert(own.clone()) {
                    let message = format!("duplicate step id `{own}` in this list");
                    self.report(
                        Diagnostic::error(message),
                        &format!("{nested_pointer}/id"),
                        Some(&full),
                    );
                }
                if nested.id.is_some() && !is_valid_id(&own) {
                    let message = format!(
                        "step id `{own}` cannot be referenced: use letters, digits, `_` and `-`, starting with a letter or `_`"
                    );
                    self.report(
                        Diagnostic::error(message),
                        &format!("{nested_pointer}/id"),
                        Some(&full),
                    );
                }
                self.check_step(nested, &nested_pointer, &full);
                self.defined.insert(own);
                self.defined.extend(nested.output.keys().cloned());
            }
        }
    }

    fn check_config_keys(&mut self, step: &Step, kind: ActionKind, pointer: &str, id: &str) {
        let keys = kind.config_keys();
        let defaults = self.action_defaults.get(&kind).cloned();
        let given = |key: &str| {
            step.config.contains_key(key) || defaults.as_ref().is_some_and(|d| d.contains_key(key))
        };
        for required in keys.required {
            if required.split('|').any(given) {
                continue;
            }
            let names = required
                .split('|')
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(" or ");
            let from_environment = kind.environment_keys().contains(required);
            let diagnostic = if from_environment && self.open {
                Diagnostic::warning(format!(
                    "{kind} has no {names}: it must come from the environment's action defaults at run time"
                ))
            } else if from_environment {
                Diagnostic::error(format!(
                    "{kind} needs {names} in its config or in the environment's action defaults for {kind}"
                ))
            } else {
                Diagnostic::error(format!("{kind} needs {names} in its config"))
            };
            self.report(diagnostic, &format!("{pointer}/config"), Some(id));
        }
        if let Some((connection, fallback)) = kind.defaulted_connection_key()
            && self.open
            && !connection.split('|').any(given)
        {
            let key = connection.split('|').next().unwrap_or(connection);
            let message = format!(
                "{kind} has no `{key}`: it must come from the environment's action defaults at run time, else {fallback} is used"
            );
            self.report(
                Diagnostic::warning(message),
                &format!("{pointer}/config"),
                Some(id),
            );
        }
        for (key, value) in &step.config {
            if let Some(problem) = type_problem(value, kind.key_type(key)) {
                let message = format!("{kind} config `{key}`: {problem}");
                let at = format!("{pointer}/config/{}", pointer_segment(key));
                self.report(Diagnostic::error(message), &at, Some(id));
            } else if let Some(problem) = value_problem(kind, key, value) {
                let message = format!("{kind} config {problem}");
                let at = format!("{pointer}/config/{}", pointer_segment(key));
                self.report(Diagnostic::error(message), &at, Some(id));
            }
            if let Some(caveat) = kind.key_caveat(key) {
                let message = format!("{kind} config `{key}`: {caveat}");
                let at = format!("{pointer}/config/{}", pointer_segment(key));
                self.report(Diagnostic::warning(message), &at, Some(id));
            }
            if !keys.known.contains(&key.as_str()) {
                let hint = did_you_mean(key, keys.known.iter().copied())
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                let message = format!(
                    "{kind} does not read `{key}`{hint}; it reads {}",
                    keys.known.join(", ")
                );
                let at = format!("{pointer}/config/{}", pointer_segment(key));
                self.report(Diagnostic::warning(message), &at, Some(id));
            }
        }
    }

    fn check_expression(&mut self, expression: &str, pointer: &str, id: &str) {
        self.check_references_in_text(unwrap_expression(expression), pointer, Some(id));
        let problem = checked_once(&mut self.compiled, expression, |expression| {
            expr::compile(&prepare_for_check(expression))
                .err()
                .map(|err| crate::engine::evaluate::compile_message(expression, &err))
        });
        if let Some(message) = problem {
            self.report(Diagnostic::error(message), pointer, Some(id));
        }
    }

    fn check_references_in_value(&mut self, value: &Value, pointer: &str, step: Option<&str>) {
        match value {
            Value::String(text) => self.check_references_in_text(text, pointer, step),
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    self.check_references_in_value(item, &format!("{pointer}/{index}"), step);
                }
            }
            Value::Object(map) => {
                for (key, item) in map {
                    self.check_references_in_text(key, pointer, step);
                    let child = format!("{pointer}/{}", pointer_segment(key));
                    self.check_references_in_value(item, &child, step);
                }
            }
            _ => {}
        }
    }

    /// Whether the step's action fills the reference `name` at `pointer` itself.
    fn left_for_the_action(&self, name: &str, pointer: &str) -> bool {
        let Some((config_pointer, late)) = &self.late else {
            return false;
        };
        let Some(below) = pointer
            .strip_prefix(config_pointer.as_str())
            .and_then(|below| below.strip_prefix('/'))
        else {
            return false;
        };
        let place: Vec<&str> = below
            .split('/')
            .map(|segment| match segment.parse::<usize>() {
                Ok(_) => "[]",
                Err(_) => segment,
            })
            .collect();
        late.leaves(name, &place)
    }

    fn check_references_in_text(&mut self, text: &str, pointer: &str, step: Option<&str>) {
        for name in references(text) {
            if self.left_for_the_action(name, pointer) {
                continue;
            }
            let root = root_of(name);
            if root == SERVICES && !self.defined.contains(root) {
                if let Some(diagnostic) = self.check_service(name) {
                    self.report(diagnostic, pointer, step);
                }
                continue;
            }
            if self.defined.contains(root) {
                if let Some(phases) = self.steps_run.get(root).filter(|p| p.len() > 1) {
                    let message = format!(
                        "`${{{name}}}` reads step `{root}` of {}: the step of that id in {} ran before it and is shadowed",
                        phases[phases.len() - 1],
                        phases[..phases.len() - 1].join(" and ")
                    );
                    self.report(Diagnostic::warning(message), pointer, step);
                }
                continue;
            }
            let diagnostic = match self.later_steps.get(root) {
                Some(later) if later == root => Diagnostic::error(format!(
                    "`${{{name}}}` refers to step `{root}`, which runs later"
                )),
                Some(later) => Diagnostic::error(format!(
                    "`${{{name}}}` is captured by step `{later}`, which runs later"
                )),
                // A path below a name (`${login.body.token}`) reads a step's result: an
                // environment only gives text, so no environment can define it.
                None if name != root => Diagnostic::error(format!(
                    "`${{{name}}}` refers to `{root}`, which no earlier step, env entry or built-in defines"
                )),
                None if self.open => Diagnostic::warning(format!(
                    "`{root}` must come from the environment at run time: nothing in the flow defines it (no environment was given: --var, --env-file, a TestEnvironment or env_file)"
                )),
                None => Diagnostic::error(format!(
                    "`${{{name}}}` is not defined: no env entry, earlier step or built-in has that name (define it in `env`, or pass --var {root}=… or --env-file)"
                )),
            };
            self.report(diagnostic, pointer, step);
        }
    }

    /// A `${service.NAME}` reference: the environment's services must have `NAME`.
    fn check_service(&self, name: &str) -> Option<Diagnostic> {
        let service = name
            .strip_prefix(SERVICES)
            .and_then(|rest| rest.strip_prefix('.'))
            .map(|rest| root_of(rest).to_string())
            .filter(|service| !service.is_empty());
        let Some(service) = service else {
            return Some(Diagnostic::error(format!(
                "`${{{name}}}`: name a service, as in `${{service.orders}}`"
            )));
        };
        if self.known.services.contains(&service) {
            return None;
        }
        if self.open {
            return Some(Diagnostic::warning(format!(
                "service `{service}` must come from the environment at run time (no environment was given)"
            )));
        }
        let mut known: Vec<&str> = self.known.services.iter().map(String::as_str).collect();
        known.sort_unstable();
        let has = if known.is_empty() {
            "it has no services".to_string()
        } else {
            format!("it has: {}", known.join(", "))
        };
        Some(Diagnostic::error(format!(
            "`${{{name}}}`: the environment has no service `{service}` ({has})"
        )))
    }
}

/// Why `value` is not of type `expected`, if it is not. Text holding references is only known
/// when the step runs, so it passes wherever text may stand for another type.
/// The problem `check` finds in `text` (None when there is none), from `cache` when the same
/// text was checked before.
fn checked_once(
    cache: &mut HashMap<String, Option<String>>,
    text: &str,
    check: impl FnOnce(&str) -> Option<String>,
) -> Option<String> {
    if let Some(problem) = cache.get(text) {
        return problem.clone();
    }
    let problem = check(text);
    cache.insert(text.to_string(), problem.clone());
    problem
}

fn type_problem(value: &Value, expected: KeyType) -> Option<String> {
    if let Value::String(text) = value
        && (exact_reference(text).is_some() || text.contains("${") || text.contains("{{"))
    {
        return None;
    }
    let fits = match expected {
        KeyType::Any => true,
        KeyType::Text => matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_)),
        KeyType::Duration => match value {
            Value::String(text) => {
                return super::duration::parse_duration(text)
                    .err()
                    .map(|err| format!("expected {}: {err}", expected.describe()));
            }
            Value::Number(n) => n.as_f64().is_some_and(|f| f >= 0.0),
            _ => false,
        },
        KeyType::Count => match value {
            Value::Number(n) => n.as_u64().is_some(),
            Value::String(text) => text.trim().parse::<u64>().is_ok(),
            _ => false,
        },
        KeyType::Flag => matches!(value, Value::Bool(_)),
        KeyType::List => matches!(value, Value::Array(_)),
        KeyType::Map => matches!(value, Value::Object(_)),
        KeyType::FlagOrMap => matches!(value, Value::Bool(_) | Value::Object(_)),
    };
    (!fits).then(|| {
        format!(
            "expected {}, found {} {value}",
            expected.describe(),
            super::source::kind_of(value)
        )
    })
}

/// Why a value the action reads cannot work (a broker without a port, an unknown SASL
/// mechanism), for the actions whose keys have more rules than a type; values holding
/// references are only known when the step runs.
fn value_problem(kind: ActionKind, key: &str, value: &Value) -> Option<String> {
    if kind == ActionKind::MockServerVerify && key == "assertions" && !holds_reference(value) {
        return crate::engine::actions::mock_server::checks_problem(value);
    }
    if matches!(
        kind,
        ActionKind::MockServerStart | ActionKind::MockServerUpdate
    ) && matches!(key, "endpoints" | "endpoint")
    {
        return crate::engine::actions::mock_server::state_problem(key, value);
    }
    if !matches!(kind, ActionKind::KafkaProduce | ActionKind::KafkaConsume)
        || holds_reference(value)
    {
        return None;
    }
    if key == "messages" {
        return crate::engine::actions::kafka::produce::messages_problem(value)
            .map(|problem| format!("`messages`: {problem}"));
    }
    crate::engine::actions::kafka::settings::value_problem(key, value)
}

/// True when a reference appears anywhere in `value`.
fn holds_reference(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains("${") || text.contains("{{"),
        Value::Array(items) => items.iter().any(holds_reference),
        Value::Object(map) => map.values().any(holds_reference),
        _ => false,
    }
}

fn is_valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}
