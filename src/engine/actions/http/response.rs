//! Turning a response into what assertions read: canonical header names, this response's
//! cookies, a body read up to a size limit and decoded as JSON when it parses. The headers are
//! kept as [`HeaderLines`], so a step's record holds them in one string.

use reqwest::header::{HeaderMap, SET_COOKIE};
use serde_json::map::Entry;
use serde_json::{Map, Value};

/// The most body bytes read from one response.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// A header name as Go's `CanonicalMIMEHeaderKey` writes it: `x-request-id` → `X-Request-Id`.
pub fn canonical_header_name(name: &str) -> String {
    let mut bytes = name.as_bytes().to_vec();
    let mut upper = true;
    for byte in &mut bytes {
        if upper {
            byte.make_ascii_uppercase();
        } else {
            byte.make_ascii_lowercase();
        }
        upper = *byte == b'-';
    }
    // Changing the case of ASCII bytes leaves any other UTF-8 sequence as it was.
    String::from_utf8(bytes)
        .unwrap_or_else(|err| String::from_utf8_lossy(err.as_bytes()).into_owned())
}

/// A response's headers as `name: value` lines, in the order they came, in one string: unlike
/// the response's `HeaderMap`, whose values are slices of the connection's read buffer, it
/// holds on to nothing else. Names are lower case; values that are not UTF-8 are read lossily.
pub struct HeaderLines(String);

impl HeaderLines {
    pub fn new(headers: &HeaderMap) -> Self {
        let size = headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 3)
            .sum();
        let mut text = String::with_capacity(size);
        for (name, value) in headers {
            text.push_str(name.as_str());
            text.push_str(": ");
            text.push_str(&String::from_utf8_lossy(value.as_bytes()));
            text.push('\n');
        }
        Self(text)
    }

    /// Every header as `(name, value)`; a repeated header comes once per value.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        // HTTP forbids line breaks in names and values, so each line is one header.
        self.0.lines().filter_map(|line| line.split_once(": "))
    }

    /// The first value of header `name` (lower case).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value)
    }
}

/// Headers by canonical name; repeated headers are joined with `, `.
pub fn headers_map(headers: &HeaderLines) -> Map<String, Value> {
    let mut out = Map::with_capacity(headers.iter().count());
    for (name, value) in headers.iter() {
        match out.entry(canonical_header_name(name)) {
            Entry::Occupied(mut joined) => {
                if let Value::String(joined) = joined.get_mut() {
                    joined.push_str(", ");
                    joined.push_str(value);
                }
            }
            Entry::Vacant(slot) => {
                slot.insert(Value::String(value.to_string()));
            }
        }
    }
    out
}

/// `name → value` of the cookies this response sets.
pub fn cookies_map(headers: &HeaderLines) -> Map<String, Value> {
    let mut out = Map::new();
    for (_, text) in headers
        .iter()
        .filter(|(name, _)| *name == SET_COOKIE.as_str())
    {
        let pair = text.split(';').next().unwrap_or_default();
        if let Some((name, value)) = pair.split_once('=') {
            let name = name.trim();
            if !name.is_empty() {
                out.insert(
                    name.to_string(),
                    Value::String(value.trim().trim_matches('"').to_string()),
                );
            }
        }
    }
    out
}

/// The body as JSON when it parses, else as text; an empty body is `""`.
pub fn decode_body(bytes: &[u8]) -> Value {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Value::String(String::new());
    }
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

/// Reads the body of `response`, refusing to go past [`MAX_BODY_BYTES`].
pub async fn read_capped(response: &mut reqwest::Response) -> Result<Vec<u8>, BodyError> {
    if response
        .content_length()
        .is_some_and(|length| length > MAX_BODY_BYTES as u64)
    {
        return Err(BodyError::TooLarge);
    }
    let expected = response.content_length().unwrap_or_default();
    let mut body = Vec::with_capacity(usize::try_from(expected).unwrap_or_default());
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Read)? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    // A step's record keeps the body: no spare capacity from growing it chunk by chunk.
    body.shrink_to_fit();
    Ok(body)
}

/// Why a body could not be read.
pub enum BodyError {
    TooLarge,
    Read(reqwest::Error),
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn canonical_names_match_go() {
        assert_eq!(canonical_header_name("content-type"), "Content-Type");
        assert_eq!(canonical_header_name("x-REQUEST-id"), "X-Request-Id");
        assert_eq!(canonical_header_name("etag"), "Etag");
        assert_eq!(canonical_header_name("x-ünï-côde"), "X-ünï-Côde");
    }

    #[test]
    fn repeated_headers_are_joined_and_cookies_read() {
        let mut headers = HeaderMap::new();
        headers.append("x-tag", HeaderValue::from_static("a"));
        headers.append("x-tag", HeaderValue::from_static("b"));
        headers.append(
            SET_COOKIE,
            HeaderValue::from_static("sid=abc; Path=/; HttpOnly"),
        );
        headers.append(SET_COOKIE, HeaderValue::from_static("theme=\"dark\""));
        headers.append("x-tag", HeaderValue::from_static("c"));
        let lines = HeaderLines::new(&headers);
        assert_eq!(lines.get("x-tag"), Some("a"));
        assert_eq!(lines.get("etag"), None);
        let map = headers_map(&lines);
        assert_eq!(map["X-Tag"], "a, b, c");
        assert_eq!(
            map["Set-Cookie"],
            "sid=abc; Path=/; HttpOnly, theme=\"dark\""
        );
        let cookies = cookies_map(&lines);
        assert_eq!(cookies["sid"], "abc");
        assert_eq!(cookies["theme"], "dark");
    }

    #[test]
    fn bodies_decode_as_json_or_text() {
        assert_eq!(decode_body(b""), Value::String(String::new()));
        assert_eq!(decode_body(br#"{"a":1}"#)["a"], 1);
        assert_eq!(decode_body(b"plain"), "plain");
    }
}
