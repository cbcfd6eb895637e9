//! Visit server functions. The writes (book, move, cancel, the waitlist, the time zone) are used
//! through `ActionForm`: posted without JavaScript they answer with a redirect to the page and
//! the outcome in the address; from the hydrated page they update it in place.

use super::model::{
    AgendaDay, AgendaPage, AgendaSpan, Booked, BookingOptions, ScheduleView, VisitChange,
    VisitHistory, VisitType,
};
use crate::AppError;
use leptos::prelude::*;

/// The practice's schedule, from the server's [`ScheduleCache`](super::service::schedule::ScheduleCache)
/// when it provides one.
#[cfg(feature = "ssr")]
async fn practice_schedule(
    db: &sea_orm::DatabaseConnection,
) -> Result<Option<std::sync::Arc<super::availability::Schedule>>, AppError> {
    match use_context::<super::service::schedule::ScheduleCache>() {
        Some(cache) => cache.load(db).await,
        None => Ok(super::service::schedule::load_schedule(db)
            .await?
            .map(std::sync::Arc::new)),
    }
}

/// The practice's schedule, which booking and its changes need: `NotFound` before the practice
/// has set one up.
#[cfg(feature = "ssr")]
async fn required_schedule(
    db: &sea_orm::DatabaseConnection,
) -> Result<std::sync::Arc<super::availability::Schedule>, AppError> {
    practice_schedule(db)
        .await?
        .ok_or_else(|| AppError::NotFound("The practice's schedule".into()))
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
    let schedule = required_schedule(me.db()).await?;
    let from = chrono::NaiveDate::parse_from_str(from.trim(), "%Y-%m-%d").ok();
    let shown_in =
        super::service::schedule::viewer_zone(me.db(), me.auth.user_id, schedule.time_zone).await?;
    super::service::booking::booking_options(&me, &schedule, visit_type, from, shown_in).await
}

/// The signed-in patient's visits: upcoming, then past and cancelled.
#[server]
pub async fn my_visits() -> Result<VisitHistory, AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    let Some(schedule) = practice_schedule(me.db()).await? else {
        return Ok(VisitHistory::default());
    };
    let shown_in =
        super::service::schedule::viewer_zone(me.db(), me.auth.user_id, schedule.time_zone).await?;
    super::service::visits::my_visits(&me, &schedule, shown_in).await
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
    super::service::visits::agenda(&me, &schedule, today, 7).await
}

/// The agenda for the day or week starting at `date` (`YYYY-MM-DD`; today when empty or not a
/// date).
#[server]
pub async fn load_agenda_page(date: String, span: AgendaSpan) -> Result<AgendaPage, AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    let schedule = required_schedule(me.db()).await?;
    let today = me.now().with_timezone(&schedule.time_zone).date_naive();
    let first_day = chrono::NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").unwrap_or(today);
    let days = super::service::visits::agenda(&me, &schedule, first_day, span.days()).await?;
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
    super::service::schedule::schedule_view(&me).await
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
        let cancelled = super::service::changes::cancel(&me, id.trim(), accept_late).await?;
        if let Some(job) = cancelled.charge_job {
            me.run_soon(job, "late charge");
        }
        if let Some(schedule) = practice_schedule(me.db()).await? {
            let day = cancelled
                .freed
                .with_timezone(&schedule.time_zone)
                .date_naive();
            super::waitlist::offer_freed_and_send(&me, &schedule, day).await;
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
        let schedule = required_schedule(me.db()).await?;
        let answer = super::waitlist::Acceptance {
            entry: entry.trim(),
            reason: &reason,
            accepted_fee_cents: accept_fee_cents,
        };
        let visit = super::waitlist::accept(&me, &schedule, answer).await?;
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
        let schedule = required_schedule(me.db()).await?;
        let next = super::waitlist::decline(&me, &schedule, entry.trim()).await?;
        if let Some(job) = next {
            me.run_soon(job, "next waitlist offer");
        }
        Ok(VisitChange::LeftWaitlist)
    }
    .await;
    context::answer_write(declined, back_to_visits, refused_on_visits)
}

/// Where a refused plain form post of the booking page goes: back to the page (its kind of
/// visit, the visit being moved) with the refusal's code. A move the visit itself no longer
/// allows (started, inside 24 hours) goes to the visit list, which says why.
#[cfg(feature = "ssr")]
fn refused_on_booking(error: &AppError, visit_type: VisitType, moving: Option<&str>) -> String {
    use super::VisitRefusal;
    let code = super::refusal::booking_problem_code(error);
    match (moving, error.visit_refusal()) {
        (
            Some(_),
            Some(
                refusal @ (VisitRefusal::LateReschedule
                | VisitRefusal::Started
                | VisitRefusal::Over
                | VisitRefusal::Cancelled),
            ),
        ) => format!("/portal/visits?error={}", refusal.code()),
        (Some(id), _) => format!(
            "/portal/book?type={}&reschedule={id}&error={code}",
            visit_type.as_str()
        ),
        (None, _) => format!("/portal/book?type={}&error={code}", visit_type.as_str()),
    }
}

