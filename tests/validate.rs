//! `testmesh validate` on bad input: each message names the file, line, column, step and field
//! a user has to fix.

mod common;

use std::path::Path;

use testmesh::engine::builtins;
use testmesh::flow::load::{Loaded, load_text};
use testmesh::flow::validate::{KnownNames, validate};

use common::flows::diagnostics;

#[test]
fn a_valid_flow_has_nothing_to_say() {
    let found = diagnostics(
        "name: ok\nenv:\n  base: http://x\nsteps:\n  - id: a\n    action: http\n    config: {url: '${base}/a'}\n    output: {token: $.body.token}\n  - action: log\n    config: {message: '${token} ${a.status} ${RANDOM_ID}'}\n",
    );
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn unknown_actions_list_the_known_ones() {
    let found = diagnostics("name: f\nsteps:\n  - id: one\n    action: htp_request\n");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].starts_with(
            "flows/bad.yaml:4:5: error: step `one`: steps[0].action: unknown action `htp_request`: did you mean `http_request`? known actions are http_request, assert, log, delay, transform, mock_server_start, mock_server_stop, mock_server_verify, mock_server_update, mock_server_reset_state, database_query"
        ),
        "{found:#?}"
    );
}

#[test]
fn missing_required_fields() {
    let found = diagnostics("description: no name\nsteps: []\n");
    assert_eq!(
        found,
        [
            "flows/bad.yaml:1:1: error: name: `name` is required",
            "flows/bad.yaml:2:1: error: steps: `steps` is required and must list at least one step",
        ]
    );
    let found = diagnostics("name: f\nsteps:\n  - id: a\n    config: {}\n  - action: http\n");
    assert!(
        found.contains(
            &"flows/bad.yaml:3:5: error: step `a`: steps[0].action: `action` is required"
                .to_string()
        ),
        "{found:#?}"
    );
    assert!(found.contains(&"flows/bad.yaml:5:5: error: step `step_2`: steps[1].config: http_request needs `url` in its config".to_string()), "{found:#?}");
}

#[test]
fn duplicate_step_ids() {
    let across_phases = diagnostics(
        "name: f\nsetup:\n  - id: x\n    action: log\n    config: {message: a}\nsteps:\n  - id: x\n    action: log\n    config: {message: b}\n",
    );
    assert!(
        across_phases.is_empty(),
        "an id may repeat in another phase: {across_phases:?}"
    );
    let found = diagnostics(
        "name: f\nsteps:\n  - id: x\n    action: log\n    config: {message: a}\n  - id: x\n    action: log\n    config: {message: b}\n",
    );
    assert_eq!(
        found,
        [
            "flows/bad.yaml:6:5: error: step `x`: steps[1].id: duplicate step id `x` (first used at steps[0])"
        ]
    );
}

#[test]
fn references_that_cannot_resolve() {
    let found = diagnostics(
        "name: f\nsteps:\n  - id: a\n    action: log\n    config: {message: '${later.status} ${nowhere}'}\n  - id: later\n    action: log\n    config: {message: x}\n",
    );
    assert_eq!(
        found,
        [
            "flows/bad.yaml:5:14: error: step `a`: steps[0].config.message: `${later.status}` refers to step `later`, which runs later",
            "flows/bad.yaml:5:14: error: step `a`: steps[0].config.message: `${nowhere}` is not defined: no env entry, earlier step or built-in has that name (define it in `env`, or pass --var nowhere=… or --env-file)",
        ]
    );
}

#[test]
fn references_given_on_the_command_line_are_known() {
    let mut loaded = Loaded::default();
    load_text(
        "name: f\nsteps:\n  - action: log\n    config: {message: '${BASE_URL}'}\n",
        Path::new("f.yaml"),
        &mut loaded,
    );
    let known = KnownNames {
        names: ["BASE_URL".to_string()].into(),
        ..KnownNames::default()
    };
    let flow = loaded.flows().next().unwrap();
    assert!(validate(flow, &known, builtins::NAMES).is_empty());
    let open = KnownNames {
        open: true,
        ..KnownNames::default()
    };
    let found = validate(flow, &open, builtins::NAMES);
    assert!(
        !found[0].is_error(),
        "an environment in the cluster may define it: {found:?}"
    );
}

