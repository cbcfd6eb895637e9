//! The public website's HTTP handlers that are not plain Leptos routes.

pub mod contact;

/// The contact form (a public page, not hydrated).
pub fn routes() -> crate::area::Area {
    crate::area::Area::new().post("/contact", contact::submit)
}
