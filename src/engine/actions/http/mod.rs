//! `http_request`: one HTTP exchange per step, with the run's connection pool and cookie jar,
//! redirects followed by our own code so each step chooses, and a result keyed as flow files
//! read it (`status`, `headers` by canonical name, `body` as JSON or text, `response`...).

pub(super) mod auth;
pub(super) mod config;
pub(super) mod errors;
mod redirect;
pub(super) mod response;
mod url_memo;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::{
    AUTHORIZATION, CONTENT_TYPE, COOKIE, HeaderValue, PROXY_AUTHORIZATION, SET_COOKIE,
};
use reqwest::header::{HeaderMap, HeaderName};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Map, Value, json};
use url::Url;

use self::config::{BodySpec, RequestSpec};
use self::errors::{describe, request_label};
use self::redirect::{Hop, Next, next_hop};
use self::response::{
    BodyError, HeaderLines, MAX_BODY_BYTES, canonical_header_name, cookies_map, decode_body,
    headers_map, read_capped,
};
use self::url_memo::UrlMemo;
use super::otel::context::TraceSlot;
use super::{ActionError, ActionOutput};
use crate::engine::recorded::Recorded;

/// The W3C trace context header.
const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// The most request-body bytes shown in a report.
const REQUEST_EXCERPT_BYTES: usize = 4 * 1024;

/// One run's HTTP state: a connection pool and a cookie jar shared by every step of the run.
/// The jar is kept by our own code, not by the client: each hop of a redirect chain reads and
/// fills it with the `Url` already parsed, where reqwest's cookie layer would parse the URL
/// again for every request.
pub struct HttpSession {
    default_headers: IndexMap<String, String>,
    jar: Jar,
    client: Result<Client, String>,
    /// Built on first use by a step with `verify_ssl: false`.
    insecure_client: OnceLock<Result<Client, String>>,
    urls: UrlMemo,
    /// The trace the run's requests join once `otel.inject` started one.
    pub trace: TraceSlot,
}

impl HttpSession {
    /// A session whose steps send `default_headers` unless they set the same header.
    pub fn new(default_headers: IndexMap<String, String>) -> Self {
        Self {
            default_headers,
            jar: Jar::default(),
            client: build_client(true),
            insecure_client: OnceLock::new(),
            urls: UrlMemo::default(),
            trace: TraceSlot::default(),
        }
    }

    /// The run's HTTP client (redirects not followed, no cookies: see [`HttpSession::send`]),
    /// or the one that skips TLS checks.
    pub fn client(&self, verify_ssl: bool) -> Result<&Client, ActionError> {
        let client = if verify_ssl {
            &self.client
        } else {
            self.insecure_client.get_or_init(|| build_client(false))
        };
        client
            .as_ref()
            .map_err(|err| ActionError::Failed(err.clone()))
    }

    /// Sends `request` with the jar's cookies (see [`HttpSession::add_jar_cookies`]), and
    /// keeps the cookies the response sets.
    pub async fn send(
        &self,
        mut request: reqwest::Request,
        client: &Client,
    ) -> reqwest::Result<reqwest::Response> {
        self.add_jar_cookies(&mut request);
        let url = request.url().clone();
        let response = client.execute(request).await?;
        let headers = response.headers();
        if headers.contains_key(SET_COOKIE) {
            self.jar
                .set_cookies(&mut headers.get_all(SET_COOKIE).iter(), &url);
        }
        Ok(response)
    }

    /// Gives `request` the jar's cookies for its URL, unless it has a `Cookie` header of its
    /// own, which wins.
    fn add_jar_cookies(&self, request: &mut reqwest::Request) {
        if !request.headers().contains_key(COOKIE)
            && let Some(cookies) = self.jar.cookies(request.url())
        {
            request.headers_mut().insert(COOKIE, cookies);
        }
    }
}

