//! `testmesh export postman FLOW…`: a Postman collection (v2.1) with a folder per flow and a
//! request per `http_request` step. References become `{{name}}` (our built-ins Postman's
//! dynamic values), the flow's `env` the folder's variables, `status ==` assertions
//! `pm.response.to.have.status`, `body… == literal` assertions `pm.expect(…).to.eql`, and
//! captures from the body `pm.environment.set`. `testmesh import postman` reads it back.

use serde_json::{Map, Value, json};

use super::{Skipped, query_pairs, text, with_query};
use crate::flow::model::Step;

/// The collection schema written into `info.schema`.
pub const SCHEMA: &str = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json";

/// Our built-ins that Postman has as dynamic values.
const DYNAMIC: &[(&str, &str)] = &[
    ("UUID", "$guid"),
    ("RANDOM_ID", "$guid"),
    ("TIMESTAMP", "$timestamp"),
    ("ISO_TIMESTAMP", "$isoTimestamp"),
    ("RANDOM_INT", "$randomInt"),
];

/// A folder for one flow: its name, variables and the requests of its HTTP steps. Assertions
/// and captures with no Postman form are added to `skipped`.
pub fn folder(
    name: &str,
    env: &[(String, String)],
    steps: &[&Step],
    place: &str,
    skipped: &mut Vec<Skipped>,
) -> Value {
    let variables: Vec<Value> = env
        .iter()
        .map(|(key, value)| json!({"key": key, "value": references(value)}))
        .collect();
    let items: Vec<Value> = steps
        .iter()
        .map(|step| {
            request_item(
                step,
                &format!("{place} > {}", step.id.as_deref().unwrap_or("step")),
                skipped,
            )
        })
        .collect();
    let mut folder = json!({"name": name, "item": items});
    if !variables.is_empty() {
        folder["variable"] = Value::Array(variables);
    }
    folder
}

/// The whole collection.
pub fn collection(name: &str, folders: Vec<Value>) -> Value {
    json!({
        "info": {"name": name, "schema": SCHEMA},
        "item": folders,
    })
}

fn request_item(step: &Step, place: &str, skipped: &mut Vec<Skipped>) -> Value {
    let config = &step.config;
    let mut request = Map::new();
    let method = config
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("GET")
        .to_ascii_uppercase();
    request.insert("method".into(), Value::String(method));
    let headers: Vec<Value> = config
        .get("headers")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(key, value)| json!({"key": key, "value": references(&text(value))}))
        .collect();
    request.insert("header".into(), Value::Array(headers));
    let url = references(config.get("url").and_then(Value::as_str).unwrap_or(""));
    let pairs: Vec<(String, String)> = query_pairs(config)
        .into_iter()
        .map(|(name, value)| (name, references(&value)))
        .collect();
    let url = with_query(url, &pairs);
    request.insert("url".into(), json!({"raw": url}));
    if let Some(auth) = config.get("auth").and_then(Value::as_object) {
        let field = |key: &str| {
            auth.get(key)
                .map(|value| references(&text(value)))
                .unwrap_or_default()
        };
        let pair = |key: &str, value: String| json!({"key": key, "value": value, "type": "string"});
        let translated = match field("type").to_ascii_lowercase().as_str() {
            "bearer" => json!({"type": "bearer", "bearer": [pair("token", field("token"))]}),
            "basic" => {
                json!({"type": "basic", "basic": [pair("username", field("username")), pair("password", field("password"))]})
            }
            _ => {
                let location = if field("location").eq_ignore_ascii_case("query") {
                    "query"
                } else {
                    "header"
                };
                let name = auth
                    .get("name")
                    .map(text)
                    .unwrap_or_else(|| "X-API-Key".into());
                json!({"type": "apikey", "apikey": [pair("key", name), pair("value", field("key")), pair("in", location.into())]})
            }
        };
        request.insert("auth".into(), translated);
    }
    let body = match (config.get("body"), config.get("json"), config.get("form")) {
        (Some(Value::String(raw)), _, _) => Some(json!({"mode": "raw", "raw": references(raw)})),
        (Some(value), _, _) | (None, Some(value), _) => Some(json!({
            "mode": "raw",
            "raw": references(&serde_json::to_string_pretty(value).unwrap_or_default()),
            "options": {"raw": {"language": "json"}},
        })),
        (None, None, Some(Value::Object(form))) => Some(json!({
            "mode": "urlencoded",
            "urlencoded": form.iter().map(|(key, value)| json!({"key": key, "value": references(&text(value))})).collect::<Vec<_>>(),
        })),
        _ => None,
    };
    if let Some(body) = body {
        request.insert("body".into(), body);
    }
    let mut lines = Vec::new();
    for assertion in &step.assert {
        match test_of(&assertion.expression) {
            Some(line) => lines.push(line),
            None => skipped.push(Skipped {
                place: place.to_string(),
                action: format!("assertion {:?} has no Postman test", assertion.expression),
            }),
        }
    }
    for (variable, path) in &step.output {
        match path.as_str().and_then(body_path) {
            Some(access) => lines.push(format!(
                "pm.environment.set({}, pm.response.json(){access});",
                quoted(variable)
            )),
            None => skipped.push(Skipped {
                place: place.to_string(),
                action: format!("capture {variable}: {path} has no Postman form"),
            }),
        }
    }
    if step.schema.is_some() {
        skipped.push(Skipped {
            place: place.to_string(),
            action: "schema: not exported".into(),
        });
    }
    let name = step
        .name
        .clone()
        .or_else(|| step.id.clone())
        .unwrap_or_else(|| "request".into());
    let mut item = json!({"name": name, "request": request});
    if !lines.is_empty() {
        item["event"] =
            json!([{"listen": "test", "script": {"type": "text/javascript", "exec": lines}}]);
    }
    item
}

