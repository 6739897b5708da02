//! Paths into values: the dotted form (`body.items[0].id`, `headers["Content-Type"]`) used by
//! references and captures, and the three capture forms a step's `output` may use.

use std::fmt;

use serde_json::Value;
use serde_json_path::JsonPath;

/// One step of a dotted path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Segment::Key(key) => write!(f, "{key}"),
            Segment::Index(index) => write!(f, "[{index}]"),
        }
    }
}

/// Parses `a.b[0]["c-d"].e` into segments. The error names the offending character.
pub fn parse_dotted(path: &str) -> Result<Vec<Segment>, String> {
    let mut segments = Vec::new();
    let chars: Vec<char> = path.chars().collect();
    let mut i = 0;
    let mut expect_key = true;
    while i < chars.len() {
        match chars[i] {
            '.' => {
                if expect_key {
                    return Err(format!("empty segment at position {} in {path:?}", i + 1));
                }
                expect_key = true;
                i += 1;
            }
            '[' => {
                let close = chars[i..]
                    .iter()
                    .position(|&c| c == ']')
                    .map(|p| p + i)
                    .ok_or_else(|| format!("unclosed '[' in {path:?}"))?;
                let inner: String = chars[i + 1..close].iter().collect();
                let inner = inner.trim();
                let quoted = inner.len() >= 2
                    && ((inner.starts_with('"') && inner.ends_with('"'))
                        || (inner.starts_with('\'') && inner.ends_with('\'')));
                if quoted {
                    segments.push(Segment::Key(inner[1..inner.len() - 1].to_string()));
                } else if let Ok(index) = inner.parse::<usize>() {
                    segments.push(Segment::Index(index));
                } else {
                    return Err(format!(
                        "{inner:?} in {path:?} is not an index or a quoted key"
                    ));
                }
                expect_key = false;
                i = close + 1;
            }
            _ => {
                let end = chars[i..]
                    .iter()
                    .position(|&c| c == '.' || c == '[')
                    .map(|p| p + i)
                    .unwrap_or(chars.len());
                let key: String = chars[i..end].iter().collect();
                if !expect_key {
                    return Err(format!("missing '.' before {key:?} in {path:?}"));
                }
                segments.push(Segment::Key(key));
                expect_key = false;
                i = end;
            }
        }
    }
    if segments.is_empty() || expect_key {
        return Err(format!("{path:?} is not a path"));
    }
    Ok(segments)
}

/// The value `segments` lead to, taking a key only in a map and an index only in a list (as a
/// singular JSONPath does, and as expr reads members); `None` where a step finds nothing.
pub fn select<'v>(value: &'v Value, segments: &[Segment]) -> Option<&'v Value> {
    segments
        .iter()
        .try_fold(value, |current, segment| match (segment, current) {
            (Segment::Key(key), Value::Object(map)) => map.get(key),
            (Segment::Index(index), Value::Array(items)) => items.get(*index),
            _ => None,
        })
}

/// Writes segments back as a dotted path.
pub fn display_path(segments: &[Segment]) -> String {
    let mut text = String::new();
    for segment in segments {
        match segment {
            Segment::Key(key)
                if key
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '-') =>
            {
                if !text.is_empty() {
                    text.push('.');
                }
                text.push_str(key);
            }
            Segment::Key(key) => text.push_str(&format!("[{key:?}]")),
            Segment::Index(index) => text.push_str(&format!("[{index}]")),
        }
    }
    text
}

/// A capture path from a step's `output`, parsed once.
#[derive(Debug, Clone)]
pub enum CapturePath {
    /// RFC 9535 JSONPath, when the text starts with `$`.
    Json {
        text: String,
        path: JsonPath,
        /// The segments of a path that selects at most one node by names and indexes
        /// (`$.body.id`, `$.items[0]`): such a path is walked directly, not queried.
        singular: Option<Vec<Segment>>,
    },
    /// A dotted path over the step result (a bare key is a one-segment path).
    Dotted {
        text: String,
        segments: Vec<Segment>,
    },
}

impl CapturePath {
    /// Parses a capture path; the error says which form was tried and why it failed.
    pub fn parse(text: &str) -> Result<Self, String> {
        let trimmed = text.trim();
        if trimmed.starts_with('$') {
            JsonPath::parse(trimmed)
                .map(|path| CapturePath::Json {
                    text: trimmed.to_string(),
                    path,
                    singular: singular_segments(trimmed),
                })
                .map_err(|err| format!("invalid JSONPath {trimmed:?}: {err}"))
        } else {
            parse_dotted(trimmed)
                .map(|segments| CapturePath::Dotted {
                    text: trimmed.to_string(),
                    segments,
                })
                .map_err(|err| format!("invalid path: {err}"))
        }
    }

