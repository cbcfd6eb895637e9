//! Visits: the physician's availability, free slots, booking, cancellation, and the notices a
//! visit sends (confirmation and reminders).

pub mod api;
pub mod benefits;
pub mod model;
mod pages;

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
pub mod notices;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod waitlist;

pub use model::VisitType;
pub use pages::{AgendaDays, AgendaPage, BookVisitPage, MyVisitsPage, SchedulePage};

/// Messages shared by the service and the pages (the pages compile for the browser too).
pub mod service_messages {
    /// The message for a slot someone else took first.
    pub const JUST_TAKEN: &str =
        "That time was just taken by someone else. Please choose another time.";
    /// The follow-up choices when completing a visit, in weeks.
    pub const FOLLOW_UP_WEEKS: [u32; 7] = [1, 2, 4, 6, 8, 12, 26];
    /// Why a visit inside 24 hours is not moved online.
    pub const LATE_RESCHEDULE: &str = "This visit starts in less than 24 hours, so it can no longer be moved. You can cancel it (your membership's late-cancellation terms, shown with the visit, apply) and book a new time, or call the practice.";
}
