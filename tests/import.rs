//! `testmesh import` and `testmesh export`, run as a user runs them: the flows each import
//! writes match the golden files under tests/fixtures/import/golden, they validate (with our
//! loader and with the editor schema), and they run against a mock that answers as the API
//! would, sending the requests the source described. Exports give those requests back, and bad
//! input is refused with the file and the place.
//!
//! After changing an import, refresh the golden files with
//! `TESTMESH_UPDATE_IMPORTS=1 cargo test --test import`, and read the diff.

mod common;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use tempfile::TempDir;
use testmesh::flow::source::parse_documents;
use testmesh::mock::{MockServer, MockSpec, RecordedRequest};
use testmesh::resources::editor_schema::{SchemaKind, schema};

use common::cli_process::{Run, finish_off_runtime, testmesh_command};

/// The origin the curl fixtures are written with; tests put the mock's in its place.
const CURL_BASE: &str = "BASE";

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import")
}

fn fixture(name: &str) -> String {
    fixtures().join(name).display().to_string()
}

async fn testmesh(args: Vec<String>) -> Run {
    finish_off_runtime(testmesh_command(args)).await
}

fn args(words: &[&str]) -> Vec<String> {
    words.iter().map(|word| word.to_string()).collect()
}

/// Compares `actual` with the golden file `name`, or writes it when refreshing.
fn golden(name: &str, actual: &str) {
    let path = fixtures().join("golden").join(name);
    if std::env::var_os("TESTMESH_UPDATE_IMPORTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == actual,
        "{name} differs from the import; refresh with TESTMESH_UPDATE_IMPORTS=1 cargo test --test import\n--- golden\n{expected}\n--- import\n{actual}"
    );
}

/// What the import reported on stderr, with the machine's paths taken out.
fn report(run: &Run, out: &Path) -> String {
    run.stderr
        .replace(&fixtures().display().to_string(), "FIXTURES")
        .replace(&out.display().to_string(), "OUT")
}

/// Imports into a fresh folder and checks every file written (and the report) against the
/// golden folder `name`.
async fn import_golden(kind: &str, name: &str, source: &str) -> TempDir {
    let out = tempfile::tempdir().unwrap();
    let run = testmesh(args(&[
        "import",
        kind,
        source,
        "--out",
        &out.path().display().to_string(),
    ]))
    .await;
    assert_eq!(run.code, Some(0), "{run:?}");
    let mut written: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    let golden_folder = fixtures().join("golden").join(name);
    if std::env::var_os("TESTMESH_UPDATE_IMPORTS").is_some() {
        let _ = std::fs::remove_dir_all(&golden_folder);
    } else {
        let mut expected: Vec<String> = std::fs::read_dir(&golden_folder)
            .map(|entries| {
                entries
                    .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
                    .filter(|name| name.ends_with(".yaml"))
                    .collect()
            })
            .unwrap_or_default();
        expected.sort();
        assert_eq!(
            written, expected,
            "the import wrote other files than the golden folder holds"
        );
    }
    for file in &written {
        let text = std::fs::read_to_string(out.path().join(file)).unwrap();
        golden(&format!("{name}/{file}"), &text);
        for document in parse_documents(&text).unwrap() {
            let problems: Vec<String> = jsonschema::draft7::new(&schema(SchemaKind::Flow))
                .unwrap()
                .iter_errors(&document.value)
                .map(|err| format!("{}: {err}", err.instance_path()))
                .collect();
            assert!(
                problems.is_empty(),
                "{file} breaks the editor schema: {problems:#?}"
            );
        }
    }
    golden(&format!("{name}.report.txt"), &report(&run, out.path()));
    out
}

async fn mock(file: &str) -> MockServer {
    let text = std::fs::read_to_string(fixtures().join(file)).unwrap();
    let value = parse_documents(&text).unwrap().remove(0).value;
    MockServer::start(&MockSpec::from_value(value, "").unwrap(), None)
        .await
        .unwrap()
}