/// The kind of visit a form names (`in_person`), or the field error that says to choose one.
#[cfg(feature = "ssr")]
fn kind_of_visit(text: &str) -> Result<VisitType, AppError> {
    VisitType::parse(text.trim()).ok_or_else(|| {
        AppError::field(
            "visit_type",
            "Please choose one of the kinds of visit offered.",
        )
    })
}

/// The time a booking form chose, or the field error that says to choose one.
#[cfg(feature = "ssr")]
fn chosen_time(starts_at: Option<&str>) -> Result<chrono::DateTime<chrono::Utc>, AppError> {
    starts_at
        .and_then(|at| chrono::DateTime::parse_from_rfc3339(at.trim()).ok())
        .map(|at| at.with_timezone(&chrono::Utc))
        .ok_or_else(|| {
            AppError::field(
                "starts_at",
                "Please choose one of the times offered (a time like 2026-12-01T14:00:00Z).",
            )
        })
}

/// Books a visit for the signed-in patient, on their membership's terms (`accept_fee_cents`:
/// the fee the page showed, which the patient accepts by booking). Refusals: `visit.taken`
/// when someone was faster, `booking.*` for the membership's rules, field errors for the
/// reason and the time.
#[server(endpoint = "visits/book")]
pub async fn book_visit(
    visit_type: String,
    starts_at: Option<String>,
    reason: String,
    accept_fee_cents: Option<i64>,
) -> Result<Booked, AppError> {
    use crate::auth::api::context;
    let kind = kind_of_visit(&visit_type);
    let booked = async {
        let me = context::signed_in()?;
        let visit_type = kind.clone()?;
        let (Some(patient_id), Some(patient_public_id)) =
            (me.auth.patient_id, me.auth.patient_public_id.clone())
        else {
            return Err(AppError::Forbidden);
        };
        let starts_at = chosen_time(starts_at.as_deref())?;
        let schedule = required_schedule(me.db()).await?;
        let request = super::service::booking::BookingRequest {
            patient_id,
            patient_public_id,
            visit_type,
            starts_at,
            reason,
            accepted_fee_cents: accept_fee_cents,
        };
        let visit = super::service::booking::book(&me, &schedule, &request).await?;
        tracing::info!(appointment = %visit.public_id, "visit booked");
        // The confirmation goes out now; if it cannot, the job retries it later.
        me.run_soon(visit.confirmation_job, "confirmation");
        Ok(Booked::from(visit))
    }
    .await;
    context::answer_write(
        booked,
        |_| "/portal/visits?booked=1".to_owned(),
        |error| refused_on_booking(error, kind.unwrap_or(VisitType::InPerson), None),
    )
}

/// Moves one of the signed-in patient's visits to a new time (free up to 24 hours before it);
/// the time it leaves is offered to that day's waitlist.
#[server(endpoint = "visits/move")]
pub async fn move_visit(
    visit: String,
    visit_type: String,
    starts_at: Option<String>,
) -> Result<Booked, AppError> {
    use crate::auth::api::context;
    let visit = visit.trim().to_owned();
    let moved = async {
        let me = context::signed_in()?;
        let new_start = chosen_time(starts_at.as_deref())?;
        let schedule = required_schedule(me.db()).await?;
        let moved = super::service::changes::reschedule(&me, &schedule, &visit, new_start).await?;
        tracing::info!(appointment = %moved.booked.public_id, "visit moved");
        me.run_soon(moved.booked.confirmation_job, "moved-visit email");
        let day = moved.left.with_timezone(&schedule.time_zone).date_naive();
        super::waitlist::offer_freed_and_send(&me, &schedule, day).await;
        Ok(Booked::from(moved.booked))
    }
    .await;
    context::answer_write(
        moved,
        |_| "/portal/visits?moved=1".to_owned(),
        |error| {
            let kind = VisitType::parse(&visit_type).unwrap_or(VisitType::InPerson);
            refused_on_booking(error, kind, Some(&visit))
        },
    )
}

