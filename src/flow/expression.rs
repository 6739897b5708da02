//! Assertion and `when` expressions as flow files write them, made ready for the expr language
//! (expr-lang.org, which the original platform used):
//! - an expression wrapped whole in `${…}` (`when: "${a == 'b'}"`, as the original platform's
//!   files write conditions) is the expression inside;
//! - `${x}` / `{{x}}` are substituted first: inside a quoted string by the value's text, elsewhere
//!   by a literal of the value's type;
//! - the documented-but-never-built forms are rewritten: `X exists`, `X not exists`,
//!   `X is <type>`, `X.length`.
//!
//! It also lists the paths an expression reads, so a failure can show their actual values.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use super::reference::{exact_reference, parse_template};

/// A member-access chain: `body.items[0].price`, `headers["Content-Type"]`, `a?.b`.
const CHAIN: &str = r#"[A-Za-z_][A-Za-z0-9_]*(?:\??\.[A-Za-z_][A-Za-z0-9_]*|\[[^\[\]]*\])*"#;

static EXISTS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?P<subject>.*?\S)\s+(?P<not>not\s+)?exists\s*$")
        .unwrap_or_else(|_| unreachable!())
});
static IS_TYPE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?P<subject>.*?\S)\s+is\s+(?P<not>not\s+)?(?P<type>[A-Za-z]+)\s*$")
        .unwrap_or_else(|_| unreachable!())
});
static LENGTH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"(?P<chain>{CHAIN})\.length\b")).unwrap_or_else(|_| unreachable!())
});
static CLOSURE_CALL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:all|any|none|one|filter|map|count|find|findIndex|findLast|findLastIndex|groupBy|sortBy|sum|mean|median|reduce)\s*\(")
        .unwrap_or_else(|_| unreachable!())
});
static IMPLICIT_MEMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?P<before>^|[^A-Za-z0-9_\])#?])\.(?P<name>[A-Za-z_])")
        .unwrap_or_else(|_| unreachable!())
});
static WHOLE_CHAIN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!("^{CHAIN}$")).unwrap_or_else(|_| unreachable!()));
static CHAINS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"(?:^|[^A-Za-z0-9_.$#?\]])(?P<chain>{CHAIN})"))
        .unwrap_or_else(|_| unreachable!())
});

/// Words of the expr language that are not variables.
const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "in",
    "contains",
    "matches",
    "startsWith",
    "endsWith",
    "nil",
    "true",
    "false",
    "let",
    "if",
    "else",
];

/// Substitutes references and rewrites the compatibility forms. `lookup` resolves a reference
/// to its value; its error is passed through.
pub fn prepare(
    expression: &str,
    lookup: &mut dyn FnMut(&str) -> Result<Value, String>,
) -> Result<String, String> {
    let substituted = substitute(unwrap_expression(expression), lookup)?;
    Ok(rewrite_compat(&substituted))
}

/// The expression inside `${…}` when the whole text is one such wrapper around something that is
/// not a plain reference (`${a == 'b'}`, `${len(items) > 0}`); otherwise the text as written.
/// A wrapped plain reference (`${ready}`) stays a reference: substituted, it means the same.
pub fn unwrap_expression(expression: &str) -> &str {
    let trimmed = expression.trim();
    let Some(inner) = trimmed
        .strip_prefix("${")
        .and_then(|rest| rest.strip_suffix('}'))
    else {
        return expression;
    };
    if exact_reference(trimmed).is_some() || !braces_balance(inner) {
        return expression;
    }
    inner.trim()
}

/// True when every `}` in `text` closes a `{` before it, outside quoted strings, so that the
/// wrapper's last `}` is the one that closes its `${`.
fn braces_balance(text: &str) -> bool {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for ch in text.chars() {
        match quote {
            Some(_) if escaped => escaped = false,
            Some(_) if ch == '\\' => escaped = true,
            Some(q) if ch == q => quote = None,
            Some(_) => {}
            None => match ch {
                '"' | '\'' | '`' => quote = Some(ch),
                '{' => depth += 1,
                '}' if depth == 0 => return false,
                '}' => depth -= 1,
                _ => {}
            },
        }
    }
    depth == 0 && quote.is_none()
}

