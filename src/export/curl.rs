//! `testmesh export curl FLOW`: each `http_request` step as a curl command line, quoted for a
//! POSIX shell by the `shell-words` crate. References (`${base_url}`) are written as they are:
//! fill them in, or let the shell do it. `testmesh import curl` reads the lines back into the
//! same steps.

use serde_json::Value;

use super::{query_pairs, text, with_query};
use crate::flow::model::Step;

/// The command line for one step, or why the step cannot be one.
pub fn command_line(step: &Step) -> Result<String, String> {
    let config = &step.config;
    let mut words: Vec<String> = vec!["curl".into()];
    let method = config
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("GET")
        .to_ascii_uppercase();
    let url = config
        .get("url")
        .and_then(Value::as_str)
        .ok_or("the step has no url")?
        .to_string();
    let mut query = query_pairs(config);
    let mut headers: Vec<(String, String)> = config
        .get("headers")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(name, value)| (name.clone(), text(value)))
        .collect();
    let mut user = None;
    if let Some(auth) = config.get("auth").and_then(Value::as_object) {
        let field = |key: &str| auth.get(key).map(text).unwrap_or_default();
        match field("type").to_ascii_lowercase().as_str() {
            "basic" => user = Some(format!("{}:{}", field("username"), field("password"))),
            "bearer" => {
                headers.push(("Authorization".into(), format!("Bearer {}", field("token"))))
            }
            "api_key" | "apikey" => {
                let name = auth
                    .get("name")
                    .map(text)
                    .unwrap_or_else(|| "X-API-Key".into());
                if field("location").eq_ignore_ascii_case("query") {
                    query.push((name, field("key")));
                } else {
                    headers.push((name, field("key")));
                }
            }
            other => return Err(format!("auth type {other:?} has no curl option")),
        }
    }
    let url = with_query(url, &query);
    let has_body = ["body", "json", "form"]
        .iter()
        .any(|key| config.contains_key(*key));
    let default_method = if has_body { "POST" } else { "GET" };
    if method != default_method {
        words.extend(["-X".into(), method]);
    }
    words.push(url);
    for (name, value) in &headers {
        words.extend(["-H".into(), format!("{name}: {value}")]);
    }
    if let Some(user) = user {
        words.extend(["-u".into(), user]);
    }
    if let Some(json) = config.get("json") {
        words.extend(["--json".into(), json.to_string()]);
    }
    match config.get("body") {
        Some(Value::String(body)) => words.extend(["--data-raw".into(), body.clone()]),
        Some(body @ (Value::Object(_) | Value::Array(_))) => {
            let says_json = headers.iter().any(|(name, value)| {
                name.eq_ignore_ascii_case("content-type")
                    && value.to_ascii_lowercase().contains("json")
            });
            let option = if says_json { "--data-raw" } else { "--json" };
            words.extend([option.into(), body.to_string()]);
        }
        Some(other @ (Value::Number(_) | Value::Bool(_))) => {
            words.extend(["--data-raw".into(), other.to_string()])
        }
        _ => {}
    }
    if let Some(form) = config.get("form").and_then(Value::as_object) {
        for (name, value) in form {
            words.extend(["--data-urlencode".into(), format!("{name}={}", text(value))]);
        }
    }
    if config.get("follow_redirects") == Some(&Value::Bool(true)) {
        words.push("-L".into());
    }
    if config.get("verify_ssl") == Some(&Value::Bool(false)) {
        words.push("-k".into());
    }
    if let Some(timeout) = &step.timeout {
        words.extend(["-m".into(), format!("{}", timeout.get().as_secs_f64())]);
    }
    Ok(shell_words::join(&words))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, json};

    fn step_of(config: Value) -> Step {
        let config: Map<String, Value> = config.as_object().cloned().unwrap_or_default();
        Step {
            action: "http_request".into(),
            config,
            ..Step::default()
        }
    }

    #[test]
    fn steps_become_quoted_command_lines() {
        let step = step_of(json!({
            "method": "POST", "url": "${base_url}/orders", "params": {"dry run": true},
            "headers": {"X-Trace": "a b"}, "auth": {"type": "bearer", "token": "${token}"},
            "body": {"note": "it's"},
        }));
        assert_eq!(
            command_line(&step).unwrap(),
            r#"curl '${base_url}/orders?dry+run=true' -H 'X-Trace: a b' -H 'Authorization: Bearer ${token}' --json '{"note":"it'\''s"}'"#
        );
        let get = step_of(
            json!({"url": "http://h/x", "auth": {"type": "basic", "username": "ada", "password": "pw"}}),
        );
        assert_eq!(command_line(&get).unwrap(), "curl http://h/x -u ada:pw");
    }
}
