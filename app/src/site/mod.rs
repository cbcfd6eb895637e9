//! The public website (R8): home, services, memberships, contact and privacy pages.
//!
//! These pages are rendered on the server only and load no WebAssembly (see
//! docs/ARCHITECTURE.md, "Public pages ship no bundle"); the contact form is a plain HTML form
//! posted to `POST /contact`, handled in the server crate.

mod layout;
pub mod model;
pub(crate) mod pages;

#[cfg(feature = "ssr")]
pub mod entity;
#[cfg(feature = "ssr")]
pub mod service;

pub use layout::{SiteFrame, SiteLayout};
pub use pages::{
    ContactPage, ContactPageState, HomePage, MembershipAgreementPage, MembershipsPage,
    NotFoundPage, PrivacyPage, ServicesPage,
};
