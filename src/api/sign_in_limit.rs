//! Failed sign-ins, counted and limited per client address. Every request that brings no
//! token, or one the API does not accept, counts in `testmesh_api_auth_failures_total` (by
//! reason) and takes a cell of its address's allowance (governor's GCRA: the limit per minute,
//! as a burst too). An address past its allowance is answered 429, without a review, until the
//! allowance refills (a caller whose review is cached still goes on, see src/api/auth.rs).

use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use prometheus::{IntCounterVec, Opts, Registry};

/// The most addresses remembered (blocked ones, and allowances before they are trimmed).
const REMEMBERED_ADDRESSES: u64 = 100_000;
/// The longest an address stays blocked.
const LONGEST_BLOCK: Duration = Duration::from_secs(3600);

/// Why a sign-in failed, as the metric's `reason` label says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// No bearer token.
    Missing,
    /// A token the API does not accept.
    Refused,
    /// An address past its allowance.
    Throttled,
}

impl Failure {
    fn label(self) -> &'static str {
        match self {
            Failure::Missing => "missing",
            Failure::Refused => "refused",
            Failure::Throttled => "throttled",
        }
    }
}

/// The allowance of failed sign-ins per address.
#[derive(Clone)]
pub struct SignInLimit {
    allowance: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    blocked: moka::sync::Cache<IpAddr, Instant>,
    failures: IntCounterVec,
}

impl std::fmt::Debug for SignInLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInLimit")
            .field("blocked", &self.blocked.entry_count())
            .finish_non_exhaustive()
    }
}

impl SignInLimit {
    /// `per_minute` failures per address (all at once, or spread).
    pub fn new(per_minute: NonZeroU32) -> Self {
        let failures = IntCounterVec::new(
            Opts::new(
                "testmesh_api_auth_failures_total",
                "Requests to the API refused at sign-in, by reason (missing, refused, throttled)",
            ),
            &["reason"],
        )
        .expect("a valid metric");
        for failure in [Failure::Missing, Failure::Refused, Failure::Throttled] {
            failures.with_label_values(&[failure.label()]);
        }
        Self {
            allowance: Arc::new(RateLimiter::keyed(Quota::per_minute(per_minute))),
            blocked: moka::sync::Cache::builder()
                .max_capacity(REMEMBERED_ADDRESSES)
                .time_to_live(LONGEST_BLOCK)
                .build(),
            failures,
        }
    }

    /// Adds the failure counter to `registry` (the role's `/metrics`).
    pub fn register(&self, registry: &Registry) -> prometheus::Result<()> {
        registry.register(Box::new(self.failures.clone()))
    }

    /// How long `client` must still wait when it is blocked.
    pub fn blocked(&self, client: Option<IpAddr>) -> Option<Duration> {
        let address = address(client);
        let until = self.blocked.get(&address)?;
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            self.blocked.invalidate(&address);
            return None;
        }
        Some(left)
    }

    /// Counts a request of a blocked address that is answered 429.
    pub fn throttled(&self) {
        self.failures
            .with_label_values(&[Failure::Throttled.label()])
            .inc();
    }

    /// Counts a failure of `client`; when it is past its allowance, how long it must wait.
    pub fn failed(&self, client: Option<IpAddr>, failure: Failure) -> Option<Duration> {
        self.failures.with_label_values(&[failure.label()]).inc();
        let address = address(client);
        if self.allowance.len() as u64 > REMEMBERED_ADDRESSES {
            self.allowance.retain_recent();
        }
        let not_until = self.allowance.check_key(&address).err()?;
        let wait = not_until
            .wait_time_from(DefaultClock::default().now())
            .min(LONGEST_BLOCK);
        self.blocked.insert(address, Instant::now() + wait);
        self.failures
            .with_label_values(&[Failure::Throttled.label()])
            .inc();
        Some(wait)
    }
}

/// The key of a client; requests whose address is unknown share one allowance.
fn address(client: Option<IpAddr>) -> IpAddr {
    client.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(limit: &SignInLimit, failure: Failure) -> u64 {
        limit.failures.with_label_values(&[failure.label()]).get()
    }

    #[test]
    fn an_address_past_its_allowance_waits_and_others_do_not() {
        let limit = SignInLimit::new(NonZeroU32::new(3).unwrap());
        let attacker = Some("10.0.0.1".parse().unwrap());
        let neighbour = Some("10.0.0.2".parse().unwrap());
        for _ in 0..3 {
            assert_eq!(limit.failed(attacker, Failure::Refused), None);
        }
        assert!(limit.blocked(attacker).is_none());
        let wait = limit
            .failed(attacker, Failure::Refused)
            .expect("a fourth failure waits");
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        assert!(limit.blocked(attacker).is_some());
        assert!(limit.blocked(neighbour).is_none());
        assert_eq!(limit.failed(neighbour, Failure::Missing), None);
        assert_eq!(count(&limit, Failure::Refused), 4);
        assert_eq!(count(&limit, Failure::Missing), 1);
        assert_eq!(count(&limit, Failure::Throttled), 1);
    }
}