/// `testmesh validate --strict` and then `testmesh run` on `path` with `vars`; both must pass.
async fn validate_and_run(path: &Path, vars: &[(&str, &str)]) -> Run {
    let mut words = vec![path.display().to_string()];
    for (name, value) in vars {
        words.push("--var".into());
        words.push(format!("{name}={value}"));
    }
    let mut validate = args(&["validate", "--strict"]);
    validate.extend(words.clone());
    let checked = testmesh(validate).await;
    assert_eq!(checked.code, Some(0), "{checked:?}");
    let mut run = args(&["run"]);
    run.extend(words);
    testmesh(run).await
}

fn header<'r>(request: &'r RecordedRequest, name: &str) -> Option<&'r str> {
    request
        .headers
        .get(name)
        .and_then(|value| value.to_str().ok())
}

fn json_body(request: &RecordedRequest) -> Value {
    serde_json::from_slice(&request.body).unwrap_or(Value::Null)
}

fn find<'r>(requests: &'r [RecordedRequest], method: &str, path: &str) -> &'r RecordedRequest {
    requests
        .iter()
        .find(|request| request.method == method && request.path == path)
        .unwrap_or_else(|| panic!("no {method} {path} among {requests:#?}"))
}

/// A request as the API sees it, for comparing two runs.
fn seen(request: &RecordedRequest) -> Value {
    let headers: Vec<String> = ["authorization", "x-api-key", "x-request-id", "content-type"]
        .iter()
        .filter_map(|name| header(request, name).map(|value| format!("{name}: {value}")))
        .collect();
    let body = serde_json::from_slice::<Value>(&request.body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&request.body).into_owned()));
    json!({"method": request.method, "path": request.path, "query": request.query, "headers": headers, "body": body})
}

