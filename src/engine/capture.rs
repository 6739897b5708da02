//! Captures (`output`): reads a value out of a step result by JSONPath, dotted path or bare
//! key. For compatibility with the original platform, a path that finds nothing in the result
//! is tried again against `body`, and a dotted path may start with the capturing step's own id
//! (`register.body.id` in step `register`).

use serde_json::Value;

use super::actions::Deferred;
use super::variables::walk;
use crate::flow::path::{CapturePath, Segment, select};

/// What a capture by `path` reads: the step result the action built, or, when the path may
/// reach a key the action deferred (or `response`, the whole result), the whole result.
pub fn capture_source<'a>(
    path: &CapturePath,
    result: &'a Value,
    deferred: Option<Deferred<'a>>,
) -> &'a Value {
    match deferred {
        Some(deferred)
            if !path
                .first_key()
                .is_some_and(|key| key != "response" && !deferred.holds(key)) =>
        {
            deferred.whole()
        }
        _ => result,
    }
}

/// The rest of a dotted `path` that starts with the capturing step's own id (`own_id`) when the
/// result has no key of that name, as the original platform's files write captures; `None`
/// when the path is read as written.
pub fn without_own_id(path: &CapturePath, own_id: &str, whole: &Value) -> Option<CapturePath> {
    let CapturePath::Dotted { text, segments } = path else {
        return None;
    };
    match segments.split_first() {
        Some((Segment::Key(first), rest))
            if first == own_id && !rest.is_empty() && whole.get(own_id).is_none() =>
        {
            Some(CapturePath::Dotted {
                text: text.clone(),
                segments: rest.to_vec(),
            })
        }
        _ => None,
    }
}

/// Reads `path` from a step result (a map); the error says what the path found instead.
pub fn capture(whole: &Value, path: &CapturePath) -> Result<Value, String> {
    let body = whole.get("body");
    match path {
        CapturePath::Json {
            text,
            path,
            singular,
        } => {
            let query = |value: &Value| match singular {
                Some(segments) => select(value, segments).cloned(),
                None => query(path, value),
            };
            if let Some(found) = query(whole) {
                return Ok(found);
            }
            if let Some(found) = body.and_then(query) {
                return Ok(found);
            }
            if text.starts_with("$.response") || text.starts_with("$['response']") {
                let view = serde_json::json!({ "response": whole });
                if let Some(found) = query(&view) {
                    return Ok(found);
                }
            }
            Err(format!(
                "JSONPath {text} matched nothing in the result or its body"
            ))
        }
        CapturePath::Dotted { text, segments } => match walk(whole, segments) {
            Ok(found) => Ok(found),
            Err(problem) => {
                let in_body = matches!(segments.first(), Some(Segment::Key(k)) if k != "body");
                if in_body && let Some(found) = body.and_then(|body| walk(body, segments).ok()) {
                    return Ok(found);
                }
                Err(format!("path {text} found nothing: {problem}"))
            }
        },
    }
}

fn query(path: &serde_json_path::JsonPath, value: &Value) -> Option<Value> {
    let nodes = path.query(value).all();
    match nodes.as_slice() {
        [] => None,
        [one] => Some((*one).clone()),
        many => Some(Value::Array(many.iter().map(|v| (*v).clone()).collect())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn result() -> Value {
        json!({
            "status": 201,
            "headers": {"Content-Type": "application/json", "X-Id": "h-1"},
            "body": {"id": "u-1", "items": [{"sku": "A", "price": 5}, {"sku": "B", "price": 0}]},
            "first_row": {"cnt": 4},
            "count": 2,
            "duration_ms": 12
        })
    }

    fn get(path: &str) -> Result<Value, String> {
        capture(&result(), &CapturePath::parse(path).unwrap())
    }

    #[test]
    fn a_path_may_start_with_the_capturing_steps_own_id() {
        let whole = result();
        let own = CapturePath::parse("register.body.id").unwrap();
        let rest = without_own_id(&own, "register", &whole).expect("the own id is dropped");
        assert_eq!(capture(&whole, &rest).unwrap(), json!("u-1"));
        assert!(
            without_own_id(&own, "login", &whole).is_none(),
            "another step's id is a path as written"
        );
        let named = json!({"register": {"id": "kept"}, "body": {"id": "u-1"}});
        assert!(
            without_own_id(&own, "register", &named).is_none(),
            "a result key of that name is read as written"
        );
        let bare = CapturePath::parse("register").unwrap();
        assert!(without_own_id(&bare, "register", &whole).is_none());
    }

    #[test]
    fn reads_all_three_forms() {
        let cases = [
            ("$.body.items[0].sku", json!("A")),
            ("$.headers['X-Id']", json!("h-1")),
            ("$.body.items[?@.price > 1].sku", json!("A")),
            ("$.body.items[*].sku", json!(["A", "B"])),
            ("$.id", json!("u-1")),
            ("body.id", json!("u-1")),
            ("response.body.id", json!("u-1")),
            ("$.response.body.id", json!("u-1")),
            ("response.time", json!(12)),
            ("first_row.cnt", json!(4)),
            ("body.items[1].sku", json!("B")),
            ("count", json!(2)),
            ("status", json!(201)),
            ("headers[\"Content-Type\"]", json!("application/json")),
            ("items[0].sku", json!("A")),
        ];
        for (path, expected) in cases {
            assert_eq!(get(path).unwrap(), expected, "{path}");
        }
    }

    #[test]
    fn a_walked_singular_path_finds_what_the_query_finds() {
        let value = result();
        for text in [
            "$.body.id",
            "$.body.items[1].price",
            "$['body']['items'][0]",
            "$.body.items[5]",
            "$.body.id.deeper",
            "$.body.items.sku",
            "$.status[0]",
            "$.nope",
        ] {
            let Ok(CapturePath::Json {
                path,
                singular: Some(segments),
                ..
            }) = CapturePath::parse(text)
            else {
                panic!("{text} should be walked");
            };
            assert_eq!(
                select(&value, &segments).cloned(),
                query(&path, &value),
                "{text}"
            );
        }
        for text in [
            "$",
            "$..id",
            "$.body.*",
            "$.body.items[-1]",
            "$.body.items[0:1]",
            "$.body.items[?@.price > 1]",
        ] {
            let Ok(CapturePath::Json { singular, .. }) = CapturePath::parse(text) else {
                panic!("{text} should parse");
            };
            assert_eq!(singular, None, "{text} must be queried");
        }
    }

    #[test]
    fn says_what_was_not_found() {
        assert!(get("response.nope").is_err());
        assert_eq!(
            get("$.body.nope").unwrap_err(),
            "JSONPath $.body.nope matched nothing in the result or its body"
        );
        assert_eq!(
            get("body.nope").unwrap_err(),
            "path body.nope found nothing: `body` has no key `nope` (it has: id, items)"
        );
    }
}
