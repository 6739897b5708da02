//! Where each node of a YAML document stood in its file, found when a message needs it.
//!
//! A flow that loads and validates cleanly never asks for a position, so none is computed on
//! that path: [`Positions`] keeps the file's text and reads it again, once per file, the first
//! time a message asks where a node stood.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

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

/// Positions of the nodes of every document of one file, keyed by JSON pointer
/// (`/steps/0/config/url`).
pub type PositionMaps = Vec<HashMap<String, Position>>;

/// The text of one file, and its positions once something asked for one.
struct PositionSource {
    text: Box<str>,
    /// Reads the text again, recording positions (see `source::record_positions`).
    record: fn(&str) -> PositionMaps,
    maps: OnceLock<PositionMaps>,
}

/// The positions of one document's nodes, rooted at a node of it (`/spec` of a manifest), so that
/// `/steps/0` is the first step whatever the dialect. The default has none.
#[derive(Clone, Default)]
pub struct Positions {
    source: Option<Arc<PositionSource>>,
    document: usize,
    root: String,
}

impl fmt::Debug for Positions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Positions")
            .field("document", &self.document)
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl Positions {
    /// The positions of each document of `text`, read by `record` when first asked for.
    pub fn of_documents(
        text: &str,
        documents: usize,
        record: fn(&str) -> PositionMaps,
    ) -> Vec<Positions> {
        let source = Arc::new(PositionSource {
            text: text.into(),
            record,
            maps: OnceLock::new(),
        });
        (0..documents)
            .map(|document| Positions {
                source: Some(source.clone()),
                document,
                root: String::new(),
            })
            .collect()
    }

    /// The position of `pointer`, or of its nearest ancestor (up to the root) that has one.
    pub fn find(&self, pointer: &str) -> Option<Position> {
        let source = self.source.as_ref()?;
        let map = source
            .maps
            .get_or_init(|| (source.record)(&source.text))
            .get(self.document)?;
        let full = format!("{}{pointer}", self.root);
        let mut pointer = full.as_str();
        loop {
            if let Some(position) = map.get(pointer) {
                return Some(*position);
            }
            match pointer.rfind('/') {
                Some(cut) if cut >= self.root.len() => pointer = &pointer[..cut],
                _ => return None,
            }
        }
    }

    /// The same positions with `prefix` as the root (`/spec` of a manifest).
    pub fn below(&self, prefix: &str) -> Positions {
        Positions {
            source: self.source.clone(),
            document: self.document,
            root: format!("{}{prefix}", self.root),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(_: &str) -> PositionMaps {
        let at = |line| Position { line, column: 1 };
        vec![HashMap::from([
            (String::new(), at(1)),
            ("/spec".to_string(), at(2)),
            ("/spec/steps/0".to_string(), at(3)),
        ])]
    }

    #[test]
    fn finds_the_nearest_ancestor_without_leaving_the_root() {
        let document = Positions::of_documents("", 1, fixed).remove(0);
        assert_eq!(document.find("/spec/steps/0/config").unwrap().line, 3);
        assert_eq!(document.find("/other").unwrap().line, 1);
        let spec = document.below("/spec");
        assert_eq!(spec.find("/steps/0/action").unwrap().line, 3);
        assert_eq!(spec.find("/steps/1").unwrap().line, 2);
        assert_eq!(spec.below("/name").find(""), None);
        assert_eq!(Positions::default().find(""), None);
    }
}
