//! A shortcut for the most common assertion, `path OP literal` (`status == 200`,
//! `body.items[0].price > 0`, `body.name == 'x'`), checked against the step's JSON result
//! without converting it to expr values: expr clones every map it reads through, which costs
//! more than the check itself.
//!
//! The shortcut only ever answers "holds". Whenever the path is missing, the types differ or
//! the comparison is false, it answers nothing and the expression runs through expr as usual,
//! so what a user sees (a failure, its actual values, an error) always comes from expr. Where
//! it answers, it follows expr's rules: numbers compare across integers and floats, strings
//! compare byte-wise, booleans and `nil` only for equality.

use serde_json::Value;

use crate::flow::path::{Segment, select};

/// `path OP literal`, recognised in prepared expression text.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The name the path starts from: a key of the step result.
    root: String,
    segments: Vec<Segment>,
    operator: Operator,
    literal: Literal,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Operator {
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

#[derive(Debug, Clone, PartialEq)]
enum Literal {
    Integer(i64),
    Float(f64),
    Text(String),
    Bool(bool),
    Nil,
}

impl Comparison {
    /// The comparison `text` is, when it is exactly one of the simple form.
    pub fn parse(text: &str) -> Option<Self> {
        let mut cursor = Cursor { rest: text.trim() };
        let root = cursor.identifier()?;
        if matches!(root, "true" | "false" | "nil" | "not") {
            return None;
        }
        let mut segments = Vec::new();
        while let Some(segment) = cursor.segment()? {
            segments.push(segment);
        }
        let operator = cursor.operator()?;
        let literal = cursor.literal()?;
        cursor.rest.is_empty().then(|| Self {
            root: root.to_string(),
            segments,
            operator,
            literal,
        })
    }

    /// True when the comparison holds for the result value `lookup` finds for the root;
    /// false when it does not hold or the shortcut cannot tell (expr must decide).
    pub fn holds<'a>(&self, lookup: impl FnOnce(&str) -> Option<&'a Value>) -> bool {
        lookup(&self.root)
            .and_then(|root| select(root, &self.segments))
            .is_some_and(|value| self.compare(value))
    }

    fn compare(&self, value: &Value) -> bool {
        use std::cmp::Ordering;
        let ordering = match (value, &self.literal) {
            (Value::Number(number), Literal::Integer(_) | Literal::Float(_)) => {
                // As expr holds it: an integer when it fits in i64, else a float.
                let (integer, float) = match number.as_i64() {
                    Some(integer) => (Some(integer), integer as f64),
                    None => match number.as_f64() {
                        Some(float) => (None, float),
                        None => return false,
                    },
                };
                let compared = match (&self.literal, integer) {
                    (Literal::Integer(literal), Some(integer)) => Some(integer.cmp(literal)),
                    (Literal::Integer(literal), None) => float.partial_cmp(&(*literal as f64)),
                    (Literal::Float(literal), _) => float.partial_cmp(literal),
                    _ => None,
                };
                match compared {
                    Some(ordering) => ordering,
                    None => return false,
                }
            }
            (Value::String(text), Literal::Text(literal)) => text.as_str().cmp(literal.as_str()),
            (Value::Bool(flag), Literal::Bool(literal)) if self.operator.is_equality() => {
                flag.cmp(literal)
            }
            (Value::Null, Literal::Nil) if self.operator.is_equality() => Ordering::Equal,
            _ => return false,
        };
        match self.operator {
            Operator::Equal => ordering == Ordering::Equal,
            Operator::NotEqual => ordering != Ordering::Equal,
            Operator::Less => ordering == Ordering::Less,
            Operator::LessOrEqual => ordering != Ordering::Greater,
            Operator::Greater => ordering == Ordering::Greater,
            Operator::GreaterOrEqual => ordering != Ordering::Less,
        }
    }
}

impl Operator {
    fn is_equality(self) -> bool {
        matches!(self, Operator::Equal | Operator::NotEqual)
    }
}

/// Reads the simple form left to right; every method returns `None` on anything else.
struct Cursor<'t> {
    rest: &'t str,
}

