//! References inside strings: `${name}` and `{{name}}` are the same reference, and `name` may be
//! a path (`${login.body.token}`). `$${` writes a literal `${`. Text that only looks like a
//! reference (`${not a name}`, a JSON body's `{{`) is left alone.

use super::path::{Segment, parse_dotted};

/// A piece of a string: plain text or a reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(std::borrow::Cow<'a, str>),
    Reference(&'a str),
}

/// Splits `text` into text and references.
pub fn parse_template(text: &str) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut rest = text;
    let mut literal_start: Option<&str> = Some(text);
    if !text.contains(['$', '{']) {
        if !text.is_empty() {
            pieces.push(Piece::Text(text.into()));
        }
        return pieces;
    }
    while !rest.is_empty() {
        let plain = rest.find(['$', '{']).unwrap_or(rest.len());
        if plain > 0 {
            literal.push_str(&rest[..plain]);
            rest = &rest[plain..];
            continue;
        }
        if let Some(after) = rest.strip_prefix("$${") {
            literal.push_str("${");
            literal_start = None;
            rest = after;
            continue;
        }
        let found = if let Some(after) = rest.strip_prefix("${") {
            after
                .find('}')
                .map(|end| (&after[..end], &after[end + 1..]))
        } else if let Some(after) = rest.strip_prefix("{{") {
            after
                .find("}}")
                .map(|end| (&after[..end], &after[end + 2..]))
        } else {
            None
        };
        match found {
            Some((inner, after)) if is_reference_name(inner.trim()) => {
                if !literal.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut literal).into()));
                }
                pieces.push(Piece::Reference(inner.trim()));
                rest = after;
                literal_start = None;
            }
            _ => {
                let ch = rest.chars().next().unwrap_or_default();
                literal.push(ch);
                rest = &rest[ch.len_utf8()..];
            }
        }
    }
    if !literal.is_empty() {
        match literal_start {
            Some(original) if pieces.is_empty() => pieces.push(Piece::Text(original.into())),
            _ => pieces.push(Piece::Text(literal.into())),
        }
    }
    pieces
}

/// The reference name when `text` is exactly one reference, so it takes the value's own type.
pub fn exact_reference(text: &str) -> Option<&str> {
    match parse_template(text).as_slice() {
        [Piece::Reference(name)] => Some(name),
        _ => None,
    }
}

/// Every reference name in `text`.
pub fn references(text: &str) -> Vec<&str> {
    parse_template(text)
        .into_iter()
        .filter_map(|piece| match piece {
            Piece::Reference(name) => Some(name),
            Piece::Text(_) => None,
        })
        .collect()
}

/// Whether `text` has any reference at all (cheap check before interpolating).
pub fn has_reference(text: &str) -> bool {
    (text.contains("${") || text.contains("{{")) && !references(text).is_empty()
        || text.contains("$${")
}

/// The first segment of a reference: the variable or step it starts from.
pub fn root_of(name: &str) -> &str {
    let end = name.find(['.', '[']).unwrap_or(name.len());
    &name[..end]
}

fn is_reference_name(inner: &str) -> bool {
    let mut chars = inner.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    // Outside `[…]`, a name and its path hold only name characters and dots, so an expression
    // written in `${…}` (`${status == 'ok'}`) is not taken for a reference.
    let mut depth = 0usize;
    let plain = inner.chars().all(|c| match c {
        '[' => {
            depth += 1;
            true
        }
        ']' => {
            depth = depth.saturating_sub(1);
            true
        }
        _ if depth > 0 => true,
        c => c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'),
    });
    if !plain {
        return false;
    }
    matches!(parse_dotted(inner), Ok(segments) if matches!(segments.first(), Some(Segment::Key(_))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_syntaxes_are_one_reference() {
        assert_eq!(exact_reference("${user_id}"), Some("user_id"));
        assert_eq!(exact_reference("{{user_id}}"), Some("user_id"));
        assert_eq!(exact_reference("{{ user_id }}"), Some("user_id"));
        assert_eq!(
            exact_reference("${login.body.token}"),
            Some("login.body.token")
        );
        assert_eq!(
            exact_reference("${a.items[0][\"x-y\"]}"),
            Some("a.items[0][\"x-y\"]")
        );
        assert_eq!(exact_reference("id-${user_id}"), None);
    }

    #[test]
    fn splits_text_and_references() {
        assert_eq!(
            parse_template("Bearer ${token} for {{user}}!"),
            vec![
                Piece::Text("Bearer ".into()),
                Piece::Reference("token"),
                Piece::Text(" for ".into()),
                Piece::Reference("user"),
                Piece::Text("!".into()),
            ]
        );
    }

    #[test]
    fn leaves_lookalikes_and_escapes_alone() {
        assert_eq!(
            parse_template("{\"a\":{{\"b\":1}}}"),
            vec![Piece::Text("{\"a\":{{\"b\":1}}}".into())]
        );
        assert_eq!(
            parse_template("cost: ${ 5 }"),
            vec![Piece::Text("cost: ${ 5 }".into())]
        );
        assert_eq!(
            parse_template("$${HOME}"),
            vec![Piece::Text("${HOME}".into())]
        );
        assert_eq!(references("echo $${x} ${y}"), vec!["y"]);
        assert!(!has_reference("plain text"));
        assert!(has_reference("a ${b}"));
    }

    #[test]
    fn root_is_the_first_segment() {
        assert_eq!(root_of("login.body.token"), "login");
        assert_eq!(root_of("items[0]"), "items");
        assert_eq!(root_of("x"), "x");
    }
}
