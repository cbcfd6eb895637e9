//! The communication hub (issue 15 §4, R7.5): from a patient's chart the physician or a staff
//! member let in writes to the patient by secure message, email or text from one composer,
//! starting from a saved template if they like; every communication is audited and kept, email
//! and text copies sealed, in the patient's communication history.

pub mod api;
pub mod model;
mod pages;
pub mod refusal;

pub use pages::{CommunicationPanel, TemplatesPage};

#[cfg(feature = "ssr")]
pub mod entity;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod templates;
