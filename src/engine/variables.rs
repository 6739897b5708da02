//! The names a running flow can reference: variables (environment, `env_file`, `env`, captures,
//! in rising precedence), the results of earlier steps by id, and the built-ins.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use foldhash::fast::RandomState as FastHash;
use indexmap::IndexMap;
use serde_json::Value;

use super::builtins;
use super::evaluate::to_expr;
use super::recorded::Recorded;
use crate::flow::path::{Segment, display_path, parse_dotted};

/// Why a reference did not resolve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    #[error("`{name}` is not defined (no variable, earlier step or built-in has that name)")]
    Undefined { name: String },
    #[error("`{name}`: {problem}")]
    MissingPath { name: String, problem: String },
    #[error("`{name}` is not a valid reference: {problem}")]
    Malformed { name: String, problem: String },
}

/// A variable or step result, with its expr form made on the first expression that reads it, so
/// that each step's expressions cost the names they read rather than every name of the run.
///
/// A step's result is shared with the run's record of it (not copied), and its captures are
/// kept beside it: they read as keys of the result, winning over the result's own keys.
#[derive(Debug, Clone)]
pub struct Entry {
    json: Recorded,
    captured: IndexMap<String, Value>,
    expr: OnceLock<expr::Value>,
}

impl Entry {
    fn new(json: Value) -> Self {
        Self::step(Recorded::from(json), IndexMap::new())
    }

    fn step(json: Recorded, captured: IndexMap<String, Value>) -> Self {
        Self {
            json,
            captured,
            expr: OnceLock::new(),
        }
    }

    /// The whole value: a step's result with its captures merged in.
    pub fn json(&self) -> Cow<'_, Value> {
        match &*self.json {
            Value::Object(map) if !self.captured.is_empty() => {
                let mut merged = map.clone();
                for (name, value) in &self.captured {
                    merged.insert(name.clone(), value.clone());
                }
                Cow::Owned(Value::Object(merged))
            }
            json => Cow::Borrowed(json),
        }
    }

    /// The value under `segments`, which start inside this entry.
    fn walk(&self, segments: &[Segment]) -> Result<Value, String> {
        if let Some((Segment::Key(key), rest)) = segments.split_first()
            && let Some(captured) = self.captured.get(key)
        {
            return walk_below(captured, rest, &segments[..1]);
        }
        if segments.is_empty() {
            return Ok(self.json().into_owned());
        }
        walk(&self.json, segments)
    }

    /// The value as expressions see it.
    pub fn expr(&self) -> &expr::Value {
        self.expr.get_or_init(|| to_expr(&self.json()))
    }
}

/// Variables and step results of one run.
#[derive(Debug, Clone, Default)]
pub struct Variables {
    // Names are the flow author's own, so a fast hash serves: no untrusted input to fear.
    values: IndexMap<String, Entry, FastHash>,
    steps: HashMap<String, Entry, FastHash>,
    flow_name: String,
    execution_id: String,
}

impl Variables {
    pub fn new(flow_name: &str, execution_id: &str) -> Self {
        Self {
            flow_name: flow_name.to_string(),
            execution_id: execution_id.to_string(),
            ..Self::default()
        }
    }

    /// Sets a variable; a later set of the same name wins.
    pub fn set(&mut self, name: impl Into<String>, value: Value) {
        self.values.insert(name.into(), Entry::new(value));
    }

    /// Records a finished step's result and its captures under its id.
    pub fn set_step(&mut self, id: &str, result: Recorded, captured: IndexMap<String, Value>) {
        self.steps
            .insert(id.to_string(), Entry::step(result, captured));
    }

    /// Takes the step results another set of variables recorded (a parallel branch's).
    pub fn take_steps(&mut self, other: Variables) {
        self.steps.extend(other.steps);
    }

    /// Every variable, in the order it was first set.
    pub fn values(&self) -> &IndexMap<String, Entry, FastHash> {
        &self.values
    }

