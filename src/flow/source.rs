//! YAML text to JSON values, keeping where each node stood in the file so that every later
//! message (a wrong type, an unknown action, a missing reference) can point at a line and column.

use std::collections::HashMap;
use std::fmt;

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};
use serde_json::{Map, Number, Value};

/// A line and column in a file, both counted from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Positions of the nodes of one document, keyed by JSON pointer (`/steps/0/config/url`).
#[derive(Debug, Clone, Default)]
pub struct Positions(HashMap<String, Position>);

impl Positions {
    /// The position of `pointer`, or of its nearest ancestor that has one.
    pub fn find(&self, pointer: &str) -> Option<Position> {
        let mut pointer = pointer;
        loop {
            if let Some(position) = self.0.get(pointer) {
                return Some(*position);
            }
            match pointer.rfind('/') {
                Some(cut) => pointer = &pointer[..cut],
                None => return None,
            }
        }
    }

    /// A copy with every pointer below `prefix` re-rooted at `/` (for a manifest's `spec`).
    pub fn below(&self, prefix: &str) -> Positions {
        let mut inner = HashMap::new();
        for (pointer, position) in &self.0 {
            if pointer == prefix {
                inner.insert(String::new(), *position);
            } else if let Some(rest) = pointer.strip_prefix(prefix)
                && rest.starts_with('/')
            {
                inner.insert(rest.to_string(), *position);
            }
        }
        Positions(inner)
    }
}

/// One YAML document as a JSON value, with its positions.
#[derive(Debug, Clone)]
pub struct SourceDocument {
    pub value: Value,
    pub positions: Positions,
}

/// A syntax error, or a value YAML cannot turn into data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub position: Position,
    pub message: String,
}

/// Parses every document of `text`. Anchors and aliases are expanded (within a budget that
/// stops alias bombs) and duplicate keys are rejected, as YAML requires.
pub fn parse_documents(text: &str) -> Result<Vec<SourceDocument>, YamlError> {
    let documents = MarkedYaml::load_from_str(text).map_err(|err| YamlError {
        position: position_of(err.marker().line(), err.marker().col()),
        message: err.info().to_string(),
    })?;
    documents
        .iter()
        .filter(|doc| !matches!(doc.data, YamlData::Value(Scalar::Null)))
        .map(|doc| {
            let mut positions = HashMap::new();
            let value = convert(doc, String::new(), &mut positions)?;
            Ok(SourceDocument {
                value,
                positions: Positions(positions),
            })
        })
        .collect()
}

/// A short word for the type of a value, as users read it: string, number, map, list...
pub fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

/// Escapes one key for use in a JSON pointer.
pub fn pointer_segment(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn position_of(line: usize, col: usize) -> Position {
    Position {
        line,
        column: col + 1,
    }
}

fn convert(
    node: &MarkedYaml<'_>,
    pointer: String,
    positions: &mut HashMap<String, Position>,
) -> Result<Value, YamlError> {
    let here = position_of(node.span.start.line(), node.span.start.col());
    positions.entry(pointer.clone()).or_insert(here);
    Ok(match &node.data {
        YamlData::Value(scalar) => scalar_value(scalar),
        YamlData::Representation(text, _, _) => Value::String(text.to_string()),
        YamlData::Sequence(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(index, item)| convert(item, format!("{pointer}/{index}"), positions))
                .collect::<Result<_, _>>()?,
        ),
        YamlData::Mapping(entries) => {
            let mut map = Map::with_capacity(entries.len());
            for (key, value) in entries {
                let name = key_text(key)?;
                let child = format!("{pointer}/{}", pointer_segment(&name));
                positions.insert(
                    child.clone(),
                    position_of(key.span.start.line(), key.span.start.col()),
                );
                let value = convert(value, child, positions)?;
                map.insert(name, value);
            }
            Value::Object(map)
        }
        YamlData::Tagged(_, inner) => convert(inner, pointer, positions)?,
        YamlData::Alias(_) | YamlData::BadValue => {
            return Err(YamlError {
                position: here,
                message: "this value does not match its tag (for example `!!int abc`)".into(),
            });
        }
    })
}

fn scalar_value(scalar: &Scalar<'_>) -> Value {
    match scalar {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(*b),
        Scalar::Integer(i) => Value::Number((*i).into()),
        Scalar::FloatingPoint(f) => Number::from_f64(f.into_inner())
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(f.to_string())),
        Scalar::String(s) => Value::String(s.to_string()),
    }
}

fn key_text(key: &MarkedYaml<'_>) -> Result<String, YamlError> {
    match &key.data {
        YamlData::Value(Scalar::String(s)) => Ok(s.to_string()),
        YamlData::Value(Scalar::Null) => Ok("null".into()),
        YamlData::Value(scalar) => Ok(match scalar_value(scalar) {
            Value::String(s) => s,
            other => other.to_string(),
        }),
        YamlData::Representation(text, _, _) => Ok(text.to_string()),
        YamlData::Tagged(_, inner) => key_text(inner),
        _ => Err(YamlError {
            position: position_of(key.span.start.line(), key.span.start.col()),
            message: "a map key must be a plain value, not a list or a map".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_positions_of_keys_and_items() {
        let text = "name: demo\nsteps:\n  - id: first\n    action: log\n  - id: second\n";
        let docs = parse_documents(text).unwrap();
        let positions = &docs[0].positions;
        assert_eq!(
            positions.find("/name"),
            Some(Position { line: 1, column: 1 })
        );
        assert_eq!(
            positions.find("/steps/1"),
            Some(Position { line: 5, column: 5 })
        );
        assert_eq!(
            positions.find("/steps/0/action"),
            Some(Position { line: 4, column: 5 })
        );
        assert_eq!(
            positions.find("/steps/0/config/url"),
            Some(Position { line: 3, column: 5 })
        );
    }

    #[test]
    fn reads_every_document_and_types_scalars() {
        let docs = parse_documents("a: 1\nb: 1.5\nc: yes\nd: ~\n---\nx: [true]\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(
            docs[0].value,
            serde_json::json!({"a": 1, "b": 1.5, "c": "yes", "d": null})
        );
        assert_eq!(docs[1].value, serde_json::json!({"x": [true]}));
    }

    #[test]
    fn expands_anchors() {
        let docs = parse_documents("base: &h {a: 1}\nuse: *h\n").unwrap();
        assert_eq!(docs[0].value["use"], serde_json::json!({"a": 1}));
    }

    #[test]
    fn reports_syntax_errors_with_a_position() {
        let err = parse_documents("name: demo\nsteps:\n  - id: [unclosed\n").unwrap_err();
        assert!(err.position.line >= 3, "{err:?}");
        let dup = parse_documents("a: 1\na: 2\n").unwrap_err();
        assert_eq!(dup.position.line, 2);
        assert!(dup.message.contains("duplicate"), "{}", dup.message);
    }
}