fn build_client(verify_ssl: bool) -> Result<Client, String> {
    let builder = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("testmesh/", env!("CARGO_PKG_VERSION")));
    let builder = if verify_ssl {
        let mut tls = super::tls::system_roots()?;
        tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        builder.tls_backend_preconfigured(tls)
    } else {
        builder.tls_danger_accept_invalid_certs(true)
    };
    builder
        .build()
        .map_err(|err| format!("cannot set up the HTTP client: {err}"))
}

/// Runs one `http_request` step.
pub async fn execute(
    config: &Map<String, Value>,
    session: &HttpSession,
) -> Result<ActionOutput, ActionError> {
    let mut spec = RequestSpec::parse(config, &session.default_headers, &session.urls)?;
    match session.trace.get() {
        Some(context) => {
            if !spec.headers.contains_key(TRACEPARENT) {
                let value = HeaderValue::from_str(&context.traceparent()).map_err(|_| {
                    ActionError::Failed("the run's trace context is not a header".into())
                })?;
                spec.headers.insert(TRACEPARENT, value);
            }
        }
        None => crate::engine::trace::inject_traceparent(&mut spec.headers),
    }
    let client = session.client(spec.verify_ssl)?;
    let started = Instant::now();
    let exchange = tokio::time::timeout(spec.timeout, send(client, session, &spec))
        .await
        .map_err(|_| {
            ActionError::Failed(format!(
                "no response within {} ({})",
                spec.timeout_text,
                request_label(&spec.method, &spec.url)
            ))
        })??;
    let elapsed = millis(started.elapsed());
    let result = result_map(&exchange, elapsed, Keys::Eager);
    // The step's record keeps the exchange and what was sent (a few buffers), and builds their
    // maps only if something reads the record. A report's line for the step reads only the
    // method, URL and status, known up front.
    let status = vec![("status", json!(exchange.status.as_u16()))];
    let record = Recorded::lazy_knowing(status, move || {
        Value::Object(result_map(&exchange, elapsed, Keys::All))
    });
    let sent = Sent::from(spec);
    let headline = vec![
        ("method", Value::from(sent.method.as_str())),
        (
            "url",
            Value::from(masked_url(&sent.url, &sent.secret_query)),
        ),
    ];
    Ok(ActionOutput {
        result,
        request: Some(Recorded::lazy_knowing(headline, move || {
            request_excerpt(&sent)
        })),
        record: Some(record),
        deferred: DEFERRED_KEYS,
    })
}

/// The result keys built only when a step reads them: one map entry per header and cookie
/// costs more than the rest of the result, and most steps read neither.
const DEFERRED_KEYS: &[&str] = &["headers", "cookies"];

/// Which keys [`result_map`] builds.
#[derive(Clone, Copy, PartialEq)]
enum Keys {
    /// All but [`DEFERRED_KEYS`]: what the step's assertions and captures get at once.
    Eager,
    /// Every key, as the step's record renders it.
    All,
}

/// What a step sent, as its report shows it.
struct Sent {
    method: Method,
    url: Url,
    headers: HeaderMap,
    body: Option<Vec<u8>>,
    /// Whether the step set `cookies`; their values are never shown.
    step_cookies: bool,
    secret_headers: Vec<HeaderName>,
    secret_query: Vec<String>,
}

impl From<RequestSpec> for Sent {
    fn from(spec: RequestSpec) -> Self {
        Self {
            method: spec.method,
            url: spec.url,
            headers: spec.headers,
            body: spec.body.map(|body| body.bytes),
            step_cookies: !spec.cookies.is_empty(),
            secret_headers: spec.secret_headers,
            secret_query: spec.secret_query,
        }
    }
}

/// The final response of a step, after any redirects.
struct Exchange {
    status: StatusCode,
    headers: HeaderLines,
    url: Url,
    redirects: usize,
    body: Vec<u8>,
}

