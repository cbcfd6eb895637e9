//! Visits: the physician's availability, free slots, booking (later: cancellation, reminders).

pub mod model;

#[cfg(feature = "ssr")]
pub mod availability;
#[cfg(feature = "ssr")]
pub mod entity;
#[cfg(feature = "ssr")]
pub mod service;

pub use model::VisitType;
