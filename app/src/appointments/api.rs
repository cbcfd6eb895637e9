//! Visit server functions. The writes of the visit list (cancel, a waitlist offer booked or let
//! go) are used through `ActionForm`: posted without JavaScript they answer with a redirect to
//! the list and its outcome in the address; from the hydrated page they update it in place.

use super::model::{
    AgendaDay, AgendaPage, AgendaSpan, BookingOptions, ScheduleView, VisitChange, VisitHistory,
    VisitType,
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
    let me = context::signed_in()?;
    let schedule = practice_schedule(me.db())
        .await?
        .ok_or_else(|| AppError::NotFound("The practice's schedule".into()))?;
    let from = chrono::NaiveDate::parse_from_str(from.trim(), "%Y-%m-%d").ok();
    let shown_in =
        super::service::viewer_zone(me.db(), me.auth.user_id, schedule.time_zone).await?;
    super::service::booking_options(
        me.db(),
        &schedule,
        visit_type,
        me.now(),
        from,
        me.auth.patient_id,
        shown_in,
    )
    .await
}

/// The signed-in patient's visits: upcoming, then past and cancelled.
#[server]
pub async fn my_visits() -> Result<VisitHistory, AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    let Some(patient_id) = me.auth.patient_id else {
        return Ok(VisitHistory::default());
    };
    let Some(schedule) = practice_schedule(me.db()).await? else {
        return Ok(VisitHistory::default());
    };
    let Some(public_id) = me.auth.patient_public_id.clone() else {
        return Ok(VisitHistory::default());
    };
    let shown_in =
        super::service::viewer_zone(me.db(), me.auth.user_id, schedule.time_zone).await?;
    super::service::my_visits(
        me.db(),
        &schedule,
        me.now(),
        &me.caller,
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
    let me = context::signed_in()?;
    let Some(schedule) = practice_schedule(me.db()).await? else {
        return Ok(Vec::new());
    };
    let today = me.now().with_timezone(&schedule.time_zone).date_naive();
    super::service::agenda(
        me.db(),
        me.keyring(),
        &schedule,
        me.now(),
        &me.caller,
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
    let me = context::signed_in()?;
    let schedule = practice_schedule(me.db())
        .await?
        .ok_or_else(|| AppError::NotFound("The practice's schedule".into()))?;
    let today = me.now().with_timezone(&schedule.time_zone).date_naive();
    let first_day = chrono::NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").unwrap_or(today);
    let days = super::service::agenda(
        me.db(),
        me.keyring(),
        &schedule,
        me.now(),
        &me.caller,
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
    let me = context::signed_in()?;
    super::service::schedule_view(me.db(), me.now(), &me.caller).await
}

/// Where a plain form post of the visit list goes next: the list, saying what happened.
#[cfg(feature = "ssr")]
fn back_to_visits(change: &VisitChange) -> String {
    format!("/portal/visits?{}", change.query())
}

/// Where a refused plain form post of the visit list goes: the list, with the refusal's code.
#[cfg(feature = "ssr")]
fn refused_on_visits(error: &AppError) -> String {
    format!(
        "/portal/visits?error={}",
        super::refusal::problem_code(error)
    )
}

/// Cancels one of the signed-in patient's visits: free 24 hours or more before it; inside 24
/// hours only with `accept_late`, the token of the late terms the page showed (P3).
#[server(endpoint = "visits/cancel")]
pub async fn cancel_visit(
    id: String,
    accept_late: Option<String>,
) -> Result<VisitChange, AppError> {
    use crate::auth::api::context;
    let cancelled = async {
        let me = context::signed_in()?;
        let accept_late = accept_late.as_deref().map(str::trim);
        let cancelled =
            super::service::cancel(me.db(), me.now(), &me.caller, id.trim(), accept_late).await?;
        if let Some(job) = cancelled.charge_job {
            me.run_soon(job, "late charge");
        }
        if let Some(schedule) = practice_schedule(me.db()).await? {
            let day = cancelled
                .freed
                .with_timezone(&schedule.time_zone)
                .date_naive();
            let (db, keyring, now) = (me.db(), me.keyring(), me.now());
            super::waitlist::offer_freed_and_send(db, keyring, now, &schedule, day, &me).await;
        }
        Ok(VisitChange::Cancelled {
            late: cancelled.late,
        })
    }
    .await;
    context::answer_write(cancelled, back_to_visits, refused_on_visits)
}

/// Books the time the waitlist holds for the signed-in patient, on their membership's terms
/// (`accept_fee_cents`: the fee the page showed, which the patient accepts by booking).
#[server(endpoint = "visits/waitlist/accept")]
pub async fn accept_waitlist_offer(
    entry: String,
    reason: String,
    accept_fee_cents: Option<i64>,
) -> Result<VisitChange, AppError> {
    use crate::auth::api::context;
    let booked = async {
        let me = context::signed_in()?;
        let schedule = practice_schedule(me.db())
            .await?
            .ok_or_else(|| AppError::NotFound("The practice's schedule".into()))?;
        let answer = super::waitlist::Acceptance {
            entry: entry.trim(),
            reason: &reason,
            accepted_fee_cents: accept_fee_cents,
        };
        let visit = super::waitlist::accept(
            me.db(),
            me.keyring(),
            me.now(),
            &me.caller,
            &schedule,
            answer,
        )
        .await?;
        me.run_soon(visit.confirmation_job, "confirmation");
        Ok(VisitChange::OfferBooked)
    }
    .await;
    context::answer_write(booked, back_to_visits, refused_on_visits)
}

/// Lets a held time go (to the next in line), or leaves the waitlist.
#[server(endpoint = "visits/waitlist/decline")]
pub async fn decline_waitlist_entry(entry: String) -> Result<VisitChange, AppError> {
    use crate::auth::api::context;
    let declined = async {
        let me = context::signed_in()?;
        let schedule = practice_schedule(me.db())
            .await?
            .ok_or_else(|| AppError::NotFound("The practice's schedule".into()))?;
        let (db, keyring, now) = (me.db(), me.keyring(), me.now());
        let next =
            super::waitlist::decline(db, keyring, now, &me.caller, &schedule, entry.trim()).await?;
        if let Some(job) = next {
            me.run_soon(job, "next waitlist offer");
        }
        Ok(VisitChange::LeftWaitlist)
    }
    .await;
    context::answer_write(declined, back_to_visits, refused_on_visits)
}
