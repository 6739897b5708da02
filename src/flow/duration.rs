//! Durations as flow files write them: Go's syntax (`500ms`, `1.5s`, `1h30m`), which the
//! original platform used, or a bare integer meaning seconds.

use std::fmt;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A duration kept as the user wrote it, so that a manifest converted back out reads the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowDuration {
    text: String,
}

impl FlowDuration {
    /// Parses `text`; the error says what is wrong and shows the accepted forms.
    pub fn parse(text: &str) -> Result<Self, String> {
        parse_duration(text)?;
        Ok(Self {
            text: text.trim().to_string(),
        })
    }

    /// The duration as text, exactly as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The parsed value; construction guarantees it parses.
    pub fn get(&self) -> Duration {
        parse_duration(&self.text).unwrap_or_default()
    }
}

impl fmt::Display for FlowDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Parses Go duration syntax (`300ms`, `1.5h`, `2h45m`, `10us`) or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let hint = "expected a duration such as 500ms, 30s, 5m or 1h30m";
    if text.is_empty() {
        return Err(format!("empty duration: {hint}"));
    }
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    let mut total = 0f64;
    let mut rest = text;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if number_len == 0 {
            return Err(format!("invalid duration {text:?}: {hint}"));
        }
        let number: f64 = rest[..number_len]
            .parse()
            .map_err(|_| format!("invalid number in duration {text:?}: {hint}"))?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit_seconds = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "" => return Err(format!("missing unit in duration {text:?}: {hint}")),
            unit => {
                return Err(format!(
                    "unknown unit {unit:?} in duration {text:?}: {hint}"
                ));
            }
        };
        rest = &rest[unit_len..];
        total += number * unit_seconds;
    }
    Duration::try_from_secs_f64(total).map_err(|_| format!("duration {text:?} is out of range"))
}

impl Serialize for FlowDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for FlowDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Seconds(u64),
            Text(String),
        }
        let text = match Raw::deserialize(deserializer)? {
            Raw::Seconds(seconds) => seconds.to_string(),
            Raw::Text(text) => text,
        };
        FlowDuration::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for FlowDuration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A duration such as 500ms, 30s, 5m or 1h30m; a bare integer is seconds.",
            "x-kubernetes-int-or-string": true,
            "anyOf": [{"type": "integer"}, {"type": "string"}]
        })
    }

    fn inline_schema() -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        let cases = [
            ("500ms", 500),
            ("30s", 30_000),
            ("5m", 300_000),
            ("1h30m", 5_400_000),
            ("1.5s", 1_500),
            ("2", 2_000),
            ("250us", 0),
        ];
        for (text, millis) in cases {
            assert_eq!(parse_duration(text).unwrap().as_millis(), millis, "{text}");
        }
    }

    #[test]
    fn rejects_bad_durations_with_a_hint() {
        for text in ["", "ten seconds", "5 parsecs", "1.2.3s", "ms"] {
            let err = parse_duration(text).unwrap_err();
            assert!(err.contains("duration"), "{text}: {err}");
        }
        assert!(
            parse_duration("5d")
                .unwrap_err()
                .contains("unknown unit \"d\"")
        );
    }
}