#[test]
fn expressions_and_paths_that_do_not_parse() {
    let found = diagnostics(
        "name: f\nsteps:\n  - id: a\n    action: log\n    config: {message: x}\n    when: 'status =='\n    assert:\n      - 'status == 200 &&'\n    output:\n      bad: '$.items[?('\n",
    );
    assert_eq!(found.len(), 3, "{found:#?}");
    assert!(found[0].starts_with("flows/bad.yaml:6:5: error: step `a`: steps[0].when: `status ==` is not a valid expression"), "{}", found[0]);
    assert!(found[1].starts_with("flows/bad.yaml:8:9: error: step `a`: steps[0].assert[0]: `status == 200 &&` is not a valid expression"), "{}", found[1]);
    assert!(found[2].starts_with("flows/bad.yaml:10:7: error: step `a`: steps[0].output.bad: invalid JSONPath \"$.items[?(\""), "{}", found[2]);
}

#[test]
fn a_bad_expression_repeated_over_steps_is_named_at_each_place() {
    let found = diagnostics(
        "name: f\nsteps:\n  - id: a\n    action: log\n    config: {message: x}\n    assert:\n      - 'status == 200 &&'\n      - status == 200\n  - id: b\n    action: log\n    config: {message: x}\n    assert:\n      - status == 200\n      - 'status == 200 &&'\n",
    );
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found[0].starts_with("flows/bad.yaml:7:9: error: step `a`: steps[0].assert[0]: `status == 200 &&` is not a valid expression"), "{}", found[0]);
    assert!(found[1].starts_with("flows/bad.yaml:14:9: error: step `b`: steps[1].assert[1]: `status == 200 &&` is not a valid expression"), "{}", found[1]);
}

#[test]
fn wrong_yaml_types_and_bad_durations() {
    let found = diagnostics("name: f\nsteps:\n  - action: log\n    assert: 'status == 200'\n");
    assert_eq!(found.len(), 1);
    assert!(found[0].starts_with("flows/bad.yaml:4:5: error: steps[0].assert: invalid type: string \"status == 200\", expected a sequence"), "{}", found[0]);
    let found = diagnostics("name: f\nconfig:\n  timeout: soon\nsteps:\n  - action: log\n");
    assert_eq!(found.len(), 1);
    assert!(
        found[0]
            .starts_with("flows/bad.yaml:3:3: error: config.timeout: invalid duration \"soon\""),
        "{}",
        found[0]
    );
}

#[test]
fn unknown_config_keys_warn_with_a_suggestion() {
    let found = diagnostics(
        "name: f\nsteps:\n  - action: http\n    config: {url: 'http://x', hedaers: {}}\n",
    );
    assert_eq!(found.len(), 1);
    assert!(found[0].starts_with("flows/bad.yaml:4:31: warning: step `step_1`: steps[0].config.hedaers: http_request does not read `hedaers` (did you mean `headers`?)"), "{}", found[0]);
}

#[test]
fn manifest_fields_are_named_from_spec() {
    let found = diagnostics(
        "apiVersion: testmesh.io/v1alpha1\nkind: TestFlow\nmetadata: {name: m}\nspec:\n  steps:\n    - action: nope\n",
    );
    assert_eq!(found.len(), 1);
    assert!(
        found[0].starts_with(
            "flows/bad.yaml:6:7: error: step `step_1`: spec.steps[0].action: unknown action `nope`"
        ),
        "{}",
        found[0]
    );
}

#[test]
fn malformed_yaml() {
    let found = diagnostics("name: f\nsteps:\n  - action: log\n     config: {}\n");
    assert_eq!(found.len(), 1);
    assert!(found[0].starts_with("flows/bad.yaml:4:"), "{}", found[0]);
    assert!(found[0].contains("error: invalid YAML"), "{}", found[0]);
}

