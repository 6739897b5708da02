//! `testmesh import har FILE`: each recorded exchange of a browser's HAR file becomes an
//! `http_request` step asserting the recorded status. When a later request carries a value an
//! earlier JSON response gave (an id in the URL, a token in a header, a field of the body), the
//! earlier step captures it and the later one references the variable. The recorded origin
//! becomes `${base_url}`; static assets (images, fonts, styles, scripts) are left out and
//! reported.

use std::path::Path;

use serde_json::{Map, Value};

use super::names::{UniqueNames, snake_case};
use super::{ImportError, Imported, ImportedFlow, ImportedStep, read_document};

/// Request headers a browser adds by itself, or that the run sets (cookies persist across the
/// steps of a run): not copied into steps.
const BROWSER_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "connection",
    "cookie",
    "accept-encoding",
    "user-agent",
    "origin",
    "referer",
    "pragma",
    "cache-control",
    "upgrade-insecure-requests",
    "priority",
];

/// The shortest text taken as a value worth following from a response to a later request
/// (shorter values, `ok` or `12`, match by chance).
const SHORTEST_REUSED_VALUE: usize = 4;

/// A value an earlier response gave: where it came from and the variable it becomes.
struct Reusable {
    text: String,
    is_number: bool,
    step: usize,
    path: String,
    /// The variable name it gets when a later request uses it (made unique then).
    wanted: String,
    variable: Option<String>,
}