/// Like [`prepare`] with every reference standing for `nil`, to check that an expression
/// compiles before any value is known.
pub fn prepare_for_check(expression: &str) -> String {
    prepare(expression, &mut |_| Ok(Value::Null)).unwrap_or_else(|_| expression.to_string())
}

/// The paths an expression reads, in order of appearance, without duplicates.
pub fn read_paths(expression: &str) -> Vec<String> {
    let masked = mask_strings(expression);
    let mut paths: Vec<String> = Vec::new();
    for caps in CHAINS.captures_iter(&masked) {
        let Some(chain) = caps.name("chain") else {
            continue;
        };
        if masked[chain.end()..].trim_start().starts_with('(') {
            continue;
        }
        let text = &expression[chain.range()];
        let root = text.split(['.', '[', '?']).next().unwrap_or_default();
        if KEYWORDS.contains(&root) {
            continue;
        }
        if !paths.iter().any(|p| p == text) {
            paths.push(text.to_string());
        }
    }
    paths
}

fn substitute(
    expression: &str,
    lookup: &mut dyn FnMut(&str) -> Result<Value, String>,
) -> Result<String, String> {
    if !expression.contains("${") && !expression.contains("{{") {
        return Ok(expression.to_string());
    }
    let mut out = String::with_capacity(expression.len());
    let mut quote: Option<char> = None;
    let mut segment_start = 0;
    let bytes: Vec<(usize, char)> = expression.char_indices().collect();
    let mut i = 0;
    let flush = |out: &mut String,
                 text: &str,
                 quote: Option<char>,
                 lookup: &mut dyn FnMut(&str) -> Result<Value, String>|
     -> Result<(), String> {
        for piece in parse_template(text) {
            match piece {
                super::reference::Piece::Text(t) => out.push_str(&t),
                super::reference::Piece::Reference(name) => {
                    let value = lookup(name)?;
                    match quote {
                        Some(q) => out.push_str(&escape_in_quotes(&text_of(&value), q)),
                        None => out.push_str(&literal(&value)),
                    }
                }
            }
        }
        Ok(())
    };
    while i < bytes.len() {
        let (at, ch) = bytes[i];
        match quote {
            None if ch == '"' || ch == '\'' || ch == '`' => {
                flush(&mut out, &expression[segment_start..at], None, lookup)?;
                out.push(ch);
                quote = Some(ch);
                segment_start = at + ch.len_utf8();
            }
            Some(q) if ch == '\\' && q != '`' => {
                i += 1;
            }
            Some(q) if ch == q => {
                flush(&mut out, &expression[segment_start..at], Some(q), lookup)?;
                out.push(ch);
                quote = None;
                segment_start = at + ch.len_utf8();
            }
            _ => {}
        }
        i += 1;
    }
    flush(&mut out, &expression[segment_start..], quote, lookup)?;
    Ok(out)
}

