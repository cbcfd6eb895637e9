//! How many contact messages one client address may send.

use governor::{clock::Clock, DefaultKeyedRateLimiter, Quota};
use std::{net::IpAddr, num::NonZeroU32, sync::Arc};

/// Messages per client address per hour; a process-local limit (several processes each allow
/// this many: acceptable for spam control, and it needs no shared store).
#[derive(Debug, Clone)]
pub struct ContactRateLimit(Arc<DefaultKeyedRateLimiter<IpAddr>>);

impl ContactRateLimit {
    pub fn per_hour(messages: u32) -> Self {
        let quota = Quota::per_hour(NonZeroU32::new(messages.max(1)).unwrap_or(NonZeroU32::MIN));
        ContactRateLimit(Arc::new(governor::RateLimiter::keyed(quota)))
    }

    /// `Err(seconds to wait)` when `ip` has sent its allowance.
    pub fn check(&self, ip: IpAddr) -> Result<(), u64> {
        self.0.check_key(&ip).map_err(|not_until| {
            not_until
                .wait_time_from(governor::clock::DefaultClock::default().now())
                .as_secs()
                .max(1)
        })
    }

    /// Forgets addresses whose allowance has refilled; run now and then to bound memory.
    pub fn forget_idle(&self) {
        self.0.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_limited_after_its_hourly_allowance() {
        let limit = ContactRateLimit::per_hour(2);
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        assert!(limit.check(ip).is_ok());
        assert!(limit.check(ip).is_ok());
        let wait = limit.check(ip).expect_err("third message in the hour");
        assert!(wait > 0 && wait <= 3600);
        assert!(
            limit.check("192.0.2.2".parse().expect("ip")).is_ok(),
            "other visitors are unaffected"
        );
    }
}
