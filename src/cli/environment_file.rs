//! Environment files for `--env-file`: a dotenv file (`NAME=value` lines), or a YAML (or JSON)
//! file with the shape of the original platform's environments, which carry more than
//! variables:
//!
//! ```yaml
//! name: local
//! variables:                  # a map, or the original's list of {key, value, is_secret, enabled}
//!   API_URL: http://localhost:8080
//! secrets: {API_TOKEN: s3cret}  # masked (***) in every output
//! headers: {X-Env: local}     # sent by every HTTP step unless it sets its own
//! services: {orders: http://localhost:5003}  # ${service.orders}
//! action_defaults:            # under each step's config; the step's keys win
//!   database_query: {connection: "postgres://localhost/app"}
//! ```

use std::path::Path;

use indexmap::IndexMap;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;

use crate::flow::action_defaults::ActionDefaults;
use crate::flow::expression::text_of;
use crate::flow::source::parse_documents;

/// What one environment file gives a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EnvironmentFile {
    pub variables: IndexMap<String, String>,
    pub secrets: IndexMap<String, String>,
    pub headers: IndexMap<String, String>,
    pub services: IndexMap<String, String>,
    pub action_defaults: ActionDefaults,
}

/// The YAML form, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Written {
    // The original's descriptive fields: accepted, not used.
    #[serde(default, rename = "name")]
    _name: Option<IgnoredAny>,
    #[serde(default, rename = "description")]
    _description: Option<IgnoredAny>,
    #[serde(default, rename = "color")]
    _color: Option<IgnoredAny>,
    #[serde(default, rename = "is_default")]
    _is_default: Option<IgnoredAny>,
    #[serde(default)]
    variables: Variables,
    #[serde(default)]
    secrets: IndexMap<String, Value>,
    #[serde(default)]
    headers: IndexMap<String, Value>,
    #[serde(default, alias = "serviceUrls", alias = "service_urls")]
    services: IndexMap<String, Value>,
    #[serde(default, alias = "actionDefaults")]
    action_defaults: ActionDefaults,
}

/// Variables as a map, or as the original platform's exported list.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Variables {
    Map(IndexMap<String, Value>),
    List(Vec<ListedVariable>),
}

impl Default for Variables {
    fn default() -> Self {
        Variables::Map(IndexMap::new())
    }
}

#[derive(Debug, Deserialize)]
struct ListedVariable {
    key: String,
    #[serde(default)]
    value: Value,
    #[serde(default)]
    is_secret: bool,
    #[serde(default = "enabled_by_default")]
    enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

/// True when `file` is read as a YAML environment rather than as dotenv lines.
pub fn is_structured(file: &Path) -> bool {
    matches!(
        file.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

/// Reads a YAML (or JSON) environment file; the error names the file and what is wrong.
pub fn read(file: &Path) -> Result<EnvironmentFile, String> {
    let fail = |message: String| format!("--env-file {}: {message}", file.display());
    let text = std::fs::read_to_string(file).map_err(|err| fail(err.to_string()))?;
    parse(&text).map_err(fail)
}

fn parse(text: &str) -> Result<EnvironmentFile, String> {
    let documents = parse_documents(text)
        .map_err(|err| format!("invalid YAML at {}: {}", err.position, err.message))?;
    let [document] = documents.as_slice() else {
        return Err(format!(
            "expected one YAML document, found {}",
            documents.len()
        ));
    };
    let written: Written = serde_path_to_error::deserialize(&document.value).map_err(|err| {
        let at = err.path().to_string();
        let at = if at == "." {
            String::new()
        } else {
            format!("{at}: ")
        };
        format!("{at}{}", err.inner())
    })?;
    if let Some(problem) = written.action_defaults.unknown_action() {
        return Err(problem);
    }
    let texts = |map: IndexMap<String, Value>| -> IndexMap<String, String> {
        map.into_iter()
            .map(|(name, value)| (name, text_of(&value)))
            .collect()
    };
    let mut environment = EnvironmentFile {
        secrets: texts(written.secrets),
        headers: texts(written.headers),
        services: texts(written.services),
        action_defaults: written.action_defaults,
        ..EnvironmentFile::default()
    };
    match written.variables {
        Variables::Map(map) => environment.variables = texts(map),
        Variables::List(list) => {
            for variable in list.into_iter().filter(|v| v.enabled) {
                let value = text_of(&variable.value);
                if variable.is_secret {
                    environment.secrets.insert(variable.key, value);
                } else {
                    environment.variables.insert(variable.key, value);
                }
            }
        }
    }
    Ok(environment)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_part_of_an_environment() {
        let environment = parse(
            r#"
name: local
variables:
  API_URL: http://localhost:8080
  RETRIES: 3
secrets: {API_TOKEN: s3cret}
headers: {X-Env: local}
services: {orders: "http://localhost:5003"}
action_defaults:
  database_query: {connection: "postgres://localhost/app"}
"#,
        )
        .unwrap();
        assert_eq!(environment.variables["RETRIES"], "3");
        assert_eq!(environment.secrets["API_TOKEN"], "s3cret");
        assert_eq!(environment.headers["X-Env"], "local");
        assert_eq!(environment.services["orders"], "http://localhost:5003");
        assert!(environment.action_defaults.unknown_action().is_none());
        assert!(!environment.action_defaults.is_empty());
    }

    #[test]
    fn reads_the_original_list_of_variables() {
        let environment = parse(
            r#"
variables:
  - {key: API_URL, value: "http://x", enabled: true}
  - {key: TOKEN, value: t0k, is_secret: true}
  - {key: OLD, value: gone, enabled: false}
"#,
        )
        .unwrap();
        assert_eq!(environment.variables.len(), 1);
        assert_eq!(environment.variables["API_URL"], "http://x");
        assert_eq!(environment.secrets["TOKEN"], "t0k");
    }

    #[test]
    fn mistakes_are_named() {
        let unknown = parse("variabels: {A: b}\n").unwrap_err();
        assert!(unknown.contains("unknown field `variabels`"), "{unknown}");
        let bad_defaults = parse("action_defaults: {database_query: postgres://x}\n").unwrap_err();
        assert!(
            bad_defaults.starts_with("action_defaults.database_query: invalid type"),
            "{bad_defaults}"
        );
        let bad_action = parse("action_defaults: {sql_magic: {a: 1}}\n").unwrap_err();
        assert!(bad_action.contains("`sql_magic`"), "{bad_action}");
    }
}
