//! Exports flows back to the tools they may have come from: `http_request` steps as curl
//! command lines (`curl`) or as the requests of a Postman collection (`postman`). Steps of
//! other actions have no counterpart there and are reported as skipped.

pub mod curl;
pub mod postman;

use serde_json::{Map, Value};

use crate::flow::actions::ActionKind;
use crate::flow::load::LoadedFlow;
use crate::flow::model::Step;

/// A step the export left out: where it is (`file: flow > step`) and its action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub place: String,
    pub action: String,
}

/// The `http_request` steps of a flow (setup, steps, teardown, in order), and the steps of
/// other actions as skipped.
pub fn http_steps<'f>(flow: &'f LoadedFlow, skipped: &mut Vec<Skipped>) -> Vec<&'f Step> {
    let spec = &flow.spec;
    let mut found = Vec::new();
    for (phase, steps) in [
        ("setup", &spec.setup),
        ("steps", &spec.steps),
        ("teardown", &spec.teardown),
    ] {
        for (index, step) in steps.iter().enumerate() {
            if ActionKind::from_name(&step.action) == Some(ActionKind::HttpRequest) {
                found.push(step);
            } else {
                let id = step
                    .id
                    .clone()
                    .unwrap_or_else(|| format!("{phase}[{index}]"));
                skipped.push(Skipped {
                    place: format!("{}: {} > {id}", flow.file_label(), spec.name),
                    action: step.action.clone(),
                });
            }
        }
    }
    found
}

/// A config value as a request carries it: a string as it is, null as nothing, others as JSON.
pub fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The query parameters of an `http_request` config (`params`, then `query`): name and value,
/// a list giving the name once per item.
pub fn query_pairs(config: &Map<String, Value>) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for key in ["params", "query"] {
        for (name, value) in config
            .get(key)
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            match value {
                Value::Array(items) => {
                    pairs.extend(items.iter().map(|item| (name.clone(), text(item))));
                }
                other => pairs.push((name.clone(), text(other))),
            }
        }
    }
    pairs
}

/// `url` with `pairs` form-encoded after its `?` (or after its own query).
pub fn with_query(url: String, pairs: &[(String, String)]) -> String {
    if pairs.is_empty() {
        return url;
    }
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        query.append_pair(name, value);
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{}", query.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn query_parameters_are_appended_encoded_a_list_once_per_item() {
        let config = json!({"params": {"tag": ["a b", 2]}, "query": {"dry": true}});
        let pairs = query_pairs(config.as_object().unwrap());
        assert_eq!(
            with_query("${base_url}/orders?x=1".into(), &pairs),
            "${base_url}/orders?x=1&tag=a+b&tag=2&dry=true"
        );
        assert_eq!(with_query("/orders".into(), &[]), "/orders");
    }
}
