//! Development only: a clock the browser tests move forward, so that what happens "in 23 hours"
//! or "after three failed retries" can be clicked through in a real browser. It is the system
//! time plus an offset; `POST /dev/clock` sets the offset. The route exists only when
//! `dev_clock_control` is on, which a production configuration refuses
//! ([`crate::startup::Application::build`]).

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

/// The system time shifted by an adjustable number of seconds; clones share the shift.
#[derive(Debug, Clone, Default)]
pub struct ShiftedClock {
    offset_seconds: Arc<AtomicI64>,
}

impl ShiftedClock {
    /// Makes `now()` read `to` at this moment (and run on from there).
    pub fn set(&self, to: DateTime<Utc>) {
        self.offset_seconds
            .store((to - Utc::now()).num_seconds(), Ordering::SeqCst);
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::seconds(self.offset_seconds.load(Ordering::SeqCst))
    }
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
