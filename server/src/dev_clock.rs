//! Development only: a clock the browser tests move forward, so that what happens "in 23 hours"
//! or "after three failed retries" can be clicked through in a real browser. It is the system
//! time plus an offset; `POST /dev/clock` sets the offset. The route exists only when
//! `dev_clock_control` is on, which a production configuration refuses
//! ([`crate::startup::Application::build`]).

use crate::settings::{Environment, Settings};
use app::clock::Clock;
use axum::{
    extract::State,
    response::{IntoResponse, Response},
    Form, Json,
};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// The system time shifted by an adjustable number of microseconds (what PostgreSQL keeps);
/// clones share the shift.
#[derive(Debug, Clone, Default)]
pub struct ShiftedClock {
    offset_micros: Arc<AtomicI64>,
}

impl ShiftedClock {
    /// Makes `now()` read `to` at this moment (and run on from there).
    pub fn set(&self, to: DateTime<Utc>) {
        let offset = (to - Utc::now()).num_microseconds().unwrap_or(0);
        self.offset_micros.store(offset, Ordering::SeqCst);
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::microseconds(self.offset_micros.load(Ordering::SeqCst))
    }
}

/// The development clock the settings ask for: `None` without `dev_clock_control`; else the
/// system time, or `dev_clock_start` from this moment on. Refused outside development, and a
/// start without the control (it would be silently ignored).
pub fn from_settings(settings: &Settings) -> anyhow::Result<Option<ShiftedClock>> {
    if !settings.dev_clock_control {
        anyhow::ensure!(
            settings.dev_clock_start.is_none(),
            "dev_clock_start needs dev_clock_control (development only)"
        );
        return Ok(None);
    }
    anyhow::ensure!(
        settings.environment == Environment::Development,
        "dev_clock_control moves the server's time: it is for development only"
    );
    let clock = ShiftedClock::default();
    if let Some(start) = settings.dev_clock_start {
        clock.set(start);
    }
    Ok(Some(clock))
}

/// The clock a command-line tool reads: the development clock when the settings ask for one
/// (so `seed-demo` and `mfa-code` agree with a server started on the same settings), else the
/// system time.
pub fn clock_for_tools(settings: &Settings) -> anyhow::Result<app::clock::SharedClock> {
    Ok(match from_settings(settings)? {
        Some(clock) => Arc::new(clock),
        None => Arc::new(app::clock::SystemClock),
    })
}

#[derive(Debug, Deserialize)]
pub struct ClockForm {
    /// An RFC 3339 time; empty or missing goes back to the real time.
    #[serde(default)]
    to: String,
}

/// `GET /dev/clock`: the server's time.
pub async fn show_clock(State(clock): State<ShiftedClock>) -> Response {
    Json(serde_json::json!({ "now": clock.now() })).into_response()
}

/// `POST /dev/clock` (`to=2026-12-01T12:00:00Z`): moves the server's time; answers the new time.
pub async fn move_clock(
    State(clock): State<ShiftedClock>,
    Form(form): Form<ClockForm>,
) -> Response {
    let to = form.to.trim();
    if to.is_empty() {
        clock.set(Utc::now());
    } else {
        match DateTime::parse_from_rfc3339(to) {
            Ok(at) => clock.set(at.with_timezone(&Utc)),
            Err(_) => {
                return (
                    axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                    "to must be a time like 2026-12-01T12:00:00Z",
                )
                    .into_response()
            }
        }
    }
    tracing::warn!(now = %clock.now(), "development clock moved");
    Json(serde_json::json!({ "now": clock.now() })).into_response()
}
