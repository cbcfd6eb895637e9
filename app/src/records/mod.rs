//! Medical records: the patient's chart (problems, allergies, medications, immunizations, family
//! history, emergency contacts, insurance), every entry sealed, versioned and audited; and the
//! visit notes (`notes`): drafts, signing, addenda; and the documents (`documents`): files kept
//! sealed in object storage.

pub mod api;
pub mod documents;
pub mod export;
pub mod fhir;
pub mod fields;
pub mod model;
pub mod notes;
mod pages;
pub mod refusal;
pub mod share;

#[cfg(feature = "ssr")]
pub mod entity;
#[cfg(feature = "ssr")]
pub mod service;

pub use documents::DocumentsPanel;
pub use notes::{MyNotesPage, NoteTimeline, VisitNotePage};
pub use pages::ChartPanel;
