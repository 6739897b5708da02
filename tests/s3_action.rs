//! The `s3.*` / `minio.*` actions against moto's S3 server (PyPI `moto[server]`, started by
//! scripts/test.sh with a bucket and an IAM user's keys, and checking credentials; skipped
//! with a printed reason when TESTMESH_TEST_S3_URL is unset).

mod common;

use indexmap::IndexMap;
use serde_json::{Value, json};
use testmesh::engine::{FlowStatus, RunOptions, StepStatus};

use common::flows::{diagnostics, dump, error_of, response, run_with, step};
use common::services::url;

/// The store's variables (`s3`, `bucket`, `ak`, `p` a prefix of this test's own) and the
/// secret key as a secret (`sk`), or `None` when no server runs.
fn store(test: &str) -> Option<RunOptions> {
    let endpoint = url("TESTMESH_TEST_S3_URL")?;
    let env = |name: &str| std::env::var(name).unwrap_or_default();
    let prefix = format!("{test}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let text = |value: String| Value::String(value);
    Some(RunOptions {
        variables: IndexMap::from([
            ("s3".to_string(), text(endpoint)),
            ("bucket".to_string(), text(env("TESTMESH_TEST_S3_BUCKET"))),
            ("ak".to_string(), text(env("TESTMESH_TEST_S3_ACCESS_KEY"))),
            ("p".to_string(), text(prefix)),
        ]),
        secrets: IndexMap::from([("sk".to_string(), env("TESTMESH_TEST_S3_SECRET_KEY"))]),
        ..RunOptions::default()
    })
}

#[tokio::test]
async fn put_get_list_delete_and_a_missing_key() {
    let Some(options) = store("crud") else {
        return;
    };
    let secret = options.secrets["sk"].clone();
    let result = run_with(
        r#"
name: s3 round trip
steps:
  - id: put
    action: s3.put
    config:
      endpoint: "${s3}"
      bucket: "${bucket}"
      access_key: "${ak}"
      secret_key: "${sk}"
      key: "${p}/orders/17.json"
      body: {id: 17, total: 42.5}
      metadata: {owner: qa}
    assert: [size > 0, etag != nil]
  - id: put_text
    action: s3.put
    config: {endpoint: "${s3}", bucket: "${bucket}", access_key: "${ak}", secret_key: "${sk}", key: "${p}/orders/18.txt", body: "plain"}
  - id: get
    action: s3.get
    config: {endpoint: "${s3}", bucket: "${bucket}", access_key: "${ak}", secret_key: "${sk}", key: "${p}/orders/17.json"}
    assert:
      - body.total == 42.5
      - content_type == "application/json"
      - metadata.owner == "qa"
      - size == put.size
  - id: list
    action: s3.list
    config: {endpoint: "${s3}", bucket: "${bucket}", access_key: "${ak}", secret_key: "${sk}", prefix: "${p}/orders/"}
    assert: [count == 2]
  - id: delete
    action: s3.delete
    config: {endpoint: "${s3}", bucket: "${bucket}", access_key: "${ak}", secret_key: "${sk}", key: "${p}/orders/17.json"}
  - id: gone
    action: s3.assert
    config: {endpoint: "${s3}", bucket: "${bucket}", access_key: "${ak}", secret_key: "${sk}", key: "${p}/orders/17.json", exists: false}
  - id: missing
    action: s3.get
    config: {endpoint: "${s3}", bucket: "${bucket}", access_key: "${ak}", secret_key: "${sk}", key: "${p}/orders/17.json"}
"#,
        options,
    )
    .await;
    for id in ["put", "put_text", "get", "list", "delete", "gone"] {
        assert_eq!(
            step(&result, id).status,
            StepStatus::Passed,
            "{id}: {}",
            dump(&result)
        );
    }
    let keys = &response(&result, "list")["keys"];
    assert!(
        keys[0].as_str().unwrap().ends_with("/orders/17.json"),
        "{keys}"
    );
    let error = error_of(&result, "missing");
    assert!(
        error.contains("cannot get s3://testmesh/") && error.contains("17.json"),
        "{error}"
    );
    assert!(!dump(&result).contains(&secret));
}

#[tokio::test]
async fn the_original_platforms_minio_keys_are_read() {
    let Some(options) = store("minio") else {
        return;
    };
    let result = run_with(
        r#"
flow:
  name: minio dialect
  steps:
    - id: upload
      action: minio.put
      config:
        endpoint: "${s3_host}"
        use_ssl: false
        access_key: "${ak}"
        secret_key: "${sk}"
        bucket: "${bucket}"
        object: "${p}/report.csv"
        data: "id,total\n17,42.5\n"
        content_type: text/csv
    - id: check
      action: minio.assert
      config:
        endpoint: "${s3_host}"
        use_ssl: false
        access_key: "${ak}"
        secret_key: "${sk}"
        bucket: "${bucket}"
        object: "${p}/report.csv"
        exists: true
        size_gte: 10
        assert: ['content_type == "text/csv"']
    - id: read
      action: minio.get
      config:
        endpoint: "${s3_host}"
        use_ssl: false
        access_key: "${ak}"
        secret_key: "${sk}"
        bucket: "${bucket}"
        object: "${p}/report.csv"
        as: text
      assert: ['body startsWith "id,total"']
"#,
        with_host(options),
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    assert_eq!(response(&result, "check")["size"], json!(17));
}

/// `options` with `s3_host`: the endpoint as `host:port`, as MinIO configs write it.
fn with_host(mut options: RunOptions) -> RunOptions {
    let endpoint = options.variables["s3"].as_str().unwrap().to_string();
    let host = endpoint.trim_start_matches("http://").to_string();
    options
        .variables
        .insert("s3_host".to_string(), Value::String(host));
    options
}

#[tokio::test]
async fn binary_bodies_round_trip_and_failed_checks_name_the_property() {
    let Some(options) = store("binary") else {
        return;
    };
    let result = run_with(
        r#"
name: binary
steps:
  - id: put
    action: s3.put
    config: {endpoint: "${s3}", bucket: "${bucket}", access_key: "${ak}", secret_key: "${sk}", key: "${p}/logo.bin", body_base64: "iVBORw0KGgoAAAAN/w==", content_type: image/png}
  - id: get
    action: s3.get
    config: {endpoint: "${s3}", bucket: "${bucket}", access_key: "${ak}", secret_key: "${sk}", key: "${p}/logo.bin"}
    assert: ['body == "iVBORw0KGgoAAAAN/w=="', content_type == "image/png", size == 13]
  - id: too_small
    action: s3.assert
    config: {endpoint: "${s3}", bucket: "${bucket}", access_key: "${ak}", secret_key: "${sk}", key: "${p}/logo.bin", size_gte: 1000}
"#,
        options,
    )
    .await;
    assert_eq!(
        step(&result, "get").status,
        StepStatus::Passed,
        "{}",
        dump(&result)
    );
    assert_eq!(step(&result, "too_small").status, StepStatus::Failed);
    let error = error_of(&result, "too_small");
    assert_eq!(
        error,
        "`exists == true` and `size >= 1000` did not hold; the last result had exists true, size 13"
    );
}

#[tokio::test]
async fn wrong_credentials_are_refused_in_the_stores_words_and_masked() {
    let Some(mut options) = store("auth") else {
        return;
    };
    options
        .secrets
        .insert("wrong".to_string(), "not-the-secret-key-123".to_string());
    let result = run_with(
        r#"
name: wrong keys
steps:
  - id: bad_secret
    action: s3.put
    on_error: continue
    config: {endpoint: "${s3}", bucket: "${bucket}", access_key: "${ak}", secret_key: "${wrong}", key: "${p}/x.txt", body: x}
  - id: bad_key
    action: s3.list
    config: {endpoint: "${s3}", bucket: "${bucket}", access_key: AKIANOSUCHKEY0000000, secret_key: "${sk}"}
"#,
        options,
    )
    .await;
    assert_eq!(result.status, FlowStatus::Error);
    let secret = error_of(&result, "bad_secret");
    assert!(secret.contains("SignatureDoesNotMatch"), "{secret}");
    let key = error_of(&result, "bad_key");
    assert!(key.contains("InvalidAccessKeyId"), "{key}");
    assert!(!dump(&result).contains("not-the-secret-key-123"));
}

#[test]
fn config_is_checked_before_the_run() {
    let found = diagnostics(
        r#"
name: typos
steps:
  - id: put
    action: minio.put
    config: {endpoint: "minio:9000", bucket: b, object: k, data: x, use_ssl: sometimes, metdata: {a: b}}
  - id: check
    action: s3.assert
    config: {endpoint: "minio:9000", bucket: b, key: k, size_gte: big}
  - id: nothing
    action: s3.put
    config: {endpoint: "minio:9000", bucket: b, key: k}
"#,
    )
    .join("\n");
    assert!(found.contains("did you mean `metadata`"), "{found}");
    assert!(found.contains("config.use_ssl"), "{found}");
    assert!(found.contains("config.size_gte"), "{found}");
    assert!(
        found.contains("s3.put needs `body` or `data` or `body_base64` or `file`"),
        "{found}"
    );
}
