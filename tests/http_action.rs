//! The `http_request` action against a local server: what a flow author sees in the step
//! result, the request excerpt and the error messages.

mod common;

use std::time::Duration;
use testmesh::engine::variables::walk;
use testmesh::flow::path::parse_dotted;

use indexmap::IndexMap;
use serde_json::{Map, Value, json};
use testmesh::engine::actions::http::{HttpSession, execute};
use testmesh::engine::actions::{ActionError, ActionOutput};

use common::http_server::{self, TestServer};

fn config(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("config must be a map, got {other}"),
    }
}

async fn run(session: &HttpSession, value: Value) -> Result<ActionOutput, ActionError> {
    tokio::time::timeout(Duration::from_secs(20), execute(&config(value), session))
        .await
        .expect("the action did not finish within 20s")
}

async fn ok(session: &HttpSession, value: Value) -> Map<String, Value> {
    whole_result(run(session, value).await.expect("the request failed"))
}

/// The result as a step reads it: the keys the action built, and those it left to its record.
fn whole_result(output: ActionOutput) -> Map<String, Value> {
    let mut result = output.result;
    for key in output.deferred {
        let record = output
            .record
            .as_ref()
            .expect("deferred keys come with a record");
        result.insert(key.to_string(), record[*key].clone());
    }
    result
}

async fn failure(session: &HttpSession, value: Value) -> String {
    match run(session, value).await {
        Err(ActionError::Failed(message)) => message,
        other => panic!("expected a runtime failure, got {other:?}"),
    }
}

async fn invalid(session: &HttpSession, value: Value) -> (String, String) {
    match run(session, value).await {
        Err(ActionError::InvalidConfig { field, message }) => (field, message),
        other => panic!("expected an invalid config, got {other:?}"),
    }
}

async fn setup() -> (TestServer, HttpSession) {
    (
        http_server::start().await,
        HttpSession::new(IndexMap::new()),
    )
}

#[tokio::test]
async fn methods_are_case_insensitive_and_default_to_get() {
    let (server, session) = setup().await;
    let result = ok(&session, json!({"url": server.url("/echo")})).await;
    assert_eq!(result["status"], 200);
    assert_eq!(result["body"]["method"], "GET");
    for method in ["post", "Put", "PATCH", "delete", "options"] {
        let result = ok(
            &session,
            json!({"method": method, "url": server.url("/echo")}),
        )
        .await;
        assert_eq!(result["body"]["method"], method.to_ascii_uppercase());
    }
    let result = ok(
        &session,
        json!({"method": "HEAD", "url": server.url("/echo")}),
    )
    .await;
    assert_eq!(result["status"], 200);
    assert_eq!(result["body"], "");
}

#[tokio::test]
async fn status_codes_come_back_as_numbers_with_the_full_result() {
    let (server, session) = setup().await;
    let result = ok(&session, json!({"url": server.url("/status/418")})).await;
    assert_eq!(result["status"], 418);
    assert_eq!(result["body"]["status"], 418);
    assert_eq!(result["content_type"], "application/json");
    assert_eq!(result["url"], server.url("/status/418"));
    assert_eq!(result["redirects"], 0);
    assert!(result["duration_ms"].is_u64());
    assert!(
        result.get("response").is_none(),
        "the result is not stored twice"
    );
    let whole = serde_json::Value::Object(result.clone());
    let read = |path: &str| walk(&whole, &parse_dotted(path).unwrap()).unwrap();
    assert_eq!(read("response.status"), 418);
    assert_eq!(read("response.body"), result["body"]);
    assert_eq!(read("response.headers"), result["headers"]);
    assert!(read("response.time").is_u64());
}

#[tokio::test]
async fn headers_and_default_headers_are_sent() {
    let server = http_server::start().await;
    let defaults = IndexMap::from([
        ("X-Team".to_string(), "core".to_string()),
        ("X-Env".to_string(), "ci".to_string()),
    ]);
    let session = HttpSession::new(defaults);
    let result = ok(
        &session,
        json!({"url": server.url("/echo"), "headers": {"x-team": "web", "X-Attempt": 3}}),
    )
    .await;
    let headers = &result["body"]["headers"];
    assert_eq!(headers["x-team"], "web");
    assert_eq!(headers["x-env"], "ci");
    assert_eq!(headers["x-attempt"], "3");
}

