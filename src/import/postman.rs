//! `testmesh import postman COLLECTION`: a Postman collection (format v2.0 or v2.1) as flows,
//! one per folder (requests outside folders make a flow named after the collection). Collection
//! and folder variables become the flow's `env`; auth (bearer, basic, apikey), inherited from
//! folder or collection, becomes the step's `auth`; `{{name}}` becomes `${name}` and Postman's
//! dynamic values (`{{$guid}}`, `{{$timestamp}}`…) our built-ins. Script lines are translated one
//! by one (`postman_script`); a line that has no translation stays as a
//! comment on the step and is reported.

use std::path::Path;

use serde_json::{Map, Value, json};

use super::names::UniqueNames;
use super::postman_script::{PreRequest, TestLine, pre_request_line, test_line};
use super::{ImportError, Imported, ImportedFlow, ImportedStep, read_document};

/// Postman's dynamic variables that have a built-in of ours.
const DYNAMIC: &[(&str, &str)] = &[
    ("$guid", "UUID"),
    ("$randomUUID", "UUID"),
    ("$timestamp", "TIMESTAMP"),
    ("$isoTimestamp", "ISO_TIMESTAMP"),
    ("$randomInt", "RANDOM_INT"),
];

/// What a folder passes on to the requests and folders inside it.
#[derive(Clone)]
struct Inherited {
    /// The folder path, as places in messages show it (`Collection > Folder`).
    place: String,
    auth: Option<Value>,
    env: Map<String, Value>,
}

/// Translates a collection file.
pub fn import(path: &Path) -> Result<Imported, ImportError> {
    let name = path.display().to_string();
    let collection = read_document(path)?.value;
    let schema = collection
        .pointer("/info/schema")
        .and_then(Value::as_str)
        .unwrap_or("");
    let Some(items) = collection.get("item").and_then(Value::as_array) else {
        return Err(ImportError::whole(
            &name,
            "not a Postman collection: no `item` list (export the collection as v2.1)",
        ));
    };
    if !schema.contains("/collection/v2.") {
        let found = if schema.is_empty() {
            "no info.schema".to_string()
        } else {
            format!("info.schema {schema:?}")
        };
        return Err(ImportError::at(
            &name,
            "info.schema",
            format!("{found}: only Postman collections v2.0 and v2.1 are read"),
        ));
    }
    let collection_name = collection
        .pointer("/info/name")
        .and_then(Value::as_str)
        .unwrap_or("Postman collection")
        .to_string();
    let mut imported = Imported::default();
    let mut top = Inherited {
        place: collection_name.clone(),
        auth: None,
        env: Map::new(),
    };
    apply_folder_fields(&collection, &mut top, &mut imported);
    let mut loose = ImportedFlow {
        name: collection_name.clone(),
        description: description_of(&collection["info"]),
        ..ImportedFlow::default()
    };
    let mut loose_ids = UniqueNames::default();
    for (index, item) in items.iter().enumerate() {
        if item.get("item").is_some() {
            folder(item, &top, &mut imported)?;
        } else {
            let step = request_step(
                item,
                &top,
                &mut loose_ids,
                &mut loose.env,
                &mut imported,
                &name,
                index,
            )?;
            loose.steps.push(step);
        }
    }
    if !loose.steps.is_empty() {
        let mut env = top.env.clone();
        env.append(&mut loose.env);
        loose.env = env;
        imported.flows.insert(0, loose);
    }
    Ok(imported)
}

/// A folder's flow (when it holds requests), then the flows of its sub-folders.
fn folder(item: &Value, parent: &Inherited, imported: &mut Imported) -> Result<(), ImportError> {
    let folder_name = item["name"].as_str().unwrap_or("folder");
    let mut inherited = parent.clone();
    inherited.place = format!("{} > {folder_name}", parent.place);
    apply_folder_fields(item, &mut inherited, imported);
    let mut flow = ImportedFlow {
        name: inherited.place.clone(),
        description: description_of(item),
        ..ImportedFlow::default()
    };
    let mut ids = UniqueNames::default();
    let mut subfolders = Vec::new();
    for (index, child) in item["item"].as_array().into_iter().flatten().enumerate() {
        if child.get("item").is_some() {
            subfolders.push(child);
        } else {
            let step = request_step(
                child,
                &inherited,
                &mut ids,
                &mut flow.env,
                imported,
                &inherited.place,
                index,
            )?;
            flow.steps.push(step);
        }
    }
    if !flow.steps.is_empty() {
        let mut env = inherited.env.clone();
        env.append(&mut flow.env);
        flow.env = env;
        imported.flows.push(flow);
    }
    for child in subfolders {
        folder(child, &inherited, imported)?;
    }
    Ok(())
}