/// A value as text inside a string: strings as they are, everything else as JSON.
pub fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A value written as an expr literal.
pub fn literal(value: &Value) -> String {
    match value {
        Value::Null => "nil".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => Value::String(s.clone()).to_string(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(literal).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", Value::String(k.clone()), literal(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn escape_in_quotes(text: &str, quote: char) -> String {
    if quote == '`' {
        return text.replace('`', "'");
    }
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

fn rewrite_compat(expression: &str) -> String {
    let expression = &rewrite_closures(expression);
    let masked = mask_strings(expression);
    if let Some(caps) = EXISTS.captures(&masked)
        && let Some(subject) = caps.name("subject")
    {
        let subject = optional_chain(&expression[subject.range()]);
        let op = if caps.name("not").is_some() {
            "=="
        } else {
            "!="
        };
        return format!("({subject}) {op} nil");
    }
    if let Some(caps) = IS_TYPE.captures(&masked)
        && let (Some(subject), Some(kind)) = (caps.name("subject"), caps.name("type"))
        && let Some(names) = type_names(kind.as_str())
    {
        let subject = rewrite_length(&expression[subject.range()]);
        let list = names
            .iter()
            .map(|n| format!("{n:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        let negate = if caps.name("not").is_some() {
            "not "
        } else {
            ""
        };
        return format!("{negate}(type({subject}) in [{list}])");
    }
    rewrite_length(expression)
}

fn rewrite_length(expression: &str) -> String {
    let masked = mask_strings(expression);
    let mut out = String::with_capacity(expression.len());
    let mut last = 0;
    for caps in LENGTH.captures_iter(&masked) {
        let (Some(whole), Some(chain)) = (caps.get(0), caps.name("chain")) else {
            continue;
        };
        if masked[whole.end()..].trim_start().starts_with('(') {
            continue;
        }
        out.push_str(&expression[last..whole.start()]);
        out.push_str(&format!("len({})", &expression[chain.range()]));
        last = whole.end();
    }
    out.push_str(&expression[last..]);
    out
}

/// Go expr's short predicates, `all(items, .price > 0)`, become the closures expr-lang reads:
/// `all(items, {#.price > 0})`.
fn rewrite_closures(expression: &str) -> String {
    let mut current = expression.to_string();
    for _ in 0..32 {
        let masked = mask_strings(&current);
        let Some((start, end)) = CLOSURE_CALL
            .find_iter(&masked)
            .filter_map(|call| predicate_argument(&masked, call.end()))
            .find(|&(start, end)| needs_closure(&masked[start..end]))
        else {
            break;
        };
        let argument = &current[start..end];
        let trimmed = argument.trim();
        let body = trimmed
            .strip_prefix('{')
            .and_then(|inner| inner.strip_suffix('}'))
            .unwrap_or(trimmed);
        let implicit = IMPLICIT_MEMBER.replace_all(body, "${before}#.${name}");
        current = format!("{} {{{}}}{}", &current[..start], implicit, &current[end..]);
    }
    current
}

/// The byte range of the second argument of the call whose `(` ends at `open`.
fn predicate_argument(masked: &str, open: usize) -> Option<(usize, usize)> {
    let mut depth = 0i32;
    let mut start = None;
    for (offset, ch) in masked[open..].char_indices() {
        let at = open + offset;
        match ch {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' if depth > 0 => depth -= 1,
            ')' | ']' | '}' => return start.map(|s| (s, at)),
            ',' if depth == 0 => match start {
                None => start = Some(at + 1),
                Some(s) => return Some((s, at)),
            },
            _ => {}
        }
    }
    None
}

fn needs_closure(argument: &str) -> bool {
    let trimmed = argument.trim();
    let body = trimmed
        .strip_prefix('{')
        .and_then(|inner| inner.strip_suffix('}'));
    match body {
        Some(inner) => IMPLICIT_MEMBER.is_match(inner),
        None => trimmed.starts_with('.') && !is_bare_member(trimmed),
    }
}

fn is_bare_member(text: &str) -> bool {
    text.strip_prefix('.').is_some_and(|name| {
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// `a.b.c` → `a?.b?.c`, so that `exists` on a missing parent is false rather than an error.
fn optional_chain(subject: &str) -> String {
    if !WHOLE_CHAIN.is_match(&mask_strings(subject)) {
        return subject.to_string();
    }
    let mut out = String::new();
    let mut depth = 0;
    let mut previous = '\0';
    for ch in subject.chars() {
        match ch {
            '[' => {
                if depth == 0 && previous != '?' {
                    out.push_str("?.");
                }
                depth += 1;
            }
            ']' => depth -= 1,
            '.' if depth == 0 && previous != '?' => out.push('?'),
            _ => {}
        }
        out.push(ch);
        previous = ch;
    }
    out
}

fn type_names(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind.to_ascii_lowercase().as_str() {
        "string" | "str" => &["string"],
        "number" | "numeric" => &["int", "float"],
        "int" | "integer" => &["int"],
        "float" | "decimal" => &["float"],
        "bool" | "boolean" => &["bool"],
        "array" | "list" => &["array"],
        "object" | "map" | "dict" => &["map"],
        "nil" | "null" => &["nil"],
        _ => return None,
    })
}

/// The same text with the insides of string literals blanked, so patterns only see code.
fn mask_strings(expression: &str) -> String {
    let mut bytes = expression.as_bytes().to_vec();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            None if b == b'"' || b == b'\'' || b == b'`' => quote = Some(b),
            Some(q) if b == b'\\' && q != b'`' && i + 1 < bytes.len() => {
                bytes[i] = b' ';
                bytes[i + 1] = b' ';
                i += 1;
            }
            Some(q) if b == q => quote = None,
            Some(_) => bytes[i] = b' ',
            None => {}
        }
        i += 1;
    }
    String::from_utf8(bytes).unwrap_or_else(|_| expression.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn prep(expression: &str) -> String {
        prepare(expression, &mut |name| match name {
            "user_id" => Ok(json!("u-42")),
            "n" => Ok(json!(3)),
            "tags" => Ok(json!(["a", null])),
            "quote" => Ok(json!("say \"hi\"")),
            other => Err(format!("unknown {other}")),
        })
        .unwrap()
    }

    #[test]
    fn substitutes_text_inside_strings_and_literals_outside() {
        assert_eq!(prep(r#"body.id == "{{user_id}}""#), r#"body.id == "u-42""#);
        assert_eq!(prep("body.id == '${user_id}'"), "body.id == 'u-42'");
        assert_eq!(prep("count == ${n}"), "count == 3");
        assert_eq!(prep("body.tags == ${tags}"), r#"body.tags == ["a", nil]"#);
        assert_eq!(prep(r#"msg == "${quote}""#), r#"msg == "say \"hi\"""#);
        assert_eq!(prep("id == ${user_id}"), r#"id == "u-42""#);
    }

    #[test]
    fn an_expression_wrapped_in_a_reference_is_the_expression_inside() {
        assert_eq!(prep("${n == 3}"), "n == 3");
        assert_eq!(prep(" ${body.status == 'a}b'} "), "body.status == 'a}b'");
        assert_eq!(
            prep("${len(tags) > 0 && {'a': 1}.a == 1}"),
            "len(tags) > 0 && {'a': 1}.a == 1"
        );
        assert_eq!(
            prep("${n}"),
            "3",
            "a wrapped plain reference is substituted"
        );
        assert_eq!(prep("${n} == 3"), "3 == 3", "not wrapped whole");
        assert_eq!(unwrap_expression("${a} && ${b}"), "${a} && ${b}");
        assert_eq!(unwrap_expression("${a == '}'"), "${a == '}'");
    }

    #[test]
    fn a_missing_reference_is_an_error() {
        let err = prepare("x == ${nope}", &mut |n| Err(format!("unknown {n}"))).unwrap_err();
        assert_eq!(err, "unknown nope");
    }

    #[test]
    fn rewrites_compatibility_forms() {
        assert_eq!(prep("body.user.id exists"), "(body?.user?.id) != nil");
        assert_eq!(prep("body.error not exists"), "(body?.error) == nil");
        assert_eq!(prep("body.items[0] exists"), "(body?.items?.[0]) != nil");
        assert_eq!(
            prep("body.name is string"),
            r#"(type(body.name) in ["string"])"#
        );
        assert_eq!(
            prep("body.count is not number"),
            r#"not (type(body.count) in ["int", "float"])"#
        );
        assert_eq!(prep("body.items.length > 0"), "len(body.items) > 0");
        assert_eq!(prep(r#"name == "x.length""#), r#"name == "x.length""#);
        assert_eq!(prep("status == 201"), "status == 201");
        assert_eq!(
            prep("all(body.items, .price > 0)"),
            "all(body.items, {#.price > 0})"
        );
        assert_eq!(prep("all(body.items, .price)"), "all(body.items, .price)");
        assert_eq!(
            prep("any(items, {.qty > 1 && .sku != 'a.b'})"),
            "any(items, {#.qty > 1 && #.sku != 'a.b'})"
        );
        assert_eq!(prep("filter(xs, {#.a > 1})"), "filter(xs, {#.a > 1})");
    }

    #[test]
    fn lists_the_paths_an_expression_reads() {
        assert_eq!(
            read_paths(r#"body.items[0].quantity == 2 && headers["Content-Type"] contains "json""#),
            vec!["body.items[0].quantity", r#"headers["Content-Type"]"#]
        );
        assert_eq!(read_paths("len(body.items) > 0"), vec!["body.items"]);
        assert_eq!(
            read_paths("all(body.items, .price > 0)"),
            vec!["body.items"]
        );
        assert_eq!(read_paths("value != nil and ok"), vec!["value", "ok"]);
        assert_eq!(
            read_paths(r#"body.email matches "^.+@.+$""#),
            vec!["body.email"]
        );
    }
}
