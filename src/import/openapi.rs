//! `testmesh import openapi SPEC`: an OpenAPI 3.0 or 3.1 document (JSON or YAML) as flows, one
//! per tag (per path for untagged operations). Each operation is an `http_request` step: its
//! URL under `${base_url}`, path and required query and header parameters filled from their
//! examples, a body from the request's examples or, when there are none, made from the
//! schema's types; it asserts the documented success status and checks the response against
//! the documented schema through `schema:`. Auth comes from `securitySchemes`, its secrets as
//! variables. The document is read as plain data (no OpenAPI model crate reads both 3.0 and
//! 3.1); every local `$ref` is checked before anything is made, so a broken one is an error
//! naming its place.

use std::collections::HashSet;
use std::path::Path;

use indexmap::IndexMap;
use serde_json::{Map, Value, json};

use super::names::{UniqueNames, snake_case};
use super::{ImportError, Imported, ImportedFlow, ImportedStep, read_document};
use crate::flow::positions::Positions;
use crate::flow::source::pointer_segment;

/// The HTTP methods a path item may hold, in the order steps are made.
const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// How deep examples are made from nested or recursive schemas.
const EXAMPLE_DEPTH: usize = 8;

/// Keywords of OpenAPI schemas that JSON Schema 2020-12 has not (or reads differently).
const OPENAPI_ONLY: &[&str] = &[
    "nullable",
    "example",
    "discriminator",
    "xml",
    "externalDocs",
];

/// Where component schemas live, and where the step schemas keep them.
const COMPONENT_SCHEMAS: &str = "#/components/schemas/";

/// The document being read, with the positions of its nodes for messages.
struct Document<'a> {
    root: &'a Value,
    file: String,
    positions: Positions,
}

