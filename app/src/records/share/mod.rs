//! Sharing records (issue 14 §5, in progress): SMART Health Links. The two formats the links
//! are made of, each tested against the specification's own examples: the `shlink:/` payload
//! (`link`) and the files' compact JWE (`jwe`); the links themselves (`service`: make, list,
//! revoke, and the manifest a recipient's app asks for). The patient's pages and the viewer for
//! recipients without an app are the next slice.

pub mod api;
pub mod model;

#[cfg(feature = "ssr")]
pub mod entity;
#[cfg(feature = "ssr")]
pub mod jwe;
#[cfg(feature = "ssr")]
pub mod link;
#[cfg(feature = "ssr")]
pub mod service;
