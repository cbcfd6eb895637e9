//! Documents in the record (issue 14 §3): files the patient or the practice add (lab results,
//! letters, photos, cards) and files attached to a visit note, kept sealed in object storage.

pub mod api;
pub mod model;
mod pages;
pub mod refusal;

#[cfg(feature = "ssr")]
pub mod entity;
#[cfg(feature = "ssr")]
pub(crate) mod reading;
#[cfg(feature = "ssr")]
pub(crate) mod rows;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub(crate) mod upload;

#[cfg(feature = "hydrate")]
pub(crate) use pages::over_the_limit;
pub use pages::{DocumentList, DocumentsPanel, NoteAttachments};