impl Document<'_> {
    /// A place as messages show it: the JSON pointer and its line and column.
    fn place(&self, pointer: &str) -> String {
        match self.positions.find(pointer) {
            Some(position) => format!("{pointer} (line {position})"),
            None => pointer.to_string(),
        }
    }

    /// The value `$ref` chains lead to (checked beforehand, so a broken one gives null).
    fn resolve<'v>(&'v self, value: &'v Value) -> &'v Value {
        let mut value = value;
        for _ in 0..32 {
            match value.get("$ref").and_then(Value::as_str) {
                Some(reference) => {
                    value = reference
                        .strip_prefix('#')
                        .and_then(|pointer| self.root.pointer(pointer))
                        .unwrap_or(&Value::Null);
                }
                None => return value,
            }
        }
        &Value::Null
    }

    /// Every `$ref` of the document must be local and lead somewhere.
    fn check_references(&self, value: &Value, pointer: &str) -> Result<(), ImportError> {
        match value {
            Value::Object(map) => {
                if let Some(reference) = map.get("$ref") {
                    let here = format!("{pointer}/$ref");
                    let Some(text) = reference.as_str() else {
                        return Err(ImportError::at(
                            &self.file,
                            &self.place(&here),
                            "$ref must be text",
                        ));
                    };
                    let Some(target) = text.strip_prefix('#') else {
                        return Err(ImportError::at(
                            &self.file,
                            &self.place(&here),
                            format!(
                                "$ref {text:?} points into another file: bundle the document into one file first"
                            ),
                        ));
                    };
                    if self.root.pointer(target).is_none() {
                        return Err(ImportError::at(
                            &self.file,
                            &self.place(&here),
                            format!("broken $ref {text:?}: the document has nothing there"),
                        ));
                    }
                }
                for (key, item) in map {
                    self.check_references(item, &format!("{pointer}/{}", pointer_segment(key)))?;
                }
            }
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    self.check_references(item, &format!("{pointer}/{index}"))?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Translates an OpenAPI document.
pub fn import(path: &Path) -> Result<Imported, ImportError> {
    let source = read_document(path)?;
    let document = Document {
        root: &source.value,
        file: path.display().to_string(),
        positions: source.positions,
    };
    let root = document.root;
    if !root.is_object() {
        return Err(ImportError::whole(
            &document.file,
            "not an OpenAPI document: the top level is not a map",
        ));
    }
    // `openapi: 3.1` without quotes is a number in YAML; it still names the version.
    let version_text = |version: &Value| match version {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    match (root.get("openapi"), root.get("swagger")) {
        (Some(version), _)
            if ["3.0", "3.1"]
                .iter()
                .any(|known| version_text(version).starts_with(known)) => {}
        (Some(version), _) => {
            return Err(ImportError::at(
                &document.file,
                &document.place("/openapi"),
                format!("OpenAPI version {version} is not supported: 3.0 and 3.1 are"),
            ));
        }
        (None, Some(version)) => {
            return Err(ImportError::at(
                &document.file,
                &document.place("/swagger"),
                format!(
                    "Swagger {version} is not supported: convert the document to OpenAPI 3 first"
                ),
            ));
        }
        (None, None) => {
            return Err(ImportError::whole(
                &document.file,
                "not an OpenAPI document: no `openapi` version field",
            ));
        }
    }
    let Some(paths) = root.get("paths").and_then(Value::as_object) else {
        return Err(ImportError::at(
            &document.file,
            "/paths",
            "the document has no `paths` map",
        ));
    };
    document.check_references(root, "")?;
    let mut imported = Imported::default();
    let schemes = security_schemes(&document, &mut imported);
    let mut groups: IndexMap<String, (Vec<ImportedStep>, UniqueNames)> = IndexMap::new();
    for (route, item) in paths {
        let item = document.resolve(item);
        let item_pointer = format!("/paths/{}", pointer_segment(route));
        for method in METHODS {
            let Some(operation) = item.get(*method) else {
                continue;
            };
            let group = operation["tags"][0].as_str().unwrap_or(route).to_string();
            let (steps, ids) = groups
                .entry(group)
                .or_insert_with(|| (Vec::new(), UniqueNames::default()));
            let place = format!("{item_pointer}/{method}");
            let context = Operation {
                document: &document,
                route,
                method,
                item,
                operation,
                place: &place,
            };
            steps.push(context.step(ids, &schemes, &mut imported));
        }
    }
    let title = root
        .pointer("/info/title")
        .and_then(Value::as_str)
        .unwrap_or("API");
    let server = server_url(root);
    let credentials: Vec<String> = schemes
        .values()
        .flat_map(|scheme| scheme.variables.iter().cloned())
        .collect();
    for (group, (steps, _)) in groups {
        let mut description = format!(
            "Imported from the OpenAPI document of {title}. Give the API's address as base_url"
        );
        if let Some(server) = &server {
            description.push_str(&format!(" (the document names {server})"));
        }
        if !credentials.is_empty() {
            description.push_str(&format!(
                ", and the credentials as {}",
                credentials.join(", ")
            ));
        }
        description.push('.');
        imported.flows.push(ImportedFlow {
            name: format!("{title}: {group}"),
            description: Some(description),
            tags: vec![snake_case(title)]
                .into_iter()
                .filter(|tag| !tag.is_empty())
                .collect(),
            steps,
            ..ImportedFlow::default()
        });
    }
    Ok(imported)
}

/// The first server's URL with its variables' defaults filled in.
fn server_url(root: &Value) -> Option<String> {
    let server = root.pointer("/servers/0")?;
    let mut url = server["url"].as_str()?.to_string();
    for (name, variable) in server["variables"].as_object().into_iter().flatten() {
        if let Some(default) = variable["default"].as_str() {
            url = url.replace(&format!("{{{name}}}"), default);
        }
    }
    Some(url)
}

/// A security scheme as an `auth` block, and the variables it asks for.
struct Scheme {
    auth: Value,
    variables: Vec<String>,
}

fn security_schemes(document: &Document<'_>, imported: &mut Imported) -> IndexMap<String, Scheme> {
    let mut schemes = IndexMap::new();
    let Some(declared) = document
        .root
        .pointer("/components/securitySchemes")
        .and_then(Value::as_object)
    else {
        return schemes;
    };
    for (name, scheme) in declared {
        let scheme = document.resolve(scheme);
        let base = snake_case(name);
        let place = format!("/components/securitySchemes/{}", pointer_segment(name));
        let kind = scheme["type"].as_str().unwrap_or("");
        let http_scheme = scheme["scheme"].as_str().unwrap_or("").to_ascii_lowercase();
        let token = format!("{}_token", base.trim_end_matches("_token"));
        let translated = match (kind, http_scheme.as_str()) {
            ("http", "bearer") => Some(Scheme {
                auth: json!({"type": "bearer", "token": format!("${{{token}}}")}),
                variables: vec![token],
            }),
            ("http", "basic") => {
                let (username, password) = (format!("{base}_username"), format!("{base}_password"));
                Some(Scheme {
                    auth: json!({"type": "basic", "username": format!("${{{username}}}"), "password": format!("${{{password}}}")}),
                    variables: vec![username, password],
                })
            }
            ("apiKey", _) if matches!(scheme["in"].as_str(), Some("header" | "query")) => {
                let key = format!("{}_key", base.trim_end_matches("_key"));
                Some(Scheme {
                    auth: json!({
                        "type": "api_key",
                        "name": scheme["name"].as_str().unwrap_or("X-API-Key"),
                        "key": format!("${{{key}}}"),
                        "location": scheme["in"],
                    }),
                    variables: vec![key],
                })
            }
            ("oauth2" | "openIdConnect", _) => {
                imported.skip(
                    document.place(&place),
                    format!("{kind}: the token is not fetched; steps send ${{{token}}} as a bearer token"),
                );
                Some(Scheme {
                    auth: json!({"type": "bearer", "token": format!("${{{token}}}")}),
                    variables: vec![token],
                })
            }
            _ => {
                imported.skip(
                    document.place(&place),
                    format!("a {kind} {http_scheme} security scheme, not translated"),
                );
                None
            }
        };
        if let Some(translated) = translated {
            schemes.insert(name.clone(), translated);
        }
    }
    schemes
}

/// One operation, with what it needs from the document around it.
struct Operation<'a> {
    document: &'a Document<'a>,
    route: &'a str,
    method: &'a str,
    item: &'a Value,
    operation: &'a Value,
    place: &'a str,
}

impl Operation<'_> {
    fn step(
        &self,
        ids: &mut UniqueNames,
        schemes: &IndexMap<String, Scheme>,
        imported: &mut Imported,
    ) -> ImportedStep {
        let document = self.document;
        let method = self.method.to_ascii_uppercase();
        let fallback = format!("{} {}", self.method, self.route);
        let id = ids.take(
            self.operation["operationId"].as_str().unwrap_or(&fallback),
            "operation",
        );
        let mut config = Map::new();
        config.insert("method".into(), Value::String(method.clone()));
        let mut path = self.route.to_string();
        let mut params = Map::new();
        let mut headers = Map::new();
        for (name, location, parameter) in self.parameters() {
            let value = parameter_example(document, parameter);
            let required = parameter["required"].as_bool() == Some(true);
            match location.as_str() {
                "path" => path = path.replace(&format!("{{{name}}}"), &text_of(&value)),
                "query" if required => {
                    params.insert(name, value);
                }
                "header" if required => {
                    headers.insert(name, Value::String(text_of(&value)));
                }
                "cookie" if required => imported.skip(
                    document.place(self.place),
                    format!("cookie parameter {name}, not translated"),
                ),
                _ => {}
            }
        }
        config.insert("url".into(), Value::String(format!("${{base_url}}{path}")));
        if !params.is_empty() {
            config.insert("params".into(), Value::Object(params));
        }
        if !headers.is_empty() {
            config.insert("headers".into(), Value::Object(headers));
        }
        let security = self
            .operation
            .get("security")
            .or_else(|| document.root.get("security"))
            .and_then(|security| security.get(0))
            .and_then(Value::as_object);
        if let Some(requirement) = security {
            let mut names = requirement.keys();
            if let Some(scheme) = names.next().and_then(|name| schemes.get(name)) {
                config.insert("auth".into(), scheme.auth.clone());
            }
            for other in names {
                imported.skip(
                    document.place(self.place),
                    format!("security scheme {other} required as well, not translated"),
                );
            }
        }
        self.request_body(&mut config, imported);
        let mut step = Map::new();
        step.insert("id".into(), Value::String(id));
        let name = self.operation["summary"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("{method} {}", self.route));
        step.insert("name".into(), Value::String(name));
        step.insert("action".into(), Value::String("http_request".into()));
        step.insert("config".into(), Value::Object(config));
        match self.success() {
            Some((status, response)) => {
                let assertion = match status.parse::<u16>() {
                    Ok(code) => format!("status == {code}"),
                    Err(_) => "status >= 200 && status < 300".to_string(),
                };
                step.insert("assert".into(), json!([assertion]));
                if let Some(schema) =
                    json_media(document.resolve(response)).and_then(|media| media.get("schema"))
                {
                    step.insert("schema".into(), step_schema(document, schema));
                }
            }
            None => imported.skip(
                document.place(&format!("{}/responses", self.place)),
                "no documented 2xx status: the step asserts nothing",
            ),
        }
        ImportedStep {
            comments: Vec::new(),
            step,
        }
    }

    /// The path item's and the operation's parameters (the operation's win), as name,
    /// location and definition.
    fn parameters(&self) -> Vec<(String, String, &Value)> {
        let mut found: IndexMap<(String, String), &Value> = IndexMap::new();
        for list in [&self.item["parameters"], &self.operation["parameters"]] {
            for parameter in list.as_array().into_iter().flatten() {
                let parameter = self.document.resolve(parameter);
                if let (Some(name), Some(location)) =
                    (parameter["name"].as_str(), parameter["in"].as_str())
                {
                    found.insert((name.to_string(), location.to_string()), parameter);
                }
            }
        }
        found
            .into_iter()
            .map(|((name, location), parameter)| (name, location, parameter))
            .collect()
    }

    fn request_body(&self, config: &mut Map<String, Value>, imported: &mut Imported) {
        let document = self.document;
        let body = document.resolve(&self.operation["requestBody"]);
        let Some(content) = body.get("content").and_then(Value::as_object) else {
            return;
        };
        if let Some(media) = json_media(body) {
            config.insert("body".into(), media_example(document, media));
        } else if let Some(media) = content.get("application/x-www-form-urlencoded") {
            config.insert("form".into(), media_example(document, media));
        } else if let Some(kind) = content.keys().next() {
            imported.skip(
                document.place(&format!("{}/requestBody", self.place)),
                format!("a {kind} body, not translated"),
            );
        }
    }

    /// The documented success: the first 2xx status (or `2XX`) and its response.
    fn success(&self) -> Option<(String, &Value)> {
        let responses = self.operation["responses"].as_object()?;
        let mut codes: Vec<&String> = responses
            .keys()
            .filter(|code| code.starts_with('2'))
            .collect();
        codes.sort();
        let code = codes.first()?;
        Some(((*code).clone(), &responses[*code]))
    }
}

/// The JSON media type of a request body or response (`application/json`, `…+json`).
fn json_media(holder: &Value) -> Option<&Value> {
    let content = holder.get("content")?.as_object()?;
    content
        .iter()
        .find(|(kind, _)| {
            let kind = kind.to_ascii_lowercase();
            kind.starts_with("application/json") || kind.contains("+json")
        })
        .map(|(_, media)| media)
}

/// A media type's example: `example`, the first of `examples`, or one made from the schema.
fn media_example(document: &Document<'_>, media: &Value) -> Value {
    if let Some(example) = media.get("example") {
        return example.clone();
    }
    if let Some(first) = media
        .get("examples")
        .and_then(Value::as_object)
        .and_then(|examples| examples.values().next())
    {
        return document.resolve(first)["value"].clone();
    }
    example_of(document, &media["schema"], 0)
}

fn parameter_example(document: &Document<'_>, parameter: &Value) -> Value {
    if parameter.get("example").is_some() || parameter.get("examples").is_some() {
        return media_example(document, parameter);
    }
    example_of(document, &parameter["schema"], 0)
}

/// A value made from a schema: its example, default, const or first enum value, else one of
/// the right type (objects with every property that is not read-only).
fn example_of(document: &Document<'_>, schema: &Value, depth: usize) -> Value {
    let schema = document.resolve(schema);
    if depth > EXAMPLE_DEPTH || !schema.is_object() {
        return Value::Null;
    }
    for key in ["example", "default", "const"] {
        if let Some(value) = schema.get(key) {
            return value.clone();
        }
    }
    for key in ["examples", "enum"] {
        if let Some(first) = schema.get(key).and_then(|list| list.get(0)) {
            return first.clone();
        }
    }
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        let mut merged = Map::new();
        for part in parts {
            match example_of(document, part, depth + 1) {
                Value::Object(map) => merged.extend(map),
                other if parts.len() == 1 => return other,
                _ => {}
            }
        }
        return Value::Object(merged);
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(first) = schema.get(key).and_then(|list| list.get(0)) {
            return example_of(document, first, depth + 1);
        }
    }
    let kind = match &schema["type"] {
        Value::String(kind) => kind.as_str(),
        Value::Array(kinds) => kinds
            .iter()
            .filter_map(Value::as_str)
            .find(|kind| *kind != "null")
            .unwrap_or("null"),
        _ if schema.get("properties").is_some() => "object",
        _ => "",
    };
    match kind {
        "object" => {
            let mut object = Map::new();
            for (name, property) in schema["properties"].as_object().into_iter().flatten() {
                if document.resolve(property)["readOnly"].as_bool() != Some(true) {
                    object.insert(name.clone(), example_of(document, property, depth + 1));
                }
            }
            Value::Object(object)
        }
        "array" => json!([example_of(document, &schema["items"], depth + 1)]),
        "string" => Value::String(
            match schema["format"].as_str().unwrap_or("") {
                "date-time" => "2024-01-01T00:00:00Z",
                "date" => "2024-01-01",
                "email" => "user@example.com",
                "uuid" => "00000000-0000-4000-8000-000000000000",
                "uri" | "url" => "https://example.com",
                _ => "string",
            }
            .to_string(),
        ),
        "integer" | "number" => schema.get("minimum").cloned().unwrap_or(json!(1)),
        "boolean" => Value::Bool(true),
        _ => Value::Null,
    }
}

