//! Bedside's Leptos application: pages, components, server functions and the rules behind them.
//!
//! One folder per capability of the practice (`site`, later `auth`, `patients`, …). Inside each,
//! `model.rs` holds wire types and validated newtypes, `service.rs` (server only) the rules and
//! database work, and the rest are components and pages. See docs/ARCHITECTURE.md.

#![recursion_limit = "256"]

pub mod admin;
pub mod appointments;
pub mod audit;
pub mod auth;
pub mod billing;
pub mod domain;
pub mod error;
pub mod grants;
pub mod live;
pub mod memberships;
pub mod messages;
pub mod notifications;
pub mod patients;
#[cfg(feature = "ssr")]
pub mod pdf_text;
pub mod records;
pub mod shell;
pub mod site;
pub mod stored;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod clock;
#[cfg(feature = "ssr")]
pub mod crypto;
#[cfg(feature = "ssr")]
pub mod jobs;
#[cfg(feature = "ssr")]
pub mod mail;
#[cfg(feature = "ssr")]
pub mod sms;
#[cfg(feature = "ssr")]
pub mod storage;

pub use error::{AppError, FieldErrors, Refusal};
pub use shell::{shell, App};