#[tokio::test]
async fn params_and_query_build_the_query_string() {
    let (server, session) = setup().await;
    let result = ok(
        &session,
        json!({"url": server.url("/echo?fixed=1"), "params": {"tag": ["a", "b"], "page": 2, "all": true}}),
    )
    .await;
    assert_eq!(
        result["body"]["query"],
        json!({"fixed": ["1"], "tag": ["a", "b"], "page": ["2"], "all": ["true"]})
    );
    let result = ok(
        &session,
        json!({"url": server.url("/echo"), "query": {"q": "x y"}}),
    )
    .await;
    assert_eq!(result["body"]["query"], json!({"q": ["x y"]}));
}

#[tokio::test]
async fn bodies_are_sent_as_json_form_or_raw() {
    let (server, session) = setup().await;
    let url = server.url("/echo");
    let result = ok(
        &session,
        json!({"method": "POST", "url": url, "body": {"name": "Ada", "n": 1}}),
    )
    .await;
    assert_eq!(result["body"]["json"], json!({"name": "Ada", "n": 1}));
    assert_eq!(
        result["body"]["headers"]["content-type"],
        "application/json"
    );

    let result = ok(
        &session,
        json!({"method": "POST", "url": url, "body": [1, 2]}),
    )
    .await;
    assert_eq!(result["body"]["json"], json!([1, 2]));

    let result = ok(
        &session,
        json!({"method": "POST", "url": url, "json": "text"}),
    )
    .await;
    assert_eq!(result["body"]["body"], "\"text\"");
    assert_eq!(
        result["body"]["headers"]["content-type"],
        "application/json"
    );

    let result = ok(
        &session,
        json!({"method": "POST", "url": url, "body": "<a/>", "headers": {"Content-Type": "application/xml"}}),
    )
    .await;
    assert_eq!(result["body"]["body"], "<a/>");
    assert_eq!(result["body"]["headers"]["content-type"], "application/xml");

    let result = ok(
        &session,
        json!({"method": "POST", "url": url, "form": {"user": "a b", "tags": ["x", "y"], "n": 5}}),
    )
    .await;
    assert_eq!(result["body"]["body"], "user=a+b&tags=x&tags=y&n=5");
    assert_eq!(
        result["body"]["headers"]["content-type"],
        "application/x-www-form-urlencoded"
    );
}

#[tokio::test]
async fn auth_kinds_set_the_right_credentials() {
    let (server, session) = setup().await;
    let url = server.url("/echo");
    let result = ok(
        &session,
        json!({"url": url, "auth": {"type": "basic", "username": "ada", "password": "s3cret"}}),
    )
    .await;
    assert_eq!(
        result["body"]["headers"]["authorization"],
        "Basic YWRhOnMzY3JldA=="
    );

    let result = ok(
        &session,
        json!({"url": url, "auth": {"type": "bearer", "token": "tok"}}),
    )
    .await;
    assert_eq!(result["body"]["headers"]["authorization"], "Bearer tok");

    let result = ok(
        &session,
        json!({"url": url, "auth": {"type": "api_key", "key": "k1"}}),
    )
    .await;
    assert_eq!(result["body"]["headers"]["x-api-key"], "k1");

    let result = ok(
        &session,
        json!({"url": url, "auth": {"type": "api_key", "key": "k2", "location": "query", "name": "api_key"}}),
    )
    .await;
    assert_eq!(result["body"]["query"]["api_key"], json!(["k2"]));
    assert!(result["body"]["headers"].get("x-api-key").is_none());
}