    /// The recorded step results by id.
    pub fn steps(&self) -> &HashMap<String, Entry, FastHash> {
        &self.steps
    }

    /// What an expression reads under `name`: an earlier step's result, else a variable.
    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.steps.get(name).or_else(|| self.values.get(name))
    }

    /// Resolves `name`, which may be a path such as `login.body.token` or `items[0]`.
    pub fn lookup(&self, name: &str) -> Result<Value, LookupError> {
        let segments = parse_dotted(name).map_err(|problem| LookupError::Malformed {
            name: name.to_string(),
            problem,
        })?;
        let Some(Segment::Key(root)) = segments.first() else {
            return Err(LookupError::Malformed {
                name: name.to_string(),
                problem: "it must start with a name".into(),
            });
        };
        let found = if let Some(entry) = self.get(root) {
            entry.walk(&segments[1..])
        } else if let Some(value) = builtins::value(root, &self.flow_name, &self.execution_id) {
            walk(&value, &segments[1..])
        } else {
            return Err(LookupError::Undefined {
                name: root.to_string(),
            });
        };
        found.map_err(|problem| LookupError::MissingPath {
            name: name.to_string(),
            problem,
        })
    }
}

/// Follows `segments` into `value`. A string that holds JSON is looked into as JSON, since
/// bodies and captured values often arrive as text. Only the value found is cloned.
pub fn walk(value: &Value, segments: &[Segment]) -> Result<Value, String> {
    walk_below(value, segments, &[])
}

/// [`walk`] for a `value` that sits under `above`, which messages name as part of the path.
fn walk_below(value: &Value, segments: &[Segment], above: &[Segment]) -> Result<Value, String> {
    let mut current = Cow::Borrowed(value);
    for (depth, segment) in segments.iter().enumerate() {
        if let Value::String(text) = current.as_ref()
            && let Ok(parsed) = serde_json::from_str::<Value>(text)
            && (parsed.is_object() || parsed.is_array())
        {
            current = Cow::Owned(parsed);
        }
        let next = match &current {
            Cow::Borrowed(value) => child(value, segment),
            Cow::Owned(value) => child(value, segment).map(|found| Cow::Owned(found.into_owned())),
        };
        match next {
            Some(value) => current = value,
            None => {
                let path: Vec<Segment> = above.iter().chain(&segments[..depth]).cloned().collect();
                let at = display_path(&path);
                let place = if at.is_empty() {
                    "the value".to_string()
                } else {
                    format!("`{at}`")
                };
                return Err(match current.as_ref() {
                    Value::Object(map) => format!(
                        "{place} has no key `{segment}` (it has: {})",
                        preview_keys(map)
                    ),
                    Value::Array(items) => format!(
                        "{place} has no item {segment} (it has {} items)",
                        items.len()
                    ),
                    other => format!(
                        "{place} is {}, which has no `{segment}`",
                        crate::flow::source::kind_of(other)
                    ),
                });
            }
        }
    }
    Ok(current.into_owned())
}

/// The value under one segment, borrowed from `value` where it can be. A step result that has
/// a `status` but no `response` key answers `response` with itself, and `time` with its
/// `duration_ms`: the `response.*` names flow files use, without storing the result twice.
fn child<'a>(value: &'a Value, segment: &Segment) -> Option<Cow<'a, Value>> {
    if let (Value::Object(map), Segment::Key(key)) = (value, segment)
        && !map.contains_key(key.as_str())
    {
        match key.as_str() {
            "response" if map.contains_key("status") => return Some(Cow::Borrowed(value)),
            "time" if map.contains_key("status") => {
                return map.get("duration_ms").map(Cow::Borrowed);
            }
            _ => {}
        }
    }
    match (value, segment) {
        (Value::Object(map), Segment::Key(key)) => map
            .get(key)
            .or_else(|| {
                map.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(key))
                    .map(|(_, v)| v)
                    .filter(|_| looks_like_header(key))
            })
            .map(Cow::Borrowed),
        (Value::Array(items), Segment::Index(index)) => items.get(*index).map(Cow::Borrowed),
        (Value::Array(items), Segment::Key(key)) if key == "length" => {
            Some(Cow::Owned(Value::from(items.len())))
        }
        _ => None,
    }
}

