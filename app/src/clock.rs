//! The time, as a dependency: every rule that depends on it (session timeouts, token expiry,
//! lockouts, later reminders and cancellation windows) reads a [`Clock`], so tests move time
//! instead of sleeping.

use chrono::{DateTime, Duration, Utc};
use std::sync::{Arc, Mutex};

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

/// The real time.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock tests set and advance by hand; clones share one time.
#[derive(Debug, Clone)]
pub struct FakeClock(Arc<Mutex<DateTime<Utc>>>);

impl FakeClock {
    pub fn at(now: DateTime<Utc>) -> Self {
        FakeClock(Arc::new(Mutex::new(now)))
    }

    /// Moves the time forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut now = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *now += by;
    }

    pub fn set(&self, to: DateTime<Utc>) {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = to;
    }
}

impl Clock for FakeClock {
    fn now(&self) -> DateTime<Utc> {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The shared handle services hold.
pub type SharedClock = Arc<dyn Clock>;

/// The variable that sets the instant every test starts from (RFC 3339, with its offset). The
/// calendar matrix (`scripts/calendar-matrix.sh`) runs the time-sensitive suites at many.
pub const TEST_NOW_VAR: &str = "BEDSIDE_TEST_NOW";

/// Where tests start when `BEDSIDE_TEST_NOW` is not set: Wednesday 17 June 2026, 09:30 in the
/// demo practice's zone (America/New_York, EDT). A fixed instant, never the wall clock, so a
/// test passes or fails the same on every day it runs.
pub const DEFAULT_TEST_NOW: &str = "2026-06-17T09:30:00-04:00";

/// The instant a test starts from: `BEDSIDE_TEST_NOW` when set, else [`DEFAULT_TEST_NOW`];
/// whole microseconds (what PostgreSQL keeps, so times read back compare equal).
///
/// # Panics
/// When `BEDSIDE_TEST_NOW` is set to something that is not an RFC 3339 time: a test run at an
/// instant nobody asked for would prove nothing.
pub fn test_start() -> DateTime<Utc> {
    let wanted = std::env::var(TEST_NOW_VAR).unwrap_or_else(|_| DEFAULT_TEST_NOW.to_owned());
    let at = match DateTime::parse_from_rfc3339(wanted.trim()) {
        Ok(at) => at.with_timezone(&Utc),
        Err(e) => {
            panic!("{TEST_NOW_VAR}={wanted:?} is not a time like 2026-12-01T09:30:00-05:00: {e}")
        }
    };
    DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fake_clock_moves_only_when_told_and_clones_share_it() {
        let start = test_start();
        let clock = FakeClock::at(start);
        let other = clock.clone();
        assert_eq!(clock.now(), start);
        other.advance(Duration::minutes(16));
        assert_eq!(clock.now(), start + Duration::minutes(16));
    }

    #[test]
    fn tests_start_at_a_fixed_instant_unless_the_run_names_another() {
        match std::env::var(TEST_NOW_VAR) {
            Ok(wanted) => assert_eq!(
                test_start(),
                DateTime::parse_from_rfc3339(&wanted).expect("the run's instant")
            ),
            Err(_) => assert_eq!(
                test_start().to_rfc3339(),
                "2026-06-17T13:30:00+00:00",
                "a Wednesday, 09:30 in New York"
            ),
        }
    }
}
