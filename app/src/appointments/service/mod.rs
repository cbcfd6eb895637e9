//! What visits do, in rooms:
//! - [`calendar`]: what every rule builds on: a visit's statuses, the five-minute units a
//!   visit holds, the time already taken, how far ahead and how soon patients book;
//! - [`schedule`]: the practice's schedule (stored, cached, shown, changed) and the time zone
//!   each person sees times in;
//! - [`booking`]: the free times a patient is offered and booking one (P2);
//! - [`changes`]: cancelling (P3), moving and completing a booked visit;
//! - [`visits`]: a patient's visits and the physician's agenda.
//!
//! `calendar` and `schedule` use nothing else of the feature's rules, so the notices and the
//! waitlist build on them without coming back here.

pub mod booking;
pub mod calendar;
pub mod changes;
pub mod schedule;
pub mod visits;
