//! The memberships feature's API tests.

pub mod joining;
