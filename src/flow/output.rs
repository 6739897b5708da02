//! What one entry of a step's `output` keeps. Most are paths into the step's result
//! (`$.body.id`, `body.id`, `count`); the original platform's files also write values there:
//! text holding references (`entry_time: "${TIMESTAMP}"`), interpolated when the step passes,
//! and literals that are not text (`attempts: 3`, `ready: true`), kept as written.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::reference::has_reference;

/// How an `output` entry is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputSource<'a> {
    /// A capture path into the step's result.
    Path(&'a str),
    /// A value to keep, after its references are interpolated.
    Value(&'a Value),
}

impl<'a> OutputSource<'a> {
    /// Text without a reference is a path; anything else is a value.
    pub fn of(value: &'a Value) -> Self {
        match value {
            Value::String(text) if !has_reference(text) => OutputSource::Path(text),
            other => OutputSource::Value(other),
        }
    }
}

/// Reads a step's `output`; an empty `output:` (YAML null) is no output.
pub fn output_map<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<indexmap::IndexMap<String, Value>, D::Error> {
    Ok(Option::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_without_references_is_a_path_and_the_rest_are_values() {
        assert_eq!(
            OutputSource::of(&json!("$.body.id")),
            OutputSource::Path("$.body.id")
        );
        assert_eq!(
            OutputSource::of(&json!("count")),
            OutputSource::Path("count")
        );
        let stamped = json!("${TIMESTAMP}");
        assert_eq!(OutputSource::of(&stamped), OutputSource::Value(&stamped));
        let literal = json!(3);
        assert_eq!(OutputSource::of(&literal), OutputSource::Value(&literal));
    }
}
