//! The flow model. Field names are camelCase (the TestFlow CRD spec); every multi-word field
//! also accepts its snake_case spelling, which is how flow files are written, so one set of
//! types reads both dialects.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::duration::FlowDuration;
use super::schema;

/// One flow: metadata, variables and the three step lists.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FlowSpec {
    /// Display name of the flow. In a TestFlow manifest it defaults to `metadata.name`.
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suite: Option<String>,
    /// Labels used to pick flows with `--tags`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Flow-scoped variables; values are interpolated once, in order, when the flow starts.
    #[serde(
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "text_map"
    )]
    #[schemars(schema_with = "schema::variables")]
    pub env: IndexMap<String, String>,
    /// A dotenv file, relative to the flow file; `env` wins over it.
    #[serde(default, alias = "env_file", skip_serializing_if = "Option::is_none")]
    pub env_file: Option<String>,
    /// Steps run first; a failure here skips `steps`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub setup: Vec<Step>,
    /// The main steps, in order.
    #[serde(default)]
    pub steps: Vec<Step>,
    /// Steps that always run last, after failures, timeouts and cancellation too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub teardown: Vec<Step>,
    #[serde(default, skip_serializing_if = "FlowConfig::is_empty")]
    pub config: FlowConfig,
    /// Runs the flow once per row, each row's fields as variables: a CSV or JSON file
    /// (relative to the flow file), a list of rows, or `{file}` / `{rows}`.
    #[serde(
        default,
        alias = "data_source",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(schema_with = "schema::string_or_object")]
    pub data_source: Option<Value>,
}

/// Flow-wide options.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FlowConfig {
    /// Limit for the whole flow (setup and steps); teardown still runs after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<FlowDuration>,
    /// Stop at the first failed step even where a step says `on_error: continue`.
    #[serde(default, alias = "fail_fast", skip_serializing_if = "Option::is_none")]
    pub fail_fast: Option<bool>,
}

impl FlowConfig {
    fn is_empty(&self) -> bool {
        self == &FlowConfig::default()
    }
}

/// One step: an action with its input, and what to check and keep from its result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// Name used in references; defaults to `step_N`, `setup_N` or `teardown_N`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Which action runs, e.g. `http_request`, `assert`, `log`.
    #[serde(default)]
    pub action: String,
    /// The action's input; every string in it is interpolated.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    #[schemars(schema_with = "schema::free_object")]
    pub config: Map<String, Value>,
    /// Expressions that must all be true.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assert: Vec<Assertion>,
    /// Captures: variable name to a path in the step result, or to a value (text holding
    /// references, or a literal) kept as interpolated. An empty `output:` is no output.
    #[serde(
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "super::output::output_map"
    )]
    #[schemars(schema_with = "schema::free_values")]
    pub output: IndexMap<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<FlowDuration>,
    /// An expression; when false the step is skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    #[serde(default, alias = "on_error", skip_serializing_if = "Option::is_none")]
    pub on_error: Option<OnError>,
    /// A JSON Schema (Draft 2020-12) the result's body must match: inline, or a file relative
    /// to the flow file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schema::string_or_object")]
    pub schema: Option<Value>,
}

/// One assertion: an expr expression and an optional message shown when it fails.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[schemars(schema_with = "schema::string_or_object")]
pub struct Assertion {
    pub expression: String,
    pub message: Option<String>,
}

impl Serialize for Assertion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.message {
            None => serializer.serialize_str(&self.expression),
            Some(message) => {
                let mut map = Map::new();
                map.insert("expression".into(), self.expression.clone().into());
                map.insert("message".into(), message.clone().into());
                map.serialize(serializer)
            }
        }
    }
}