#[test]
fn action_config_types_and_misspelt_keys_are_reported_before_running() {
    let found = diagnostics(
        "name: f\nsteps:\n  - id: q\n    action: database_query\n    config:\n      connection: postgres://x@h/db\n      query: select 1\n      params: 7\n      timout: 5s\n      timeout: soon\n",
    );
    assert!(
        found.iter().any(|d| d.contains(
            "steps[0].config.params: database_query config `params`: expected a list, found a number 7"
        )),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|d| d.contains("does not read `timout` (did you mean `timeout`?)")),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|d| d.contains("config `timeout`: expected a duration")),
        "{found:#?}"
    );
}

#[test]
fn nested_steps_are_checked_like_top_level_ones() {
    let found = diagnostics(
        "name: f\nsteps:\n  - id: loop\n    action: for_each\n    config:\n      items: [1, 2]\n      steps:\n        - id: check\n          action: asert\n        - id: use\n          action: log\n          config: {message: '${item} ${nowhere}'}\n  - id: pick\n    action: condition\n    config:\n      condition: 'loop.iterations >'\n      then: [{id: a, action: log, config: {mesage: x}}]\n",
    );
    let has = |needle: &str| found.iter().any(|d| d.contains(needle));
    assert!(
        has(
            "step `loop[].check`: steps[0].config.steps[0].action: unknown action `asert`: did you mean `assert`?"
        ),
        "{found:#?}"
    );
    assert!(has("`${nowhere}` is not defined"), "{found:#?}");
    assert!(!has("`${item}`"), "{found:#?}");
    assert!(has("steps[1].config.condition"), "{found:#?}");
    assert!(
        has("log does not read `mesage` (did you mean `message`?)"),
        "{found:#?}"
    );
    let clean = diagnostics(
        "name: ok\nsteps:\n  - id: fan\n    action: parallel\n    config:\n      branches:\n        - name: one\n          steps: [{id: a, action: log, config: {message: hi}, output: {got: message}}]\n  - action: log\n    config: {message: '${got} ${a.message}'}\n",
    );
    assert!(clean.is_empty(), "{clean:#?}");
}

#[test]
fn kafka_configs_are_checked_before_running() {
    let found = diagnostics(
        r#"name: f
env: {brokers: "k1:9092"}
steps:
  - id: send
    action: kafka_producer
    config:
      brokers: [k1:9092, k2]
      topc: orders
      value: {id: 1}
      compression: zstd
      sasl: {mechanism: GSSAPI, username: u, password: p}
      messages: [{key: a, vaule: 1}]
  - id: read
    action: kafka_consume
    config:
      brokers: ${brokers}
      topic: orders
      from: earlist
      group_id: checkout
      count: many
      until: value.id ==
"#,
    );
    let expect = [
        "steps[0].config.brokers: kafka_producer config `brokers`: `k2` is not `host:port` (for example 127.0.0.1:9092)",
        "steps[0].config.topc: kafka_producer does not read `topc` (did you mean `topic`?)",
        "steps[0].config: kafka_producer needs `topic` in its config",
        "kafka_producer config `compression`: `zstd` is not a compression: use one of none, gzip, snappy",
        "kafka_producer config `sasl`: mechanism `GSSAPI` is not supported: use one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512",
        "kafka_producer config `messages`: messages[0]: unknown key `vaule` (did you mean `value`?); a message reads key, value, headers, partition",
        "kafka_consumer config `from`: `earlist` is not a starting point (did you mean `earliest`?): use one of run_start, earliest, latest, or an offset number",
        "kafka_consumer config `group_id`: accepted, but no consumer group is joined",
        "kafka_consumer config `count`: expected a whole number, found a string \"many\"",
        "steps[1].config.until: `value.id ==` is not a valid expression",
    ];
    for wanted in expect {
        assert!(
            found.iter().any(|d| d.contains(wanted)),
            "{wanted}\n{found:#?}"
        );
    }
    assert_eq!(found.len(), expect.len(), "{found:#?}");
}

