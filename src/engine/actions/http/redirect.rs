//! Following redirects per step (the client itself never follows them): which status codes
//! redirect, how the method and body change, and which credentials survive a change of origin.

use reqwest::header::{
    AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, HeaderMap, LOCATION, PROXY_AUTHORIZATION,
};
use reqwest::{Method, StatusCode};
use url::Url;

use super::config::BodySpec;

/// One request of a redirect chain.
#[derive(Debug, Clone)]
pub struct Hop {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<BodySpec>,
    /// Whether the step's own `cookies` still go with the request (same origin as the first).
    pub send_step_cookies: bool,
}

/// Where a redirect response points.
pub enum Next {
    /// Not a redirect (or one without a usable `Location`): this is the final response.
    Final,
    /// The request to send next.
    Follow(Box<Hop>),
    /// `Location` is there but is not a URL.
    BadLocation(String),
}

/// The request that follows `status` with `headers` after `hop`.
pub fn next_hop(hop: &Hop, status: StatusCode, headers: &HeaderMap) -> Next {
    let keeps_method = match status.as_u16() {
        301..=303 => false,
        307 | 308 => true,
        _ => return Next::Final,
    };
    let Some(location) = headers.get(LOCATION) else {
        return Next::Final;
    };
    let location = String::from_utf8_lossy(location.as_bytes()).into_owned();
    let url = match hop.url.join(&location) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => url,
        _ => return Next::BadLocation(location),
    };
    let mut next = hop.clone();
    if !keeps_method && hop.method != Method::HEAD {
        next.method = Method::GET;
        next.body = None;
        next.headers.remove(CONTENT_TYPE);
        next.headers.remove(CONTENT_LENGTH);
    }
    if url.origin() != hop.url.origin() {
        next.headers.remove(AUTHORIZATION);
        next.headers.remove(PROXY_AUTHORIZATION);
        next.headers.remove(COOKIE);
        next.send_step_cookies = false;
    }
    next.url = url;
    Next::Follow(Box::new(next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn hop(method: Method, url: &str) -> Hop {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer t"));
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Hop {
            method,
            url: Url::parse(url).unwrap(),
            headers,
            body: Some(BodySpec {
                bytes: b"{}".to_vec(),
                content_type: Some("application/json"),
            }),
            send_step_cookies: true,
        }
    }

    fn location(to: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(LOCATION, HeaderValue::from_static(to));
        headers
    }

    fn follow(next: Next) -> Hop {
        match next {
            Next::Follow(hop) => *hop,
            _ => panic!("expected a redirect"),
        }
    }

    #[test]
    fn see_other_turns_post_into_get_without_body() {
        let next = follow(next_hop(
            &hop(Method::POST, "http://a/x"),
            StatusCode::SEE_OTHER,
            &location("/y"),
        ));
        assert_eq!(next.method, Method::GET);
        assert!(next.body.is_none());
        assert!(!next.headers.contains_key(CONTENT_TYPE));
        assert_eq!(next.url.as_str(), "http://a/y");
        assert!(next.headers.contains_key(AUTHORIZATION));
    }

    #[test]
    fn temporary_redirect_keeps_method_and_body() {
        let next = follow(next_hop(
            &hop(Method::PUT, "http://a/x"),
            StatusCode::TEMPORARY_REDIRECT,
            &location("z"),
        ));
        assert_eq!(next.method, Method::PUT);
        assert!(next.body.is_some());
        assert_eq!(next.url.as_str(), "http://a/z");
    }

    #[test]
    fn head_stays_head_and_cross_origin_drops_credentials() {
        let next = follow(next_hop(
            &hop(Method::HEAD, "http://a/x"),
            StatusCode::FOUND,
            &location("http://b:81/"),
        ));
        assert_eq!(next.method, Method::HEAD);
        assert!(!next.headers.contains_key(AUTHORIZATION));
        assert!(!next.send_step_cookies);
    }

    #[test]
    fn other_statuses_and_bad_locations() {
        assert!(matches!(
            next_hop(
                &hop(Method::GET, "http://a/"),
                StatusCode::OK,
                &location("/y")
            ),
            Next::Final
        ));
        assert!(matches!(
            next_hop(
                &hop(Method::GET, "http://a/"),
                StatusCode::FOUND,
                &HeaderMap::new()
            ),
            Next::Final
        ));
        assert!(matches!(
            next_hop(
                &hop(Method::GET, "http://a/"),
                StatusCode::FOUND,
                &location("mailto:x@y")
            ),
            Next::BadLocation(_)
        ));
    }
}
