//! The `auth` block of an `http_request` step: basic, bearer or an API key in a header or the
//! query string, noting where a key went so that reports can mask it.

use base64::Engine as _;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use url::Url;

use super::config::{expect_map, header_pair, scalar_text};
use crate::engine::actions::ActionError;

/// Where an API key went, so reports can mask it.
#[derive(Default)]
pub(crate) struct Secrets {
    pub headers: Vec<HeaderName>,
    pub query: Vec<String>,
}

/// Adds the credentials `auth` describes to `headers` or to the query of `url`.
pub(crate) fn apply_auth(
    auth: &Value,
    headers: &mut HeaderMap,
    url: &mut Url,
    secrets: &mut Secrets,
) -> Result<(), ActionError> {
    let map = expect_map("auth", auth)?;
    let text = |key: &str| -> Result<String, ActionError> {
        let field = format!("auth.{key}");
        match map.get(key) {
            None | Some(Value::Null) => Err(ActionError::invalid(field, "is required")),
            Some(value) => scalar_text(&field, value),
        }
    };
    let auth_type = text("type")?.to_ascii_lowercase();
    let set_authorization = |headers: &mut HeaderMap, value: String| -> Result<(), ActionError> {
        let value = HeaderValue::from_str(&value).map_err(|_| {
            ActionError::invalid(
                "auth",
                "the credentials contain characters a header cannot carry",
            )
        })?;
        headers.insert(AUTHORIZATION, value);
        Ok(())
    };
    match auth_type.as_str() {
        "basic" => {
            let username = text("username")?;
            let password = match map.get("password") {
                None | Some(Value::Null) => String::new(),
                Some(value) => scalar_text("auth.password", value)?,
            };
            let encoded =
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
            set_authorization(headers, format!("Basic {encoded}"))
        }
        "bearer" => set_authorization(headers, format!("Bearer {}", text("token")?)),
        "api_key" | "apikey" => {
            let key = text("key")?;
            let name = match map.get("name") {
                None | Some(Value::Null) => "X-API-Key".to_string(),
                Some(value) => scalar_text("auth.name", value)?,
            };
            let location = match map.get("location") {
                None | Some(Value::Null) => "header".to_string(),
                Some(value) => scalar_text("auth.location", value)?.to_ascii_lowercase(),
            };
            match location.as_str() {
                "header" => {
                    let (name, value) = header_pair("auth.name", &name, &key)?;
                    secrets.headers.push(name.clone());
                    headers.insert(name, value);
                }
                "query" => {
                    url.query_pairs_mut().append_pair(&name, &key);
                    secrets.query.push(name);
                }
                other => {
                    return Err(ActionError::invalid(
                        "auth.location",
                        format!("unknown location {other:?}: expected header or query"),
                    ));
                }
            }
            Ok(())
        }
        other => Err(ActionError::invalid(
            "auth.type",
            format!("unknown auth type {other:?}: expected basic, bearer or api_key"),
        )),
    }
}
