//! `testmesh import curl 'curl …'`: one command line as one `http_request` step. The line is
//! split as a POSIX shell would (the `shell-words` crate); the options that shape a request
//! (`-X`, `-H`, `-d`/`--data*`, `--json`, `-u`, `--url`, `-G`, `-b`, `-A`, `-e`, `-k`, `-L`,
//! `-m`) are translated and options that only change what curl prints are ignored. Anything
//! else is reported as untranslated.

use serde_json::{Map, Value, json};

use super::names::snake_case;
use super::{ImportError, Imported, ImportedFlow, ImportedStep};

/// Source name in messages.
const SOURCE: &str = "curl";

/// Options that change only what curl prints or how it reports, not the request.
const OUTPUT_ONLY: &[&str] = &[
    "-s",
    "--silent",
    "-S",
    "--show-error",
    "-v",
    "--verbose",
    "-i",
    "--include",
    "-f",
    "--fail",
    "--fail-with-body",
    "--compressed",
    "-#",
    "--progress-bar",
    "-N",
    "--no-buffer",
];

/// Options that take a value and are translated.
const WITH_VALUE: &[&str] = &[
    "-X",
    "--request",
    "-H",
    "--header",
    "-d",
    "--data",
    "--data-raw",
    "--data-binary",
    "--data-ascii",
    "--data-urlencode",
    "--json",
    "-u",
    "--user",
    "--url",
    "-b",
    "--cookie",
    "-A",
    "--user-agent",
    "-e",
    "--referer",
    "-m",
    "--max-time",
];

/// Options that take a value and have no translation: reported with their value.
const UNTRANSLATED_WITH_VALUE: &[&str] = &[
    "-F",
    "--form",
    "--retry",
    "--retry-delay",
    "--retry-max-time",
    "--connect-timeout",
    "-w",
    "--write-out",
    "--cacert",
    "--cert",
    "-E",
    "--key",
    "-x",
    "--proxy",
    "--resolve",
    "-T",
    "--upload-file",
    "--limit-rate",
    "-r",
    "--range",
    "--max-redirs",
    "-D",
    "--dump-header",
    "-c",
    "--cookie-jar",
    "-K",
    "--config",
    "--output-dir",
];

/// Short options that take a value, which curl also accepts glued to the letter (`-XPOST`).
const SHORT_WITH_VALUE: &str = "XHdubAemoFwExTrDcK";

/// What a command line asks for, before it becomes a step.
#[derive(Default)]
struct Request {
    method: Option<String>,
    url: Option<String>,
    headers: Map<String, Value>,
    data: Vec<String>,
    json: Vec<String>,
    user: Option<String>,
    as_query: bool,
    config: Map<String, Value>,
    timeout: Option<String>,
}

/// Translates one curl command line.
pub fn import(command: &str) -> Result<Imported, ImportError> {
    let words = shell_words::split(command).map_err(|err| {
        ImportError::whole(SOURCE, format!("cannot split the command line: {err}"))
    })?;
    let mut words = words.into_iter().peekable();
    if words.peek().is_some_and(|first| first == "curl") {
        words.next();
    }
    let mut imported = Imported::default();
    let mut request = Request::default();
    let mut args: Vec<(String, Option<String>)> = Vec::new();
    while let Some(word) = words.next() {
        let (option, glued) = split_option(&word);
        let Some(option) = option else {
            args.push((String::new(), Some(word)));
            continue;
        };
        if option.starts_with("-")
            && !option.starts_with("--")
            && option.len() > 2
            && glued.is_none()
        {
            for letter in option[1..].chars() {
                args.push((format!("-{letter}"), None));
            }
            continue;
        }
        let takes_value = WITH_VALUE.contains(&option.as_str())
            || UNTRANSLATED_WITH_VALUE.contains(&option.as_str())
            || option == "-o"
            || option == "--output";
        if takes_value {
            let value = match glued {
                Some(value) => value,
                None => words
                    .next()
                    .ok_or_else(|| ImportError::at(SOURCE, &option, "the option needs a value"))?,
            };
            args.push((option, Some(value)));
        } else {
            args.push((option, glued));
        }
    }
    for (option, value) in args {
        apply(&mut request, &mut imported, &option, value)?;
    }
    let url = request
        .url
        .clone()
        .ok_or_else(|| ImportError::whole(SOURCE, "the command names no URL"))?;
    let step = step(request, &url, &mut imported);
    let path = url::Url::parse(&url)
        .map(|parsed| parsed.path().to_string())
        .unwrap_or_else(|_| url.clone());
    let method = step["config"]["method"]
        .as_str()
        .unwrap_or("GET")
        .to_string();
    let mut map = step;
    let id = snake_case(&format!("{method} {path}"));
    let mut ordered = Map::new();
    ordered.insert(
        "id".into(),
        Value::String(if id.is_empty() { "request".into() } else { id }),
    );
    ordered.append(&mut map);
    imported.flows.push(ImportedFlow {
        name: format!("curl {method} {path}"),
        steps: vec![ImportedStep {
            comments: Vec::new(),
            step: ordered,
        }],
        ..ImportedFlow::default()
    });
    Ok(imported)
}

/// `--data=x` as (`--data`, `x`); `-XPOST` as (`-X`, `POST`); `-sSL` as itself, to be split
/// into letters; a word not starting with `-` as no option.
fn split_option(word: &str) -> (Option<String>, Option<String>) {
    if let Some(long) = word.strip_prefix("--") {
        if long.is_empty() {
            return (None, None);
        }
        return match long.split_once('=') {
            Some((name, value)) => (Some(format!("--{name}")), Some(value.to_string())),
            None => (Some(word.to_string()), None),
        };
    }
    let mut letters = word.chars();
    match (letters.next(), letters.next()) {
        (Some('-'), Some(letter)) => {
            let rest: String = letters.collect();
            if SHORT_WITH_VALUE.contains(letter) && !rest.is_empty() {
                (Some(format!("-{letter}")), Some(rest))
            } else {
                (Some(word.to_string()), None)
            }
        }
        _ => (None, None),
    }
}

