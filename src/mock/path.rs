//! Endpoint path templates: literal segments, `{name}` or `:name` parameters, and a trailing
//! `*` (after a `/` it takes the rest of the path; after text, any segment with that prefix).

use indexmap::IndexMap;

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Literal(String),
    Param(String),
    /// `abc*`: a last segment starting with `abc`.
    Prefix(String),
    /// `/*`: whatever is left, possibly nothing.
    Rest,
}

/// A parsed path template such as `/users/{id}/orders/*`.
#[derive(Debug, Clone, PartialEq)]
pub struct PathPattern {
    segments: Vec<Segment>,
}

fn split(path: &str) -> Vec<&str> {
    path.split('/')
        .filter(|segment| !segment.is_empty())
        .collect()
}

impl PathPattern {
    /// Parses `template`; the error says what is wrong with it.
    pub fn parse(template: &str) -> Result<Self, String> {
        if !template.starts_with('/') {
            return Err(format!("{template:?} must start with /"));
        }
        let parts = split(template);
        let last = parts.len().saturating_sub(1);
        let mut segments = Vec::with_capacity(parts.len());
        for (index, part) in parts.iter().enumerate() {
            let segment =
                if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                    Segment::Param(checked_name(template, name)?)
                } else if let Some(name) = part.strip_prefix(':') {
                    Segment::Param(checked_name(template, name)?)
                } else if *part == "*" {
                    Segment::Rest
                } else if let Some(prefix) = part.strip_suffix('*') {
                    Segment::Prefix(prefix.to_string())
                } else {
                    Segment::Literal((*part).to_string())
                };
            let wildcard = matches!(segment, Segment::Rest | Segment::Prefix(_));
            let before_last_char = part.strip_suffix('*').unwrap_or(part);
            if (wildcard && index != last) || before_last_char.contains('*') {
                return Err(format!("{template:?} may only use * at its end"));
            }
            segments.push(segment);
        }
        Ok(Self { segments })
    }

    /// The parameters of `path` when it matches; a trailing slash does not matter.
    pub fn matches(&self, path: &str) -> Option<IndexMap<String, String>> {
        let parts = split(path);
        let mut params = IndexMap::new();
        for (index, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Rest => return Some(params),
                Segment::Prefix(prefix) => {
                    return (parts.len() == index + 1 && parts[index].starts_with(prefix.as_str()))
                        .then_some(params);
                }
                Segment::Literal(text) => {
                    if parts.get(index) != Some(&text.as_str()) {
                        return None;
                    }
                }
                Segment::Param(name) => {
                    let value = parts.get(index)?;
                    params.insert(name.clone(), (*value).to_string());
                }
            }
        }
        (parts.len() == self.segments.len()).then_some(params)
    }
}

fn checked_name(template: &str, name: &str) -> Result<String, String> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(format!(
            "{template:?} has an invalid parameter name {name:?}"
        ));
    }
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(template: &str, path: &str) -> Option<Vec<(String, String)>> {
        PathPattern::parse(template)
            .unwrap()
            .matches(path)
            .map(|p| p.into_iter().collect())
    }

    #[test]
    fn literals_match_exactly_ignoring_a_trailing_slash() {
        assert_eq!(params("/users", "/users"), Some(vec![]));
        assert_eq!(params("/users", "/users/"), Some(vec![]));
        assert_eq!(params("/users", "/users/1"), None);
        assert_eq!(params("/users", "/user"), None);
        assert_eq!(params("/", "/"), Some(vec![]));
    }

    #[test]
    fn both_parameter_forms_capture_a_segment() {
        let expected = Some(vec![
            ("id".to_string(), "42".to_string()),
            ("item".to_string(), "7".to_string()),
        ]);
        assert_eq!(
            params("/users/{id}/items/{item}", "/users/42/items/7"),
            expected
        );
        assert_eq!(
            params("/users/:id/items/:item", "/users/42/items/7"),
            expected
        );
        assert_eq!(params("/users/{id}", "/users"), None);
        assert_eq!(params("/users/{id}", "/users/1/2"), None);
    }

    #[test]
    fn trailing_star_takes_the_rest_or_a_prefix() {
        assert!(params("/files/*", "/files").is_some());
        assert!(params("/files/*", "/files/a/b/c").is_some());
        assert!(params("/files/*", "/other/a").is_none());
        assert!(params("/api/v*", "/api/v2").is_some());
        assert!(params("/api/v*", "/api/x2").is_none());
        assert!(params("/api/v*", "/api/v2/users").is_none());
    }

    #[test]
    fn bad_templates_are_rejected() {
        assert!(
            PathPattern::parse("users")
                .unwrap_err()
                .contains("must start with /")
        );
        assert!(
            PathPattern::parse("/a/*/b")
                .unwrap_err()
                .contains("only use * at its end")
        );
        assert!(
            PathPattern::parse("/a/b*c")
                .unwrap_err()
                .contains("only use * at its end")
        );
        assert!(
            PathPattern::parse("/a/{}")
                .unwrap_err()
                .contains("invalid parameter name")
        );
    }
}
