//! JUnit XML: parsed back to check its structure and that any text stays well-formed.

use std::collections::BTreeMap;

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use serde_json::json;
use testmesh::engine::result::{FlowStatus, StepStatus};
use testmesh::report::junit::junit_xml;

use crate::fixtures::*;

/// An element as a parser sees it: name, attributes and text, unescaped.
#[derive(Debug)]
struct Element {
    name: String,
    attributes: BTreeMap<String, String>,
    text: String,
}

impl Element {
    fn attr(&self, name: &str) -> &str {
        self.attributes.get(name).map_or("", String::as_str)
    }
}

/// Every element of a document, in document order; panics when it is not well-formed.
fn parse(xml: &str) -> Vec<Element> {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
            || c >= '\u{10000}'
    };
    if let Some(bad) = xml.chars().find(|&c| !allowed(c)) {
        panic!("character {bad:?} is not allowed in XML 1.0");
    }
    let mut reader = Reader::from_str(xml);
    let mut elements: Vec<Element> = Vec::new();
    let mut open = Vec::new();
    loop {
        match reader.read_event().unwrap() {
            Event::Start(tag) => {
                open.push(elements.len());
                elements.push(element(&tag));
            }
            Event::Empty(tag) => elements.push(element(&tag)),
            Event::End(_) => {
                open.pop().unwrap();
            }
            Event::Text(text) => {
                if let Some(&index) = open.last() {
                    elements[index].text.push_str(&text.decode().unwrap());
                }
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref().unwrap() {
                    Some(c) => c.to_string(),
                    None => {
                        let name = reference.decode().unwrap();
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .unwrap_or_else(|| panic!("unknown entity {name}"))
                            .to_owned()
                    }
                };
                if let Some(&index) = open.last() {
                    elements[index].text.push_str(&resolved);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(open.is_empty(), "unclosed elements");
    elements
}

fn element(tag: &BytesStart<'_>) -> Element {
    let attributes = tag
        .attributes()
        .map(|attribute| {
            let attribute = attribute.unwrap();
            let name = String::from_utf8(attribute.key.as_ref().to_vec()).unwrap();
            let value = attribute.normalized_value(XmlVersion::Explicit1_0).unwrap();
            (name, value.into_owned())
        })
        .collect();
    Element {
        name: String::from_utf8(tag.name().as_ref().to_vec()).unwrap(),
        attributes,
        text: String::new(),
    }
}

fn count(elements: &[Element], name: &str) -> usize {
    elements.iter().filter(|e| e.name == name).count()
}

#[test]
fn one_suite_per_flow_and_one_case_per_step() {
    let elements = parse(&junit_xml(&all_flows()).unwrap());
    assert_eq!(count(&elements, "testsuites"), 1);
    assert_eq!(count(&elements, "testsuite"), 6);
    // 12 steps and the timed-out flow's own case.
    assert_eq!(count(&elements, "testcase"), 13);
    assert_eq!(count(&elements, "failure"), 2);
    // The refused connection and the timed-out flow.
    assert_eq!(count(&elements, "error"), 2);
    assert_eq!(count(&elements, "skipped"), 3);
    // wait_ready passed on its third try; stock failed twice.
    assert_eq!(count(&elements, "flakyFailure"), 2);
    assert_eq!(count(&elements, "rerunFailure"), 1);
    let root = &elements[0];
    assert_eq!(
        (
            root.attr("tests"),
            root.attr("failures"),
            root.attr("errors"),
            root.attr("skipped")
        ),
        ("13", "2", "2", "3")
    );
}

#[test]
fn suites_carry_the_source_file_and_cases_the_flow_and_phase() {
    let elements = parse(&junit_xml(&[passed_flow()]).unwrap());
    let property = elements.iter().find(|e| e.name == "property").unwrap();
    assert_eq!(property.attr("name"), "source");
    assert_eq!(property.attr("value"), "flows/users.yaml");
    let cases: Vec<_> = elements.iter().filter(|e| e.name == "testcase").collect();
    let names: Vec<_> = cases.iter().map(|c| c.attr("name")).collect();
    assert_eq!(names, ["setup/seed", "create_user", "teardown/cleanup"]);
    assert!(cases.iter().all(|c| c.attr("classname") == "users"));
    assert_eq!(cases[1].attr("time"), "0.034");
}

#[test]
fn failure_names_the_assertion_and_shows_actual_values() {
    let elements = parse(&junit_xml(&[failed_assertion_flow()]).unwrap());
    let failure = elements.iter().find(|e| e.name == "failure").unwrap();
    assert_eq!(
        failure.attr("message"),
        "body.items[0].quantity == 2: quantity must match the order"
    );
    assert!(
        failure.text.contains("actual: body.items[0].quantity = 3"),
        "{}",
        failure.text
    );
    assert!(
        failure.text.contains("body.note == \"short\""),
        "{}",
        failure.text
    );
    let skipped = elements.iter().find(|e| e.name == "skipped").unwrap();
    assert_eq!(
        skipped.attr("message"),
        "skipped: the flow stopped after create_order failed"
    );
}

#[test]
fn error_carries_the_runtime_error_and_flow_errors_go_to_system_err() {
    let elements = parse(&junit_xml(&[runtime_error_flow(), timed_out_flow()]).unwrap());
    let errors: Vec<_> = elements.iter().filter(|e| e.name == "error").collect();
    assert!(errors[0].attr("message").contains("connection refused"));
    assert_eq!(errors[1].attr("message"), "flow timed out after 30s");
    assert_eq!(errors[1].attr("type"), "timeout");
    let system_err = elements.iter().find(|e| e.name == "system-err").unwrap();
    assert_eq!(system_err.text, "flow timed out after 30s");
}

#[test]
fn any_text_stays_well_formed() {
    let nasty =
        "a < b && c > \"d\" 'e' \u{1}\u{8}\u{b}\u{1b}[31mred\u{1b}[0m \u{FFFE}\u{FFFF} ]]> end";
    let mut result = failed_assertion_flow();
    result.flow_name = nasty.to_owned();
    result.source = Some(nasty.to_owned());
    result.error = Some(nasty.to_owned());
    result.status = FlowStatus::TimedOut;
    let step = &mut result.steps[0];
    step.id = nasty.to_owned();
    let attempt = step.attempts.last_mut().unwrap();
    attempt.assertions[1].message = Some(nasty.to_owned());
    attempt.assertions[1]
        .actual
        .insert(nasty.to_owned(), json!(nasty));
    attempt.response = Some(json!({"status": 200, "body": nasty}).into());
    result.steps[1].status = StepStatus::Cancelled;
    result.steps[1].reason = Some(nasty.to_owned());

    let elements = parse(&junit_xml(&[result]).unwrap());
    let cleaned = "a < b && c > \"d\" 'e' red \u{FFFD}\u{FFFD} ]]> end";
    let suite = elements.iter().find(|e| e.name == "testsuite").unwrap();
    assert_eq!(suite.attr("name"), cleaned);
    let failure = elements.iter().find(|e| e.name == "failure").unwrap();
    assert_eq!(
        failure.attr("message"),
        format!("body.items[0].quantity == 2: {cleaned}")
    );
    // The terminal text escapes control characters itself; XML keeps what is left readable.
    assert!(
        failure.text.contains("a < b && c > \"d\""),
        "{}",
        failure.text
    );
    let skipped = elements.iter().find(|e| e.name == "skipped").unwrap();
    assert_eq!(skipped.attr("message"), format!("cancelled: {cleaned}"));
}

#[test]
fn report_snapshot() {
    insta::assert_snapshot!(
        junit_xml(&[failed_assertion_flow(), retries_flow(), timed_out_flow()]).unwrap()
    );
}

#[test]
fn empty_run_is_a_valid_document() {
    let elements = parse(&junit_xml(&[]).unwrap());
    assert_eq!(elements.len(), 1);
    assert_eq!(elements[0].attr("tests"), "0");
}