fn apply(
    request: &mut Request,
    imported: &mut Imported,
    option: &str,
    value: Option<String>,
) -> Result<(), ImportError> {
    let text = value.clone().unwrap_or_default();
    match option {
        "" => {
            if request.url.is_some() {
                imported.skip("curl", format!("a second URL {text}"));
            } else {
                request.url = Some(text);
            }
        }
        "--url" => request.url = Some(text),
        "-X" | "--request" => request.method = Some(text.to_ascii_uppercase()),
        "-H" | "--header" => match text.split_once(':') {
            Some((name, value)) => {
                request.headers.insert(
                    name.trim().to_string(),
                    Value::String(value.trim().to_string()),
                );
            }
            None => imported.skip(format!("curl {option}"), text),
        },
        "-d" | "--data" | "--data-raw" | "--data-binary" | "--data-ascii" => {
            if text.starts_with('@') && option != "--data-raw" {
                imported.skip(
                    format!("curl {option}"),
                    format!("{text} (a body read from a file)"),
                );
            } else {
                request.data.push(text);
            }
        }
        "--data-urlencode" => request.data.push(url_encoded(&text)),
        "--json" => request.json.push(text),
        "-u" | "--user" => request.user = Some(text),
        "-G" | "--get" => request.as_query = true,
        "-b" | "--cookie" => {
            request.headers.insert("Cookie".into(), Value::String(text));
        }
        "-A" | "--user-agent" => {
            request
                .headers
                .insert("User-Agent".into(), Value::String(text));
        }
        "-e" | "--referer" => {
            request
                .headers
                .insert("Referer".into(), Value::String(text));
        }
        "-k" | "--insecure" => {
            request
                .config
                .insert("verify_ssl".into(), Value::Bool(false));
        }
        "-L" | "--location" => {
            request
                .config
                .insert("follow_redirects".into(), Value::Bool(true));
        }
        "-m" | "--max-time" => request.timeout = Some(format!("{text}s")),
        "-o" | "--output" => {}
        other if OUTPUT_ONLY.contains(&other) => {}
        other => imported.skip(
            format!("curl {other}"),
            value.unwrap_or_else(|| "(an option with no translation)".into()),
        ),
    }
    Ok(())
}

/// A `--data-urlencode` value as curl sends it: `name=content` with the content encoded (or the
/// whole value when there is no name).
fn url_encoded(value: &str) -> String {
    let encode =
        |text: &str| url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
    match value.split_once('=') {
        Some((name, content)) => format!("{name}={}", encode(content)),
        None => encode(value),
    }
}

/// The step the request becomes (without its id).
fn step(mut request: Request, url: &str, imported: &mut Imported) -> Map<String, Value> {
    let has_body = !request.data.is_empty() || !request.json.is_empty();
    let method = request.method.clone().unwrap_or_else(|| {
        if has_body && !request.as_query {
            "POST".into()
        } else {
            "GET".into()
        }
    });
    let mut config = Map::new();
    config.insert("method".into(), Value::String(method));
    let mut url = url.to_string();
    if request.as_query && !request.data.is_empty() {
        let separator = if url.contains('?') { '&' } else { '?' };
        url = format!("{url}{separator}{}", request.data.join("&"));
        request.data.clear();
    }
    config.insert("url".into(), Value::String(url));
    if !request.headers.is_empty() {
        config.insert("headers".into(), Value::Object(request.headers.clone()));
    }
    if let Some(user) = &request.user {
        let (username, password) = user.split_once(':').unwrap_or((user, ""));
        config.insert(
            "auth".into(),
            json!({"type": "basic", "username": username, "password": password}),
        );
    }
    if !request.json.is_empty() {
        let text = request.json.join("");
        match serde_json::from_str::<Value>(&text) {
            Ok(value) => {
                config.insert("json".into(), value);
            }
            Err(_) => {
                imported.skip("curl --json", format!("{text} (not JSON: sent as text)"));
                config.insert("body".into(), Value::String(text));
            }
        }
    } else if !request.data.is_empty() {
        let body = body_of(&request.data.join("&"), &request.headers);
        if !request
            .headers
            .keys()
            .any(|name| name.eq_ignore_ascii_case("content-type"))
        {
            let mut headers = match config.remove("headers") {
                Some(Value::Object(headers)) => headers,
                _ => Map::new(),
            };
            headers.insert(
                "Content-Type".into(),
                Value::String("application/x-www-form-urlencoded".into()),
            );
            config.insert("headers".into(), Value::Object(headers));
        }
        config.insert("body".into(), body);
    }
    config.append(&mut request.config);
    let mut step = Map::new();
    step.insert("action".into(), Value::String("http_request".into()));
    step.insert("config".into(), Value::Object(config));
    if let Some(timeout) = request.timeout {
        step.insert("timeout".into(), Value::String(timeout));
    }
    step
}

/// A `-d` body: JSON data as a JSON body when the request says it sends JSON, the text
/// otherwise.
fn body_of(data: &str, headers: &Map<String, Value>) -> Value {
    let says_json = headers.iter().any(|(name, value)| {
        name.eq_ignore_ascii_case("content-type")
            && value
                .as_str()
                .is_some_and(|v| v.to_ascii_lowercase().contains("json"))
    });
    match serde_json::from_str::<Value>(data) {
        Ok(value @ (Value::Object(_) | Value::Array(_))) if says_json => value,
        _ => Value::String(data.to_string()),
    }
}
