//! The administrator's area: the audit log and billing (tiers, staff and outgoing messages
//! come later).

pub mod api;
mod pages;
#[cfg(feature = "ssr")]
pub mod service;

pub use pages::{AdminBillingPage, AuditLogPage};
