//! Sharing records (issue 14 §5, in progress): SMART Health Links. So far the two formats the
//! links are made of, each tested against the specification's own examples: the `shlink:/`
//! payload (`link`) and the files' compact JWE (`jwe`).

#[cfg(feature = "ssr")]
pub mod jwe;
#[cfg(feature = "ssr")]
pub mod link;