/// Puts the signed-in patient on the waitlist of `day` (`YYYY-MM-DD`) for `visit_type`; a time
/// already free that day is offered at once.
#[server(endpoint = "visits/waitlist/join")]
pub async fn join_waitlist(visit_type: String, day: String) -> Result<VisitChange, AppError> {
    use crate::auth::api::context;
    let kind = kind_of_visit(&visit_type);
    let joined = async {
        let me = context::signed_in()?;
        let visit_type = kind.clone()?;
        let patient_id = me.auth.patient_id.ok_or(AppError::Forbidden)?;
        let day = chrono::NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d").map_err(|_| {
            AppError::field(
                "day",
                "Please choose one of the days listed for the waitlist.",
            )
        })?;
        let schedule = required_schedule(me.db()).await?;
        let patient = {
            use sea_orm::EntityTrait;
            crate::patients::entity::patient::Entity::find_by_id(patient_id)
                .one(me.db())
                .await?
                .ok_or(AppError::Forbidden)?
        };
        super::waitlist::join(&me, &patient, visit_type, day, &schedule).await?;
        super::waitlist::offer_freed_and_send(&me, &schedule, day).await;
        Ok(VisitChange::Waitlisted)
    }
    .await;
    context::answer_write(
        joined,
        |_| "/portal/visits?waitlisted=1#waitlist".to_owned(),
        |error| refused_on_booking(error, kind.unwrap_or(VisitType::InPerson), None),
    )
}

/// The time zone the signed-in person sees times in (empty: the practice's).
#[server(endpoint = "visits/time-zone")]
pub async fn set_time_zone(visit_type: String, time_zone: String) -> Result<(), AppError> {
    use crate::auth::api::context;
    let saved = async {
        let me = context::signed_in()?;
        super::service::schedule::set_viewer_zone(&me, &time_zone).await
    }
    .await;
    let kind = VisitType::parse(&visit_type).unwrap_or(VisitType::InPerson);
    let back = format!("/portal/book?type={}", kind.as_str());
    context::answer_write(
        saved,
        |_| format!("{back}&zone=saved"),
        |_| format!("{back}&error=time_zone"),
    )
}

/// Where a schedule change posted without JavaScript goes: back to the schedule, saying it is
/// saved or what to fix (by the problem's code).
#[cfg(feature = "ssr")]
fn back_to_schedule(error: &AppError) -> String {
    match error {
        AppError::Refused(crate::Refusal::Schedule(problem)) => {
            format!("/dashboard/schedule?error={}", problem.code())
        }
        _ => "/dashboard/schedule?error=failed".to_owned(),
    }
}

/// Changes the practice's schedule (the physician): weekly hours, days off, extra hours on a
/// date, visit lengths, by `change`; each form sends the fields its change needs. New hours may
/// free times on days people wait for: those are offered at once.
#[server(endpoint = "schedule/change")]
pub async fn change_schedule(
    #[server(flatten)] form: super::model::ScheduleForm,
) -> Result<(), AppError> {
    use super::model::ScheduleEdit;
    use super::service::schedule::ScheduleChange;
    use crate::auth::api::context;
    let super::model::ScheduleForm {
        change,
        id,
        visit_type,
        weekday,
        start,
        end,
        date,
        note,
        minutes,
        buffer_minutes,
    } = form;
    let number = |value: Option<String>| value.and_then(|v| v.trim().parse::<i32>().ok());
    let id = number(id);
    let weekday = number(weekday).and_then(|d| i16::try_from(d).ok());
    let text = |value: Option<String>| value.unwrap_or_default();
    let kind = || kind_of_visit(visit_type.as_deref().unwrap_or_default());
    let saved = async {
        let me = context::signed_in()?;
        let change = match change {
            ScheduleEdit::AddHours => ScheduleChange::AddHours {
                visit_type: kind()?,
                weekday: weekday.unwrap_or(-1),
                start: text(start),
                end: text(end),
            },
            ScheduleEdit::RemoveHours => ScheduleChange::RemoveHours {
                id: id.unwrap_or_default(),
            },
            ScheduleEdit::AddDayOff => ScheduleChange::AddDayOff {
                date: text(date),
                note: text(note),
            },
            ScheduleEdit::RemoveDayOff => ScheduleChange::RemoveDayOff {
                id: id.unwrap_or_default(),
            },
            ScheduleEdit::AddExtraHours => ScheduleChange::AddExtraHours {
                visit_type: kind()?,
                date: text(date),
                start: text(start),
                end: text(end),
            },
            ScheduleEdit::RemoveExtraHours => ScheduleChange::RemoveExtraHours {
                id: id.unwrap_or_default(),
            },
            ScheduleEdit::SetLength => ScheduleChange::SetLength {
                visit_type: kind()?,
                minutes: text(minutes),
                buffer_minutes: text(buffer_minutes),
            },
        };
        super::service::schedule::change_schedule(&me, &change).await?;
        if let Some(schedule) = practice_schedule(me.db()).await? {
            match super::waitlist::waiting_days(me.db(), me.now(), &schedule).await {
                Ok(days) => {
                    for day in days {
                        super::waitlist::offer_freed_and_send(&me, &schedule, day).await;
                    }
                }
                Err(error) => tracing::warn!(%error, "could not read the waitlist's days"),
            }
        }
        Ok(())
    }
    .await;
    context::answer_write(
        saved,
        |()| "/dashboard/schedule?saved=1".to_owned(),
        back_to_schedule,
    )
}