async fn send(
    client: &Client,
    session: &HttpSession,
    spec: &RequestSpec,
) -> Result<Exchange, ActionError> {
    let mut hop = Hop {
        method: spec.method.clone(),
        url: spec.url.clone(),
        headers: spec.headers.clone(),
        body: spec.body.clone(),
        send_step_cookies: true,
    };
    let mut redirects = 0;
    loop {
        let mut request = reqwest::Request::new(hop.method.clone(), hop.url.clone());
        *request.headers_mut() = hop.headers.clone();
        if hop.send_step_cookies && !spec.cookies.is_empty() {
            session.add_jar_cookies(&mut request);
            let cookies = with_step_cookies(request.headers().get(COOKIE), &spec.cookies)?;
            request.headers_mut().insert(COOKIE, cookies);
        }
        if let Some(BodySpec { bytes, .. }) = &hop.body {
            *request.body_mut() = Some(bytes.clone().into());
        }
        let mut response = session
            .send(request, client)
            .await
            .map_err(|err| ActionError::Failed(describe(&err, &hop.method, &hop.url)))?;
        let status = response.status();
        if spec.follow_redirects {
            match next_hop(&hop, status, response.headers()) {
                Next::Final => {}
                Next::BadLocation(location) => {
                    return Err(ActionError::Failed(format!(
                        "redirect {status} from {} points to {location:?}, which is not an http or https URL",
                        request_label(&hop.method, &hop.url)
                    )));
                }
                Next::Follow(next) => {
                    if redirects == spec.max_redirects {
                        return Err(ActionError::Failed(format!(
                            "stopped after {redirects} redirects (max_redirects is {}): {} redirects again to {}",
                            spec.max_redirects,
                            request_label(&hop.method, &hop.url),
                            next.url
                        )));
                    }
                    redirects += 1;
                    hop = *next;
                    continue;
                }
            }
        }
        let body = read_capped(&mut response).await.map_err(|err| match err {
            BodyError::TooLarge => ActionError::Failed(format!(
                "the response body of {} is larger than the {} MiB limit",
                request_label(&hop.method, &hop.url),
                MAX_BODY_BYTES / (1024 * 1024)
            )),
            BodyError::Read(err) => ActionError::Failed(describe(&err, &hop.method, &hop.url)),
        })?;
        return Ok(Exchange {
            status,
            headers: HeaderLines::new(response.headers()),
            url: hop.url,
            redirects,
            body,
        });
    }
}

/// A `Cookie` header: the pairs of `existing` (the step's own header, or the jar's cookies)
/// followed by the step's `cookies`, which win on a repeated name.
fn with_step_cookies(
    existing: Option<&HeaderValue>,
    step_cookies: &[(String, String)],
) -> Result<HeaderValue, ActionError> {
    let mut pairs: Vec<String> = existing
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .into_iter()
        .flat_map(|text| {
            text.split(';')
                .map(|pair| pair.trim().to_string())
                .filter(|pair| !pair.is_empty())
                .collect::<Vec<_>>()
        })
        .filter(|pair| {
            let name = pair.split('=').next().unwrap_or_default();
            !step_cookies.iter().any(|(step_name, _)| step_name == name)
        })
        .collect();
    pairs.extend(
        step_cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}")),
    );
    HeaderValue::from_str(&pairs.join("; ")).map_err(|_| {
        ActionError::invalid(
            "cookies",
            "a cookie name or value contains characters a header cannot carry",
        )
    })
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// The step result of `exchange`, with the keys `keys` names.
fn result_map(exchange: &Exchange, elapsed_ms: u64, keys: Keys) -> Map<String, Value> {
    let body = decode_body(&exchange.body);
    let content_type = exchange
        .headers
        .get(CONTENT_TYPE.as_str())
        .unwrap_or_default()
        .to_string();
    let status = exchange.status.as_u16();
    // `response` (status, body, headers, cookies, time) is not stored twice: the engine reads
    // it as another name for this map (see `variables::child`).
    let mut result = Map::with_capacity(8);
    result.insert("status".into(), json!(status));
    if keys == Keys::All {
        let headers = headers_map(&exchange.headers);
        result.insert("headers".into(), Value::Object(headers));
        let cookies = cookies_map(&exchange.headers);
        result.insert("cookies".into(), Value::Object(cookies));
    }
    result.insert("body".into(), body);
    result.insert("duration_ms".into(), json!(elapsed_ms));
    result.insert("content_type".into(), Value::String(content_type));
    result.insert(
        "url".into(),
        Value::String(exchange.url.as_str().to_owned()),
    );
    result.insert("redirects".into(), json!(exchange.redirects));
    result
}

