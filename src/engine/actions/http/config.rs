//! Reading an `http_request` step config into a [`RequestSpec`]: method, URL with its query,
//! headers, body, auth, cookies and the per-step options. Every wrong value becomes an
//! [`ActionError::InvalidConfig`] naming the key and quoting the value.

use std::time::Duration;

use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value};
use url::Url;

use super::auth::{Secrets, apply_auth};
use super::url_memo::UrlMemo;
use crate::engine::actions::ActionError;
use crate::flow::duration::parse_duration;
use crate::flow::source::kind_of;

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_MAX_REDIRECTS: usize = 10;

/// A request body with the content type it implies (unless the step set one).
#[derive(Debug, Clone)]
pub struct BodySpec {
    pub bytes: Vec<u8>,
    pub content_type: Option<&'static str>,
}

/// Everything one `http_request` step asks for, checked.
#[derive(Debug, Clone)]
pub struct RequestSpec {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<BodySpec>,
    /// `name=value` pairs from `cookies`, sent with the jar's cookies.
    pub cookies: Vec<(String, String)>,
    /// Headers and query parameters carrying an API key, masked in reports.
    pub secret_headers: Vec<HeaderName>,
    pub secret_query: Vec<String>,
    pub timeout: Duration,
    /// The timeout as the user wrote it, for messages.
    pub timeout_text: String,
    pub follow_redirects: bool,
    pub max_redirects: usize,
    pub verify_ssl: bool,
}

impl RequestSpec {
    /// Reads `config`; `default_headers` are used where the step does not set the same header,
    /// and the URL is parsed through the run's `urls`.
    pub fn parse(
        config: &Map<String, Value>,
        default_headers: &indexmap::IndexMap<String, String>,
        urls: &UrlMemo,
    ) -> Result<Self, ActionError> {
        let config = Fields(config);
        let method = parse_method(config.get("method"))?;
        let mut url = parse_url(config.get("url"), urls)?;
        let given = |key: &str| config.get(key).is_some_and(|value| !value.is_null());
        if given("params") && given("query") {
            return Err(ActionError::invalid(
                "query",
                "set only one of params and query (query is another name for params)",
            ));
        }
        for key in ["params", "query"] {
            if let Some(params) = config.get(key) {
                append_query(&mut url, key, params)?;
            }
        }
        let mut headers = HeaderMap::new();
        for (name, value) in default_headers {
            let (name, value) = header_pair("default_headers", name, value)?;
            headers.insert(name, value);
        }
        if let Some(step_headers) = config.get("headers") {
            let map = expect_map("headers", step_headers)?;
            for (name, value) in map {
                let field = format!("headers.{name}");
                let text = scalar_text(&field, value)?;
                let (name, value) = header_pair(&field, name, &text)?;
                headers.insert(name, value);
            }
        }
        let body = parse_body(config)?;
        if let Some(BodySpec {
            content_type: Some(content_type),
            ..
        }) = &body
            && !headers.contains_key(CONTENT_TYPE)
        {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
        let mut secrets = Secrets::default();
        if let Some(auth) = config.get("auth") {
            apply_auth(auth, &mut headers, &mut url, &mut secrets)?;
        }
        let cookies = match config.get("cookies") {
            None | Some(Value::Null) => Vec::new(),
            Some(value) => expect_map("cookies", value)?
                .iter()
                .map(|(name, value)| {
                    Ok((
                        name.clone(),
                        scalar_text(&format!("cookies.{name}"), value)?,
                    ))
                })
                .collect::<Result<_, ActionError>>()?,
        };
        let (timeout, timeout_text) = parse_timeout(config.get("timeout"))?;
        Ok(Self {
            method,
            url,
            headers,
            body,
            cookies,
            secret_headers: secrets.headers,
            secret_query: secrets.query,
            timeout,
            timeout_text,
            follow_redirects: parse_bool(config, "follow_redirects", true)?,
            max_redirects: parse_count(config, "max_redirects", DEFAULT_MAX_REDIRECTS)?,
            verify_ssl: parse_bool(config, "verify_ssl", true)?,
        })
    }
}

/// A config's keys, found by comparing rather than hashing: a config has a handful of keys,
/// and comparing a few short strings costs less than hashing the one looked for (a step
/// looks up over a dozen keys, most of them absent).
#[derive(Clone, Copy)]
struct Fields<'a>(&'a Map<String, Value>);

impl<'a> Fields<'a> {
    fn get(self, key: &str) -> Option<&'a Value> {
        self.0
            .iter()
            .find(|(name, _)| name.as_str() == key)
            .map(|(_, value)| value)
    }
}

