//! The appointments feature's API tests.

pub mod benefits;
pub mod booking;
pub mod calendar;
pub mod notices;
pub mod waitlist;
