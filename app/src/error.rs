//! The one error type of the application, on the server and on the wire.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Per-field messages for a form, keyed by the form field's `name`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldErrors(pub BTreeMap<String, String>);

impl FieldErrors {
    /// Records the message for `field`; the first message for a field wins.
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_owned())
            .or_insert_with(|| message.into());
    }

    /// One field's message.
    pub fn single(field: &str, message: impl Into<String>) -> FieldErrors {
        let mut errors = FieldErrors::default();
        errors.add(field, message);
        errors
    }

    /// The message for `field`, if it failed validation.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// A rule's refusal, by feature: each feature's enum gives a stable code and a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refusal {
    /// A change to a booked visit (taken meanwhile, too late to move, …).
    Visit(crate::appointments::VisitRefusal),
    /// The membership's rules for booking (not included, beyond the window, a fee not accepted).
    Booking(crate::appointments::benefits::Refusal),
    /// A change to the practice's schedule that does not fit (a time off the grid, overlapping
    /// hours, a day past).
    Schedule(crate::appointments::model::ScheduleProblem),
    /// A member's change to their membership (a card declined, not active, …).
    Membership(crate::memberships::refusal::MembershipRefusal),
    /// A refund the admin asked for (nothing left, refused by the processor).
    Refund(crate::memberships::refusal::RefundRefusal),
    /// A change to a chart entry made from an older version, or to one removed meanwhile.
    Chart(crate::records::refusal::ChartRefusal),
    /// A visit note saved from a stale window, changed after signing, or for a cancelled visit.
    Note(crate::records::notes::refusal::NoteRefusal),
    /// A file not added to the record (not a PDF, JPEG or PNG, too large, cut off).
    Document(crate::records::documents::refusal::DocumentRefusal),
    /// A communication from the patient's chart that cannot go (no address, no mobile).
    Communication(crate::messages::hub::refusal::HubRefusal),
    /// A share link not made (the page could not show its address).
    Share(crate::records::share::refusal::ShareRefusal),
}

impl Refusal {
    /// Stable, and distinct across features (`visit.taken`, `booking.horizon`).
    pub fn code(&self) -> String {
        match self {
            Refusal::Visit(r) => format!("visit.{}", r.code()),
            Refusal::Booking(r) => format!("booking.{}", r.code()),
            Refusal::Schedule(r) => format!("schedule.{}", r.code()),
            Refusal::Membership(r) => format!("membership.{}", r.code()),
            Refusal::Refund(r) => format!("refund.{}", r.code()),
            Refusal::Chart(r) => format!("chart.{}", r.code()),
            Refusal::Note(r) => format!("note.{}", r.code()),
            Refusal::Document(r) => format!("document.{}", r.code()),
            Refusal::Communication(r) => format!("communication.{}", r.code()),
            Refusal::Share(r) => format!("share.{}", r.code()),
        }
    }

    pub fn message(&self) -> String {
        match self {
            Refusal::Visit(r) => r.message(),
            Refusal::Booking(r) => r.message(),
            Refusal::Schedule(r) => r.message().to_owned(),
            Refusal::Membership(r) => r.message(),
            Refusal::Refund(r) => r.message(),
            Refusal::Chart(r) => r.message().to_owned(),
            Refusal::Note(r) => r.message().to_owned(),
            Refusal::Document(r) => r.message().to_owned(),
            Refusal::Communication(r) => r.message().to_owned(),
            Refusal::Share(r) => r.message().to_owned(),
        }
    }
}

impl From<crate::appointments::VisitRefusal> for AppError {
    fn from(refusal: crate::appointments::VisitRefusal) -> Self {
        AppError::Refused(Refusal::Visit(refusal))
    }
}

impl From<crate::appointments::model::ScheduleProblem> for AppError {
    fn from(problem: crate::appointments::model::ScheduleProblem) -> Self {
        AppError::Refused(Refusal::Schedule(problem))
    }
}

impl From<crate::memberships::refusal::MembershipRefusal> for AppError {
    fn from(refusal: crate::memberships::refusal::MembershipRefusal) -> Self {
        AppError::Refused(Refusal::Membership(refusal))
    }
}

impl From<crate::memberships::refusal::RefundRefusal> for AppError {
    fn from(refusal: crate::memberships::refusal::RefundRefusal) -> Self {
        AppError::Refused(Refusal::Refund(refusal))
    }
}

impl From<crate::messages::hub::refusal::HubRefusal> for AppError {
    fn from(refusal: crate::messages::hub::refusal::HubRefusal) -> Self {
        AppError::Refused(Refusal::Communication(refusal))
    }
}

impl From<crate::records::documents::refusal::DocumentRefusal> for AppError {
    fn from(refusal: crate::records::documents::refusal::DocumentRefusal) -> Self {
        AppError::Refused(Refusal::Document(refusal))
    }
}

