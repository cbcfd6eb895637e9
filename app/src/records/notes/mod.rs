//! Visit documentation (R7.4): a note per visit (subjective, objective, assessment, plan),
//! prescriptions and the follow-up the physician recommends. A draft saves as it is typed; signing
//! files it in the record, completes the visit and tells the patient; a signed note never
//! changes, and addenda correct it.

pub mod api;
mod editor;
pub mod model;
pub mod refusal;
mod view;

#[cfg(feature = "ssr")]
pub mod entity;
#[cfg(feature = "ssr")]
pub mod export;
#[cfg(feature = "ssr")]
pub(crate) mod pdf;
#[cfg(feature = "ssr")]
pub mod service;

pub(crate) use view::{Addenda, NoteText};
pub use view::{MyNotesPage, NoteTimeline, VisitNotePage};
