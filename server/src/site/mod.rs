//! The public website's HTTP handlers that are not plain Leptos routes.

pub mod contact;
pub mod contact_emails;
pub mod limit;

/// The contact form (a public page, not hydrated).
pub fn routes() -> crate::area::Area {
    crate::area::Area::new().post("/contact", contact::submit)
}

/// The site's jobs: the contact form's emails.
pub fn jobs(services: &crate::jobs::JobServices, scheduler: &mut crate::jobs::Scheduler) {
    contact_emails::register(services, scheduler);
}
