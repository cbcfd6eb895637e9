//! The public website's HTTP handlers that are not plain Leptos routes.

pub mod contact;
