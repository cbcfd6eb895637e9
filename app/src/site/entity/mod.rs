//! Database entities of the public website. They never cross the wire: `service.rs` turns
//! them into the types of `model.rs`.

pub mod contact_inquiry;
pub mod membership_tier;
pub mod practice;
pub mod practice_service;