/// A scalar as text for a path or header.
fn text_of(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => "1".to_string(),
        other => other.to_string(),
    }
}

/// A response schema as a JSON Schema 2020-12 document: OpenAPI 3.0's `nullable` and boolean
/// `exclusiveMinimum`/`exclusiveMaximum` rewritten, OpenAPI-only keywords dropped, and the
/// component schemas it refers to (transitively) kept under `$defs`.
fn step_schema(document: &Document<'_>, schema: &Value) -> Value {
    let mut wanted = Vec::new();
    let mut converted = convert_schema(document, schema, &mut wanted, 0);
    let mut defs = Map::new();
    let mut done = HashSet::new();
    while let Some(name) = wanted.pop() {
        if !done.insert(name.clone()) {
            continue;
        }
        let component = document
            .root
            .pointer(&format!("/components/schemas/{}", pointer_segment(&name)))
            .unwrap_or(&Value::Null);
        defs.insert(name, convert_schema(document, component, &mut wanted, 0));
    }
    if !defs.is_empty() {
        defs.sort_keys();
        match &mut converted {
            Value::Object(map) => {
                map.insert("$defs".into(), Value::Object(defs));
            }
            other => *other = json!({"allOf": [other.clone()], "$defs": defs}),
        }
    }
    converted
}

