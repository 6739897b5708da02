//! YAML text to JSON values, from the parser's events with no tree in between. Where each node
//! stood is read again from the same events only when a message needs it (see [`Positions`]), so
//! that every later message (a wrong type, an unknown action, a missing reference) can point at a
//! line and column.

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr::{Marker, Scalar, ScalarStyle, ScanError, Tag};
use saphyr_parser::{Event, Parser, Span, SpannedEventReceiver};
use serde_json::{Map, Number, Value};

use super::positions::{Position, PositionMaps, Positions};

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

/// How many nodes aliases may copy in one file, in all: a few anchors referring to each other
/// can otherwise stand for billions of nodes ("billion laughs").
const ALIAS_NODE_BUDGET: usize = 100_000;

/// Parses every document of `text` (documents that are empty or `null` are left out). Anchors
/// and aliases are expanded (within a budget that stops alias bombs) and duplicate keys are
/// rejected, as YAML requires.
pub fn parse_documents(text: &str) -> Result<Vec<SourceDocument>, YamlError> {
    let values = build(text, None)?;
    let positions = Positions::of_documents(text, values.len(), record_positions);
    Ok(values
        .into_iter()
        .zip(positions)
        .map(|(value, positions)| SourceDocument { value, positions })
        .collect())
}

/// The positions of every document of `text`, which [`parse_documents`] has read without error.
fn record_positions(text: &str) -> PositionMaps {
    let mut recorder = Recorder::default();
    match build(text, Some(&mut recorder)) {
        Ok(_) => recorder.documents,
        Err(_) => Vec::new(),
    }
}

fn build(text: &str, recorder: Option<&mut Recorder>) -> Result<Vec<Value>, YamlError> {
    let mut builder = Builder {
        documents: Vec::new(),
        open: Vec::new(),
        anchors: HashMap::new(),
        alias_budget: ALIAS_NODE_BUDGET,
        root_kept: false,
        error: None,
        recorder,
    };
    Parser::new_from_str(text)
        .load(&mut builder, true)
        .map_err(|err| scan_error(&err))?;
    match builder.error {
        Some(err) => Err(err),
        None => Ok(builder.documents),
    }
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

/// Writes a value as a YAML document (starting with `---`), block style, multi-line strings as
/// literal blocks.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    let mut emitter = saphyr::YamlEmitter::new(&mut out);
    emitter.multiline(true);
    if emitter.dump(&yaml_of(value)).is_err() {
        return String::new();
    }
    out.push('\n');
    out
}

fn yaml_of(value: &Value) -> saphyr::Yaml<'static> {
    use saphyr::Yaml;
    use std::borrow::Cow;
    match value {
        Value::Null => Yaml::Value(Scalar::Null),
        Value::Bool(b) => Yaml::Value(Scalar::Boolean(*b)),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Yaml::Value(Scalar::Integer(i)),
            (None, Some(f)) => Yaml::Value(Scalar::FloatingPoint(f.into())),
            _ => Yaml::Value(Scalar::String(Cow::Owned(n.to_string()))),
        },
        Value::String(s) => Yaml::Value(Scalar::String(Cow::Owned(s.clone()))),
        Value::Array(items) => Yaml::Sequence(items.iter().map(yaml_of).collect()),
        Value::Object(map) => Yaml::Mapping(
            map.iter()
                .map(|(k, v)| {
                    (
                        Yaml::Value(Scalar::String(Cow::Owned(k.clone()))),
                        yaml_of(v),
                    )
                })
                .collect(),
        ),
    }
}

fn position_of(marker: &Marker) -> Position {
    Position {
        line: marker.line(),
        column: marker.col() + 1,
    }
}

fn scan_error(err: &ScanError) -> YamlError {
    YamlError {
        position: position_of(err.marker()),
        message: err.info().to_string(),
    }
}

/// A collection whose end has not been read yet.
enum Open {
    Sequence {
        items: Vec<Value>,
        anchor: usize,
    },
    Mapping {
        entries: Map<String, Value>,
        /// The key read, waiting for its value, and where it stood.
        key: Option<(String, Marker)>,
        anchor: usize,
    },
}

/// Builds the documents' values from the parser's events, keeping the first error.
struct Builder<'r> {
    documents: Vec<Value>,
    open: Vec<Open>,
    anchors: HashMap<usize, Value>,
    /// Nodes aliases may still copy.
    alias_budget: usize,
    /// The current document's root was kept (it is not empty or `null`).
    root_kept: bool,
    error: Option<YamlError>,
    recorder: Option<&'r mut Recorder>,
}

impl<'input> SpannedEventReceiver<'input> for Builder<'_> {
    fn on_event(&mut self, event: Event<'input>, span: Span) {
        if self.error.is_some() {
            return;
        }
        if let Err(err) = self.read(event, span.start) {
            self.error = Some(err);
        }
    }
}

