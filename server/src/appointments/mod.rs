//! The visit routes that are not page actions: the private calendar feed. Booking, moving,
//! cancelling, the waitlist, the schedule and completing a visit are server functions
//! (`app::appointments::api`).

pub mod visit_notices;
pub mod waitlist_jobs;

use crate::state::AppState;
use app::appointments::service::schedule as service;
use app::audit::service::ClientInfo;
use app::AppError;
use axum::{
    extract::State,
    response::{IntoResponse, Response},
    Extension,
};

/// The visit routes outside the pages' server functions: the private calendar feed.
pub fn routes() -> crate::area::Area {
    crate::area::Area::new().get("/calendar/{file}", calendar_feed)
}

/// `GET /calendar/<token>.ics`: a private calendar feed. Unknown, turned-off and disabled
/// links all get the same 404.
pub async fn calendar_feed(
    State(state): State<AppState>,
    axum::extract::Path(file): axum::extract::Path<String>,
    Extension(client): Extension<ClientInfo>,
) -> Response {
    use axum::http::{header, StatusCode};
    let token = file.strip_suffix(".ics").unwrap_or(&file);
    let not_found = || (StatusCode::NOT_FOUND, "No calendar at this address.").into_response();
    if token.len() != 43
        || !token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return not_found();
    }
    let Some(site) = state.site.current() else {
        return AppError::internal("the practice's content is not loaded").into_response();
    };
    let time_zone = match service::practice_time_zone(&state.db).await {
        Ok(tz) => tz,
        Err(error) => return error.into_response(),
    };
    match app::appointments::feeds::render(
        &state.db,
        state.keyring.audit_seal(),
        state.clock.now(),
        token,
        &client,
        &site.practice,
        time_zone,
    )
    .await
    {
        Ok(Some(ics)) => (
            [
                (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
                (
                    header::CONTENT_DISPOSITION,
                    "inline; filename=\"visits.ics\"",
                ),
            ],
            ics,
        )
            .into_response(),
        Ok(None) => not_found(),
        Err(error) => error.into_response(),
    }
}

/// The visits' jobs: confirmations and reminders, waitlist offers and their end.
pub fn jobs(services: &crate::jobs::JobServices, scheduler: &mut crate::jobs::Scheduler) {
    use std::sync::Arc;
    scheduler.register(
        visit_notices::KIND,
        Arc::new(visit_notices::DeliverVisitNotice {
            db: services.db.clone(),
            keyring: services.keyring.clone(),
            mailer: services.mailer.clone(),
            sms: services.sms.clone(),
            site: services.site.clone(),
            public_url: services.public_url.clone(),
            clock: services.clock.clone(),
        }),
    );
    scheduler.register(
        app::appointments::waitlist::OFFER_EMAIL_JOB_KIND,
        Arc::new(waitlist_jobs::EmailWaitlistOffer {
            db: services.db.clone(),
            keyring: services.keyring.clone(),
            mailer: services.mailer.clone(),
            site: services.site.clone(),
            public_url: services.public_url.clone(),
        }),
    );
    scheduler.register(
        app::appointments::waitlist::EXPIRE_JOB_KIND,
        Arc::new(waitlist_jobs::ExpireWaitlistOffer {
            db: services.db.clone(),
            keyring: services.keyring.clone(),
            clock: services.clock.clone(),
        }),
    );
}