/// An assertion as a Postman test line, for the forms `testmesh import postman` reads back:
/// checks of the status, of a header's presence, and of a body field against a literal, a type
/// or presence.
fn test_of(expression: &str) -> Option<String> {
    let expression = expression.trim();
    if expression == "status >= 200 && status < 300" {
        return Some("pm.response.to.be.ok;".into());
    }
    if let Some(subject) = expression.strip_suffix(" exists") {
        if let Some(name) = subject
            .strip_prefix("headers[")
            .and_then(|rest| rest.strip_suffix(']'))
        {
            let name: String = serde_json::from_str(name).ok()?;
            return Some(format!("pm.response.to.have.header({});", quoted(&name)));
        }
        return Some(format!(
            "pm.expect(pm.response.json(){}).to.exist;",
            body_path(subject)?
        ));
    }
    if let Some((subject, kind)) = expression.split_once(" is ") {
        let kind = kind.trim();
        if !kind.chars().all(|c| c.is_ascii_alphabetic()) {
            return None;
        }
        return Some(format!(
            "pm.expect(pm.response.json(){}).to.be.a({});",
            body_path(subject)?,
            quoted(kind)
        ));
    }
    let (subject, check, expected) = [
        (" == ", "eql"),
        (" > ", "be.above"),
        (" < ", "be.below"),
        (" contains ", "include"),
    ]
    .iter()
    .find_map(|(operator, check)| {
        expression
            .split_once(operator)
            .map(|(left, right)| (left.trim(), *check, right.trim()))
    })?;
    let literal: Value = serde_json::from_str(expected).ok()?;
    if literal.is_object() || literal.is_array() {
        return None;
    }
    let argument = match literal.as_str().and_then(single_reference) {
        Some(variable) => format!("pm.environment.get({})", quoted(variable)),
        None => literal.to_string(),
    };
    if subject == "status" && check == "eql" && literal.is_u64() {
        return Some(format!("pm.response.to.have.status({literal});"));
    }
    Some(format!(
        "pm.expect(pm.response.json(){}).to.{check}({argument});",
        body_path(subject)?
    ))
}

/// The name in a text that is exactly one `${name}` reference.
fn single_reference(text: &str) -> Option<&str> {
    let name = text.strip_prefix("${")?.strip_suffix('}')?;
    (!name.contains(['{', '}', '$'])).then_some(name)
}

/// `body.a[0].b` or `$.body.a[0].b` as the accessors after `pm.response.json()`.
fn body_path(path: &str) -> Option<String> {
    let rest = path
        .strip_prefix("$.body")
        .or_else(|| path.strip_prefix("body"))?;
    let simple = rest
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']'));
    (simple && (rest.is_empty() || rest.starts_with(['.', '[']))).then(|| rest.to_string())
}

/// `${name}` as `{{name}}`, our built-ins as Postman's dynamic values.
pub fn references(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let Some(length) = rest[start + 2..].find('}') else {
            break;
        };
        out.push_str(&rest[..start]);
        let name = &rest[start + 2..start + 2 + length];
        let name = DYNAMIC
            .iter()
            .find(|(ours, _)| *ours == name)
            .map(|(_, postman)| *postman)
            .unwrap_or(name);
        out.push_str(&format!("{{{{{name}}}}}"));
        rest = &rest[start + 2 + length + 1..];
    }
    out.push_str(rest);
    out
}

fn quoted(text: &str) -> String {
    Value::String(text.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assertions_and_references_take_postman_forms() {
        assert_eq!(
            test_of("status == 201").as_deref(),
            Some("pm.response.to.have.status(201);")
        );
        assert_eq!(
            test_of(r#"body.items[0].sku == "${sku}""#).as_deref(),
            Some(
                r#"pm.expect(pm.response.json().items[0].sku).to.eql(pm.environment.get("sku"));"#
            )
        );
        assert_eq!(
            test_of(r#"body.name == "Rex""#).as_deref(),
            Some(r#"pm.expect(pm.response.json().name).to.eql("Rex");"#)
        );
        assert_eq!(
            test_of("body.total > 0").as_deref(),
            Some("pm.expect(pm.response.json().total).to.be.above(0);")
        );
        assert_eq!(
            test_of("body.items is array").as_deref(),
            Some(r#"pm.expect(pm.response.json().items).to.be.a("array");"#)
        );
        assert_eq!(
            test_of(r#"headers["X-Id"] exists"#).as_deref(),
            Some(r#"pm.response.to.have.header("X-Id");"#)
        );
        assert_eq!(test_of("len(body.items) > 0"), None);
        assert_eq!(
            references("${base_url}/x/${UUID}"),
            "{{base_url}}/x/{{$guid}}"
        );
    }
}
