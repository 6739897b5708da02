//! Messages in the protobuf JSON mapping: a step's `request` map becomes the method's input
//! message (a field the message lacks is named with the message type and the nearest field), and
//! the answer becomes JSON with the proto field names, every field present (defaults included),
//! enums by name and 64-bit integers as numbers, so assertions compare them as written.

use prost_reflect::{
    DeserializeOptions, DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, SerializeOptions,
};
use serde_json::{Map, Value};

use super::super::ActionError;
use crate::flow::diagnostic::did_you_mean;

/// The input message of a call from the step's `request` map.
pub fn request_message(
    request: &Map<String, Value>,
    message: &MessageDescriptor,
) -> Result<DynamicMessage, ActionError> {
    check_fields(request, message, "request")?;
    let mut track = serde_path_to_error::Track::new();
    let deserializer =
        serde_path_to_error::Deserializer::new(Value::Object(request.clone()), &mut track);
    DynamicMessage::deserialize_with_options(
        message.clone(),
        deserializer,
        &DeserializeOptions::new().deny_unknown_fields(true),
    )
    .map_err(|err| {
        let path = track.path();
        let found = value_at(request, &path)
            .map(|value| format!(" (found {value})"))
            .unwrap_or_default();
        let path = path.to_string();
        let field = if path == "." || path.is_empty() {
            "request".to_string()
        } else {
            format!("request.{path}")
        };
        ActionError::invalid(
            field,
            format!("does not fit {}: {err}{found}", message.full_name()),
        )
    })
}

/// The value a deserialization error's path points at, to quote it.
fn value_at<'a>(
    request: &'a Map<String, Value>,
    path: &serde_path_to_error::Path,
) -> Option<&'a Value> {
    use serde_path_to_error::Segment;
    let mut segments = path.iter();
    let mut value = match segments.next()? {
        Segment::Map { key } => request.get(key)?,
        _ => return None,
    };
    for segment in segments {
        value = match segment {
            Segment::Map { key } => value.get(key)?,
            Segment::Seq { index } => value.get(index)?,
            _ => return None,
        };
    }
    Some(value)
}

/// The answer as JSON.
pub fn response_json(message: &DynamicMessage) -> Value {
    let options = SerializeOptions::new()
        .use_proto_field_name(true)
        .stringify_64_bit_integers(false)
        .skip_default_fields(false);
    message
        .serialize_with_options(serde_json::value::Serializer, &options)
        .unwrap_or_else(|err| Value::String(format!("cannot show the message as JSON: {err}")))
}

/// Every key of `map` must be a field of `message` (by its proto or JSON name), in nested
/// messages too; well-known types keep their own JSON forms and are left to the mapping.
fn check_fields(
    map: &Map<String, Value>,
    message: &MessageDescriptor,
    at: &str,
) -> Result<(), ActionError> {
    if message.full_name().starts_with("google.protobuf.") {
        return Ok(());
    }
    for (key, value) in map {
        let field = message
            .get_field_by_name(key)
            .or_else(|| message.get_field_by_json_name(key))
            .ok_or_else(|| unknown_field(key, message, at))?;
        check_value(value, &field, &format!("{at}.{key}"))?;
    }
    Ok(())
}

fn check_value(value: &Value, field: &FieldDescriptor, at: &str) -> Result<(), ActionError> {
    let Kind::Message(inner) = field.kind() else {
        return Ok(());
    };
    if field.is_map() {
        let values = inner.map_entry_value_field();
        if let (Value::Object(entries), Kind::Message(entry_type)) = (value, values.kind()) {
            for (key, entry) in entries {
                if let Value::Object(entry) = entry {
                    check_fields(entry, &entry_type, &format!("{at}.{key}"))?;
                }
            }
        }
        return Ok(());
    }
    match value {
        Value::Array(items) if field.is_list() => {
            for (index, item) in items.iter().enumerate() {
                if let Value::Object(item) = item {
                    check_fields(item, &inner, &format!("{at}[{index}]"))?;
                }
            }
            Ok(())
        }
        Value::Object(nested) => check_fields(nested, &inner, at),
        _ => Ok(()),
    }
}

fn unknown_field(key: &str, message: &MessageDescriptor, at: &str) -> ActionError {
    let names: Vec<String> = message.fields().map(|f| f.name().to_string()).collect();
    let hint = did_you_mean(key, names.iter().map(String::as_str))
        .map(|name| format!(" (did you mean `{name}`?)"))
        .unwrap_or_default();
    let listing = if names.is_empty() {
        "it has no fields".to_string()
    } else {
        format!("its fields are {}", names.join(", "))
    };
    ActionError::invalid(
        format!("{at}.{key}"),
        format!(
            "message {} has no field `{key}`{hint}; {listing}",
            message.full_name()
        ),
    )
}
