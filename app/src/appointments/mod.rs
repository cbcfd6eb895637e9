//! Visits: the physician's availability, free slots, booking (later: cancellation, reminders).

pub mod model;

#[cfg(feature = "ssr")]
pub mod availability;

pub use model::VisitType;