impl From<crate::records::share::refusal::ShareRefusal> for AppError {
    fn from(refusal: crate::records::share::refusal::ShareRefusal) -> Self {
        AppError::Refused(Refusal::Share(refusal))
    }
}

impl From<crate::appointments::benefits::Refusal> for AppError {
    fn from(refusal: crate::appointments::benefits::Refusal) -> Self {
        AppError::Refused(Refusal::Booking(refusal))
    }
}

impl AppError {
    /// A validation error for one form field (`field` is the form field's `name`).
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        AppError::Validation(FieldErrors::single(field, message))
    }

    /// The visit rule that refused, if that is what this is.
    pub fn visit_refusal(&self) -> Option<&crate::appointments::VisitRefusal> {
        match self {
            AppError::Refused(Refusal::Visit(r)) => Some(r),
            _ => None,
        }
    }
}

/// Every failure a request can end in, each mapped to an HTTP status and a message the person
/// in front of the screen can act on. Internal causes are logged on the server and never sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum AppError {
    #[error("Please sign in to continue.")]
    Unauthorized,
    #[error("You do not have access to this page.")]
    Forbidden,
    #[error("{0} could not be found.")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// A feature's rule said no: pages and tests match its [`Refusal::code`], never its text.
    #[error("{}", .0.message())]
    Refused(Refusal),
    #[error("Please correct the highlighted fields.")]
    Validation(FieldErrors),
    #[error("Too many attempts. Please try again in {retry_after_seconds} seconds.")]
    RateLimited { retry_after_seconds: u64 },
    /// Too much of one kind of work at once (password checks in a storm of sign-ins): refused
    /// at once rather than queued without end.
    #[error("We are very busy right now. Please try again in {retry_after_seconds} seconds.")]
    Busy { retry_after_seconds: u64 },
    #[error("Something went wrong on our side. Please try again in a moment.")]
    Internal,
}

impl AppError {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            // Input that does not fit the schedule is the form's to fix, not a conflict.
            AppError::Refused(Refusal::Schedule(_)) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Refused(Refusal::Document(r)) => r.status(),
            AppError::Refused(Refusal::Communication(_)) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Refused(Refusal::Share(r)) => r.status(),
            AppError::Conflict(_) | AppError::Refused(_) => StatusCode::CONFLICT,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Logs `cause` with its chain and returns the opaque [`AppError::Internal`]: database and
    /// I/O details help an attacker and confuse a patient, so they stay in the server's log.
    #[cfg(feature = "ssr")]
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        AppError::Internal
    }
}

impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr;
        #[cfg(feature = "ssr")]
        tracing::warn!(error = %value, "server function failed before reaching its body");
        match value {
            // A form that does not fit the function (a field missing or not one of the values
            // offered): the person can fix it by reloading the page, unlike a fault of ours.
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => AppError::field(
                "form",
                "The form was incomplete or out of date. Please reload the page and try again.",
            ),
            _ => AppError::Internal,
        }
    }
}

#[cfg(feature = "ssr")]
impl From<sea_orm::DbErr> for AppError {
    /// The one place where a unique-constraint violation becomes a [`AppError::Conflict`].
    fn from(err: sea_orm::DbErr) -> Self {
        match err.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
                AppError::Conflict("That record already exists.".to_owned())
            }
            _ => AppError::internal(format_args!("database: {err}")),
        }
    }
}

#[cfg(feature = "ssr")]
impl axum::response::IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        let mut response = (self.status(), self.to_string()).into_response();
        if let AppError::RateLimited {
            retry_after_seconds,
        }
        | AppError::Busy {
            retry_after_seconds,
        } = self
        {
            if let Ok(value) = http::HeaderValue::from_str(&retry_after_seconds.to_string()) {
                response
                    .headers_mut()
                    .insert(http::header::RETRY_AFTER, value);
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_maps_to_its_http_status() {
        assert_eq!(AppError::Unauthorized.status(), 401);
        assert_eq!(AppError::Forbidden.status(), 403);
        assert_eq!(AppError::NotFound("Page".into()).status(), 404);
        assert_eq!(AppError::Conflict("x".into()).status(), 409);
        assert_eq!(AppError::Validation(FieldErrors::default()).status(), 422);
        assert_eq!(
            AppError::RateLimited {
                retry_after_seconds: 3
            }
            .status(),
            429
        );
        assert_eq!(AppError::Internal.status(), 500);
        assert_eq!(
            AppError::Busy {
                retry_after_seconds: 2
            }
            .status(),
            503
        );
    }

    #[test]
    fn the_first_message_for_a_field_is_kept() {
        let mut errors = FieldErrors::default();
        errors.add("email", "first");
        errors.add("email", "second");
        assert_eq!(errors.get("email"), Some("first"));
        assert_eq!(errors.len(), 1);
    }
}