fn looks_like_header(key: &str) -> bool {
    key.contains('-') || key.chars().next().is_some_and(|c| c.is_ascii_uppercase())
}

fn preview_keys(map: &serde_json::Map<String, Value>) -> String {
    if map.is_empty() {
        return "no keys".into();
    }
    let mut keys: Vec<&str> = map.keys().map(String::as_str).take(12).collect();
    if map.len() > keys.len() {
        keys.push("…");
    }
    keys.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Variables {
        let mut vars = Variables::new("orders", "exec-1");
        vars.set("base_url", json!("http://x"));
        vars.set("count", json!(3));
        vars.set_step(
            "login",
            Recorded::from(
                json!({"status": 200, "body": {"token": "t-1", "items": [{"id": 7}]},
                            "headers": {"Content-Type": "application/json"}}),
            ),
            IndexMap::from([("token".to_string(), json!("t-1"))]),
        );
        vars
    }

    #[test]
    fn captures_read_as_keys_of_their_step() {
        let mut vars = sample();
        vars.set_step(
            "order",
            Recorded::from(json!({"status": 201, "id": "from-result"})),
            IndexMap::from([
                ("id".to_string(), json!("captured")),
                ("user".to_string(), json!({"name": "ada"})),
            ]),
        );
        assert_eq!(vars.lookup("order.id").unwrap(), json!("captured"));
        assert_eq!(vars.lookup("order.user.name").unwrap(), json!("ada"));
        assert_eq!(
            vars.lookup("order").unwrap(),
            json!({"status": 201, "id": "captured", "user": {"name": "ada"}})
        );
        assert_eq!(
            vars.lookup("order.user.mail").unwrap_err().to_string(),
            "`order.user.mail`: `user` has no key `mail` (it has: name)"
        );
        assert_eq!(
            vars.get("order").unwrap().expr(),
            &to_expr(&json!({"status": 201, "id": "captured", "user": {"name": "ada"}}))
        );
    }

    #[test]
    fn resolves_variables_steps_and_builtins() {
        let vars = sample();
        assert_eq!(vars.lookup("count").unwrap(), json!(3));
        assert_eq!(vars.lookup("login.body.token").unwrap(), json!("t-1"));
        assert_eq!(vars.lookup("login.body.items[0].id").unwrap(), json!(7));
        assert_eq!(vars.lookup("login.token").unwrap(), json!("t-1"));
        assert_eq!(vars.lookup("FLOW_NAME").unwrap(), json!("orders"));
        assert_eq!(vars.lookup("EXECUTION_ID").unwrap(), json!("exec-1"));
        assert_eq!(
            vars.lookup("login.headers.content-type").unwrap(),
            json!("application/json")
        );
        assert_eq!(vars.lookup("login.body.items.length").unwrap(), json!(1));
    }

    #[test]
    fn says_what_is_missing() {
        let vars = sample();
        assert_eq!(
            vars.lookup("nope").unwrap_err().to_string(),
            "`nope` is not defined (no variable, earlier step or built-in has that name)"
        );
        assert_eq!(
            vars.lookup("login.body.tokn").unwrap_err().to_string(),
            "`login.body.tokn`: `body` has no key `tokn` (it has: token, items)"
        );
        assert_eq!(
            vars.lookup("login.body.items[3]").unwrap_err().to_string(),
            "`login.body.items[3]`: `body.items` has no item [3] (it has 1 items)"
        );
    }

    #[test]
    fn looks_into_json_text() {
        let mut vars = Variables::new("f", "e");
        vars.set("raw", json!("{\"a\": {\"b\": 2}}"));
        assert_eq!(vars.lookup("raw.a.b").unwrap(), json!(2));
    }
}
