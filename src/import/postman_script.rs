//! Postman script lines that have a meaning in a flow. In a test script: status checks
//! (`pm.response.to.have.status(200)`), checks on the JSON body or a header
//! (`pm.expect(pm.response.json().id).to.eql(7)`, `.to.exist`, `.to.be.a("string")`,
//! `.to.include(…)`, `.to.be.above(…)`), and variables set from the response
//! (`pm.environment.set("id", pm.response.json().id)`), which become captures. In a pre-request
//! script: variables set to a literal, which become `env` values. Lines that only hold the
//! structure (`pm.test("…", function () {`, `});`, comments) mean nothing by themselves.

use std::sync::LazyLock;

use regex::Regex;

/// What a test-script line becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestLine {
    Assertion(String),
    /// A variable and the JSONPath into the result it is captured from.
    Capture(String, String),
    Structure,
    Untranslated,
}

/// What a pre-request-script line becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreRequest {
    /// A variable and its value, as Postman wrote it (`{{…}}` references still in it).
    Value(String, String),
    Structure,
    Untranslated,
}

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("the pattern is valid")
}

static STRUCTURE: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"^(?://.*|pm\.test\(\s*(?:"[^"]*"|'[^']*'|`[^`]*`)\s*,\s*(?:function\s*\(\s*\)|\(\s*\)\s*=>)\s*\{|\}\s*\)?\s*;?)?$"#,
    )
});
static ALIAS: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^(?:var|let|const)\s+(\w+)\s*=\s*pm\.response\.json\(\)\s*;?$"));
static STATUS: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^pm\.response\.to\.have\.status\((\d{3})\)\s*;?$"));
static OK: LazyLock<Regex> = LazyLock::new(|| regex(r"^pm\.response\.to\.be\.ok\s*;?$"));
static HAS_HEADER: LazyLock<Regex> =
    LazyLock::new(|| regex(r#"^pm\.response\.to\.have\.header\(\s*["']([^"']+)["']\s*\)\s*;?$"#));
static EXPECT: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"^pm\.expect\((.+)\)\.to\.((?:deep\.)?(?:eql|equal|eq)|include|be\.above|be\.below|be\.an?)\((.+)\)\s*;?$",
    )
});
static EXPECT_EXISTS: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^pm\.expect\((.+)\)\.to\.(?:exist|not\.be\.undefined)\s*;?$"));
static SET: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"^pm\.(?:environment|collectionVariables|globals|variables)\.set\(\s*["']([^"']+)["']\s*,\s*(.+?)\s*\)\s*;?$"#,
    )
});
static GET: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"^pm\.(?:environment|collectionVariables|globals|variables)\.get\(\s*["']([^"']+)["']\s*\)$"#,
    )
});
static ACCESSORS: LazyLock<Regex> =
    LazyLock::new(|| regex(r#"^(?:\.[A-Za-z_$][\w$]*|\[\d+\]|\["[^"]+"\]|\['[^']+'\])*$"#));
static ACCESSOR: LazyLock<Regex> =
    LazyLock::new(|| regex(r#"\.([A-Za-z_$][\w$]*)|\[(\d+)\]|\["([^"]+)"\]|\['([^']+)'\]"#));
static HEADER_GET: LazyLock<Regex> =
    LazyLock::new(|| regex(r#"^pm\.response\.headers\.get\(\s*["']([^"']+)["']\s*\)$"#));

/// True for a line that only holds a script's structure.
pub fn is_structure(line: &str) -> bool {
    STRUCTURE.is_match(line.trim())
}

/// Translates one test-script line. `aliases` holds the names bound to `pm.response.json()`
/// on earlier lines of the same script.
pub fn test_line(line: &str, aliases: &mut Vec<String>) -> TestLine {
    let line = line.trim();
    if is_structure(line) {
        return TestLine::Structure;
    }
    if let Some(found) = ALIAS.captures(line) {
        aliases.push(found[1].to_string());
        return TestLine::Structure;
    }
    if let Some(found) = STATUS.captures(line) {
        return TestLine::Assertion(format!("status == {}", &found[1]));
    }
    if OK.is_match(line) {
        return TestLine::Assertion("status >= 200 && status < 300".into());
    }
    if let Some(found) = HAS_HEADER.captures(line) {
        return TestLine::Assertion(format!("headers[{}] exists", quoted(&found[1])));
    }
    if let Some(found) = EXPECT_EXISTS.captures(line)
        && let Some(subject) = subject(&found[1], aliases)
    {
        return TestLine::Assertion(format!("{} exists", subject.expression));
    }
    if let Some(found) = EXPECT.captures(line)
        && let Some(subject) = subject(&found[1], aliases)
    {
        let check = found[2].trim_start_matches("deep.");
        let argument = found[3].trim();
        if check == "be.a" || check == "be.an" {
            let Some(kind) = js_string(argument) else {
                return TestLine::Untranslated;
            };
            return TestLine::Assertion(format!("{} is {kind}", subject.expression));
        }
        let Some(expected) = literal(argument) else {
            return TestLine::Untranslated;
        };
        let operator = match check {
            "include" => "contains",
            "be.above" => ">",
            "be.below" => "<",
            _ => "==",
        };
        return TestLine::Assertion(format!("{} {operator} {expected}", subject.expression));
    }
    if let Some(found) = SET.captures(line)
        && let Some(subject) = subject(&found[2], aliases)
    {
        return TestLine::Capture(found[1].to_string(), subject.json_path);
    }
    TestLine::Untranslated
}

/// Translates one pre-request-script line.
pub fn pre_request_line(line: &str) -> PreRequest {
    let line = line.trim();
    if is_structure(line) {
        return PreRequest::Structure;
    }
    if let Some(found) = SET.captures(line) {
        let value = found[2].trim();
        if let Some(text) = js_string(value) {
            return PreRequest::Value(found[1].to_string(), text);
        }
        if value.parse::<f64>().is_ok() || value == "true" || value == "false" {
            return PreRequest::Value(found[1].to_string(), value.to_string());
        }
    }
    PreRequest::Untranslated
}

/// A part of the response, as an assertion names it and as a capture's JSONPath.
struct Subject {
    expression: String,
    json_path: String,
}

/// `pm.response.json().a[0]`, `alias.a`, `pm.response.code`, `pm.response.headers.get("X")`.
fn subject(text: &str, aliases: &[String]) -> Option<Subject> {
    let text = text.trim();
    if text == "pm.response.code" {
        return Some(Subject {
            expression: "status".into(),
            json_path: "$.status".into(),
        });
    }
    if let Some(found) = HEADER_GET.captures(text) {
        return Some(Subject {
            expression: format!("headers[{}]", quoted(&found[1])),
            json_path: format!("$.headers['{}']", &found[1]),
        });
    }
    let rest = match text.strip_prefix("pm.response.json()") {
        Some(rest) => rest,
        None => {
            let alias = aliases.iter().find(|alias| {
                text.strip_prefix(alias.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
            })?;
            &text[alias.len()..]
        }
    };
    if !ACCESSORS.is_match(rest) {
        return None;
    }
    let mut expression = "body".to_string();
    let mut json_path = "$.body".to_string();
    for step in ACCESSOR.captures_iter(rest) {
        if let Some(name) = step.get(1) {
            expression.push_str(&format!(".{}", name.as_str()));
            json_path.push_str(&format!(".{}", name.as_str()));
        } else if let Some(index) = step.get(2) {
            expression.push_str(&format!("[{}]", index.as_str()));
            json_path.push_str(&format!("[{}]", index.as_str()));
        } else if let Some(key) = step.get(3).or(step.get(4)) {
            expression.push_str(&format!("[{}]", quoted(key.as_str())));
            json_path.push_str(&format!("['{}']", key.as_str()));
        }
    }
    Some(Subject {
        expression,
        json_path,
    })
}

/// A JavaScript literal (string, number, boolean, null) or a variable read as an expression
/// literal.
fn literal(text: &str) -> Option<String> {
    if let Some(text) = js_string(text) {
        return Some(quoted(&text));
    }
    if text.parse::<f64>().is_ok() || ["true", "false", "null"].contains(&text) {
        return Some(text.to_string());
    }
    GET.captures(text)
        .map(|found| quoted(&format!("${{{}}}", &found[1])))
}

/// The text of a JavaScript string literal without escapes, in single or double quotes.
fn js_string(text: &str) -> Option<String> {
    let inner = text
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .or_else(|| {
            text.strip_prefix('\'')
                .and_then(|rest| rest.strip_suffix('\''))
        })?;
    (!inner.contains(['"', '\'', '\\'])).then(|| inner.to_string())
}

fn quoted(text: &str) -> String {
    serde_json::Value::String(text.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test(line: &str) -> TestLine {
        test_line(line, &mut vec!["jsonData".to_string()])
    }

    #[test]
    fn status_and_body_checks_become_assertions() {
        assert_eq!(
            test("pm.response.to.have.status(201);"),
            TestLine::Assertion("status == 201".into())
        );
        assert_eq!(
            test("pm.expect(pm.response.json().items[0]['sku-code']).to.eql('A-1');"),
            TestLine::Assertion(r#"body.items[0]["sku-code"] == "A-1""#.into())
        );
        assert_eq!(
            test("pm.expect(jsonData.total).to.be.above(10)"),
            TestLine::Assertion("body.total > 10".into())
        );
        assert_eq!(
            test("pm.expect(jsonData.id).to.be.a('string');"),
            TestLine::Assertion("body.id is string".into())
        );
        assert_eq!(
            test(r#"pm.expect(jsonData.owner).to.equal(pm.environment.get("email"));"#),
            TestLine::Assertion(r#"body.owner == "${email}""#.into())
        );
        assert_eq!(
            test("pm.expect(pm.response.code).to.eql(200);"),
            TestLine::Assertion("status == 200".into())
        );
    }

    #[test]
    fn variables_set_from_the_response_become_captures() {
        assert_eq!(
            test(r#"pm.environment.set("orderId", pm.response.json().id);"#),
            TestLine::Capture("orderId".into(), "$.body.id".into())
        );
        assert_eq!(
            test(r#"pm.collectionVariables.set('token', jsonData.auth.token)"#),
            TestLine::Capture("token".into(), "$.body.auth.token".into())
        );
    }

    #[test]
    fn structure_is_silent_and_the_rest_untranslated() {
        let mut aliases = Vec::new();
        assert_eq!(
            test_line("pm.test(\"Created\", function () {", &mut aliases),
            TestLine::Structure
        );
        assert_eq!(test_line("});", &mut aliases), TestLine::Structure);
        assert_eq!(
            test_line("var data = pm.response.json();", &mut aliases),
            TestLine::Structure
        );
        assert_eq!(aliases, vec!["data".to_string()]);
        assert_eq!(
            test_line("pm.expect(data.items.length).to.eql(2);", &mut aliases),
            TestLine::Assertion("body.items.length == 2".into())
        );
        assert_eq!(
            test_line("postman.setNextRequest('Login');", &mut aliases),
            TestLine::Untranslated
        );
        assert_eq!(
            test_line("pm.expect(Date.now()).to.be.above(0);", &mut aliases),
            TestLine::Untranslated
        );
    }

    #[test]
    fn pre_request_literals_become_values() {
        assert_eq!(
            pre_request_line(r#"pm.environment.set("sku", "A-1");"#),
            PreRequest::Value("sku".into(), "A-1".into())
        );
        assert_eq!(
            pre_request_line("pm.variables.set('qty', 3)"),
            PreRequest::Value("qty".into(), "3".into())
        );
        assert_eq!(
            pre_request_line("pm.environment.set('ts', Date.now());"),
            PreRequest::Untranslated
        );
    }
}
