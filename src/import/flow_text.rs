//! Writes an imported flow as a YAML document of our flow dialect (`flow:` root, snake_case).
//! The values go through the same emitter as `testmesh convert`; what the emitter cannot carry,
//! the source lines an import kept as comments, is written above each step.

use serde_json::{Map, Value};

use super::ImportedFlow;
use crate::flow::source::to_yaml;

/// The flow as one YAML document, starting with `---`.
pub fn flow_yaml(flow: &ImportedFlow) -> String {
    let mut header = Map::new();
    header.insert("name".into(), Value::String(flow.name.clone()));
    if let Some(description) = &flow.description {
        header.insert("description".into(), Value::String(description.clone()));
    }
    if !flow.tags.is_empty() {
        header.insert("tags".into(), flow.tags.clone().into());
    }
    if !flow.env.is_empty() {
        header.insert("env".into(), Value::Object(flow.env.clone()));
    }
    let mut root = Map::new();
    root.insert("flow".into(), Value::Object(header));
    let mut out = to_yaml(&Value::Object(root));
    if flow.steps.is_empty() {
        out.push_str("  steps: []\n");
        return out;
    }
    out.push_str("  steps:\n");
    for step in &flow.steps {
        for comment in &step.comments {
            for line in comment.lines() {
                out.push_str(&format!("    # {line}\n").replace(" \n", "\n"));
            }
        }
        let body = to_yaml(&Value::Object(step.step.clone()));
        let body = body.strip_prefix("---\n").unwrap_or(&body);
        for (index, line) in body.lines().enumerate() {
            let lead = if index == 0 { "    - " } else { "      " };
            if line.is_empty() {
                out.push('\n');
            } else {
                out.push_str(lead);
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::source::parse_documents;
    use crate::import::ImportedStep;
    use serde_json::json;

    #[test]
    fn the_written_flow_reads_back_as_the_same_values_with_comments_above_steps() {
        let step = json!({
            "id": "create",
            "action": "http_request",
            "config": {"method": "POST", "url": "${base_url}/pets", "body": {"name": "Rex", "tags": ["a", "b"]}},
            "assert": ["status == 201"],
            "output": {"pet_id": "$.body.id"},
        });
        let flow = ImportedFlow {
            name: "Pets".into(),
            env: json!({"owner": "ada"}).as_object().unwrap().clone(),
            steps: vec![ImportedStep {
                comments: vec!["pm.sendRequest(...)".into(), "two\nlines".into()],
                step: step.as_object().unwrap().clone(),
            }],
            ..ImportedFlow::default()
        };
        let text = flow_yaml(&flow);
        assert!(
            text.contains("    # pm.sendRequest(...)\n    # two\n    # lines\n    - "),
            "{text}"
        );
        let read = &parse_documents(&text).unwrap()[0].value;
        assert_eq!(read["flow"]["name"], "Pets");
        assert_eq!(read["flow"]["env"]["owner"], "ada");
        assert_eq!(read["flow"]["steps"][0], step);
    }
}
