//! Limits on guessing: sign-in, second-factor and reset attempts, per client address and per
//! account (R9.3).
//!
//! With Redis configured (several processes), the counts are shared: a fixed one-minute window
//! per key (`INCR` + `EXPIRE`), so the quota holds across the whole deployment. Without Redis
//! (one process), governor's in-memory limiter. The per-account lockout in the database is the
//! backstop either way.

use governor::{clock::Clock, DefaultKeyedRateLimiter, Quota};
use redis::aio::ConnectionManager;
use std::{num::NonZeroU32, sync::Arc};

#[derive(Clone)]
pub enum AttemptLimits {
    Local(Arc<DefaultKeyedRateLimiter<String>>),
    Shared {
        connection: ConnectionManager,
        prefix: String,
        per_minute: u32,
    },
}

impl std::fmt::Debug for AttemptLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AttemptLimits::Local(_) => f.write_str("AttemptLimits::Local"),
            AttemptLimits::Shared { per_minute, .. } => {
                write!(f, "AttemptLimits::Shared({per_minute}/min)")
            }
        }
    }
}

impl AttemptLimits {
    /// In this process's memory.
    pub fn per_minute(attempts: u32) -> Self {
        let quota = Quota::per_minute(NonZeroU32::new(attempts.max(1)).unwrap_or(NonZeroU32::MIN));
        AttemptLimits::Local(Arc::new(governor::RateLimiter::keyed(quota)))
    }

    /// In Redis, shared by every process using `prefix`.
    pub async fn shared(url: &str, prefix: &str, attempts: u32) -> anyhow::Result<Self> {
        let connection = ConnectionManager::new(redis::Client::open(url)?).await?;
        Ok(AttemptLimits::Shared {
            connection,
            prefix: prefix.to_owned(),
            per_minute: attempts.max(1),
        })
    }

    /// Counts an attempt against every key; `Err(seconds to wait)` when any of them is spent.
    /// If Redis cannot be reached the attempt is refused (deny when in doubt) for a minute.
    pub async fn check(&self, keys: &[String]) -> Result<(), u64> {
        match self {
            AttemptLimits::Local(limiter) => {
                let mut wait = 0u64;
                for key in keys {
                    if let Err(not_until) = limiter.check_key(key) {
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
            AttemptLimits::Shared {
                connection,
                prefix,
                per_minute,
            } => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let window = now / 60;
                let left_in_window = 60 - now % 60;
                let mut conn = connection.clone();
                let mut over = false;
                for key in keys {
                    let redis_key = format!("{prefix}attempts:{key}:{window}");
                    let counted: Result<(u32,), _> = redis::pipe()
                        .atomic()
                        .incr(&redis_key, 1u32)
                        .expire(&redis_key, 120)
                        .ignore()
                        .query_async(&mut conn)
                        .await;
                    match counted {
                        Ok((count,)) => over |= count > *per_minute,
                        Err(error) => {
                            tracing::error!(%error, "attempt limits: Redis unreachable; refusing the attempt");
                            return Err(60);
                        }
                    }
                }
                if over {
                    Err(left_in_window.max(1))
                } else {
                    Ok(())
                }
            }
        }
    }

    /// Forgets idle in-memory entries (Redis expires its own).
    pub fn forget_idle(&self) {
        if let AttemptLimits::Local(limiter) = self {
            limiter.retain_recent();
        }
    }
}

impl app::auth::context::AttemptLimiter for AttemptLimits {
    fn check<'a>(
        &'a self,
        keys: &'a [String],
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), u64>> + Send + 'a>> {
        Box::pin(AttemptLimits::check(self, keys))
    }
}

#[cfg(test)]
mod tests {
    use super::AttemptLimits;

    #[tokio::test]
    async fn the_eleventh_attempt_in_a_minute_is_refused_for_that_ip_or_account() {
        let limits = AttemptLimits::per_minute(10);
        let keys = [
            "ip:192.0.2.1".to_owned(),
            "account:a@example.com".to_owned(),
        ];
        for _ in 0..10 {
            assert!(limits.check(&keys).await.is_ok());
        }
        let wait = limits.check(&keys).await.expect_err("eleventh attempt");
        assert!((1..=60).contains(&wait));
        // Same account from another address: still limited by the account key.
        assert!(limits
            .check(&[
                "ip:192.0.2.2".to_owned(),
                "account:a@example.com".to_owned()
            ])
            .await
            .is_err());
        assert!(limits.check(&["ip:192.0.2.3".to_owned()]).await.is_ok());
    }
}
