//! `database_query` and `db_poll` against real PostgreSQL and MariaDB servers (started by
//! scripts/test.sh; each test skips with a printed reason when its server is not there).

mod common;

use indexmap::IndexMap;
use serde_json::{Value, json};
use testmesh::engine::{FlowStatus, RunOptions, StepStatus};

use common::flows::{dump, error_of, response, run_with, step};
use common::services::{mysql_database, postgres_database};

fn with_db(url: &str) -> RunOptions {
    let mut variables = IndexMap::new();
    variables.insert("db".to_string(), Value::String(url.to_string()));
    RunOptions {
        variables,
        ..RunOptions::default()
    }
}

#[tokio::test]
async fn postgres_rows_keep_their_types_and_params_are_bound() {
    let Some(db) = postgres_database().await else {
        return;
    };
    let result = run_with(
        r#"
name: pg types
setup:
  - id: create
    action: database_query
    config:
      connection: ${db}
      query: >
        CREATE TABLE orders (id serial primary key, sku text not null, qty int, price numeric(10,2),
        big bigint, ratio float8, paid bool, meta jsonb, tags text[], created timestamptz,
        day date, blob bytea, note text)
steps:
  - id: insert
    action: database_query
    config:
      connection: ${db}
      query: >
        INSERT INTO orders (sku, qty, price, big, ratio, paid, meta, tags, created, day, blob, note)
        VALUES ($1, $2, 12.50, 9007199254740993, 0.25, $3, $4, ARRAY['a','b'],
        '2024-05-06T07:08:09Z', '2024-05-06', '\x0102ff', $5), ('B-2', 1, 3, 1, 1, false, null, null, null, null, null, null)
        RETURNING id
      params: [A-1, 2, true, {color: red, sizes: [1, 2]}, null]
    assert:
      - rows_affected == 2
      - row_count == 2
    output:
      first_id: first_row.id
  - id: select
    action: database_query
    config:
      connection: ${db}
      query: SELECT * FROM orders WHERE id = $1
      params: ["${first_id}"]
    assert:
      - row_count == 1
      - first_row.sku == "A-1"
      - first_row.qty == 2
      - first_row.price == 12.5
      - first_row.meta.color == "red"
      - first_row.note == nil
      - rows[0].paid == true
  - id: update
    action: db_query
    config:
      dsn: ${db}
      query: UPDATE orders SET qty = qty + 1
    assert:
      - rows_affected == 2
      - row_count == 0
      - first_row == nil
"#,
        with_db(&db),
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    let row = &response(&result, "select")["first_row"];
    assert_eq!(row["id"], json!(1));
    assert_eq!(row["price"], json!(12.5));
    assert_eq!(row["big"], json!(9007199254740993_i64));
    assert_eq!(row["ratio"], json!(0.25));
    assert_eq!(row["meta"], json!({"color": "red", "sizes": [1, 2]}));
    assert_eq!(row["tags"], json!(["a", "b"]));
    assert_eq!(row["created"], json!("2024-05-06T07:08:09Z"));
    assert_eq!(row["day"], json!("2024-05-06"));
    assert_eq!(row["blob"], json!("AQL/"));
    assert_eq!(row["note"], Value::Null);
    assert_eq!(step(&result, "insert").captured["first_id"], json!(1));
}

#[tokio::test]
async fn db_poll_repeats_the_query_until_the_condition_holds() {
    let Some(db) = postgres_database().await else {
        return;
    };
    let result = run_with(
        r#"
name: poll
setup:
  - action: database_query
    config: {connection: "${db}", query: CREATE SEQUENCE ticks}
steps:
  - id: wait
    action: db_poll
    config:
      connection: ${db}
      query: SELECT nextval('ticks') AS n
      condition: first_row.n >= 3
      interval: 10ms
      timeout: 20s
    assert:
      - attempts == 3
  - id: never
    action: db_poll
    config:
      connection: ${db}
      query: SELECT 1 AS one WHERE false
      interval: 50ms
      timeout: 300ms
"#,
        with_db(&db),
    )
    .await;
    assert_eq!(
        step(&result, "wait").status,
        StepStatus::Passed,
        "{}",
        dump(&result)
    );
    assert_eq!(response(&result, "wait")["first_row"]["n"], json!(3));
    assert_eq!(step(&result, "never").status, StepStatus::Error);
    let error = error_of(&result, "never");
    assert!(
        error.contains("`row_count > 0` did not hold within 300ms"),
        "{error}"
    );
}

#[tokio::test]
async fn a_slow_query_is_cut_off_and_bad_sql_names_the_server() {
    let Some(db) = postgres_database().await else {
        return;
    };
    let result = run_with(
        r#"
name: failures
steps:
  - id: slow
    action: database_query
    config: {connection: "${db}", query: SELECT pg_sleep(10), timeout: 200ms}
    on_error: continue
  - id: bad
    action: database_query
    config: {connection: "${db}", query: SELEC 1}
"#,
        with_db(&db),
    )
    .await;
    assert_eq!(result.status, FlowStatus::Error);
    let slow = error_of(&result, "slow");
    assert!(
        slow.contains("did not finish within the query timeout of 200ms"),
        "{slow}"
    );
    let bad = error_of(&result, "bad");
    let address = url::Url::parse(&db).unwrap();
    let address = format!(
        "{}:{}",
        address.host_str().unwrap(),
        address.port().unwrap()
    );
    assert!(
        bad.contains(&format!("PostgreSQL query on {address} failed")),
        "{bad}"
    );
    assert!(bad.contains("syntax error"), "{bad}");
}

#[tokio::test]
async fn mariadb_rows_keep_their_types() {
    let Some(db) = mysql_database().await else {
        return;
    };
    let result = run_with(
        r#"
name: mariadb types
setup:
  - action: database_query
    config:
      connection: ${db}
      query: >
        CREATE TABLE items (id int auto_increment primary key, name varchar(50), qty int unsigned,
        price decimal(8,2), ok boolean, doc json, at datetime, stamp timestamp null, raw varbinary(8),
        note text)
steps:
  - id: insert
    action: database_query
    config:
      connection: ${db}
      query: >
        INSERT INTO items (name, qty, price, ok, doc, at, stamp, raw, note)
        VALUES (?, ?, 9.99, ?, JSON_OBJECT('a', 1), '2024-01-02 03:04:05', '2024-01-02 03:04:05', x'01ff', ?)
      params: [widget, 4, true, null]
    assert:
      - rows_affected == 1
  - id: select
    action: database_query
    config: {connection: "${db}", query: "SELECT * FROM items WHERE name = ?", params: [widget]}
    assert:
      - row_count == 1
      - first_row.qty == 4
      - first_row.price == 9.99
"#,
        with_db(&db),
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    let row = &response(&result, "select")["first_row"];
    assert_eq!(row["id"], json!(1));
    assert_eq!(row["name"], json!("widget"));
    assert_eq!(row["ok"], json!(true));
    assert_eq!(row["at"], json!("2024-01-02T03:04:05"));
    assert_eq!(row["raw"], json!("Af8="));
    assert_eq!(row["note"], Value::Null);
    assert!(row["stamp"].as_str().unwrap().ends_with('Z'), "{row}");
    assert_eq!(row["doc"], json!({"a": 1}));
}