#[tokio::test]
async fn credentials_are_masked_in_the_request_excerpt() {
    let (server, session) = setup().await;
    let output = run(
        &session,
        json!({
            "method": "post",
            "url": server.url("/echo"),
            "headers": {"X-Trace": "t1"},
            "auth": {"type": "bearer", "token": "very-secret"},
            "cookies": {"sid": "abc"},
            "body": {"a": 1}
        }),
    )
    .await
    .unwrap();
    let request = output.request.unwrap();
    assert_eq!(request["method"], "POST");
    assert_eq!(request["url"], server.url("/echo"));
    assert_eq!(request["headers"]["Authorization"], "***");
    assert_eq!(request["headers"]["Cookie"], "***");
    assert_eq!(request["headers"]["X-Trace"], "t1");
    assert_eq!(request["body"], json!({"a": 1}));
    assert!(!request.to_string().contains("very-secret"));
    assert_eq!(
        output.result["body"]["headers"]["authorization"],
        "Bearer very-secret"
    );
}

#[tokio::test]
async fn a_slow_server_fails_with_the_timeout_as_written() {
    let (server, session) = setup().await;
    let url = server.url("/slow?ms=3000");
    let message = failure(&session, json!({"url": url, "timeout": "200ms"})).await;
    assert_eq!(message, format!("no response within 200ms (GET {url})"));
    let result = ok(
        &session,
        json!({"url": server.url("/slow?ms=10"), "timeout": 5}),
    )
    .await;
    assert_eq!(result["body"], "done");
}

#[tokio::test]
async fn redirects_are_followed_by_default() {
    let (server, session) = setup().await;
    let result = ok(&session, json!({"url": server.url("/redirect/3")})).await;
    assert_eq!(result["status"], 200);
    assert_eq!(result["body"]["redirected"], true);
    assert_eq!(result["redirects"], 3);
    assert_eq!(result["url"], server.url("/redirect/0"));
}

#[tokio::test]
async fn redirects_can_be_left_unfollowed() {
    let (server, session) = setup().await;
    let result = ok(
        &session,
        json!({"url": server.url("/redirect/2"), "follow_redirects": false}),
    )
    .await;
    assert_eq!(result["status"], 302);
    assert_eq!(result["headers"]["Location"], "/redirect/1");
    assert_eq!(result["redirects"], 0);
}

#[tokio::test]
async fn too_many_redirects_name_the_limit() {
    let (server, session) = setup().await;
    let message = failure(
        &session,
        json!({"url": server.url("/redirect/5"), "max_redirects": 2}),
    )
    .await;
    assert!(
        message.starts_with("stopped after 2 redirects (max_redirects is 2)"),
        "{message}"
    );
    assert!(message.contains("/redirect/3"), "{message}");
    let result = ok(
        &session,
        json!({"url": server.url("/redirect/2"), "max_redirects": 2}),
    )
    .await;
    assert_eq!(result["status"], 200);
}

#[tokio::test]
async fn see_other_turns_post_into_get_and_307_keeps_it() {
    let (server, session) = setup().await;
    let result = ok(
        &session,
        json!({"method": "POST", "url": server.url("/redirect-to"), "params": {"url": "/echo", "status": 303}, "body": {"a": 1}}),
    )
    .await;
    assert_eq!(result["body"]["method"], "GET");
    assert_eq!(result["body"]["body"], "");
    assert!(result["body"]["headers"].get("content-type").is_none());

    let result = ok(
        &session,
        json!({"method": "POST", "url": server.url("/redirect-to"), "params": {"url": "/echo", "status": 307}, "body": {"a": 1}}),
    )
    .await;
    assert_eq!(result["body"]["method"], "POST");
    assert_eq!(result["body"]["json"], json!({"a": 1}));
}

