//! The site feature's API tests.

pub mod contact;
pub mod pages;
