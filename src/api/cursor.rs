//! The opaque cursor of the executions list: the (queued_at, run_id) of the last row of a page,
//! base64url-encoded. The next page starts strictly after it, so pages never repeat a row even
//! when many runs share a queue time.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};

use super::error::ApiError;

/// Where a page of executions ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub queued_at: DateTime<Utc>,
    pub run_id: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        let micros = self.queued_at.timestamp_micros();
        URL_SAFE_NO_PAD.encode(format!("{micros}:{}", self.run_id))
    }

    /// Reads a cursor this API gave out; anything else is a 400 naming `cursor`.
    pub fn decode(text: &str) -> Result<Self, ApiError> {
        let bad = || ApiError::bad("cursor", "not a cursor this API gave out");
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let (micros, run_id) = text.split_once(':').ok_or_else(bad)?;
        let micros: i64 = micros.parse().map_err(|_| bad())?;
        let queued_at = DateTime::from_timestamp_micros(micros).ok_or_else(bad)?;
        Ok(Cursor {
            queued_at,
            run_id: run_id.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_garbage_is_rejected() {
        let cursor = Cursor {
            queued_at: DateTime::from_timestamp_micros(1_768_467_600_123_456).unwrap(),
            run_id: "shop:checkout-0008".into(),
        };
        assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
        let err = Cursor::decode("not-a-cursor!").unwrap_err();
        assert!(err.to_string().starts_with("cursor:"), "{err}");
    }
}
