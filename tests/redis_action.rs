//! The Redis actions against a real server (started by scripts/test.sh; skipped with a printed
//! reason when TESTMESH_TEST_REDIS_URL is unset). Each test uses its own key prefix.

mod common;

use indexmap::IndexMap;
use serde_json::{Value, json};
use testmesh::engine::{FlowStatus, RunOptions, StepStatus};

use common::flows::{dump, error_of, response, run_with, step};
use common::services::{redis_prefix, url};

fn with_redis(url: &str, prefix: &str) -> RunOptions {
    let mut variables = IndexMap::new();
    variables.insert("redis".to_string(), Value::String(url.to_string()));
    variables.insert("p".to_string(), Value::String(prefix.to_string()));
    RunOptions {
        variables,
        ..RunOptions::default()
    }
}

#[tokio::test]
async fn set_get_exists_del_and_generic_commands() {
    let Some(redis) = url("TESTMESH_TEST_REDIS_URL") else {
        return;
    };
    let parsed = url::Url::parse(&redis).unwrap();
    let mut options = with_redis(&redis, &redis_prefix());
    options
        .variables
        .insert("port".into(), json!(parsed.port().unwrap()));
    let result = run_with(
        r#"
name: redis basics
steps:
  - id: set
    action: redis.set
    config: {url: "${redis}", key: "${p}:user", value: {name: ada}, ttl: 60s}
    assert: [ok == true]
  - id: get
    action: redis_get
    config: {host: 127.0.0.1, port: "${port}", db: 0, key: "${p}:user"}
    assert:
      - exists == true
      - value.name == "ada"
      - text == '{"name":"ada"}'
  - id: missing
    action: redis.get
    config: {url: "${redis}", key: "${p}:nothing"}
    assert: [exists == false, value == nil]
  - id: hset
    action: redis.command
    config: {url: "${redis}", command: "HSET ${p}:h a 1 b 2"}
    assert: [value == 2]
  - id: hgetall
    action: redis.command
    config: {url: "${redis}", command: [HGETALL, "${p}:h"]}
  - id: ttl
    action: redis.command
    config: {url: "${redis}", command: TTL, args: ["${p}:user"]}
    assert: [value > 0, value <= 60]
  - id: both
    action: redis.exists
    config: {url: "${redis}", keys: ["${p}:user", "${p}:h"]}
    assert: [exists == true, count == 2]
  - id: del
    action: redis.del
    config: {url: "${redis}", keys: ["${p}:user", "${p}:h", "${p}:nothing"]}
    assert: [deleted == 2]
  - id: gone
    action: redis.exists
    config: {url: "${redis}", key: "${p}:user"}
    assert: [exists == false]
"#,
        options,
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    let all = &response(&result, "hgetall")["value"];
    assert!(
        all == &json!(["a", "1", "b", "2"]) || all == &json!({"a": "1", "b": "2"}),
        "{all}"
    );
}

#[tokio::test]
async fn xread_waits_for_the_matching_entry() {
    let Some(redis) = url("TESTMESH_TEST_REDIS_URL") else {
        return;
    };
    let result = run_with(
        r#"
name: streams
steps:
  - id: other
    action: redis.xadd
    config: {url: "${redis}", stream: "${p}:events", fields: {type: created, order: 1}}
  - id: wanted
    action: redis.xadd
    config: {url: "${redis}", stream: "${p}:events", fields: {type: shipped, order: 1}}
    output: {wanted_id: id}
  - id: read
    action: redis.xread
    config:
      url: ${redis}
      stream: ${p}:events
      match: {type: shipped, order: 1}
      timeout: 5s
    assert:
      - fields.type == "shipped"
      - id == "${wanted_id}"
      - entries_seen == 2
  - id: none
    action: redis.xread
    config: {url: "${redis}", stream: "${p}:events", match: {type: cancelled}, timeout: 300ms}
"#,
        with_redis(&redis, &redis_prefix()),
    )
    .await;
    assert_eq!(
        step(&result, "read").status,
        StepStatus::Passed,
        "{}",
        dump(&result)
    );
    assert_eq!(step(&result, "none").status, StepStatus::Error);
    let error = error_of(&result, "none");
    assert!(
        error.contains(
            r#"no entry matching {"type":"cancelled"} arrived within 300ms (2 entries read)"#
        ),
        "{error}"
    );
}

#[tokio::test]
async fn xread_sees_an_entry_added_while_it_waits() {
    let Some(redis) = url("TESTMESH_TEST_REDIS_URL") else {
        return;
    };
    let prefix = redis_prefix();
    let client = redis::Client::open(redis.as_str()).unwrap();
    let stream = format!("{prefix}:late");
    let writer = tokio::spawn(async move {
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        for n in 0..50 {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            let _: String = redis::cmd("XADD")
                .arg(&stream)
                .arg("*")
                .arg("n")
                .arg(n)
                .query_async(&mut conn)
                .await
                .unwrap();
        }
    });
    let result = run_with(
        r#"
name: late entry
steps:
  - id: read
    action: redis.xread
    config: {url: "${redis}", stream: "${p}:late", match: {n: 3}, timeout: 30s}
    assert: [fields.n == "3"]
"#,
        with_redis(&redis, &prefix),
    )
    .await;
    writer.abort();
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
}

#[tokio::test]
async fn a_refused_connection_names_the_address_and_masks_the_password() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let result = run_with(
        &format!(
            "name: refused\nsteps:\n  - id: get\n    action: redis.get\n    config: {{host: 127.0.0.1, port: {port}, password: hunter2, key: k, connect_timeout: 2s}}\n"
        ),
        RunOptions::default(),
    )
    .await;
    assert_eq!(result.status, FlowStatus::Error);
    let error = error_of(&result, "get");
    assert!(
        error.contains(&format!(
            "at 127.0.0.1:{port} (redis://:***@127.0.0.1:{port}/)"
        )),
        "{error}"
    );
    assert!(!error.contains("hunter2"), "{error}");
}
