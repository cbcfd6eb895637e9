//! The audit log (R9.5, P9): who did what to which record, when, from where, and whether it
//! was allowed. Append-only and hash-chained; see `service` for how.

pub mod model;

#[cfg(feature = "ssr")]
pub mod entity;
#[cfg(feature = "ssr")]
pub mod group;
#[cfg(feature = "ssr")]
pub mod service;

pub use model::{AuditEntry, AuditFilter, Outcome};
