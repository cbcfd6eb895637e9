//! Visits: the physician's availability, free slots, booking, cancellation, and the notices a
//! visit sends (confirmation and reminders).

pub mod api;
pub mod benefits;
mod book_page;
pub mod model;
mod pages;
pub mod refusal;
mod visits_page;

#[cfg(feature = "ssr")]
pub mod allowance;
#[cfg(feature = "ssr")]
pub mod availability;
#[cfg(feature = "ssr")]
pub mod entity;
#[cfg(feature = "ssr")]
pub mod feeds;
#[cfg(feature = "ssr")]
pub mod ics;
#[cfg(feature = "ssr")]
pub mod notice_kind;
#[cfg(feature = "ssr")]
pub mod notices;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod waitlist;

pub use book_page::BookVisitPage;
pub use model::VisitType;
pub use pages::{AgendaDays, AgendaPage, SchedulePage};
pub use refusal::VisitRefusal;
pub use visits_page::MyVisitsPage;

/// Messages shared by the service and the pages (the pages compile for the browser too).
pub mod service_messages {
    /// The follow-up choices when completing a visit, in weeks.
    pub const FOLLOW_UP_WEEKS: [u32; 7] = [1, 2, 4, 6, 8, 12, 26];
}