fn convert_schema(
    document: &Document<'_>,
    schema: &Value,
    wanted: &mut Vec<String>,
    depth: usize,
) -> Value {
    let Value::Object(map) = schema else {
        return schema.clone();
    };
    if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
        if let Some(name) = reference.strip_prefix(COMPONENT_SCHEMAS) {
            let name = name.replace("~1", "/").replace("~0", "~");
            wanted.push(name.clone());
            return json!({"$ref": format!("#/$defs/{}", pointer_segment(&name))});
        }
        if depth > EXAMPLE_DEPTH {
            return json!({});
        }
        return convert_schema(document, document.resolve(schema), wanted, depth + 1);
    }
    let mut out = Map::new();
    for (key, value) in map {
        if OPENAPI_ONLY.contains(&key.as_str()) {
            continue;
        }
        let value = match key.as_str() {
            "properties" | "patternProperties" | "dependentSchemas" | "$defs" => Value::Object(
                value
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(name, item)| {
                        (name.clone(), convert_schema(document, item, wanted, depth))
                    })
                    .collect(),
            ),
            "items"
            | "additionalProperties"
            | "not"
            | "contains"
            | "propertyNames"
            | "if"
            | "then"
            | "else" => convert_schema(document, value, wanted, depth),
            "allOf" | "anyOf" | "oneOf" | "prefixItems" => Value::Array(
                value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|item| convert_schema(document, item, wanted, depth))
                    .collect(),
            ),
            "exclusiveMinimum" | "exclusiveMaximum" if value.is_boolean() => continue,
            _ => value.clone(),
        };
        out.insert(key.clone(), value);
    }
    for (flag, bound) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        if map.get(flag) == Some(&Value::Bool(true))
            && let Some(limit) = out.remove(bound)
        {
            out.insert(flag.into(), limit);
        }
    }
    if let Some(Value::Array(required)) = out.get("required") {
        let write_only: HashSet<&str> = map["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, property)| document.resolve(property)["writeOnly"].as_bool() == Some(true))
            .map(|(name, _)| name.as_str())
            .collect();
        let kept: Vec<Value> = required
            .iter()
            .filter(|name| !name.as_str().is_some_and(|name| write_only.contains(name)))
            .cloned()
            .collect();
        out.insert("required".into(), Value::Array(kept));
    }
    if map.get("nullable") == Some(&Value::Bool(true)) {
        match out.get("type").cloned() {
            Some(Value::String(kind)) => {
                out.insert("type".into(), json!([kind, "null"]));
            }
            _ => return json!({"anyOf": [Value::Object(out), {"type": "null"}]}),
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(root: &Value) -> Document<'_> {
        Document {
            root,
            file: "api.yaml".into(),
            positions: Positions::default(),
        }
    }

    #[test]
    fn openapi_3_0_schemas_become_2020_12_with_defs() {
        let root = json!({"components": {"schemas": {
            "Pet": {"type": "object", "required": ["name", "secret"], "properties": {
                "name": {"type": "string", "nullable": true, "example": "Rex"},
                "secret": {"type": "string", "writeOnly": true},
                "owner": {"$ref": "#/components/schemas/Owner"},
                "age": {"type": "integer", "minimum": 0, "exclusiveMinimum": true}}},
            "Owner": {"type": "object", "properties": {"pets": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}}}}
        }}});
        let doc = document(&root);
        let schema = step_schema(&doc, &json!({"$ref": "#/components/schemas/Pet"}));
        assert_eq!(schema["$ref"], "#/$defs/Pet");
        let pet = &schema["$defs"]["Pet"];
        assert_eq!(
            pet["properties"]["name"],
            json!({"type": ["string", "null"]})
        );
        assert_eq!(pet["required"], json!(["name"]));
        assert_eq!(
            pet["properties"]["age"],
            json!({"type": "integer", "exclusiveMinimum": 0})
        );
        assert_eq!(
            schema["$defs"]["Owner"]["properties"]["pets"]["items"]["$ref"],
            "#/$defs/Pet"
        );
        let validator = jsonschema::draft202012::new(&schema).unwrap();
        assert!(validator.is_valid(&json!({"name": null, "owner": {"pets": [{"name": "Tom"}]}})));
        assert!(!validator.is_valid(&json!({"name": "Rex", "age": 0})));
    }

    #[test]
    fn examples_come_from_examples_then_types() {
        let root = json!({"components": {"schemas": {
            "Base": {"type": "object", "properties": {"id": {"type": "integer", "readOnly": true}, "name": {"type": "string", "example": "Rex"}}},
            "Extra": {"type": "object", "properties": {"born": {"type": "string", "format": "date"}}}
        }}});
        let doc = document(&root);
        let schema = json!({"allOf": [{"$ref": "#/components/schemas/Base"}, {"$ref": "#/components/schemas/Extra"}, {"properties": {"kind": {"oneOf": [{"enum": ["cat", "dog"]}, {"type": "integer"}]}}}]});
        assert_eq!(
            example_of(&doc, &schema, 0),
            json!({"name": "Rex", "born": "2024-01-01", "kind": "cat"})
        );
    }
}
