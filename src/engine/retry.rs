//! The wait before each retry: constant, linear or exponential growth from `delay`, capped by
//! `max_delay`, spread by `jitter`. Pure, so the schedule can be tested without waiting.

use std::time::Duration;

use crate::flow::{Backoff, RetryPolicy};

/// The wait used when a retry policy gives no `delay`.
pub const DEFAULT_DELAY: Duration = Duration::from_secs(1);

/// The wait after failed attempt number `attempt` (counted from 1). `unit` is a random number
/// in `[0, 1)` used for jitter.
pub fn delay_after(policy: &RetryPolicy, attempt: u32, unit: f64) -> Duration {
    let base = policy.delay.as_ref().map_or(DEFAULT_DELAY, |d| d.get());
    let attempt = attempt.max(1);
    let grown = match policy.backoff {
        Backoff::Constant => base,
        Backoff::Linear => base.saturating_mul(attempt),
        Backoff::Exponential => base.saturating_mul(2u32.saturating_pow(attempt - 1)),
    };
    let capped = match &policy.max_delay {
        Some(max) => grown.min(max.get()),
        None => grown,
    };
    match policy.jitter {
        Some(fraction) if fraction > 0.0 => {
            let factor = 1.0 + fraction * (2.0 * unit.clamp(0.0, 1.0) - 1.0);
            capped.mul_f64(factor.max(0.0))
        }
        _ => capped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::FlowDuration;

    fn policy(backoff: Backoff, max_delay: Option<&str>, jitter: Option<f64>) -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            delay: Some(FlowDuration::parse("100ms").unwrap()),
            backoff,
            max_delay: max_delay.map(|m| FlowDuration::parse(m).unwrap()),
            jitter,
        }
    }

    fn millis(policy: &RetryPolicy) -> Vec<u128> {
        (1..=5)
            .map(|a| delay_after(policy, a, 0.5).as_millis())
            .collect()
    }

    #[test]
    fn grows_as_the_backoff_says() {
        assert_eq!(
            millis(&policy(Backoff::Constant, None, None)),
            [100, 100, 100, 100, 100]
        );
        assert_eq!(
            millis(&policy(Backoff::Linear, None, None)),
            [100, 200, 300, 400, 500]
        );
        assert_eq!(
            millis(&policy(Backoff::Exponential, None, None)),
            [100, 200, 400, 800, 1600]
        );
        assert_eq!(
            millis(&policy(Backoff::Exponential, Some("500ms"), None)),
            [100, 200, 400, 500, 500]
        );
    }

    #[test]
    fn jitter_spreads_within_the_fraction() {
        let p = policy(Backoff::Constant, None, Some(0.2));
        assert_eq!(delay_after(&p, 1, 0.0).as_millis(), 80);
        assert_eq!(delay_after(&p, 1, 0.5).as_millis(), 100);
        assert_eq!(delay_after(&p, 1, 1.0).as_millis(), 120);
    }

    #[test]
    fn defaults_to_one_second() {
        let p = RetryPolicy {
            max_attempts: 3,
            delay: None,
            backoff: Backoff::Constant,
            max_delay: None,
            jitter: None,
        };
        assert_eq!(delay_after(&p, 1, 0.5), Duration::from_secs(1));
    }
}