fn parse_method(value: Option<&Value>) -> Result<Method, ActionError> {
    let text = match value {
        None | Some(Value::Null) => return Ok(Method::GET),
        Some(Value::String(text)) => text.trim().to_ascii_uppercase(),
        Some(other) => {
            return Err(ActionError::invalid(
                "method",
                format!("expected a string, found {} {other}", kind_of(other)),
            ));
        }
    };
    match METHODS.iter().find(|known| **known == text) {
        Some(known) => Method::from_bytes(known.as_bytes())
            .map_err(|err| ActionError::invalid("method", err.to_string())),
        None => Err(ActionError::invalid(
            "method",
            format!(
                "unknown method {text:?}: expected one of {}",
                METHODS.join(", ")
            ),
        )),
    }
}

fn parse_url(value: Option<&Value>, urls: &UrlMemo) -> Result<Url, ActionError> {
    let text = match value {
        None | Some(Value::Null) => return Err(ActionError::invalid("url", "is required")),
        Some(Value::String(text)) => text.trim(),
        Some(other) => {
            return Err(ActionError::invalid(
                "url",
                format!("expected a string, found {} {other}", kind_of(other)),
            ));
        }
    };
    let not_absolute = || {
        ActionError::invalid(
            "url",
            format!("{text:?} is not an absolute http or https URL"),
        )
    };
    let url = urls.parse(text).map_err(|_| not_absolute())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(not_absolute());
    }
    Ok(url)
}

/// The text of a scalar config value: strings as they are, numbers and booleans printed.
pub(crate) fn scalar_text(field: &str, value: &Value) -> Result<String, ActionError> {
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        Value::Bool(flag) => Ok(flag.to_string()),
        other => Err(ActionError::invalid(
            field,
            format!(
                "expected a string, number or boolean, found {} {other}",
                kind_of(other)
            ),
        )),
    }
}

pub(super) fn expect_map<'a>(
    field: &str,
    value: &'a Value,
) -> Result<&'a Map<String, Value>, ActionError> {
    match value {
        Value::Object(map) => Ok(map),
        other => Err(ActionError::invalid(
            field,
            format!("expected a map, found {} {other}", kind_of(other)),
        )),
    }
}

pub(crate) fn header_pair(
    field: &str,
    name: &str,
    value: &str,
) -> Result<(HeaderName, HeaderValue), ActionError> {
    let header_name = HeaderName::from_bytes(name.trim().as_bytes())
        .map_err(|_| ActionError::invalid(field, format!("{name:?} is not a valid header name")))?;
    let header_value = HeaderValue::from_str(value).map_err(|_| {
        ActionError::invalid(field, format!("{value:?} is not a valid header value"))
    })?;
    Ok((header_name, header_value))
}

/// `name=value` pairs of a map whose values are scalars or lists of scalars (a list repeats
/// the key); used by `params` and `form`.
fn pairs(field: &str, value: &Value) -> Result<Vec<(String, String)>, ActionError> {
    let mut out = Vec::new();
    for (name, value) in expect_map(field, value)? {
        let item_field = format!("{field}.{name}");
        match value {
            Value::Null => {}
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    out.push((
                        name.clone(),
                        scalar_text(&format!("{item_field}[{index}]"), item)?,
                    ));
                }
            }
            other => out.push((name.clone(), scalar_text(&item_field, other)?)),
        }
    }
    Ok(out)
}

fn append_query(url: &mut Url, field: &str, params: &Value) -> Result<(), ActionError> {
    let pairs = pairs(field, params)?;
    if !pairs.is_empty() {
        url.query_pairs_mut().extend_pairs(pairs);
    }
    Ok(())
}

fn json_body(field: &str, value: &Value) -> Result<BodySpec, ActionError> {
    let bytes = serde_json::to_vec(value)
        .map_err(|err| ActionError::invalid(field, format!("cannot be written as JSON: {err}")))?;
    Ok(BodySpec {
        bytes,
        content_type: Some("application/json"),
    })
}

fn parse_body(config: Fields<'_>) -> Result<Option<BodySpec>, ActionError> {
    let given: Vec<&str> = ["body", "json", "form"]
        .into_iter()
        .filter(|key| config.get(key).is_some_and(|value| !value.is_null()))
        .collect();
    if given.len() > 1 {
        return Err(ActionError::invalid(
            given[1],
            format!(
                "set only one of body, json and form (found {})",
                given.join(" and ")
            ),
        ));
    }
    let Some(key) = given.first() else {
        return Ok(None);
    };
    let Some(value) = config.get(key) else {
        return Ok(None);
    };
    let spec = match (*key, value) {
        ("body", Value::String(text)) => BodySpec {
            bytes: text.clone().into_bytes(),
            content_type: None,
        },
        ("form", value) => {
            let encoded = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs("form", value)?)
                .finish();
            BodySpec {
                bytes: encoded.into_bytes(),
                content_type: Some("application/x-www-form-urlencoded"),
            }
        }
        (key, value) => json_body(key, value)?,
    };
    Ok(Some(spec))
}

