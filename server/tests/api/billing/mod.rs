//! The billing feature's API tests.

pub mod stripe;
