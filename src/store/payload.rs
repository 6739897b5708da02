//! Keeps stored request and response JSON to a bounded size. A value over the limit is replaced
//! by a marker object holding the start of its JSON text, so a reader sees that it was cut.

use serde_json::{Value, json};

/// `value` as is when its JSON text fits in `max_bytes`, otherwise
/// `{"truncated": true, "originalBytes": n, "excerpt": "<first bytes of the JSON text>"}`.
pub fn truncate_payload(value: &Value, max_bytes: usize) -> Value {
    let text = value.to_string();
    if text.len() <= max_bytes {
        return value.clone();
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    json!({
        "truncated": true,
        "originalBytes": text.len(),
        "excerpt": &text[..end],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_values_are_kept_whole() {
        let value = json!({"status": 200, "body": "ok"});
        assert_eq!(truncate_payload(&value, 1024), value);
    }

    #[test]
    fn large_values_are_cut_with_a_marker_on_a_char_boundary() {
        let value = json!({"body": "é".repeat(100)});
        let cut = truncate_payload(&value, 20);
        assert_eq!(cut["truncated"], true);
        assert_eq!(cut["originalBytes"], value.to_string().len());
        let excerpt = cut["excerpt"].as_str().unwrap();
        assert!(
            excerpt.len() <= 20 && excerpt.starts_with("{\"body\":\"é"),
            "{excerpt}"
        );
    }
}
