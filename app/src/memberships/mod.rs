//! Memberships: enrollment (R1.1–R1.3, P1), where a membership stands, and the portal's
//! membership page.

pub mod api;
pub mod model;
mod pages;

#[cfg(feature = "ssr")]
pub mod entity;
#[cfg(feature = "ssr")]
pub mod notices;
#[cfg(feature = "ssr")]
pub mod service;

pub use pages::{JoinConfirmedPage, JoinPage, JoinPageState, MembershipPage};
