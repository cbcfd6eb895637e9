//! Identity on the HTTP side: the session gate (middleware), the sign-in and account forms,
//! attempt limits, and the Redis session store.

pub mod gate;
pub mod handlers;
pub mod limits;
pub mod redis_store;

use axum::{routing::post, Router};

use crate::startup::AppState;

/// The form endpoints of identity.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/signin", post(handlers::sign_in))
        .route("/signin/mfa", post(handlers::second_factor))
        .route("/signin/forgot", post(handlers::forgot))
        .route("/signin/reset", post(handlers::reset))
        .route("/signout", post(handlers::sign_out))
        .route("/account/mfa/setup", post(handlers::confirm_mfa))
        .route("/account/password", post(handlers::change_password))
        .route("/account/sessions/revoke", post(handlers::revoke_session))
        .route(
            "/account/recovery-codes",
            post(handlers::new_recovery_codes),
        )
        .route("/account/calendar", post(handlers::calendar_feed))
}

/// Every `POST` route outside the Leptos server functions, for the CSRF test: a new form
/// endpoint must be added here, and the test then proves the gate refuses it cross-site.
pub const FORM_ROUTES: [&str; 14] = [
    "/contact",
    "/join",
    "/join/confirm",
    "/pay/checkout/cs_local_any",
    "/signin",
    "/signin/mfa",
    "/signin/forgot",
    "/signin/reset",
    "/signout",
    "/account/mfa/setup",
    "/account/password",
    "/account/sessions/revoke",
    "/account/recovery-codes",
    "/account/calendar",
];
