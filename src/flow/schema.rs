//! Schema helpers for fields whose shape is free or mixed. A Kubernetes structural schema gives
//! every node a type, except nodes marked to keep unknown fields; these helpers say so.

use schemars::{Schema, SchemaGenerator, json_schema};

/// An object whose keys are the user's own (an action's `config`): kept whole by the API server.
pub fn free_object(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": true
    })
}

/// A map of names to values of any shape (a step's `output`: paths, or values to keep).
pub fn free_values(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "additionalProperties": {
            "x-kubernetes-preserve-unknown-fields": true
        }
    })
}

/// A value that may be a string or an object (`assert` items, `onError`): any shape is kept.
pub fn string_or_object(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "x-kubernetes-preserve-unknown-fields": true
    })
}

/// A map of names to text, where the text may also be written as a number.
pub fn variables(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "additionalProperties": {
            "x-kubernetes-int-or-string": true,
            "anyOf": [{"type": "integer"}, {"type": "string"}]
        }
    })
}