impl<'de> Deserialize<'de> for Assertion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Detailed {
            expression: String,
            #[serde(default)]
            message: Option<String>,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Detailed(Detailed),
        }
        match Raw::deserialize(deserializer).map_err(|_| {
            serde::de::Error::custom(
                "an assertion is a string, or a map with `expression` and an optional `message`",
            )
        })? {
            Raw::Text(expression) => Ok(Assertion {
                expression,
                message: None,
            }),
            Raw::Detailed(detailed) => Ok(Assertion {
                expression: detailed.expression,
                message: detailed.message,
            }),
        }
    }
}

/// What a failed step does to the flow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, JsonSchema)]
#[schemars(schema_with = "schema::string_or_object")]
pub enum OnError {
    /// Stop the flow (the default).
    #[default]
    Fail,
    /// Record the failure and go on with the next step.
    Continue,
}

impl OnError {
    fn parse(text: &str) -> Result<Self, String> {
        match text {
            "fail" | "stop" => Ok(OnError::Fail),
            "continue" => Ok(OnError::Continue),
            other => Err(format!(
                "unknown on_error {other:?}: expected \"fail\" or \"continue\""
            )),
        }
    }
}

impl Serialize for OnError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(match self {
            OnError::Fail => "fail",
            OnError::Continue => "continue",
        })
    }
}

impl<'de> Deserialize<'de> for OnError {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Detailed {
            action: String,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Detailed(Detailed),
        }
        let text = match Raw::deserialize(deserializer).map_err(|_| {
            serde::de::Error::custom(
                "on_error is \"fail\", \"continue\", or a map {action: fail|continue}",
            )
        })? {
            Raw::Text(text) => text,
            Raw::Detailed(detailed) => detailed.action,
        };
        OnError::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Re-runs a step until it succeeds and its assertions pass, or attempts run out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    #[serde(alias = "max_attempts", default = "default_attempts")]
    #[schemars(range(min = 1))]
    pub max_attempts: u32,
    /// Wait before the second attempt; the backoff grows it from there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<FlowDuration>,
    #[serde(default)]
    pub backoff: Backoff,
    /// Upper bound on any single wait.
    #[serde(default, alias = "max_delay", skip_serializing_if = "Option::is_none")]
    pub max_delay: Option<FlowDuration>,
    /// Randomises each wait by up to this fraction either way (`true` means 0.2).
    #[serde(
        default,
        deserialize_with = "jitter_fraction",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub jitter: Option<f64>,
}

fn default_attempts() -> u32 {
    1
}

/// How the wait between attempts grows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Backoff {
    /// The same wait each time.
    #[default]
    Constant,
    /// `delay × attempt`.
    Linear,
    /// `delay × 2^(attempt-1)`.
    Exponential,
}

/// Jitter as a fraction; `true` picks a sensible default and `false` turns it off.
pub const DEFAULT_JITTER: f64 = 0.2;

fn jitter_fraction<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Switch(bool),
        Fraction(f64),
    }
    match Option::<Raw>::deserialize(deserializer)? {
        None | Some(Raw::Switch(false)) => Ok(None),
        Some(Raw::Switch(true)) => Ok(Some(DEFAULT_JITTER)),
        Some(Raw::Fraction(f)) if (0.0..=1.0).contains(&f) => Ok(Some(f)),
        Some(Raw::Fraction(f)) => Err(serde::de::Error::custom(format!(
            "jitter {f} is out of range: use a fraction from 0 to 1, or true/false"
        ))),
    }
}

/// Reads a map whose values are text, accepting numbers and booleans written bare in YAML (also
/// used by the TestEnvironment resource for its variables).
pub fn text_map<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<IndexMap<String, String>, D::Error> {
    let raw = Option::<IndexMap<String, Value>>::deserialize(deserializer)?.unwrap_or_default();
    raw.into_iter()
        .map(|(key, value)| {
            let text = match value {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Null => String::new(),
                other => {
                    return Err(serde::de::Error::custom(format!(
                        "variable {key:?} must be text, found {}",
                        super::source::kind_of(&other)
                    )));
                }
            };
            Ok((key, text))
        })
        .collect()
}
