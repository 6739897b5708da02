//! The HTTP query APIs of observability backends (Prometheus, Loki, Jaeger, Tempo), as the
//! actions reading them share it: the server's `url`, `auth` (basic or bearer, written as
//! `http_request` writes it), extra `headers` and a `timeout`; a GET with query parameters that
//! answers JSON; the request as reports show it, credentials masked; and instants written as
//! RFC 3339, Unix seconds, `now` or `now-5m`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{AUTHORIZATION, HeaderMap};
use reqwest::{Client, Method};
use serde_json::{Map, Value};
use url::Url;

use super::fields::{duration, optional_map, required_text};
use super::http::auth::{Secrets, apply_auth};
use super::http::config::{header_pair, scalar_text};
use super::http::errors::{describe, request_label};
use super::http::response::{BodyError, decode_body, read_capped};
use super::{ActionError, ActionOutput};
use crate::flow::duration::parse_duration;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// A backend's query API, as one step's config describes it.
pub struct QueryApi {
    base: Url,
    headers: HeaderMap,
    secrets: Secrets,
    timeout: Duration,
}

/// What the server answered: its status and its body (JSON when it parses, else text).
pub struct Reply {
    pub status: u16,
    pub body: Value,
    /// The request, as the step's report shows it.
    pub request: Value,
}

impl QueryApi {
    /// Reads `url_key` (the server's base URL), `auth`, `headers` and `timeout` from `config`.
    pub fn from_config(config: &Map<String, Value>, url_key: &str) -> Result<Self, ActionError> {
        let text = required_text(config, url_key)?;
        let base = Url::parse(&text)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some())
            .ok_or_else(|| {
                ActionError::invalid(url_key, format!("{text:?} is not an absolute http(s) URL"))
            })?;
        let mut headers = HeaderMap::new();
        if let Some(map) = optional_map(config, "headers")? {
            for (name, value) in map {
                let field = format!("headers.{name}");
                let (name, value) = header_pair(&field, name, &scalar_text(&field, value)?)?;
                headers.insert(name, value);
            }
        }
        let mut secrets = Secrets::default();
        if let Some(auth) = config.get("auth").filter(|auth| !auth.is_null()) {
            let mut ignored = base.clone();
            apply_auth(auth, &mut headers, &mut ignored, &mut secrets)?;
            if ignored != base {
                return Err(ActionError::invalid(
                    "auth.location",
                    "a query API takes its key in a header, not in the query string",
                ));
            }
        }
        Ok(Self {
            base,
            headers,
            secrets,
            timeout: duration(config, "timeout", DEFAULT_TIMEOUT)?,
        })
    }

    /// The extra headers and credentials every request carries.
    pub fn headers(&self) -> HeaderMap {
        self.headers.clone()
    }

    /// How long one request may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The base URL with `path` (`/api/v1/query`) after its own path.
    pub fn endpoint(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        let joined = format!("{}{path}", url.path().trim_end_matches('/'));
        url.set_path(&joined);
        url
    }

    /// GETs `path` with `params`, whatever the status it answers.
    pub async fn get(
        &self,
        client: &Client,
        path: &str,
        params: &[(&str, String)],
    ) -> Result<Reply, ActionError> {
        let mut url = self.endpoint(path);
        if !params.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())));
        }
        let mut headers = self.headers.clone();
        crate::engine::trace::inject_traceparent(&mut headers);
        let request = self.shown(&url, &headers);
        let exchange = async {
            let mut response = client
                .get(url.clone())
                .headers(headers)
                .send()
                .await
                .map_err(|err| ActionError::Failed(describe(&err, &Method::GET, &url)))?;
            let status = response.status().as_u16();
            let bytes = read_capped(&mut response).await.map_err(|err| match err {
                BodyError::TooLarge => ActionError::Failed(format!(
                    "the answer to {} is larger than 10 MiB",
                    request_label(&Method::GET, &url)
                )),
                BodyError::Read(err) => ActionError::Failed(describe(&err, &Method::GET, &url)),
            })?;
            Ok::<_, ActionError>((status, decode_body(&bytes)))
        };
        let (status, body) = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| {
                ActionError::Failed(format!(
                    "no answer within {} ({})",
                    humantime::format_duration(self.timeout),
                    request_label(&Method::GET, &url)
                ))
            })??;
        Ok(Reply {
            status,
            body,
            request,
        })
    }

    /// The request as a report shows it: credentials replaced by `***`.
    fn shown(&self, url: &Url, headers: &HeaderMap) -> Value {
        let mut shown = Map::new();
        for (name, value) in headers {
            let secret = name == AUTHORIZATION || self.secrets.headers.contains(name);
            let text = if secret {
                "***".to_string()
            } else {
                String::from_utf8_lossy(value.as_bytes()).into_owned()
            };
            shown.insert(name.as_str().to_string(), Value::String(text));
        }
        serde_json::json!({"method": "GET", "url": url.as_str(), "headers": shown})
    }
}

