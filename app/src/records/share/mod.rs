//! Sharing records (issue 14 §5): SMART Health Links. The two formats the links are made of,
//! each tested against the specification's own examples: the `shlink:/` payload (`link`) and
//! the files' compact JWE (`jwe`); the links themselves (`service`: make, list, revoke, and the
//! manifest a recipient's app asks for; `opening`: how a link is opened and each use kept); the
//! patient's page (`pages`) and the viewer for recipients without an app (`viewer`).

pub mod api;
pub mod model;
mod pages;
pub mod refusal;
mod viewer;

pub use pages::SharesPage;
pub use viewer::SharedRecordPage;

#[cfg(feature = "ssr")]
pub mod entity;
#[cfg(feature = "ssr")]
pub mod files;
#[cfg(feature = "ssr")]
pub mod jwe;
#[cfg(feature = "ssr")]
pub mod link;
#[cfg(feature = "ssr")]
pub mod opening;
#[cfg(feature = "ssr")]
pub mod pass;
#[cfg(feature = "ssr")]
pub mod service;
