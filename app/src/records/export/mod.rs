//! The record handed out whole (issue 14 §4): the chart, the signed visit notes and the list of
//! documents as one PDF (or the parts the reader chose), and the original files as a zip. Each
//! is one audited read; the files are served by `server/src/records`.

pub mod model;
mod pages;
#[cfg(feature = "ssr")]
pub mod pdf;
#[cfg(feature = "ssr")]
pub mod service;

pub use pages::RecordExport;