impl Builder<'_> {
    fn read(&mut self, event: Event<'_>, mark: Marker) -> Result<(), YamlError> {
        match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
            Event::DocumentStart(_) => self.root_kept = false,
            Event::DocumentEnd => {
                if let Some(recorder) = self.recorder.as_deref_mut() {
                    recorder.end_document(self.root_kept);
                }
            }
            Event::SequenceStart(anchor, _) => {
                self.begin_collection(mark)?;
                self.open.push(Open::Sequence {
                    items: Vec::new(),
                    anchor,
                });
            }
            Event::MappingStart(anchor, _) => {
                self.begin_collection(mark)?;
                self.open.push(Open::Mapping {
                    entries: Map::new(),
                    key: None,
                    anchor,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some(recorder) = self.recorder.as_deref_mut() {
                    recorder.leave();
                }
                match self.open.pop() {
                    Some(Open::Sequence { items, anchor }) => {
                        self.complete(Value::Array(items), anchor)?;
                    }
                    Some(Open::Mapping {
                        entries, anchor, ..
                    }) => self.complete(Value::Object(entries), anchor)?,
                    None => {}
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let value = scalar(text, style, tag.as_ref()).ok_or_else(|| YamlError {
                    position: position_of(&mark),
                    message: "this value does not match its tag (for example `!!int abc`)".into(),
                })?;
                if anchor > 0 {
                    self.anchors.insert(anchor, value.clone());
                }
                self.place(value, mark)?;
            }
            Event::Alias(anchor) => {
                let value = self.copy_anchor(anchor, mark)?;
                self.place(value, mark)?;
            }
        }
        Ok(())
    }

    /// Whether the next node is a key of the innermost open mapping.
    fn awaiting_key(&self) -> bool {
        matches!(self.open.last(), Some(Open::Mapping { key: None, .. }))
    }

    fn begin_collection(&mut self, mark: Marker) -> Result<(), YamlError> {
        if self.awaiting_key() {
            return Err(YamlError {
                position: position_of(&mark),
                message: "a map key must be a plain value, not a list or a map".into(),
            });
        }
        self.enter_node(mark, true);
        Ok(())
    }

    /// Records where a node that is not a key begins (when recording).
    fn enter_node(&mut self, mark: Marker, collection: bool) {
        let Some(recorder) = self.recorder.as_deref_mut() else {
            return;
        };
        let (child, key_mark) = match self.open.last() {
            None => (None, None),
            Some(Open::Sequence { items, .. }) => (Some(items.len().to_string()), None),
            Some(Open::Mapping { key, .. }) => match key {
                Some((key, key_mark)) => (Some(pointer_segment(key)), Some(*key_mark)),
                None => return,
            },
        };
        recorder.enter(child.as_deref(), key_mark, mark, collection);
    }

    /// A scalar or a copied anchor: the key of an open mapping, or a value.
    fn place(&mut self, value: Value, mark: Marker) -> Result<(), YamlError> {
        if self.awaiting_key() {
            let key = key_text(value).ok_or_else(|| YamlError {
                position: position_of(&mark),
                message: "a map key must be a plain value, not a list or a map".into(),
            })?;
            if let Some(Open::Mapping { key: slot, .. }) = self.open.last_mut() {
                *slot = Some((key, mark));
            }
            return Ok(());
        }
        self.enter_node(mark, false);
        self.complete(value, 0)
    }

    /// Hands a finished node to its parent (or ends the document's root).
    fn complete(&mut self, value: Value, anchor: usize) -> Result<(), YamlError> {
        if anchor > 0 {
            self.anchors.insert(anchor, value.clone());
        }
        match self.open.last_mut() {
            None => {
                if !value.is_null() {
                    self.documents.push(value);
                    self.root_kept = true;
                }
            }
            Some(Open::Sequence { items, .. }) => items.push(value),
            Some(Open::Mapping { entries, key, .. }) => {
                let (key, key_mark) = key.take().unwrap_or_default();
                if entries.insert(key, value).is_some() {
                    return Err(YamlError {
                        position: position_of(&key_mark),
                        message: "duplicated key in mapping".into(),
                    });
                }
            }
        }
        Ok(())
    }

    /// A copy of an anchored node, if the copies so far leave budget for it.
    fn copy_anchor(&mut self, anchor: usize, mark: Marker) -> Result<Value, YamlError> {
        let value = self.anchors.get(&anchor).ok_or_else(|| YamlError {
            position: position_of(&mark),
            message: "unknown anchor".into(),
        })?;
        if !count_within(value, &mut self.alias_budget) {
            return Err(YamlError {
                position: position_of(&mark),
                message: format!(
                    "aliases here would copy more than {ALIAS_NODE_BUDGET} nodes (possible billion-laughs attack)"
                ),
            });
        }
        Ok(value.clone())
    }
}

/// Takes the nodes of `value` (a map's entries count twice) from `budget`; false once it runs
/// out, without walking the rest.
fn count_within(value: &Value, budget: &mut usize) -> bool {
    let Some(left) = budget.checked_sub(1) else {
        return false;
    };
    *budget = left;
    match value {
        Value::Array(items) => items.iter().all(|item| count_within(item, budget)),
        Value::Object(entries) => entries.values().all(|item| {
            budget.checked_sub(1).map(|left| *budget = left).is_some() && count_within(item, budget)
        }),
        _ => true,
    }
}

/// A scalar's value under YAML's core schema, or None when it does not match its tag
/// (`!!int abc`). Tags outside the core schema (`!Ref`) are read past.
fn scalar(text: Cow<'_, str>, style: ScalarStyle, tag: Option<&Cow<'_, Tag>>) -> Option<Value> {
    Scalar::parse_from_cow_and_metadata(text, style, tag).map(scalar_value)
}

fn scalar_value(scalar: Scalar<'_>) -> Value {
    match scalar {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(b),
        Scalar::Integer(i) => Value::Number(i.into()),
        Scalar::FloatingPoint(f) => Number::from_f64(f.into_inner())
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(f.to_string())),
        Scalar::String(s) => Value::String(s.into_owned()),
    }
}

