//! Medical records: the patient's chart (problems, allergies, medications, immunizations, family
//! history, emergency contacts, insurance), every entry sealed, versioned and audited.

pub mod api;
pub mod fields;
pub mod model;
mod pages;
pub mod refusal;

#[cfg(feature = "ssr")]
pub mod entity;
#[cfg(feature = "ssr")]
pub mod service;

pub use pages::ChartPanel;
