//! Limits on guessing: sign-in, second-factor and reset attempts, per client address and per
//! account (R9.3). Process-local (governor): with several processes each allows the quota,
//! which still bounds guessing to a small multiple; the per-account lockout in the database is
//! the shared backstop.

use governor::{clock::Clock, DefaultKeyedRateLimiter, Quota};
use std::{num::NonZeroU32, sync::Arc};

#[derive(Debug, Clone)]
pub struct AttemptLimits(Arc<DefaultKeyedRateLimiter<String>>);

impl AttemptLimits {
    pub fn per_minute(attempts: u32) -> Self {
        let quota = Quota::per_minute(NonZeroU32::new(attempts.max(1)).unwrap_or(NonZeroU32::MIN));
        AttemptLimits(Arc::new(governor::RateLimiter::keyed(quota)))
    }

    /// Counts an attempt against every key; `Err(seconds)` when any of them is spent.
    pub fn check(&self, keys: &[String]) -> Result<(), u64> {
        let mut wait = 0u64;
        for key in keys {
            if let Err(not_until) = self.0.check_key(key) {
                let seconds = not_until
                    .wait_time_from(governor::clock::DefaultClock::default().now())
                    .as_secs()
                    .max(1);
                wait = wait.max(seconds);
            }
        }
        if wait > 0 {
            Err(wait)
        } else {
            Ok(())
        }
    }

    pub fn forget_idle(&self) {
        self.0.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::AttemptLimits;

    #[test]
    fn the_eleventh_attempt_in_a_minute_is_refused_for_that_ip_or_account() {
        let limits = AttemptLimits::per_minute(10);
        let keys = [
            "ip:192.0.2.1".to_owned(),
            "account:a@example.com".to_owned(),
        ];
        for _ in 0..10 {
            assert!(limits.check(&keys).is_ok());
        }
        let wait = limits.check(&keys).expect_err("eleventh attempt");
        assert!((1..=60).contains(&wait));
        // Same account from another address: still limited by the account key.
        assert!(limits
            .check(&[
                "ip:192.0.2.2".to_owned(),
                "account:a@example.com".to_owned()
            ])
            .is_err());
        assert!(limits.check(&["ip:192.0.2.3".to_owned()]).is_ok());
    }
}