#[tokio::test(flavor = "multi_thread")]
async fn openapi_flows_match_their_golden_files_and_run_against_the_api() {
    let out = import_golden("openapi", "openapi", &fixture("openapi/shop.yaml")).await;
    let server = mock("openapi/shop-mock.yaml").await;
    let run = validate_and_run(
        out.path(),
        &[
            ("base_url", server.base_url()),
            ("bearer_auth_token", "tok-1"),
            ("api_key", "key-1"),
        ],
    )
    .await;
    assert_eq!(run.code, Some(0), "{run:?}");
    let requests = server.requests();
    assert_eq!(requests.len(), 7, "{requests:#?}");
    let list = find(&requests, "GET", "/pets");
    assert_eq!(list.query, "limit=10");
    assert_eq!(header(list, "authorization"), Some("Bearer tok-1"));
    let created = find(&requests, "POST", "/pets");
    assert_eq!(
        json_body(created),
        json!({"name": "Rex", "tag": "good", "details": {"petType": "dog", "barks": true}}),
        "the body is the document's example"
    );
    let order = find(&requests, "POST", "/orders");
    assert_eq!(
        json_body(order)["customer"]["email"],
        "user@example.com",
        "a body made from the types"
    );
    assert_eq!(json_body(order)["quantity"], 1);
    assert_eq!(
        header(find(&requests, "DELETE", "/pets/7"), "x-api-key"),
        Some("key-1")
    );
    assert!(header(find(&requests, "GET", "/pets/7"), "x-request-id").is_some());
    assert_eq!(
        header(find(&requests, "GET", "/health"), "authorization"),
        None,
        "security: [] sends no credentials"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn openapi_schema_checks_fail_a_response_that_breaks_the_document() {
    let out = tempfile::tempdir().unwrap();
    let imported = testmesh(args(&[
        "import",
        "openapi",
        &fixture("openapi/shop.yaml"),
        "--out",
        &out.path().display().to_string(),
    ]))
    .await;
    assert_eq!(imported.code, Some(0), "{imported:?}");
    let wrong = json!({"endpoints": [
        {"method": "GET", "path": "/pets", "response": {"body_json": [{"id": "one", "name": "Rex", "details": {"petType": "cat"}}]}},
        {"method": "*", "path": "/pets", "response": {"status_code": 201, "body_json": {"id": 7, "name": "Rex", "details": {"petType": "dog", "barks": true}}}},
        {"method": "GET", "path": "/pets/{petId}", "response": {"body_json": {"id": "seven", "name": "Tom", "details": {"petType": "cat", "lives": 9}}}},
        {"method": "DELETE", "path": "/pets/{petId}", "response": {"status_code": 204}},
    ]});
    let server = MockServer::start(&MockSpec::from_value(wrong, "").unwrap(), None)
        .await
        .unwrap();
    let run = testmesh(args(&[
        "run",
        &out.path().join("shop_api_pets.yaml").display().to_string(),
        "--var",
        &format!("base_url={}", server.base_url()),
        "--var",
        "bearer_auth_token=t",
        "--var",
        "api_key=k",
    ]))
    .await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.all().contains("/0/details"),
        "the cat without lives is named: {run:?}"
    );
    assert!(
        run.all().contains("/0/id"),
        "the id that is not an integer is named: {run:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn openapi_3_1_json_documents_import_with_basic_auth() {
    let out = import_golden("openapi", "openapi-3.1", &fixture("openapi/inventory.json")).await;
    let server = mock("openapi/inventory-mock.yaml").await;
    let run = validate_and_run(
        out.path(),
        &[
            ("base_url", server.base_url()),
            ("basic_username", "ada"),
            ("basic_password", "pw"),
        ],
    )
    .await;
    assert_eq!(run.code, Some(0), "{run:?}");
    let requests = server.requests();
    let list = find(&requests, "GET", "/items");
    assert_eq!(list.query, "key=demo");
    assert_eq!(header(list, "authorization"), Some("Basic YWRhOnB3"));
    assert_eq!(
        json_body(find(&requests, "POST", "/items")),
        json!({"sku": "B-2", "count": 3, "note": null})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn postman_folders_become_flows_that_run_with_their_auth_and_checks() {
    let out = import_golden(
        "postman",
        "postman",
        &fixture("postman/shop.postman_collection.json"),
    )
    .await;
    let text = std::fs::read_to_string(out.path().join("shop_orders.yaml")).unwrap();
    assert!(
        text.contains("    # test: postman.setNextRequest(\"Read order\");\n"),
        "an untranslated line stays on its step as a comment:\n{text}"
    );
    let server = mock("postman/shop-mock.yaml").await;
    let run = validate_and_run(
        out.path(),
        &[
            ("baseUrl", server.base_url()),
            ("password", "pw"),
            ("token", "tok-live"),
            ("adminUser", "root"),
            ("adminPassword", "toor"),
            ("stockKey", "sk-1"),
        ],
    )
    .await;
    assert_eq!(run.code, Some(0), "{run:?}");
    let requests = server.requests();
    assert_eq!(
        json_body(find(&requests, "POST", "/login")),
        json!({"email": "ada@example.com", "password": "pw"})
    );
    let order = find(&requests, "POST", "/orders");
    assert_eq!(
        header(order, "authorization"),
        Some("Bearer tok-live"),
        "the collection's auth"
    );
    let body = json_body(order);
    assert_eq!(
        (&body["sku"], &body["qty"]),
        (&json!("A-1"), &json!("2")),
        "folder variable and pre-request value"
    );
    let note = body["note"].as_str().unwrap_or_default();
    assert!(
        !note.is_empty() && note.chars().all(|c| c.is_ascii_alphanumeric()),
        "a random string for Postman's $randomColor: {note:?}"
    );
    assert_eq!(
        uuid::Uuid::parse_str(header(order, "x-trace").unwrap()).map(|id| id.get_version_num()),
        Ok(4)
    );
    assert_eq!(
        find(&requests, "GET", "/orders/ord-1").query,
        "expand=items",
        "the captured order id"
    );
    assert_eq!(
        header(find(&requests, "GET", "/admin/orders"), "authorization"),
        Some("Basic cm9vdDp0b29y")
    );
    let stock = find(&requests, "PUT", "/stock");
    assert_eq!(header(stock, "x-stock-key"), Some("sk-1"));
    assert_eq!(String::from_utf8_lossy(&stock.body), "sku=A-1&count=5");
    assert_eq!(
        header(find(&requests, "GET", "/health"), "authorization"),
        None,
        "noauth"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn postman_checks_fail_when_the_api_answers_otherwise() {
    let out = tempfile::tempdir().unwrap();
    let folder = out.path().display().to_string();
    let imported = testmesh(args(&[
        "import",
        "postman",
        &fixture("postman/shop.postman_collection.json"),
        "--out",
        &folder,
    ]))
    .await;
    assert_eq!(imported.code, Some(0), "{imported:?}");
    let wrong = json!({"endpoints": [{"method": "GET", "path": "/health", "response": {"body_json": {"status": "degraded"}}}]});
    let server = MockServer::start(&MockSpec::from_value(wrong, "").unwrap(), None)
        .await
        .unwrap();
    let run = testmesh(args(&[
        "run",
        &out.path().join("shop.yaml").display().to_string(),
        "--var",
        &format!("baseUrl={}", server.base_url()),
    ]))
    .await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.all().contains("degraded"), "{run:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn har_recordings_capture_values_that_later_requests_reuse() {
    let out = import_golden("har", "har", &fixture("har/checkout.har")).await;
    let server = mock("har/checkout-mock.yaml").await;
    let run = validate_and_run(out.path(), &[("base_url", server.base_url())]).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    let requests = server.requests();
    let profile = find(&requests, "GET", "/api/users/usr-9");
    assert_eq!(
        header(profile, "authorization"),
        Some("Bearer tok-live"),
        "the token of this run, not the recorded one"
    );
    assert_eq!(
        json_body(find(&requests, "POST", "/api/orders"))["userId"],
        "usr-9"
    );
    assert_eq!(
        find(&requests, "GET", "/api/orders/ord-1").query,
        "expand=items"
    );
    assert_eq!(
        json_body(find(&requests, "POST", "/api/orders/ord-1/notes")),
        json!({"order": 555, "text": "leave at the door"}),
        "a captured number stays a number"
    );
    assert!(
        !requests
            .iter()
            .any(|request| request.path.ends_with(".png")),
        "static assets are left out"
    );
}

/// The curl fixture lines with `origin` in place of BASE.
fn curl_lines(origin: &str) -> Vec<String> {
    std::fs::read_to_string(fixtures().join("curl/commands.txt"))
        .unwrap()
        .lines()
        .map(|line| line.replace(CURL_BASE, origin))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn curl_lines_become_one_step_each_and_export_back_to_the_same_step() {
    let mut flows = String::new();
    let mut reports = String::new();
    for line in curl_lines("https://api.example.com") {
        let run = testmesh(args(&["import", "curl", &line])).await;
        assert_eq!(run.code, Some(0), "{run:?}");
        flows.push_str(&run.stdout);
        reports.push_str(&run.stderr);
        let file = tempfile::NamedTempFile::with_suffix(".yaml").unwrap();
        std::fs::write(file.path(), &run.stdout).unwrap();
        let exported = testmesh(args(&[
            "export",
            "curl",
            &file.path().display().to_string(),
        ]))
        .await;
        assert_eq!(exported.code, Some(0), "{exported:?}");
        let again = testmesh(args(&["import", "curl", exported.stdout.trim()])).await;
        let (first, second) = (
            parse_documents(&run.stdout).unwrap(),
            parse_documents(&again.stdout).unwrap(),
        );
        let step = |documents: &[testmesh::flow::source::SourceDocument]| {
            documents[0].value["flow"]["steps"][0].clone()
        };
        assert_eq!(
            step(&first),
            step(&second),
            "{line}\nexported as {}",
            exported.stdout
        );
    }
    golden("curl/flows.yaml", &flows);
    golden("curl.report.txt", &reports);
}

#[tokio::test(flavor = "multi_thread")]
async fn curl_steps_send_what_curl_would() {
    let server = mock("curl/mock.yaml").await;
    for line in curl_lines(server.base_url()) {
        let imported = testmesh(args(&["import", "curl", &line])).await;
        let file = tempfile::NamedTempFile::with_suffix(".yaml").unwrap();
        std::fs::write(file.path(), &imported.stdout).unwrap();
        let run = validate_and_run(file.path(), &[]).await;
        assert_eq!(run.code, Some(0), "{line}: {run:?}");
    }
    let requests = server.requests();
    let seen: Vec<Value> = requests.iter().map(seen).collect();
    assert_eq!(
        seen,
        vec![
            json!({"method": "POST", "path": "/orders", "query": "source=cli", "headers": ["authorization: Bearer tok-1", "content-type: application/json"], "body": {"sku": "A-1", "qty": 2, "note": "it's a gift"}}),
            json!({"method": "GET", "path": "/orders/ord-42", "query": "", "headers": ["authorization: Basic YWRhOnMzY3JldA=="], "body": ""}),
            json!({"method": "GET", "path": "/search", "query": "q=red+shoes&page=2", "headers": [], "body": ""}),
            json!({"method": "PUT", "path": "/orders/ord-42/status", "query": "", "headers": ["content-type: application/json"], "body": {"status": "shipped"}}),
            json!({"method": "POST", "path": "/forms", "query": "", "headers": ["content-type: application/x-www-form-urlencoded"], "body": "name=Ada Lovelace&team=analytics"}),
        ]
    );
    assert_eq!(header(&requests[1], "accept"), Some("application/json"));
    assert_eq!(header(&requests[2], "user-agent"), Some("testmesh-import"));
    assert_eq!(header(&requests[4], "cookie"), Some("session=abc123"));
}

#[tokio::test(flavor = "multi_thread")]
async fn exported_curl_lines_of_an_openapi_import_send_the_same_requests() {
    let out = tempfile::tempdir().unwrap();
    let imported = testmesh(args(&[
        "import",
        "openapi",
        &fixture("openapi/shop.yaml"),
        "--out",
        &out.path().display().to_string(),
    ]))
    .await;
    assert_eq!(imported.code, Some(0), "{imported:?}");
    let flow = out.path().join("shop_api_pets.yaml");
    let original = mock("openapi/shop-mock.yaml").await;
    let vars = [
        ("base_url", original.base_url().to_string()),
        ("bearer_auth_token", "tok-1".into()),
        ("api_key", "key-1".into()),
    ];
    let borrowed: Vec<(&str, &str)> = vars
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    let run = validate_and_run(&flow, &borrowed).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    let exported = testmesh(args(&["export", "curl", &flow.display().to_string()])).await;
    assert_eq!(exported.code, Some(0), "{exported:?}");
    assert_eq!(exported.stdout.lines().count(), 4, "{exported:?}");
    let replayed = mock("openapi/shop-mock.yaml").await;
    for line in exported.stdout.lines() {
        let line = line
            .replace("${base_url}", replayed.base_url())
            .replace("${bearer_auth_token}", "tok-1")
            .replace("${api_key}", "key-1");
        let again = testmesh(args(&["import", "curl", &line])).await;
        let file = tempfile::NamedTempFile::with_suffix(".yaml").unwrap();
        std::fs::write(file.path(), &again.stdout).unwrap();
        let run = testmesh(args(&["run", &file.path().display().to_string()])).await;
        assert_eq!(run.code, Some(0), "{line}: {run:?}");
    }
    let before: Vec<Value> = original.requests().iter().map(seen).collect();
    let after: Vec<Value> = replayed.requests().iter().map(seen).collect();
    assert_eq!(before, after);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_postman_export_of_imported_flows_imports_back_to_the_same_steps() {
    let first = tempfile::tempdir().unwrap();
    let imported = testmesh(args(&[
        "import",
        "postman",
        &fixture("postman/shop.postman_collection.json"),
        "--out",
        &first.path().display().to_string(),
    ]))
    .await;
    assert_eq!(imported.code, Some(0), "{imported:?}");
    let mut files: Vec<PathBuf> = std::fs::read_dir(first.path())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    let mut export = args(&["export", "postman", "--name", "Round trip"]);
    export.extend(files.iter().map(|file| file.display().to_string()));
    let exported = testmesh(export).await;
    assert_eq!(exported.code, Some(0), "{exported:?}");
    let collection: Value = serde_json::from_str(&exported.stdout).unwrap();
    assert_eq!(
        collection["info"]["schema"],
        testmesh::export::postman::SCHEMA
    );
    let collection_file = tempfile::NamedTempFile::with_suffix(".json").unwrap();
    std::fs::write(collection_file.path(), &exported.stdout).unwrap();
    let again = testmesh(args(&[
        "import",
        "postman",
        &collection_file.path().display().to_string(),
    ]))
    .await;
    assert_eq!(again.code, Some(0), "{again:?}");
    let steps_of = |text: &str| -> Vec<Value> {
        parse_documents(text)
            .unwrap()
            .iter()
            .flat_map(|document| {
                document.value["flow"]["steps"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .map(|mut step| {
                step.as_object_mut().unwrap().remove("id");
                step
            })
            .collect()
    };
    let original: String = files
        .iter()
        .map(|file| std::fs::read_to_string(file).unwrap())
        .collect();
    assert_eq!(steps_of(&again.stdout), steps_of(&original));
    assert!(
        again.stderr.contains("0 not translated"),
        "every test line the export wrote reads back: {again:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn export_reports_the_steps_it_skips() {
    let quickstart = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart.yaml");
    let run = testmesh(args(&["export", "curl", &quickstart.display().to_string()])).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(
        run.stdout.lines().count(),
        3,
        "three http_request steps: {run:?}"
    );
    assert!(
        run.stdout
            .starts_with("curl '${api.base_url}/orders' --json"),
        "{run:?}"
    );
    for skipped in [
        "api: mock_server_start",
        "check_total: assert",
        "mock_server_stop",
    ] {
        assert!(run.stderr.contains(skipped), "{skipped}: {run:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_refused_with_the_file_and_the_place() {
    let cases: Vec<(Vec<String>, Vec<&str>)> = vec![
        (
            args(&["import", "openapi", &fixture("bad/swagger.yaml")]),
            vec!["bad/swagger.yaml: at /swagger (line 1:1): Swagger \"2.0\" is not supported"],
        ),
        (
            args(&["import", "openapi", &fixture("bad/openapi-4.yaml")]),
            vec![
                "bad/openapi-4.yaml: at /openapi (line 1:1): OpenAPI version \"4.0.0\" is not supported",
            ],
        ),
        (
            args(&["import", "openapi", &fixture("bad/broken-ref.yaml")]),
            vec![
                "bad/broken-ref.yaml: at /paths/~1pets/get/responses/200/content/application~1json/schema/$ref (line 12:17): broken $ref \"#/components/schemas/Pets\"",
            ],
        ),
        (
            args(&["import", "openapi", &fixture("bad/not-yaml.yaml")]),
            vec!["bad/not-yaml.yaml: at line 3:1: not JSON or YAML"],
        ),
        (
            args(&["import", "openapi", &fixture("bad/missing.yaml")]),
            vec!["bad/missing.yaml: cannot read the file"],
        ),
        (
            args(&["import", "postman", &fixture("bad/not-a-collection.json")]),
            vec!["bad/not-a-collection.json: not a Postman collection: no `item` list"],
        ),
        (
            args(&["import", "postman", &fixture("openapi/shop.yaml")]),
            vec!["openapi/shop.yaml: not a Postman collection"],
        ),
        (
            args(&["import", "har", &fixture("bad/not-a-har.json")]),
            vec!["bad/not-a-har.json: not a HAR file: no log.entries list"],
        ),
        (
            args(&["import", "curl", "curl 'http://example.com"]),
            vec!["curl: cannot split the command line"],
        ),
        (
            args(&["import", "curl", "curl -H 'Accept: text/plain'"]),
            vec!["curl: the command names no URL"],
        ),
        (
            args(&["import", "curl", "curl http://example.com -X"]),
            vec!["curl: at -X: the option needs a value"],
        ),
    ];
    for (words, expected) in cases {
        let run = testmesh(words.clone()).await;
        assert_eq!(run.code, Some(2), "{words:?}: {run:?}");
        assert!(run.stdout.is_empty(), "{words:?}: {run:?}");
        for text in expected {
            assert!(
                run.stderr.contains(text),
                "{words:?} should say {text:?}: {run:?}"
            );
        }
    }
}