fn parse_timeout(value: Option<&Value>) -> Result<(Duration, String), ActionError> {
    let (timeout, text) = match value {
        None | Some(Value::Null) => return Ok((DEFAULT_TIMEOUT, "30s".to_string())),
        Some(Value::String(text)) => (
            parse_duration(text).map_err(|err| ActionError::invalid("timeout", err))?,
            text.trim().to_string(),
        ),
        Some(Value::Number(number)) => {
            let seconds = number
                .as_f64()
                .filter(|s| s.is_finite() && *s >= 0.0)
                .ok_or_else(|| {
                    ActionError::invalid("timeout", format!("{number} is not a number of seconds"))
                })?;
            let timeout = Duration::try_from_secs_f64(seconds).map_err(|_| {
                ActionError::invalid("timeout", format!("{number} is out of range"))
            })?;
            (timeout, format!("{number}s"))
        }
        Some(other) => {
            return Err(ActionError::invalid(
                "timeout",
                format!(
                    "expected a duration such as 10s, found {} {other}",
                    kind_of(other)
                ),
            ));
        }
    };
    if timeout.is_zero() {
        return Err(ActionError::invalid(
            "timeout",
            format!("{text:?} must be greater than zero"),
        ));
    }
    Ok((timeout, text))
}

fn parse_bool(config: Fields<'_>, key: &str, default: bool) -> Result<bool, ActionError> {
    match config.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(flag)) => Ok(*flag),
        Some(Value::String(text)) if text.eq_ignore_ascii_case("true") => Ok(true),
        Some(Value::String(text)) if text.eq_ignore_ascii_case("false") => Ok(false),
        Some(other) => Err(ActionError::invalid(
            key,
            format!("expected true or false, found {} {other}", kind_of(other)),
        )),
    }
}

fn parse_count(config: Fields<'_>, key: &str, default: usize) -> Result<usize, ActionError> {
    let invalid = |value: &Value| {
        ActionError::invalid(
            key,
            format!("expected a whole number of 0 or more, found {value}"),
        )
    };
    match config.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(value @ Value::Number(number)) => number
            .as_u64()
            .and_then(|count| usize::try_from(count).ok())
            .ok_or_else(|| invalid(value)),
        Some(value @ Value::String(text)) => text.trim().parse().map_err(|_| invalid(value)),
        Some(other) => Err(invalid(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(config: Value) -> Result<RequestSpec, ActionError> {
        let Value::Object(map) = config else {
            panic!("not a map")
        };
        RequestSpec::parse(&map, &indexmap::IndexMap::new(), &UrlMemo::default())
    }

    #[test]
    fn query_lists_repeat_the_key_and_numbers_are_printed() {
        let spec = parse(
            json!({"url": "http://h/x?a=1", "params": {"tag": ["x", "y"], "n": 2, "on": true}}),
        )
        .unwrap();
        assert_eq!(spec.url.as_str(), "http://h/x?a=1&tag=x&tag=y&n=2&on=true");
    }

    #[test]
    fn step_headers_replace_default_headers_whatever_the_case() {
        let defaults = indexmap::IndexMap::from([
            ("X-Team".to_string(), "core".to_string()),
            ("Accept".to_string(), "text/plain".to_string()),
        ]);
        let Value::Object(config) =
            json!({"url": "http://h/", "headers": {"x-team": "web", "X-Retry": 3}})
        else {
            panic!()
        };
        let spec = RequestSpec::parse(&config, &defaults, &UrlMemo::default()).unwrap();
        assert_eq!(spec.headers["x-team"], "web");
        assert_eq!(spec.headers.get_all("x-team").iter().count(), 1);
        assert_eq!(spec.headers["accept"], "text/plain");
        assert_eq!(spec.headers["x-retry"], "3");
    }

    #[test]
    fn only_one_body_kind() {
        let err = parse(json!({"url": "http://h/", "body": "a", "form": {"b": 1}})).unwrap_err();
        assert_eq!(
            err,
            ActionError::invalid(
                "form",
                "set only one of body, json and form (found body and form)"
            )
        );
    }

    #[test]
    fn bad_values_name_the_key_and_the_value() {
        let cases = [
            (
                json!({"url": "http://h/", "timeout": "soon"}),
                "timeout",
                "\"soon\"",
            ),
            (
                json!({"url": "http://h/", "max_redirects": -1}),
                "max_redirects",
                "-1",
            ),
            (
                json!({"url": "http://h/", "follow_redirects": "yes"}),
                "follow_redirects",
                "yes",
            ),
            (json!({"url": "ftp://h/"}), "url", "\"ftp://h/\""),
            (
                json!({"url": "http://h/", "auth": {"type": "api_key", "key": "k", "location": "body"}}),
                "auth.location",
                "\"body\"",
            ),
            (
                json!({"url": "http://h/", "params": {"q": {"a": 1}}}),
                "params.q",
                "a map",
            ),
        ];
        for (config, field, quoted) in cases {
            match parse(config) {
                Err(ActionError::InvalidConfig {
                    field: got,
                    message,
                }) => {
                    assert_eq!(got, field);
                    assert!(message.contains(quoted), "{field}: {message}");
                }
                other => panic!("{field}: {other:?}"),
            }
        }
    }
}