#[tokio::test]
async fn authorization_is_dropped_on_a_cross_origin_redirect() {
    let (server, session) = setup().await;
    let other = http_server::start().await;
    let result = ok(
        &session,
        json!({
            "url": server.url("/redirect-to"),
            "params": {"url": other.url("/echo")},
            "auth": {"type": "bearer", "token": "t"}
        }),
    )
    .await;
    assert_eq!(result["url"], other.url("/echo"));
    assert!(result["body"]["headers"].get("authorization").is_none());
    let same = ok(
        &session,
        json!({"url": server.url("/redirect-to"), "params": {"url": "/echo"}, "auth": {"type": "bearer", "token": "t"}}),
    )
    .await;
    assert_eq!(same["body"]["headers"]["authorization"], "Bearer t");
}

#[tokio::test]
async fn cookies_are_kept_across_steps_of_one_session_only() {
    let (server, session) = setup().await;
    let set = ok(
        &session,
        json!({"url": server.url("/cookies/set?sid=abc&theme=dark")}),
    )
    .await;
    assert_eq!(set["cookies"], json!({"sid": "abc", "theme": "dark"}));
    let echoed = ok(&session, json!({"url": server.url("/cookies")})).await;
    assert_eq!(
        echoed["body"]["cookies"],
        json!({"sid": "abc", "theme": "dark"})
    );
    assert_eq!(echoed["cookies"], json!({}));

    let with_step_cookies = ok(
        &session,
        json!({"url": server.url("/cookies"), "cookies": {"theme": "light", "lang": "fr"}}),
    )
    .await;
    assert_eq!(
        with_step_cookies["body"]["cookies"],
        json!({"sid": "abc", "theme": "light", "lang": "fr"})
    );

    let other_session = HttpSession::new(IndexMap::new());
    let fresh = ok(&other_session, json!({"url": server.url("/cookies")})).await;
    assert_eq!(fresh["body"]["cookies"], json!({}));
}

#[tokio::test]
async fn a_cookie_set_by_a_redirect_goes_with_the_next_hop_and_later_steps() {
    let (server, session) = setup().await;
    let landed = ok(
        &session,
        json!({"url": server.url("/cookies/set?sid=abc&redirect=/cookies")}),
    )
    .await;
    assert_eq!(landed["redirects"], 1);
    assert_eq!(landed["body"]["cookies"], json!({"sid": "abc"}));
    let own_header = ok(
        &session,
        json!({"url": server.url("/cookies"), "headers": {"Cookie": "mine=1"}}),
    )
    .await;
    assert_eq!(
        own_header["body"]["cookies"],
        json!({"mine": "1"}),
        "a Cookie header the step sets replaces the jar's"
    );
    let later = ok(&session, json!({"url": server.url("/cookies")})).await;
    assert_eq!(later["body"]["cookies"], json!({"sid": "abc"}));
}

#[tokio::test]
async fn the_steps_record_renders_the_result_its_assertions_saw() {
    let (server, session) = setup().await;
    for path in [
        "/headers",
        "/cookies/set?sid=abc&redirect=/cookies",
        "/status/418",
    ] {
        let output = run(&session, json!({"url": server.url(path)}))
            .await
            .expect("the request failed");
        let record = output
            .record
            .clone()
            .expect("an HTTP step keeps a compact record");
        assert_eq!(output.deferred, ["headers", "cookies"]);
        for key in output.deferred {
            assert!(
                !output.result.contains_key(*key),
                "{path}: {key} is built at once"
            );
        }
        assert_eq!(*record, Value::Object(whole_result(output)), "{path}");
    }
}

#[tokio::test]
async fn response_headers_use_canonical_names_and_join_repeats() {
    let (server, session) = setup().await;
    let result = ok(&session, json!({"url": server.url("/headers")})).await;
    let headers = &result["headers"];
    assert_eq!(headers["X-Tag"], "one, two");
    assert_eq!(headers["X-Request-Id"], "req-42");
    assert_eq!(headers["Content-Type"], "text/plain; charset=utf-8");
    assert!(headers.get("x-request-id").is_none());
    assert_eq!(result["body"], "plain text");
    assert_eq!(result["content_type"], "text/plain; charset=utf-8");
}