    /// The path as written.
    pub fn text(&self) -> &str {
        match self {
            CapturePath::Json { text, .. } | CapturePath::Dotted { text, .. } => text,
        }
    }

    /// The key of the step result the path starts at (`body` in `body.id`, `$.body.id` and
    /// `$.body[*].id`), or `None` when a JSONPath may start anywhere (`$..id`, `$.*`).
    pub fn first_key(&self) -> Option<&str> {
        let segments = match self {
            CapturePath::Dotted { segments, .. }
            | CapturePath::Json {
                singular: Some(segments),
                ..
            } => segments,
            CapturePath::Json { text, .. } => return leading_name(text),
        };
        match segments.first() {
            Some(Segment::Key(key)) => Some(key),
            _ => None,
        }
    }
}

/// The name a JSONPath starts with in shorthand (`$.name.`, `$.name[`), if it does.
fn leading_name(json_path: &str) -> Option<&str> {
    let rest = json_path.strip_prefix("$.")?;
    let name = &rest[..rest.find(['.', '[']).unwrap_or(rest.len())];
    is_plain_name(name).then_some(name)
}

/// Whether `key` is a name JSONPath's shorthand (`.name`) can write.
fn is_plain_name(key: &str) -> bool {
    key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The segments of a JSONPath made only of plain names (`.id`, `['id']`) and non-negative
/// indexes (`[0]`); `None` for anything else (wildcards, filters, slices, descendants).
fn singular_segments(json_path: &str) -> Option<Vec<Segment>> {
    let rest = json_path.strip_prefix('$')?;
    let dotted = match rest.strip_prefix('.') {
        Some(after_dot) => after_dot,
        None if rest.starts_with('[') => rest,
        None => return None,
    };
    let segments = parse_dotted(dotted).ok()?;
    segments
        .iter()
        .all(|segment| match segment {
            Segment::Key(key) => is_plain_name(key),
            Segment::Index(_) => true,
        })
        .then_some(segments)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> Segment {
        Segment::Key(k.into())
    }

    #[test]
    fn parses_dotted_paths() {
        assert_eq!(parse_dotted("count").unwrap(), vec![key("count")]);
        assert_eq!(
            parse_dotted("body.items[0].sku").unwrap(),
            vec![key("body"), key("items"), Segment::Index(0), key("sku")]
        );
        assert_eq!(
            parse_dotted("response.headers[\"Content-Type\"]").unwrap(),
            vec![key("response"), key("headers"), key("Content-Type")]
        );
        assert_eq!(
            parse_dotted("headers['x-id']").unwrap(),
            vec![key("headers"), key("x-id")]
        );
    }

    #[test]
    fn rejects_broken_paths() {
        assert!(parse_dotted("a..b").unwrap_err().contains("empty segment"));
        assert!(parse_dotted("a[0").unwrap_err().contains("unclosed"));
        assert!(parse_dotted("a[x]").unwrap_err().contains("not an index"));
        assert!(parse_dotted("a.").is_err());
    }

    #[test]
    fn a_capture_names_the_result_key_it_starts_at() {
        let first = |text: &str| {
            CapturePath::parse(text)
                .unwrap()
                .first_key()
                .map(String::from)
        };
        assert_eq!(first("body.id").as_deref(), Some("body"));
        assert_eq!(first("$.body.id").as_deref(), Some("body"));
        assert_eq!(first("$.headers['X-Id']").as_deref(), Some("headers"));
        assert_eq!(first("$.body[*].id").as_deref(), Some("body"));
        assert_eq!(first("$..id"), None);
        assert_eq!(first("$.*"), None);
        assert_eq!(first("$['body'].id").as_deref(), Some("body"));
        assert_eq!(first("$[0]"), None);
    }

    #[test]
    fn capture_forms() {
        assert!(matches!(
            CapturePath::parse("$.body.id"),
            Ok(CapturePath::Json { .. })
        ));
        assert!(matches!(
            CapturePath::parse("body.id"),
            Ok(CapturePath::Dotted { .. })
        ));
        assert!(
            CapturePath::parse("$.items[?(@.x ==")
                .unwrap_err()
                .contains("JSONPath")
        );
    }

    #[test]
    fn displays_paths() {
        let segments = parse_dotted("headers[\"Content-Type\"].x[2]").unwrap();
        assert_eq!(display_path(&segments), "headers.Content-Type.x[2]");
        let odd = parse_dotted("a[\"b c\"]").unwrap();
        assert_eq!(display_path(&odd), "a[\"b c\"]");
    }
}
