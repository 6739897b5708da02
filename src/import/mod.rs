//! Imports requests written for other tools as flows of our YAML dialect: an OpenAPI document
//! (`openapi`), a Postman collection (`postman`), a browser's HAR recording (`har`) and a curl
//! command line (`curl`). Each import gives the flows and the list of what it could not
//! translate (a place and a value), so that nothing is dropped silently.

pub mod curl;
pub mod flow_text;
pub mod har;
pub mod names;
pub mod openapi;
pub mod postman;
pub mod postman_script;

use std::fmt;
use std::path::Path;

use serde_json::{Map, Value};

/// A flow made by an import, before it is written as YAML.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportedFlow {
    pub name: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
    /// Variables the source defined itself (collection variables, pre-request values).
    pub env: Map<String, Value>,
    pub steps: Vec<ImportedStep>,
}

/// One step, and the lines of the source kept as YAML comments above it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportedStep {
    pub comments: Vec<String>,
    pub step: Map<String, Value>,
}

/// Something the import could not translate: where it stood in the source, and what it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Untranslated {
    pub place: String,
    pub value: String,
}

impl fmt::Display for Untranslated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.value)
    }
}

/// The outcome of an import.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Imported {
    pub flows: Vec<ImportedFlow>,
    pub untranslated: Vec<Untranslated>,
}

impl Imported {
    /// Notes that the value at `place` was not translated.
    pub fn skip(&mut self, place: impl Into<String>, value: impl Into<String>) {
        self.untranslated.push(Untranslated {
            place: place.into(),
            value: value.into(),
        });
    }
}

/// Input an import cannot read: the file (or `curl` for a command line), the place in it, and
/// what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{source_name}: {place}{message}")]
pub struct ImportError {
    pub source_name: String,
    /// Empty, or a place followed by `: ` (`/paths/~1pets/get (line 12:7): `).
    pub place: String,
    pub message: String,
}

impl ImportError {
    /// An error about the whole input.
    pub fn whole(source_name: &str, message: impl Into<String>) -> Self {
        ImportError {
            source_name: source_name.to_string(),
            place: String::new(),
            message: message.into(),
        }
    }

    /// An error at one place of the input.
    pub fn at(source_name: &str, place: &str, message: impl Into<String>) -> Self {
        ImportError {
            source_name: source_name.to_string(),
            place: format!("at {place}: "),
            message: message.into(),
        }
    }
}

/// Reads a JSON or YAML file (JSON is YAML) into a value, with the positions of its nodes.
pub fn read_document(path: &Path) -> Result<crate::flow::source::SourceDocument, ImportError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|err| ImportError::whole(&name, format!("cannot read the file: {err}")))?;
    let mut documents = crate::flow::source::parse_documents(&text).map_err(|err| {
        ImportError::at(
            &name,
            &format!("line {}", err.position),
            format!("not JSON or YAML: {}", err.message),
        )
    })?;
    if documents.is_empty() {
        return Err(ImportError::whole(&name, "the file is empty"));
    }
    Ok(documents.swap_remove(0))
}
