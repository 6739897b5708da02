//! URLs a run has parsed, kept for its later steps: a flow calls the same few URLs over and
//! over, and parsing one (the host's IDNA mapping included) costs more than looking it up.

use std::collections::HashMap;
use std::sync::Mutex;

use url::Url;

/// How many distinct URLs one run keeps; past that the memo starts again, so a flow that
/// builds a new URL for every step costs one parse per step and no more memory.
const MAX_URLS: usize = 256;

/// Parsed URLs by their text, shared by the steps (and parallel branches) of one run.
#[derive(Default)]
pub struct UrlMemo {
    parsed: Mutex<HashMap<String, Url>>,
}

impl UrlMemo {
    /// `Url::parse(text)`, from the memo when the run has parsed `text` before.
    pub fn parse(&self, text: &str) -> Result<Url, url::ParseError> {
        let mut parsed = self
            .parsed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(url) = parsed.get(text) {
            return Ok(url.clone());
        }
        let url = Url::parse(text)?;
        if parsed.len() >= MAX_URLS {
            parsed.clear();
        }
        parsed.insert(text.to_string(), url.clone());
        Ok(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gives_what_url_parse_gives() {
        let memo = UrlMemo::default();
        for text in [
            "http://Example.COM:80/a/../b?q=1",
            "https://bücher.example/x",
        ] {
            assert_eq!(memo.parse(text).unwrap(), Url::parse(text).unwrap());
            assert_eq!(memo.parse(text).unwrap(), Url::parse(text).unwrap());
        }
        assert_eq!(
            memo.parse("not a url").unwrap_err(),
            url::ParseError::RelativeUrlWithoutBase
        );
    }

    #[test]
    fn stays_bounded() {
        let memo = UrlMemo::default();
        for n in 0..(MAX_URLS * 3) {
            let text = format!("http://h/{n}");
            assert_eq!(memo.parse(&text).unwrap().path(), format!("/{n}"));
        }
        assert!(memo.parsed.lock().unwrap().len() <= MAX_URLS);
    }
}