/// A collection's or folder's variables, auth and scripts, applied to what it passes on.
fn apply_folder_fields(item: &Value, inherited: &mut Inherited, imported: &mut Imported) {
    for variable in item["variable"].as_array().into_iter().flatten() {
        if variable["disabled"].as_bool() == Some(true) {
            continue;
        }
        if let Some(key) = variable["key"].as_str() {
            let value = scalar_text(&variable["value"]);
            let value = references(
                &value,
                &format!("{} variable {key}", inherited.place),
                imported,
            );
            inherited.env.insert(key.to_string(), Value::String(value));
        }
    }
    if let Some(auth) = item
        .get("auth")
        .filter(|auth| !auth.is_null() && auth["type"] != "inherit")
    {
        inherited.auth = Some(auth.clone());
    }
    for event in item["event"].as_array().into_iter().flatten() {
        let listen = event["listen"].as_str().unwrap_or("script");
        for (number, line) in script_lines(event).iter().enumerate() {
            if listen == "prerequest"
                && let PreRequest::Value(key, value) = pre_request_line(line)
            {
                let value = references(&value, &inherited.place, imported);
                inherited.env.insert(key, Value::String(value));
                continue;
            }
            if !super::postman_script::is_structure(line) {
                imported.skip(
                    format!("{} ({listen} script, line {})", inherited.place, number + 1),
                    line.trim(),
                );
            }
        }
    }
}

/// One request as a step.
fn request_step(
    item: &Value,
    inherited: &Inherited,
    ids: &mut UniqueNames,
    flow_env: &mut Map<String, Value>,
    imported: &mut Imported,
    file: &str,
    index: usize,
) -> Result<ImportedStep, ImportError> {
    let request_name = item["name"].as_str().unwrap_or("request");
    let place = format!("{} > {request_name}", inherited.place);
    let request = match &item["request"] {
        Value::Object(request) => Value::Object(request.clone()),
        Value::String(url) => json!({"url": url}),
        _ => {
            return Err(ImportError::at(
                file,
                &format!("item {index} ({request_name})"),
                "neither a folder (`item`) nor a request (`request`)",
            ));
        }
    };
    let mut config = Map::new();
    config.insert(
        "method".into(),
        Value::String(
            request["method"]
                .as_str()
                .unwrap_or("GET")
                .to_ascii_uppercase(),
        ),
    );
    let raw_url = match &request["url"] {
        Value::String(url) => url.clone(),
        Value::Object(url) => url.get("raw").map(scalar_text).unwrap_or_default(),
        _ => String::new(),
    };
    if raw_url.is_empty() {
        return Err(ImportError::at(file, &place, "the request has no URL"));
    }
    config.insert(
        "url".into(),
        Value::String(references(&raw_url, &format!("{place} url"), imported)),
    );
    let mut headers = Map::new();
    for header in request["header"].as_array().into_iter().flatten() {
        if header["disabled"].as_bool() == Some(true) {
            continue;
        }
        if let Some(key) = header["key"].as_str() {
            let value = references(
                &scalar_text(&header["value"]),
                &format!("{place} header {key}"),
                imported,
            );
            headers.insert(key.to_string(), Value::String(value));
        }
    }
    if !headers.is_empty() {
        config.insert("headers".into(), Value::Object(headers));
    }
    let auth = match request.get("auth").filter(|auth| !auth.is_null()) {
        Some(auth) if auth["type"] == "inherit" => inherited.auth.clone(),
        Some(auth) => Some(auth.clone()),
        None => inherited.auth.clone(),
    };
    if let Some(auth) = auth
        && let Some(auth) = translate_auth(&auth, &place, imported)
    {
        config.insert("auth".into(), auth);
    }
    body(&request["body"], &mut config, &place, imported);
    let mut step = Map::new();
    step.insert(
        "id".into(),
        Value::String(ids.take(request_name, "request")),
    );
    step.insert("name".into(), Value::String(request_name.to_string()));
    if let Some(description) = description_of(&request) {
        step.insert("description".into(), Value::String(description));
    }
    step.insert("action".into(), Value::String("http_request".into()));
    step.insert("config".into(), Value::Object(config));
    let mut assertions = Vec::new();
    let mut output = Map::new();
    let mut comments = Vec::new();
    for event in item["event"].as_array().into_iter().flatten() {
        let listen = event["listen"].as_str().unwrap_or("script");
        let mut aliases = Vec::new();
        for (number, line) in script_lines(event).iter().enumerate() {
            let untranslated = if listen == "prerequest" {
                match pre_request_line(line) {
                    PreRequest::Value(key, value) => {
                        let value = references(&value, &place, imported);
                        flow_env.insert(key, Value::String(value));
                        false
                    }
                    PreRequest::Structure => false,
                    PreRequest::Untranslated => true,
                }
            } else {
                match test_line(line, &mut aliases) {
                    TestLine::Assertion(expression) => {
                        assertions.push(Value::String(expression));
                        false
                    }
                    TestLine::Capture(variable, path) => {
                        output.insert(variable, Value::String(path));
                        false
                    }
                    TestLine::Structure => false,
                    TestLine::Untranslated => true,
                }
            };
            if untranslated {
                comments.push(format!("{listen}: {}", line.trim()));
                imported.skip(
                    format!("{place} ({listen} script, line {})", number + 1),
                    line.trim(),
                );
            }
        }
    }
    if !assertions.is_empty() {
        step.insert("assert".into(), Value::Array(assertions));
    }
    if !output.is_empty() {
        step.insert("output".into(), Value::Object(output));
    }
    Ok(ImportedStep { comments, step })
}