/// Translates a HAR file.
pub fn import(path: &Path) -> Result<Imported, ImportError> {
    let name = path.display().to_string();
    let document = read_document(path)?.value;
    let entries = document
        .pointer("/log/entries")
        .and_then(Value::as_array)
        .ok_or_else(|| ImportError::whole(&name, "not a HAR file: no log.entries list"))?;
    let mut imported = Imported::default();
    let mut origin: Option<String> = None;
    let mut ids = UniqueNames::default();
    let mut variables = UniqueNames::default();
    let mut steps: Vec<Map<String, Value>> = Vec::new();
    let mut reusable: Vec<Reusable> = Vec::new();
    let mut sent = String::new();
    for (index, entry) in entries.iter().enumerate() {
        let place = format!("log.entries[{index}]");
        let request = &entry["request"];
        let method = request["method"]
            .as_str()
            .ok_or_else(|| ImportError::at(&name, &format!("{place}.request.method"), "missing"))?;
        let url_text = request["url"]
            .as_str()
            .ok_or_else(|| ImportError::at(&name, &format!("{place}.request.url"), "missing"))?;
        let url = url::Url::parse(url_text).map_err(|err| {
            ImportError::at(
                &name,
                &format!("{place}.request.url"),
                format!("{url_text:?}: {err}"),
            )
        })?;
        let response_type = entry["response"]["content"]["mimeType"]
            .as_str()
            .unwrap_or("");
        if is_static_asset(response_type) {
            imported.skip(
                format!("{place} ({method} {url_text})"),
                format!("a static asset ({response_type}), left out"),
            );
            continue;
        }
        let here = url.origin().ascii_serialization();
        let origin = origin.get_or_insert_with(|| here.clone());
        let relative = &url[url::Position::BeforePath..];
        let target = if here == *origin {
            format!("${{base_url}}{relative}")
        } else {
            url_text.to_string()
        };
        let step_index = steps.len();
        let mut config = Map::new();
        config.insert("method".into(), Value::String(method.to_string()));
        config.insert("url".into(), Value::String(target));
        let mut headers = Map::new();
        for header in request["headers"].as_array().into_iter().flatten() {
            let (Some(header_name), Some(value)) =
                (header["name"].as_str(), header["value"].as_str())
            else {
                continue;
            };
            let lower = header_name.to_ascii_lowercase();
            if header_name.starts_with(':')
                || lower.starts_with("sec-")
                || BROWSER_HEADERS.contains(&lower.as_str())
            {
                continue;
            }
            headers.insert(header_name.to_string(), Value::String(value.to_string()));
        }
        if !headers.is_empty() {
            config.insert("headers".into(), Value::Object(headers));
        }
        if let Some(text) = request["postData"]["text"]
            .as_str()
            .filter(|text| !text.is_empty())
        {
            let mime = request["postData"]["mimeType"].as_str().unwrap_or("");
            let body = match serde_json::from_str::<Value>(text) {
                Ok(value @ (Value::Object(_) | Value::Array(_))) if mime.contains("json") => value,
                _ => Value::String(text.to_string()),
            };
            config.insert("body".into(), body);
        }
        sent.push_str(&serde_json::to_string(&config).unwrap_or_default());
        for value in reusable.iter_mut().rev() {
            if follow(value, &mut config, &mut variables) {
                let variable = value.variable.clone().unwrap_or_default();
                let producer = &mut steps[value.step];
                let output = producer
                    .entry("output")
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(output) = output {
                    output.insert(variable, Value::String(value.path.clone()));
                }
            }
        }
        let templated = config["url"].as_str().unwrap_or_default();
        let templated = templated.strip_prefix("${base_url}").unwrap_or(templated);
        let templated = templated.split('?').next().unwrap_or_default();
        let mut step = Map::new();
        step.insert(
            "id".into(),
            Value::String(ids.take(&format!("{method} {templated}"), "request")),
        );
        step.insert("action".into(), Value::String("http_request".into()));
        step.insert("config".into(), Value::Object(config));
        if let Some(status) = entry["response"]["status"]
            .as_u64()
            .filter(|status| *status > 0)
        {
            step.insert(
                "assert".into(),
                Value::Array(vec![Value::String(format!("status == {status}"))]),
            );
        } else {
            imported.skip(
                format!("{place}.response.status"),
                "no recorded status: nothing asserted",
            );
        }
        steps.push(step);
        if let Some(text) = entry["response"]["content"]["text"].as_str()
            && entry["response"]["content"]["encoding"].as_str() != Some("base64")
            && let Ok(body) = serde_json::from_str::<Value>(text)
        {
            let mut found = Vec::new();
            let resource = resource_of(url.path());
            leaves(&body, "$.body", "", &resource, &mut found);
            for (path, key, leaf) in found {
                let (text, is_number) = match &leaf {
                    Value::String(text) => (text.clone(), false),
                    Value::Number(number) => (number.to_string(), true),
                    _ => continue,
                };
                if text.chars().count() >= SHORTEST_REUSED_VALUE && !sent.contains(&text) {
                    reusable.push(Reusable {
                        text,
                        is_number,
                        step: step_index,
                        path,
                        wanted: key,
                        variable: None,
                    });
                }
            }
        }
    }
    let description = match &origin {
        Some(origin) => {
            format!("Recorded from {origin}: give it as base_url (--var base_url={origin}).")
        }
        None => "An empty recording.".to_string(),
    };
    let flow_name = document
        .pointer("/log/pages/0/title")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| {
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            format!("HAR {stem}")
        });
    imported.flows.push(ImportedFlow {
        name: flow_name,
        description: Some(description),
        steps: steps
            .into_iter()
            .map(|step| ImportedStep {
                comments: Vec::new(),
                step,
            })
            .collect(),
        ..ImportedFlow::default()
    });
    Ok(imported)
}

fn is_static_asset(mime: &str) -> bool {
    let mime = mime.to_ascii_lowercase();
    [
        "image/",
        "font/",
        "text/css",
        "javascript",
        "audio/",
        "video/",
    ]
    .iter()
    .any(|kind| mime.contains(kind))
}

