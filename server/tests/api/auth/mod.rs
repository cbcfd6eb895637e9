//! The auth feature's API tests.

pub mod access;
pub mod lockout;
pub mod second_factor;
pub mod sign_in;