/// The lines of an event's script (`exec` is a list of lines or one text).
fn script_lines(event: &Value) -> Vec<String> {
    match &event["script"]["exec"] {
        Value::Array(lines) => lines
            .iter()
            .filter_map(Value::as_str)
            .flat_map(str::lines)
            .map(str::to_string)
            .collect(),
        Value::String(text) => text.lines().map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

/// A body: raw JSON as a JSON body, raw text as text, urlencoded as `form`; form-data, files
/// and GraphQL are reported.
fn body(body: &Value, config: &mut Map<String, Value>, place: &str, imported: &mut Imported) {
    let mode = body["mode"].as_str().unwrap_or("");
    match mode {
        "" => {}
        "raw" => {
            let raw = scalar_text(&body["raw"]);
            if raw.trim().is_empty() {
                return;
            }
            let value = match serde_json::from_str::<Value>(&raw) {
                Ok(json @ (Value::Object(_) | Value::Array(_))) => {
                    convert_strings(json, &format!("{place} body"), imported)
                }
                _ => Value::String(references(&raw, &format!("{place} body"), imported)),
            };
            config.insert("body".into(), value);
        }
        "urlencoded" => {
            let mut form = Map::new();
            for pair in body["urlencoded"].as_array().into_iter().flatten() {
                if pair["disabled"].as_bool() == Some(true) {
                    continue;
                }
                if let Some(key) = pair["key"].as_str() {
                    let value = references(
                        &scalar_text(&pair["value"]),
                        &format!("{place} body {key}"),
                        imported,
                    );
                    form.insert(key.to_string(), Value::String(value));
                }
            }
            config.insert("form".into(), Value::Object(form));
        }
        other => imported.skip(
            format!("{place} body"),
            format!("a {other} body, not translated"),
        ),
    }
}

/// Postman's auth block as ours.
fn translate_auth(auth: &Value, place: &str, imported: &mut Imported) -> Option<Value> {
    let auth_type = auth["type"].as_str().unwrap_or("");
    let field = |key: &str| -> String {
        let found = match &auth[auth_type] {
            Value::Array(pairs) => pairs
                .iter()
                .find(|pair| pair["key"] == key)
                .map(|pair| scalar_text(&pair["value"])),
            Value::Object(map) => map.get(key).map(scalar_text),
            _ => None,
        };
        found.unwrap_or_default()
    };
    let at = format!("{place} auth");
    match auth_type {
        "noauth" | "" => None,
        "bearer" => {
            Some(json!({"type": "bearer", "token": references(&field("token"), &at, imported)}))
        }
        "basic" => Some(json!({
            "type": "basic",
            "username": references(&field("username"), &at, imported),
            "password": references(&field("password"), &at, imported),
        })),
        "apikey" => {
            let location = if field("in") == "query" {
                "query"
            } else {
                "header"
            };
            let name = field("key");
            Some(json!({
                "type": "api_key",
                "name": if name.is_empty() { "X-API-Key".to_string() } else { name },
                "key": references(&field("value"), &at, imported),
                "location": location,
            }))
        }
        other => {
            imported.skip(at, format!("{other} auth, not translated"));
            None
        }
    }
}

/// `{{name}}` as `${name}`, and Postman's dynamic values as our built-ins; an unknown dynamic
/// value is kept and reported.
pub fn references(text: &str, place: &str, imported: &mut Imported) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(length) = rest[start + 2..].find("}}") else {
            break;
        };
        out.push_str(&rest[..start]);
        let name = rest[start + 2..start + 2 + length].trim();
        if let Some(dynamic) = name.strip_prefix('$') {
            match DYNAMIC.iter().find(|(postman, _)| postman[1..] == *dynamic) {
                Some((_, ours)) => out.push_str(&format!("${{{ours}}}")),
                None => {
                    imported.skip(
                        place,
                        format!("{{{{{name}}}}} (a Postman dynamic value we have no built-in for: ${{RANDOM_STRING}} is sent)"),
                    );
                    out.push_str("${RANDOM_STRING}");
                }
            }
        } else {
            out.push_str(&format!("${{{name}}}"));
        }
        rest = &rest[start + 2 + length + 2..];
    }
    out.push_str(rest);
    out
}

fn convert_strings(value: Value, place: &str, imported: &mut Imported) -> Value {
    match value {
        Value::String(text) => Value::String(references(&text, place, imported)),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|item| convert_strings(item, place, imported))
                .collect(),
        ),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, item)| (key, convert_strings(item, place, imported)))
                .collect(),
        ),
        other => other,
    }
}

/// A value Postman writes as text, a number or a boolean, as text.
fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A `description`, written as text or as `{content}`.
fn description_of(item: &Value) -> Option<String> {
    match &item["description"] {
        Value::String(text) if !text.trim().is_empty() => Some(text.trim().to_string()),
        Value::Object(map) => map
            .get("content")
            .and_then(Value::as_str)
            .map(|text| text.trim().to_string()),
        _ => None,
    }
}
