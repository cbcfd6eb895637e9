//! The patients feature's API tests.

pub mod details;
mod summary;
