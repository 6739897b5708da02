//! A step's `schema:`: a JSON Schema (Draft 2020-12) written inline or kept in a file (JSON or
//! YAML, relative to the flow file). Shared by the validator, which compiles it before anything
//! runs, and the engine, which checks each result against it.

use std::path::Path;

use serde_json::Value;

use super::source::parse_documents;

/// A schema ready to use, with a label for messages (`inline` or the file).
pub struct StepSchema {
    pub label: String,
    pub validator: jsonschema::Validator,
}

/// Reads (if it names a file) and compiles a step's `schema`.
pub fn compile(spec: &Value, base_dir: Option<&Path>) -> Result<StepSchema, String> {
    let (document, label) = match spec {
        Value::String(file) => {
            let path = match base_dir {
                Some(dir) => dir.join(file),
                None => Path::new(file).to_path_buf(),
            };
            let text = std::fs::read_to_string(&path)
                .map_err(|err| format!("cannot read schema file {}: {err}", path.display()))?;
            let document = parse_documents(&text)
                .map_err(|err| format!("schema file {}: {}", path.display(), err.message))?
                .into_iter()
                .next()
                .map(|doc| doc.value)
                .ok_or_else(|| format!("schema file {} is empty", path.display()))?;
            (document, path.display().to_string())
        }
        Value::Object(_) | Value::Bool(_) => (spec.clone(), "inline schema".to_string()),
        other => {
            return Err(format!(
                "schema must be a map (the schema itself) or a file path, found {other}"
            ));
        }
    };
    let validator = jsonschema::draft202012::new(&document)
        .map_err(|err| format!("{label} is not a valid JSON Schema: {err}"))?;
    Ok(StepSchema { label, validator })
}

/// One way an instance breaks the schema: where (a JSON pointer, `/` for the root) and why.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaViolation {
    pub path: String,
    pub message: String,
    pub value: Value,
}

impl StepSchema {
    /// Every violation of `instance`, in the order the validator finds them.
    pub fn violations(&self, instance: &Value) -> Vec<SchemaViolation> {
        self.validator
            .iter_errors(instance)
            .map(|err| {
                let path = err.instance_path().as_str();
                SchemaViolation {
                    path: if path.is_empty() {
                        "/".into()
                    } else {
                        path.to_string()
                    },
                    message: err.to_string(),
                    value: err.instance().clone().into_owned(),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn violations_name_the_path_and_the_reason() {
        let schema = compile(
            &json!({"type": "object", "required": ["id"], "properties": {"items": {"type": "array", "items": {"properties": {"price": {"type": "number"}}}}}}),
            None,
        )
        .unwrap();
        let found = schema.violations(&json!({"items": [{"price": 1}, {"price": "x"}]}));
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found
                .iter()
                .any(|v| v.path == "/" && v.message.contains("\"id\" is a required property")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|v| v.path == "/items/1/price"
                    && v.message.contains("is not of type \"number\"")),
            "{found:?}"
        );
        assert!(compile(&json!({"type": "nonsense"}), None).is_err());
    }
}
