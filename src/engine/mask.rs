//! Masks secret values (`***`) in everything a run records: step results, errors, captures.

use serde_json::Value;

/// The text that replaces a secret.
pub const MASK: &str = "***";

/// Replaces known secret values wherever they appear in text.
#[derive(Debug, Clone, Default)]
pub struct Masker {
    secrets: Vec<String>,
}

impl Masker {
    /// Secrets shorter than 3 characters are not masked: they would blank ordinary text.
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let mut secrets: Vec<String> = secrets.into_iter().filter(|s| s.len() >= 3).collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Self { secrets }
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// `text` with every secret replaced.
    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), MASK);
            }
        }
        out
    }

    /// Masks every string (and map key) inside `value`, in place.
    pub fn value(&self, value: &mut Value) {
        if self.secrets.is_empty() {
            return;
        }
        match value {
            Value::String(s)
                if self
                    .secrets
                    .iter()
                    .any(|secret| s.contains(secret.as_str())) =>
            {
                *s = self.text(s);
            }
            Value::Array(items) => items.iter_mut().for_each(|item| self.value(item)),
            Value::Object(map) => {
                let entries = std::mem::take(map);
                for (key, mut item) in entries {
                    self.value(&mut item);
                    map.insert(self.text(&key), item);
                }
            }
            _ => {}
        }
    }

    /// Masks an optional string in place.
    pub fn option(&self, text: &mut Option<String>) {
        if let Some(t) = text {
            *t = self.text(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn masks_everywhere() {
        let masker = Masker::new(["s3cret".to_string(), "ab".to_string()]);
        let mut value =
            json!({"auth": "Bearer s3cret", "list": ["s3cret", 1], "s3cret": "k", "ab": "ab"});
        masker.value(&mut value);
        assert_eq!(
            value,
            json!({"auth": "Bearer ***", "list": ["***", 1], "***": "k", "ab": "ab"})
        );
        assert_eq!(masker.text("token=s3cret&x=s3cret"), "token=***&x=***");
    }

    #[test]
    fn longer_secrets_win_over_their_prefixes() {
        let masker = Masker::new(["pass".to_string(), "password123".to_string()]);
        assert_eq!(masker.text("password123 pass"), "*** ***");
    }
}