impl<'t> Cursor<'t> {
    fn identifier(&mut self) -> Option<&'t str> {
        let first = self.rest.chars().next()?;
        if !(first.is_ascii_alphabetic() || first == '_') {
            return None;
        }
        let end = self
            .rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(self.rest.len());
        let (name, rest) = self.rest.split_at(end);
        self.rest = rest;
        Some(name)
    }

    /// The next `.key`, `[index]` or `["key"]`; `Some(None)` at the end of the path.
    fn segment(&mut self) -> Option<Option<Segment>> {
        if let Some(rest) = self.rest.strip_prefix('.') {
            self.rest = rest;
            return Some(Some(Segment::Key(self.identifier()?.to_string())));
        }
        let Some(rest) = self.rest.strip_prefix('[') else {
            return Some(None);
        };
        self.rest = rest;
        let segment = if self.rest.starts_with(['"', '\'']) {
            Segment::Key(self.quoted()?)
        } else {
            let end = self.rest.find(|c: char| !c.is_ascii_digit())?;
            let (digits, rest) = self.rest.split_at(end);
            self.rest = rest;
            Segment::Index(digits.parse().ok()?)
        };
        self.rest = self.rest.strip_prefix(']')?;
        Some(Some(segment))
    }

    fn operator(&mut self) -> Option<Operator> {
        self.rest = self.rest.trim_start();
        let (operator, length) = match self.rest.get(..2) {
            Some("==") => (Operator::Equal, 2),
            Some("!=") => (Operator::NotEqual, 2),
            Some("<=") => (Operator::LessOrEqual, 2),
            Some(">=") => (Operator::GreaterOrEqual, 2),
            _ => match self.rest.get(..1) {
                Some("<") => (Operator::Less, 1),
                Some(">") => (Operator::Greater, 1),
                _ => return None,
            },
        };
        self.rest = self.rest[length..].trim_start();
        Some(operator)
    }

    fn literal(&mut self) -> Option<Literal> {
        if self.rest.starts_with(['"', '\'']) {
            let text = self.quoted()?;
            self.rest = self.rest.trim_end();
            return Some(Literal::Text(text));
        }
        let word = self.rest.trim_end();
        self.rest = "";
        match word {
            "true" => Some(Literal::Bool(true)),
            "false" => Some(Literal::Bool(false)),
            "nil" => Some(Literal::Nil),
            _ => number(word),
        }
    }

    /// A quoted string without escapes (anything with a backslash is left to expr).
    fn quoted(&mut self) -> Option<String> {
        let quote = self.rest.chars().next()?;
        let body = &self.rest[1..];
        let end = body.find(quote)?;
        let text = &body[..end];
        if text.contains('\\') {
            return None;
        }
        self.rest = &body[end + 1..];
        Some(text.to_string())
    }
}

/// A decimal integer or float literal, optionally negative; anything else is left to expr.
fn number(word: &str) -> Option<Literal> {
    let digits = word.strip_prefix('-').unwrap_or(word);
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next()?;
    let fraction = parts.next();
    let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) {
        return None;
    }
    match fraction {
        None => word.parse().ok().map(Literal::Integer),
        Some(fraction) if all_digits(fraction) => word.parse().ok().map(Literal::Float),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn result() -> Value {
        json!({
            "status": 200,
            "body": {"id": "u-1", "items": [{"price": 3, "ratio": 0.5}], "ok": true, "gone": null,
                     "big": u64::MAX},
            "headers": {"Content-Type": "application/json"},
        })
    }

    /// What expr answers for `expression` over `result()`.
    fn expr_answer(expression: &str) -> Option<bool> {
        let Value::Object(map) = result() else {
            unreachable!()
        };
        let mut context = expr::Context::default();
        for (key, value) in &map {
            context.insert(key.clone(), crate::engine::evaluate::to_expr(value));
        }
        match expr::eval(expression, &context) {
            Ok(expr::Value::Bool(answer)) => Some(answer),
            _ => None,
        }
    }

    fn shortcut_answer(expression: &str) -> bool {
        let result = result();
        Comparison::parse(expression)
            .unwrap_or_else(|| panic!("`{expression}` should take the shortcut"))
            .holds(|name| result.get(name))
    }

    #[test]
    fn where_the_shortcut_says_holds_expr_agrees() {
        for expression in [
            "status == 200",
            "status != 404",
            "status >= 200",
            "status < 300",
            "status > 200",
            "status <= 199",
            "status == 200.0",
            "status < 200.5",
            "body.items[0].price > 0",
            "body.items[0].price == 4",
            "body.items[0].ratio < 1",
            "body.items[0].ratio == 0.5",
            "body.items[1].price > 0",
            "body.id == 'u-1'",
            "body.id == \"u-2\"",
            "body.id != 'u-2'",
            "body.id < 'v'",
            "body.ok == true",
            "body.ok != false",
            "body.gone == nil",
            "body.id == nil",
            "body.missing == nil",
            "headers[\"Content-Type\"] == 'application/json'",
            "body['items'][0].price >= -1",
            "body.big > 0",
            "status == '200'",
            "body.ok > false",
        ] {
            if shortcut_answer(expression) {
                assert_eq!(
                    expr_answer(expression),
                    Some(true),
                    "{expression}: the shortcut said it holds"
                );
            }
        }
    }

    #[test]
    fn the_shortcut_answers_the_common_forms() {
        assert!(shortcut_answer("status == 200"));
        assert!(shortcut_answer("body.items[0].price > 0"));
        assert!(shortcut_answer("body.id == 'u-1'"));
        assert!(shortcut_answer("body.big > 0"));
        assert!(shortcut_answer("body.items[0].ratio == 0.5"));
        assert!(!shortcut_answer("status == 201"));
        assert!(!shortcut_answer("body.items[1].price > 0"));
    }

    #[test]
    fn anything_beyond_the_simple_form_is_left_to_expr() {
        for expression in [
            "status == 200 && body.ok",
            "len(body.items) > 0",
            "200 == status",
            "status",
            "body.id == 'a\\'b'",
            "body.items[-1].price > 0",
            "status == 2e2",
            "status == 200 + 0",
            "true == true",
            "body.id matches 'u'",
            "body?.id == 'u-1'",
        ] {
            assert_eq!(Comparison::parse(expression), None, "{expression}");
        }
    }
}
