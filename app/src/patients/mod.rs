//! Patients: the person behind a membership, and the first PHI (date of birth, phone).

pub mod api;
pub mod model;
mod pages;

#[cfg(feature = "ssr")]
pub mod entity;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod summary;

pub use model::{PatientListing, PatientProfile};
pub use pages::{DashboardHome, PatientPage, PortalHome};