/// What was sent, for reports: credentials masked, the body cut to a few KiB.
fn request_excerpt(sent: &Sent) -> Value {
    let mut headers = Map::with_capacity(sent.headers.keys_len());
    for name in sent.headers.keys() {
        let masked = [AUTHORIZATION, PROXY_AUTHORIZATION, COOKIE].contains(name)
            || sent.secret_headers.contains(name);
        let value = if masked {
            "***".to_string()
        } else {
            sent.headers
                .get_all(name)
                .iter()
                .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
                .collect::<Vec<_>>()
                .join(", ")
        };
        headers.insert(canonical_header_name(name.as_str()), Value::String(value));
    }
    if sent.step_cookies {
        headers.insert("Cookie".into(), Value::String("***".into()));
    }
    let body = sent
        .body
        .as_ref()
        .map_or(Value::Null, |body| body_excerpt(body));
    let mut excerpt = Map::with_capacity(4);
    excerpt.insert("method".into(), sent.method.as_str().into());
    excerpt.insert(
        "url".into(),
        masked_url(&sent.url, &sent.secret_query).into(),
    );
    excerpt.insert("headers".into(), Value::Object(headers));
    excerpt.insert("body".into(), body);
    Value::Object(excerpt)
}

/// `url` with the values of the `secret` query parameters replaced by `***`.
fn masked_url(url: &Url, secret: &[String]) -> String {
    if secret.is_empty() {
        return url.to_string();
    }
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(name, value)| {
            let value = if secret.iter().any(|s| *s == name) {
                "***".into()
            } else {
                value.into_owned()
            };
            (name.into_owned(), value)
        })
        .collect();
    let mut masked = url.clone();
    masked.query_pairs_mut().clear().extend_pairs(pairs);
    masked.to_string()
}

fn body_excerpt(bytes: &[u8]) -> Value {
    if bytes.len() <= REQUEST_EXCERPT_BYTES {
        if let Ok(value) = serde_json::from_slice::<Value>(bytes) {
            return value;
        }
        return Value::String(String::from_utf8_lossy(bytes).into_owned());
    }
    let text = String::from_utf8_lossy(&bytes[..REQUEST_EXCERPT_BYTES]);
    let text = text.trim_end_matches(char::REPLACEMENT_CHARACTER);
    Value::String(format!("{text}… ({} bytes in all)", bytes.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_bodies_are_cut_in_the_excerpt() {
        let body = "é".repeat(3000);
        let Value::String(excerpt) = body_excerpt(body.as_bytes()) else {
            panic!("expected text")
        };
        assert!(
            excerpt.ends_with("… (6000 bytes in all)"),
            "{}",
            &excerpt[excerpt.len() - 40..]
        );
        assert!(excerpt.len() < REQUEST_EXCERPT_BYTES + 40);
        assert_eq!(body_excerpt(br#"{"a":1}"#), json!({"a": 1}));
    }

    #[test]
    fn api_keys_in_the_query_are_masked() {
        let url = Url::parse("http://h/x?a=1&key=secret").unwrap();
        assert_eq!(
            masked_url(&url, &["key".to_string()]),
            "http://h/x?a=1&key=***"
        );
    }
}
