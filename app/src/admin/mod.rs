//! The administrator's area: the audit log and billing (tiers, staff and outgoing messages
//! come later).

pub mod api;
pub mod model;
mod pages;
#[cfg(feature = "ssr")]
pub mod service;

pub use pages::{AdminBillingPage, AuditLogPage};
