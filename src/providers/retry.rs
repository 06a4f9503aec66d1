//! Retries shared by every remote provider: exponential backoff with full jitter, honouring a
//! server's `Retry-After`, for the failures worth another try (429, 5xx, network, timeout).
//!
//! A 429 is a server that is up and asks to be asked again later: a fleet of processes starting
//! at once against a rate limit hears it many times, so it has a larger budget of attempts than
//! a failing server (the source's deadline still bounds the wait). `Retry-After: N` is the least
//! wait, spread over N to 2N so that a fleet told the same N does not come back in the same
//! instant; `Retry-After: 0` (OpenBao's quotas until the next second) says nothing, and gets the
//! backoff.

use std::future::Future;
use std::time::Duration;

use crate::error::SourceError;

#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Total attempts, the first included.
    pub max_attempts: u32,
    /// Total attempts while the server answers 429 (rate limited).
    pub max_rate_limited_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            max_rate_limited_attempts: 10,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// Full jitter: a uniformly random delay up to the capped exponential bound.
    fn backoff(&self, attempt: u32) -> Duration {
        let exponential = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)));
        let bound = exponential.min(self.max_delay);
        bound.mul_f64(fastrand::f64())
    }

    /// The wait before attempt `attempt + 1`: the server's own `Retry-After` (within reason),
    /// spread to twice as long, or the backoff.
    fn delay(&self, error: &SourceError, attempt: u32) -> Duration {
        match error.retry_after() {
            Some(after) if !after.is_zero() => {
                retry_after_wait(after, self.max_delay.saturating_mul(8))
            }
            _ => self.backoff(attempt),
        }
    }

    fn attempts_for(&self, error: &SourceError) -> u32 {
        match error {
            SourceError::Http { status: 429, .. } => self.max_rate_limited_attempts,
            _ => self.max_attempts,
        }
    }

    /// Runs `operation` until it succeeds, fails for good, or runs out of attempts.
    pub async fn run<T, F, Fut>(&self, what: &str, mut operation: F) -> Result<T, SourceError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, SourceError>>,
    {
        let mut attempt = 1;
        loop {
            match operation().await {
                Ok(value) => return Ok(value),
                Err(error) if error.is_retryable() && attempt < self.attempts_for(&error) => {
                    let delay = self.delay(&error, attempt);
                    tracing::warn!(
                        request = what,
                        attempt,
                        error = %error,
                        delay_ms = delay.as_millis() as u64,
                        "retrying"
                    );
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }
}

/// The wait a server's `Retry-After: after` asks for: at least `after`, spread up to twice as
/// long so that a fleet told the same does not come back in the same instant, and never beyond
/// `longest` (an absurd `after` is cut to half of it first, so the spread survives the cap).
pub fn retry_after_wait(after: Duration, longest: Duration) -> Duration {
    let after = after.min(longest / 2);
    after + after.mul_f64(fastrand::f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn fast() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            max_rate_limited_attempts: 3,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
        }
    }

    #[tokio::test]
    async fn retries_retryable_errors_then_succeeds() {
        let calls = AtomicU32::new(0);
        let result = fast()
            .run("test", || async {
                if calls.fetch_add(1, Ordering::SeqCst) < 2 {
                    Err(SourceError::Http {
                        status: 503,
                        retry_after: None,
                    })
                } else {
                    Ok(7)
                }
            })
            .await;
        assert_eq!(result.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn does_not_retry_client_errors() {
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = fast()
            .run("test", || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(SourceError::Http {
                    status: 403,
                    retry_after: None,
                })
            })
            .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn gives_up_after_max_attempts() {
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = fast()
            .run("test", || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(SourceError::Http {
                    status: 429,
                    retry_after: Some(Duration::from_millis(1)),
                })
            })
            .await;
        assert!(matches!(result, Err(SourceError::Http { status: 429, .. })));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn rate_limits_have_their_own_budget() {
        let policy = RetryPolicy {
            max_rate_limited_attempts: 6,
            ..fast()
        };
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = policy
            .run("test", || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(SourceError::Http {
                    status: 429,
                    retry_after: Some(Duration::ZERO),
                })
            })
            .await;
        assert!(matches!(result, Err(SourceError::Http { status: 429, .. })));
        assert_eq!(calls.load(Ordering::SeqCst), 6);
        // A failing server keeps the smaller budget.
        calls.store(0, Ordering::SeqCst);
        let _ = policy
            .run("test", || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err::<(), _>(SourceError::Http {
                    status: 503,
                    retry_after: Some(Duration::ZERO),
                })
            })
            .await;
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn retry_after_is_the_least_wait_spread_to_twice_as_long() {
        let policy = RetryPolicy::default();
        let told = |seconds| SourceError::Http {
            status: 429,
            retry_after: Some(Duration::from_secs(seconds)),
        };
        let delays: Vec<Duration> = (1..50)
            .map(|attempt| policy.delay(&told(2), attempt))
            .collect();
        assert!(delays
            .iter()
            .all(|delay| (Duration::from_secs(2)..=Duration::from_secs(4)).contains(delay)));
        let distinct: std::collections::HashSet<_> = delays.iter().collect();
        assert!(
            distinct.len() > 40,
            "{} distinct delays of 49",
            distinct.len()
        );
        // "Retry-After: 0" (OpenBao until the next second) gets the backoff, which grows.
        assert!((0..50).all(|_| policy.delay(&told(0), 1) <= policy.base_delay));
        let later: Vec<Duration> = (0..50).map(|_| policy.delay(&told(0), 4)).collect();
        assert!(later.iter().any(|delay| *delay > policy.base_delay * 2));
        // An absurd Retry-After is capped.
        assert!(policy.delay(&told(86_400), 1) <= policy.max_delay * 8);
    }

    #[test]
    fn backoff_stays_under_the_cap() {
        let policy = RetryPolicy::default();
        for attempt in 1..20 {
            assert!(policy.backoff(attempt) <= policy.max_delay);
        }
    }
}