impl Reply {
    /// Whether the status is 2xx.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// What the server said went wrong: the `error`, `message` or first `errors[].msg` of a
    /// JSON answer, else the start of its text.
    pub fn error_text(&self) -> String {
        let said = match &self.body {
            Value::Object(map) => ["error", "message"]
                .iter()
                .find_map(|key| map.get(*key).and_then(Value::as_str))
                .or_else(|| map.get("errors")?.get(0)?.get("msg")?.as_str())
                .map(str::to_string),
            Value::String(text) => Some(text.trim().chars().take(300).collect()),
            _ => None,
        };
        said.unwrap_or_else(|| self.body.to_string())
    }

    /// A failure naming the status and what the server said.
    pub fn failure(&self, what: &str) -> ActionError {
        ActionError::Failed(format!(
            "{what} answered {}: {}",
            self.status,
            self.error_text()
        ))
    }

    /// The step's output: `result`, with this request as what was sent.
    pub fn output(self, result: Map<String, Value>) -> ActionOutput {
        ActionOutput::with_request(result, self.request)
    }
}

/// An instant read from `key`: RFC 3339 text, Unix seconds (a number or digits), `now`, or
/// `now-5m` / `-5m` (that long before `now`).
pub fn instant(
    config: &Map<String, Value>,
    key: &str,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, ActionError> {
    let wrong = |found: &str| {
        ActionError::invalid(
            key,
            format!("expected an RFC 3339 time, Unix seconds, now or now-5m, found {found:?}"),
        )
    };
    let seconds = |s: f64| {
        DateTime::from_timestamp_micros((s * 1e6).round() as i64)
            .ok_or_else(|| wrong(&s.to_string()))
    };
    match config.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_f64().map(seconds).transpose(),
        Some(Value::String(text)) => {
            let text = text.trim();
            if text == "now" {
                return Ok(Some(now));
            }
            if let Some(ago) = text.strip_prefix("now-").or_else(|| text.strip_prefix('-')) {
                let ago = parse_duration(ago).map_err(|_| wrong(text))?;
                let ago = chrono::Duration::from_std(ago).map_err(|_| wrong(text))?;
                return Ok(Some(now - ago));
            }
            if let Ok(number) = text.parse::<f64>() {
                return seconds(number).map(Some);
            }
            DateTime::parse_from_rfc3339(text)
                .map(|time| Some(time.with_timezone(&Utc)))
                .map_err(|_| wrong(text))
        }
        Some(other) => Err(wrong(&other.to_string())),
    }
}

/// Unix seconds with milliseconds, as Prometheus reads them.
pub fn unix_seconds(time: DateTime<Utc>) -> String {
    format!("{:.3}", time.timestamp_millis() as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(value: Value) -> Map<String, Value> {
        json!({"t": value}).as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn instants_are_read_in_every_spelling() {
        let now = DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
            .unwrap()
            .with_timezone(&Utc);
        let read = |value: Value| instant(&config(value), "t", now);
        assert_eq!(read(json!("now")).unwrap(), Some(now));
        assert_eq!(
            read(json!("now-5m")).unwrap().map(unix_seconds),
            Some(unix_seconds(now - chrono::Duration::minutes(5)))
        );
        assert_eq!(
            read(json!("-1h")).unwrap(),
            Some(now - chrono::Duration::hours(1))
        );
        assert_eq!(read(json!(1767323045)).unwrap(), Some(now));
        assert_eq!(read(json!("2026-01-02T03:04:05Z")).unwrap(), Some(now));
        let err = read(json!("yesterday")).unwrap_err().to_string();
        assert!(
            err.contains("config.t") && err.contains("yesterday"),
            "{err}"
        );
    }

    #[test]
    fn a_base_url_keeps_its_path_and_credentials_are_masked() {
        let config = json!({
            "url": "http://127.0.0.1:9/prometheus/",
            "auth": {"type": "bearer", "token": "tok-123"},
            "headers": {"X-Scope-OrgID": "team-a"}
        });
        let api = QueryApi::from_config(config.as_object().unwrap(), "url").unwrap();
        let url = api.endpoint("/api/v1/query");
        assert_eq!(url.as_str(), "http://127.0.0.1:9/prometheus/api/v1/query");
        let shown = api.shown(&url, &api.headers);
        assert_eq!(shown["headers"]["authorization"], "***");
        assert_eq!(shown["headers"]["x-scope-orgid"], "team-a");
        let bad = json!({"url": "localhost:9090"});
        let err = QueryApi::from_config(bad.as_object().unwrap(), "url")
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("config.url") && err.contains("localhost:9090"),
            "{err}"
        );
    }
}