#[test]
fn the_mock_server_actions_of_the_original_dialect_validate() {
    let found = diagnostics(
        r#"
flow:
  name: Payments mock
  setup:
    - id: start_payments
      action: mock_server_start
      config:
        name: payments
        endpoints: [{path: /charges, method: POST, response: {status_code: 201}}]
  steps:
    - id: verify_charge
      action: mock_server_verify
      config:
        server: payments
        method: POST
        path: /charges
        headers: {Authorization: Bearer t}
        body_json: {amount: 10}
        times: 1
    - id: audit
      action: mock_server_verify
      config:
        server: payments
        assertions: [{path: /charges, count_min: 1}]
    - id: editor_form
      action: mock_server_verify
      config: {name: payments, endpoint: /charges, expected_calls: 1}
    - id: decline
      action: mock_server_configure
      config:
        server_id: "${start_payments.server_id}"
        endpoints: [{path: /charges, method: POST, response: {status_code: 402}}]
    - id: decline_one
      action: mock_server_update
      config:
        server: payments
        endpoint: {path: /refunds, response: {status_code: 200}}
    - id: reset
      action: mock_server_reset_state
      config: {server: payments}
  teardown:
    - action: mock_server_stop
      config: {server: payments}
"#,
    );
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn mock_server_verify_keys_are_checked_with_suggestions() {
    let found = diagnostics(
        r#"
flow:
  name: Bad verify
  steps:
    - id: verify
      action: mock_server_verify
      config: {path: /charges, tmes: 2, at_least: many}
    - id: update
      action: mock_server_update
      config: {server: payments}
    - id: audit
      action: mock_server_verify
      config:
        server: payments
        assertions: [{path: /a}, {path: /b, tims: 2}]
"#,
    );
    let expect = [
        "steps[0].config: mock_server_verify needs `server` or `name` or `server_id` in its config",
        "steps[0].config.tmes: mock_server_verify does not read `tmes` (did you mean `times`?)",
        "steps[0].config.at_least: mock_server_verify config `at_least`: expected a whole number",
        "steps[1].config: mock_server_update needs `endpoints` or `endpoint` in its config",
        "steps[2].config.assertions: mock_server_verify config assertions[1].tims: unknown field `tims`, expected one of",
    ];
    for wanted in expect {
        assert!(
            found.iter().any(|d| d.contains(wanted)),
            "{wanted}\n{found:#?}"
        );
    }
    assert_eq!(found.len(), expect.len(), "{found:#?}");
}

#[test]
fn mock_response_templates_need_no_definition_but_other_names_still_do() {
    let flow = |extra: &str| {
        format!(
            r#"name: f
steps:
  - id: start_mock
    action: mock_server_start
    config:
      name: accounts
      endpoints:
        - path: /accounts/{{id}}
          method: POST
          state: {{state_key: visits, initial_value: 0, update_rule: set, value: "{{{{request.body.n}}}}"}}
          response:
            headers: {{X-Path: "${{request.path}}"}}
            body_json:
              name: "{{{{request.body.name}}}}"
              id: "{{{{request.path_params.id}}}}"
              visits: "{{{{state.visits}}}}"
              trace: "${{request.headers.X-Trace}} {{{{request.query.page}}}}"
{extra}"#
        )
    };
    assert_eq!(diagnostics(&flow("")), Vec::<String>::new());
    let found = diagnostics(&flow(
        "              home: \"{{base_url}}\"\n          match: {headers: {X-Seen: \"{{request.path}}\"}}\n",
    ));
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0].contains("steps[0].config.endpoints[0].response.body_json.home")
            && found[0].contains("`${base_url}` is not defined"),
        "{found:?}"
    );
    assert!(
        found[1].contains("steps[0].config.endpoints[0].match.headers.X-Seen")
            && found[1].contains("`${request.path}` refers to `request`, which no earlier step"),
        "{found:?}"
    );
}

#[test]
fn a_bad_mock_update_rule_is_reported_before_running() {
    let found = diagnostics(
        "name: f\nsteps:\n  - id: m\n    action: mock_server_start\n    config:\n      endpoints:\n        - {path: /a}\n        - path: /counter\n          method: POST\n          state: {state_key: n, update_rule: add_one}\n          response: {body_json: {n: '{{state.n}}'}}\n",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("error: step `m`: steps[0].config.endpoints:")
            && found[0]
                .contains("endpoints[1].state.update_rule: \"add_one\" is not an update rule")
            && found[0].contains("POST /counter"),
        "{found:?}"
    );
}
