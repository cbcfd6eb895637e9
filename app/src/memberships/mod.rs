//! Memberships: enrollment (R1.1–R1.3, P1), where a membership stands, and the portal's
//! membership page.

pub mod api;
mod membership_page;
pub mod model;
mod pages;
pub mod refusal;

#[cfg(feature = "ssr")]
pub mod entity;
#[cfg(feature = "ssr")]
pub mod notices;
#[cfg(feature = "ssr")]
pub mod payments;
#[cfg(feature = "ssr")]
pub mod profile;
#[cfg(feature = "ssr")]
pub mod service;

pub use membership_page::MembershipPage;
pub use pages::{JoinConfirmedPage, JoinPage, JoinPageState};
