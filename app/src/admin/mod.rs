//! The administrator's area: the audit log (tiers, staff and outgoing messages come later).

pub mod api;
mod pages;
#[cfg(feature = "ssr")]
pub mod service;

pub use pages::AuditLogPage;