/// The text of a map key: a string as written, `null` for an empty key, other scalars as their
/// JSON text (`1`, `true`); None for a list or a map.
fn key_text(value: Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text),
        Value::Array(_) | Value::Object(_) => None,
        other => Some(other.to_string()),
    }
}

/// Collects positions while a document is built: where each node began, and for a map's entry
/// where its key stood.
#[derive(Default)]
struct Recorder {
    documents: PositionMaps,
    current: HashMap<String, Position>,
    /// The pointers of the open collections.
    open: Vec<String>,
}

impl Recorder {
    fn enter(
        &mut self,
        child: Option<&str>,
        key_mark: Option<Marker>,
        mark: Marker,
        collection: bool,
    ) {
        let pointer = match (child, self.open.last()) {
            (Some(child), Some(parent)) => format!("{parent}/{child}"),
            _ => String::new(),
        };
        if let Some(key_mark) = key_mark {
            self.current.insert(pointer.clone(), position_of(&key_mark));
        }
        if collection {
            self.current
                .entry(pointer.clone())
                .or_insert(position_of(&mark));
            self.open.push(pointer);
        } else {
            self.current.entry(pointer).or_insert(position_of(&mark));
        }
    }

    fn leave(&mut self) {
        self.open.pop();
    }

    /// Ends a document; one whose root was left out (empty or `null`) is left out here too.
    fn end_document(&mut self, kept: bool) {
        let current = std::mem::take(&mut self.current);
        self.open.clear();
        if kept {
            self.documents.push(current);
        }
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
    fn writes_yaml_that_reads_back_the_same() {
        let value = serde_json::json!({
            "name": "demo", "n": 3, "f": 1.5, "yes": "yes", "empty": "", "null": null,
            "multi": "line one\nline two\n", "list": [{"a": "${x}"}, "on", "123"]
        });
        let text = to_yaml(&value);
        assert!(text.starts_with("---\n"), "{text}");
        assert_eq!(parse_documents(&text).unwrap()[0].value, value, "{text}");
    }

    #[test]
    fn expands_anchors() {
        let docs = parse_documents("base: &h {a: 1}\nuse: *h\nname: &n x\n*n : 2\n").unwrap();
        assert_eq!(docs[0].value["use"], serde_json::json!({"a": 1}));
        assert_eq!(docs[0].value["x"], 2);
        // A node copied by an alias is reported where the alias stands.
        assert_eq!(
            docs[0].positions.find("/use/a"),
            Some(Position { line: 2, column: 1 })
        );
    }

    #[test]
    fn stops_aliases_that_would_copy_too_much() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..8 {
            let previous = format!("*a{}", level - 1);
            let items = [previous.as_str(); 10].join(", ");
            text.push_str(&format!("a{level}: &a{level} [{items}]\n"));
        }
        let err = parse_documents(&text).unwrap_err();
        assert!(err.message.contains("billion-laughs"), "{}", err.message);
        assert!(err.position.line > 1, "{err:?}");
    }

    #[test]
    fn positions_belong_to_the_documents_kept() {
        let docs = parse_documents("---\n--- ~\n---\nfirst: 1\n---\n\n  second: 2\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].value, serde_json::json!({"second": 2}));
        assert_eq!(
            docs[0].positions.find("/first"),
            Some(Position { line: 4, column: 1 })
        );
        assert_eq!(
            docs[1].positions.find("/second"),
            Some(Position { line: 7, column: 3 })
        );
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