#[tokio::test]
async fn a_flaky_endpoint_reports_each_answer() {
    let (server, session) = setup().await;
    let url = server.url("/flaky/k1?fail=1");
    assert_eq!(ok(&session, json!({"url": url})).await["status"], 503);
    let second = ok(&session, json!({"url": url})).await;
    assert_eq!(second["status"], 200);
    assert_eq!(second["body"]["calls"], 2);
}

#[tokio::test]
async fn connection_refused_names_host_and_port() {
    let session = HttpSession::new(IndexMap::new());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let url = format!("http://127.0.0.1:{port}/x");
    let message = failure(&session, json!({"url": url})).await;
    assert_eq!(
        message,
        format!("connection refused by 127.0.0.1:{port} (GET {url})")
    );
}

#[tokio::test]
async fn invalid_config_names_the_key_and_the_value() {
    let session = HttpSession::new(IndexMap::new());
    let (field, message) = invalid(
        &session,
        json!({"url": "http://127.0.0.1/", "method": "FETCH"}),
    )
    .await;
    assert_eq!(field, "method");
    assert_eq!(
        message,
        "unknown method \"FETCH\": expected one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS"
    );

    let (field, message) = invalid(&session, json!({"url": "localhost:8080/users"})).await;
    assert_eq!(field, "url");
    assert_eq!(
        message,
        "\"localhost:8080/users\" is not an absolute http or https URL"
    );

    let (field, message) = invalid(&session, json!({"url": "/users"})).await;
    assert_eq!(
        (field.as_str(), message.as_str()),
        ("url", "\"/users\" is not an absolute http or https URL")
    );

    let (field, message) = invalid(&session, json!({"method": "GET"})).await;
    assert_eq!((field.as_str(), message.as_str()), ("url", "is required"));

    let (field, message) = invalid(
        &session,
        json!({"url": "http://127.0.0.1/", "auth": {"type": "digest", "username": "u"}}),
    )
    .await;
    assert_eq!(field, "auth.type");
    assert_eq!(
        message,
        "unknown auth type \"digest\": expected basic, bearer or api_key"
    );

    let (field, message) = invalid(
        &session,
        json!({"url": "http://127.0.0.1/", "auth": {"type": "bearer"}}),
    )
    .await;
    assert_eq!(
        (field.as_str(), message.as_str()),
        ("auth.token", "is required")
    );

    let err = run(
        &session,
        json!({"url": "http://127.0.0.1/", "timeout": "2 days"}),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().starts_with("config.timeout: "), "{err}");
}

#[tokio::test]
async fn bodies_beyond_ten_mib_are_refused() {
    let (server, session) = setup().await;
    let fits = ok(&session, json!({"url": server.url("/big?bytes=1024")})).await;
    assert_eq!(fits["body"].as_str().unwrap().len(), 1024);
    let url = server.url("/big?bytes=11000000");
    let message = failure(&session, json!({"url": url})).await;
    assert_eq!(
        message,
        format!("the response body of GET {url} is larger than the 10 MiB limit")
    );
}

#[tokio::test]
async fn api_keys_are_masked_in_the_request_excerpt() {
    let (server, session) = setup().await;
    let in_header = run(
        &session,
        json!({"url": server.url("/echo"), "auth": {"type": "api_key", "key": "k-123", "name": "X-Key"}}),
    )
    .await
    .unwrap();
    assert_eq!(in_header.request.unwrap()["headers"]["X-Key"], "***");
    let in_query = run(
        &session,
        json!({"url": server.url("/echo"), "auth": {"type": "api_key", "key": "k-123", "location": "query", "name": "key"}}),
    )
    .await
    .unwrap();
    // The terminal line reads method, URL and status before anything renders the records:
    // those must be masked and agree with the rendered excerpt.
    let request = in_query.request.unwrap();
    let masked = server.url("/echo?key=***");
    assert_eq!(request.field("method"), Some(&json!("GET")));
    assert_eq!(request.field("url"), Some(&json!(masked)));
    assert_eq!(in_query.record.unwrap().field("status"), Some(&json!(200)));
    assert_eq!(request["url"], masked);
    assert_eq!(request["method"], "GET");
}