/// Every scalar of a JSON value with its JSONPath and the variable name it would get: its key,
/// or for an `id` the key above it (`user.id` as `user_id`), at the top the resource
/// (`resource_id`).
fn leaves(
    value: &Value,
    path: &str,
    parent: &str,
    key: &str,
    found: &mut Vec<(String, String, Value)>,
) {
    match value {
        Value::Object(map) => {
            for (name, item) in map {
                let simple = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !name.starts_with(|c: char| c.is_ascii_digit());
                let child = if simple {
                    format!("{path}.{name}")
                } else {
                    format!("{path}['{}']", name.replace('\'', "\\'"))
                };
                leaves(item, &child, key, name, found);
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                leaves(item, &format!("{path}[{index}]"), parent, key, found);
            }
        }
        Value::String(_) | Value::Number(_) => {
            let name = match snake_case(key).as_str() {
                "id" => format!("{}_id", snake_case(parent)),
                other => other.to_string(),
            };
            found.push((path.to_string(), name, value.clone()));
        }
        Value::Null | Value::Bool(_) => {}
    }
}

/// The resource a URL path names: its last segment that is not an id, singular.
fn resource_of(path: &str) -> String {
    let segment = path
        .split('/')
        .rev()
        .find(|segment| !segment.is_empty() && !segment.chars().any(|c| c.is_ascii_digit()))
        .unwrap_or("");
    let name = snake_case(segment);
    name.strip_suffix('s').map(str::to_string).unwrap_or(name)
}

/// Replaces the value where the request uses it; true when it was used.
fn follow(
    value: &mut Reusable,
    config: &mut Map<String, Value>,
    variables: &mut UniqueNames,
) -> bool {
    let mut replacement = None;
    let mut reference = |value: &mut Reusable| -> String {
        replacement
            .get_or_insert_with(|| {
                let variable = value
                    .variable
                    .clone()
                    .unwrap_or_else(|| variables.take(&value.wanted, "value"));
                value.variable = Some(variable.clone());
                variable
            })
            .clone()
    };
    let mut used = false;
    for (_, field) in config.iter_mut() {
        used |= replace_in(field, value, &mut reference);
    }
    used
}

fn replace_in(
    field: &mut Value,
    value: &mut Reusable,
    reference: &mut impl FnMut(&mut Reusable) -> String,
) -> bool {
    match field {
        Value::String(text) => {
            if *text == value.text {
                *text = format!("${{{}}}", reference(value));
                return true;
            }
            match replace_bounded(text, &value.text) {
                Some(parts) => {
                    let name = reference(value);
                    *text = parts.join(&format!("${{{name}}}"));
                    true
                }
                None => false,
            }
        }
        Value::Number(number) if value.is_number && number.to_string() == value.text => {
            *field = Value::String(format!("${{{}}}", reference(value)));
            true
        }
        Value::Array(items) => {
            let mut used = false;
            for item in items {
                used |= replace_in(item, value, reference);
            }
            used
        }
        Value::Object(map) => {
            let mut used = false;
            for (_, item) in map.iter_mut() {
                used |= replace_in(item, value, reference);
            }
            used
        }
        _ => false,
    }
}

/// `text` split around each whole occurrence of `value` (not inside a longer word or number),
/// or `None` when it does not occur.
fn replace_bounded(text: &str, value: &str) -> Option<Vec<String>> {
    let word =
        |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let mut parts = Vec::new();
    let mut start = 0;
    let mut search = 0;
    while let Some(offset) = text[search..].find(value) {
        let at = search + offset;
        let end = at + value.len();
        let before = text[..at].chars().next_back();
        let after = text[end..].chars().next();
        let inside_reference = text[..at].ends_with("${");
        if !word(before) && !word(after) && !inside_reference {
            parts.push(text[start..at].to_string());
            start = end;
        }
        search = end;
    }
    if parts.is_empty() {
        return None;
    }
    parts.push(text[start..].to_string());
    Some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_replaced_only_as_whole_words() {
        assert_eq!(
            replace_bounded("/orders/ord-42/items?after=ord-42", "ord-42"),
            Some(vec![
                "/orders/".to_string(),
                "/items?after=".into(),
                String::new()
            ])
        );
        assert_eq!(replace_bounded("/orders/ord-421", "ord-42"), None);
        assert_eq!(
            replace_bounded("Bearer abc.def", "abc.def"),
            Some(vec!["Bearer ".into(), String::new()])
        );
    }
}
