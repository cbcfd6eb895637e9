//! Visit server functions.

use super::model::{
    AgendaDay, AgendaPage, AgendaSpan, BookingOptions, ScheduleView, VisitHistory, VisitType,
};
use crate::AppError;
use leptos::prelude::*;

/// The practice's schedule, from the server's [`ScheduleCache`](super::service::ScheduleCache)
/// when it provides one.
#[cfg(feature = "ssr")]
async fn practice_schedule(
    db: &sea_orm::DatabaseConnection,
) -> Result<Option<std::sync::Arc<super::availability::Schedule>>, AppError> {
    match use_context::<super::service::ScheduleCache>() {
        Some(cache) => cache.load(db).await,
        None => Ok(super::service::load_schedule(db)
            .await?
            .map(std::sync::Arc::new)),
    }
}

/// The free times of `visit_type` a patient can book: two weeks from today, or from `from`
/// (`YYYY-MM-DD`, a suggested follow-up) when that is later.
#[server]
pub async fn load_booking_options(
    visit_type: VisitType,
    from: String,
) -> Result<BookingOptions, AppError> {
    use crate::auth::api::context;
    let (identity, auth, _) = context::caller()?;
    let schedule = practice_schedule(identity.db())
        .await?
        .ok_or_else(|| AppError::NotFound("The practice's schedule".into()))?;
    let from = chrono::NaiveDate::parse_from_str(from.trim(), "%Y-%m-%d").ok();
    let shown_in =
        super::service::viewer_zone(identity.db(), auth.user_id, schedule.time_zone).await?;
    super::service::booking_options(
        identity.db(),
        &schedule,
        visit_type,
        identity.now(),
        from,
        auth.patient_id,
        shown_in,
    )
    .await
}

/// The signed-in patient's visits: upcoming, then past and cancelled.
#[server]
pub async fn my_visits() -> Result<VisitHistory, AppError> {
    use crate::auth::api::context;
    let (identity, auth, caller) = context::caller()?;
    let Some(patient_id) = auth.patient_id else {
        return Ok(VisitHistory::default());
    };
    let Some(schedule) = practice_schedule(identity.db()).await? else {
        return Ok(VisitHistory::default());
    };
    let Some(public_id) = auth.patient_public_id.clone() else {
        return Ok(VisitHistory::default());
    };
    let shown_in =
        super::service::viewer_zone(identity.db(), auth.user_id, schedule.time_zone).await?;
    super::service::my_visits(
        identity.db(),
        &schedule,
        identity.now(),
        &caller,
        patient_id,
        &public_id,
        shown_in,
    )
    .await
}

/// The physician's (and staff's) agenda for the coming week.
#[server]
pub async fn load_agenda() -> Result<Vec<AgendaDay>, AppError> {
    use crate::auth::api::context;
    let (identity, _, caller) = context::caller()?;
    let Some(schedule) = practice_schedule(identity.db()).await? else {
        return Ok(Vec::new());
    };
    let today = identity
        .now()
        .with_timezone(&schedule.time_zone)
        .date_naive();
    super::service::agenda(
        identity.db(),
        &context::keyring()?,
        &schedule,
        identity.now(),
        &caller,
        today,
        7,
    )
    .await
}

/// The agenda for the day or week starting at `date` (`YYYY-MM-DD`; today when empty or not a
/// date).
#[server]
pub async fn load_agenda_page(date: String, span: AgendaSpan) -> Result<AgendaPage, AppError> {
    use crate::auth::api::context;
    let (identity, _, caller) = context::caller()?;
    let schedule = practice_schedule(identity.db())
        .await?
        .ok_or_else(|| AppError::NotFound("The practice's schedule".into()))?;
    let today = identity
        .now()
        .with_timezone(&schedule.time_zone)
        .date_naive();
    let first_day = chrono::NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").unwrap_or(today);
    let days = super::service::agenda(
        identity.db(),
        &context::keyring()?,
        &schedule,
        identity.now(),
        &caller,
        first_day,
        span.days(),
    )
    .await?;
    let step = chrono::Duration::days(span.days());
    let iso = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
    Ok(AgendaPage {
        title: match span {
            AgendaSpan::Day if first_day == today => {
                format!("Today, {}", first_day.format("%A, %B %-d"))
            }
            AgendaSpan::Day => first_day.format("%A, %B %-d, %Y").to_string(),
            AgendaSpan::Week => format!("Week of {}", first_day.format("%B %-d, %Y")),
        },
        span,
        first_day: iso(first_day),
        previous: iso(first_day - step),
        next: iso(first_day + step),
        today: iso(today),
        days,
    })
}

/// The schedule for its settings page.
#[server]
pub async fn load_schedule_view() -> Result<ScheduleView, AppError> {
    use crate::auth::api::context;
    let (identity, _, caller) = context::caller()?;
    super::service::schedule_view(identity.db(), identity.now(), &caller).await
}
