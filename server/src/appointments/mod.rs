//! `POST /portal/book`: a patient books a visit, or moves one (`reschedule` names it). Works
//! without JavaScript; the outcome goes back in the address (post/redirect/get), never the
//! reason the patient typed.

use crate::startup::AppState;
use app::appointments::service::{self, BookingRequest};
use app::appointments::waitlist;
use app::appointments::{VisitRefusal, VisitType};
use app::audit::service::ClientInfo;
use app::auth::service::Authenticated;
use app::AppError;
use axum::{
    extract::State,
    response::{IntoResponse, Redirect, Response},
    Extension, Form,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct BookForm {
    #[serde(default)]
    visit_type: String,
    #[serde(default)]
    starts_at: String,
    #[serde(default)]
    reason: String,
    /// The visit to move, when rescheduling.
    #[serde(default)]
    reschedule: Option<String>,
    /// The per-visit fee shown on the form, which the patient accepts by booking.
    #[serde(default)]
    accept_fee_cents: Option<i64>,
}

/// The membership rule that stopped a booking, by its code (the page says it in words).
fn rule_code(errors: &app::FieldErrors) -> Option<&'static str> {
    app::appointments::benefits::Refusal::CODES
        .into_iter()
        .find(|code| errors.get(code).is_some())
}

pub async fn book(
    State(state): State<AppState>,
    auth: Option<Extension<Authenticated>>,
    Extension(client): Extension<ClientInfo>,
    headers: axum::http::HeaderMap,
    Form(form): Form<BookForm>,
) -> Response {
    // A client that asks for JSON (an app, the benchmark) gets statuses and JSON instead of
    // redirects: 201 with the visit, 409 "just taken" with the next free times, 422.
    let wants_json = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    let Some(Extension(auth)) = auth else {
        return Redirect::to("/signin?next=/portal/book").into_response();
    };
    let Some(caller) = auth.caller(&client) else {
        return Redirect::to("/signin?next=/portal/book").into_response();
    };
    let visit_type = VisitType::parse(&form.visit_type).unwrap_or(VisitType::InPerson);
    let moving = form
        .reschedule
        .as_deref()
        .map(str::trim)
        .filter(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric()));
    let back = |error: &str| {
        let again = moving
            .map(|id| format!("&reschedule={id}"))
            .unwrap_or_default();
        Redirect::to(&format!(
            "/portal/book?type={}{again}&error={error}",
            visit_type.as_str()
        ))
        .into_response()
    };
    let Some(patient_id) = auth.patient_id else {
        return AppError::Forbidden.into_response();
    };
    let Ok(starts_at) = chrono::DateTime::parse_from_rfc3339(form.starts_at.trim()) else {
        if wants_json {
            return json_error(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "starts_at must be a time like 2026-12-01T14:00:00Z.",
                None,
                Vec::new(),
            );
        }
        return back("time");
    };
    let schedule = match schedule_of(&state).await {
        Ok(schedule) => schedule,
        Err(response) => return response,
    };
    let now = state.clock.now();
    if let Some(id) = moving {
        // The time it leaves goes to the waitlist of that day.
        let moved_from = app::appointments::entity::appointment::Entity::find()
            .filter(app::appointments::entity::appointment::Column::PublicId.eq(id))
            .one(&state.db)
            .await
            .ok()
            .flatten()
            .map(|row| row.starts_at);
        return match service::reschedule(
            &state.db,
            now,
            &caller,
            &schedule,
            id,
            starts_at.with_timezone(&chrono::Utc),
        )
        .await
        {
            Ok(visit) => {
                tracing::info!(appointment = %visit.public_id, "visit moved");
                send_now(&state, visit.confirmation_job, "moved-visit email");
                if let Some(old_start) = moved_from {
                    let day = old_start.with_timezone(&schedule.time_zone).date_naive();
                    offer_freed_time(&state, &schedule, day).await;
                }
                Redirect::to("/portal/visits?moved=1").into_response()
            }
            Err(error) => match (error.visit_refusal().cloned(), error) {
                (Some(VisitRefusal::JustTaken), _) => back("taken"),
                (Some(VisitRefusal::AllowanceJustUsed), _) => back("allowance"),
                // Started, over, cancelled, inside 24 hours: the visit list says why.
                (Some(refusal), _) => {
                    Redirect::to(&format!("/portal/visits?error={}", refusal.code()))
                        .into_response()
                }
                (None, AppError::Validation(errors)) => back(rule_code(&errors).unwrap_or("time")),
                (None, other) => other.into_response(),
            },
        };
    }
    let Some(patient_public_id) = auth.patient_public_id.clone() else {
        return AppError::Forbidden.into_response();
    };
    let request = BookingRequest {
        patient_id,
        patient_public_id,
        visit_type,
        starts_at: starts_at.with_timezone(&chrono::Utc),
        reason: form.reason,
        accepted_fee_cents: form.accept_fee_cents,
    };
    let booked = service::book(&state.db, &state.keyring, now, &caller, &schedule, &request).await;
    if wants_json {
        return match booked {
            Ok(visit) => {
                send_now(&state, visit.confirmation_job, "confirmation");
                (
                    axum::http::StatusCode::CREATED,
                    axum::Json(serde_json::json!({
                        "visit": visit.public_id,
                        "visit_type": visit.visit_type.as_str(),
                        "starts_at": visit.starts_at,
                        "ends_at": visit.ends_at,
                    })),
                )
                    .into_response()
            }
            Err(error @ (AppError::Refused(_) | AppError::Conflict(_))) => {
                let message = error.to_string();
                let next = service::booking_options(&state.db, &schedule, visit_type, state.clock.now(), None, Some(patient_id), schedule.time_zone)
                    .await
                    .map(|options| {
                        options
                            .days
                            .into_iter()
                            .flat_map(|day| day.slots)
                            .take(5)
                            .map(|slot| slot.starts_at)
                            .collect()
                    })
                    .unwrap_or_default();
                let code = match &error {
                    AppError::Refused(refusal) => Some(refusal.code()),
                    _ => None,
                };
                json_error(axum::http::StatusCode::CONFLICT, &message, code, next)
            }
            Err(AppError::Validation(errors)) => (
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                axum::Json(serde_json::json!({ "error": "Please correct the fields named.", "fields": errors })),
            )
                .into_response(),
            Err(other) => other.into_response(),
        };
    }
    match booked {
        Ok(visit) => {
            tracing::info!(appointment = %visit.public_id, "visit booked");
            // The confirmation goes out now; if it cannot, the job retries it later.
            send_now(&state, visit.confirmation_job, "confirmation");
            Redirect::to("/portal/visits?booked=1").into_response()
        }
        Err(error) if error.visit_refusal() == Some(&VisitRefusal::AllowanceJustUsed) => {
            back("allowance")
        }
        Err(AppError::Refused(_) | AppError::Conflict(_)) => back("taken"),
        Err(AppError::Validation(errors)) if errors.get("reason").is_some() => back("reason"),
        Err(AppError::Validation(errors)) => back(rule_code(&errors).unwrap_or("time")),
        Err(other) => other.into_response(),
    }
}

/// A JSON client's refusal: the message, the refusal's stable code when a rule refused, and
/// the next free times to offer instead.
fn json_error(
    status: axum::http::StatusCode,
    message: &str,
    code: Option<String>,
    next_free: Vec<chrono::DateTime<chrono::Utc>>,
) -> Response {
    let body = serde_json::json!({ "error": message, "code": code, "next_free": next_free });
    (status, axum::Json(body)).into_response()
}

#[derive(Debug, Deserialize)]
pub struct ScheduleForm {
    #[serde(default)]
    change: String,
    #[serde(default)]
    id: Option<i32>,
    #[serde(default)]
    visit_type: String,
    #[serde(default)]
    weekday: Option<i16>,
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    minutes: String,
    #[serde(default)]
    buffer_minutes: String,
}

/// `POST /dashboard/schedule`: add or remove weekly hours and days off (the physician).
pub async fn change_schedule(
    State(state): State<AppState>,
    auth: Option<Extension<Authenticated>>,
    Extension(client): Extension<ClientInfo>,
    Form(form): Form<ScheduleForm>,
) -> Response {
    use app::appointments::model::schedule_message_index;
    use app::appointments::service::ScheduleChange;
    let Some(caller) = auth.and_then(|Extension(auth)| auth.caller(&client)) else {
        return Redirect::to("/signin?next=/dashboard/schedule").into_response();
    };
    let change = match form.change.as_str() {
        "add_hours" => ScheduleChange::AddHours {
            visit_type: VisitType::parse(&form.visit_type).unwrap_or(VisitType::InPerson),
            weekday: form.weekday.unwrap_or(-1),
            start: form.start,
            end: form.end,
        },
        "remove_hours" => ScheduleChange::RemoveHours {
            id: form.id.unwrap_or(0),
        },
        "add_day_off" => ScheduleChange::AddDayOff {
            date: form.date,
            note: form.note,
        },
        "remove_day_off" => ScheduleChange::RemoveDayOff {
            id: form.id.unwrap_or(0),
        },
        "add_extra_hours" => ScheduleChange::AddExtraHours {
            visit_type: VisitType::parse(&form.visit_type).unwrap_or(VisitType::InPerson),
            date: form.date,
            start: form.start,
            end: form.end,
        },
        "remove_extra_hours" => ScheduleChange::RemoveExtraHours {
            id: form.id.unwrap_or(0),
        },
        "set_length" => ScheduleChange::SetLength {
            visit_type: VisitType::parse(&form.visit_type).unwrap_or(VisitType::InPerson),
            minutes: form.minutes,
            buffer_minutes: form.buffer_minutes,
        },
        _ => return Redirect::to("/dashboard/schedule?error=0").into_response(),
    };
    match service::change_schedule(&state.db, state.clock.now(), &caller, &change).await {
        Ok(()) => {
            // New hours (or a day off taken back) may free times on days people wait for.
            if let Ok(schedule) = schedule_of(&state).await {
                match waitlist::waiting_days(&state.db, state.clock.now(), &schedule).await {
                    Ok(days) => {
                        for day in days {
                            offer_freed_time(&state, &schedule, day).await;
                        }
                    }
                    Err(error) => tracing::warn!(%error, "could not read the waitlist's days"),
                }
            }
            Redirect::to("/dashboard/schedule?saved=1").into_response()
        }
        Err(AppError::Validation(errors)) => {
            let index = errors
                .0
                .values()
                .next()
                .map_or(0, |m| schedule_message_index(m));
            Redirect::to(&format!("/dashboard/schedule?error={index}")).into_response()
        }
        Err(other) => other.into_response(),
    }
}

/// The practice's schedule, or the answer to give when it is not set up or cannot be read.
async fn schedule_of(
    state: &AppState,
) -> Result<std::sync::Arc<app::appointments::availability::Schedule>, Response> {
    match state.schedules.load(&state.db).await {
        Ok(Some(schedule)) => Ok(schedule),
        Ok(None) => Err(AppError::NotFound("The practice's schedule".into()).into_response()),
        Err(error) => Err(error.into_response()),
    }
}

/// Sends a job's email now, in the background (the patient expects it at once); if it cannot,
/// the worker retries it.
fn send_now(state: &AppState, job: i32, what: &'static str) {
    state.jobs.run_soon(job, what);
}

/// Offers a freed time to the waitlist of its day and emails the offers now. A failure here
/// does not undo what freed the time; it is logged, and the next freed time tries again.
async fn offer_freed_time(
    state: &AppState,
    schedule: &app::appointments::availability::Schedule,
    day: chrono::NaiveDate,
) {
    let soon = state.jobs.soon();
    let now = state.clock.now();
    waitlist::offer_freed_and_send(&state.db, &state.keyring, now, schedule, day, &*soon).await;
}

#[derive(Debug, Deserialize)]
pub struct WaitlistForm {
    #[serde(default)]
    visit_type: String,
    #[serde(default)]
    day: String,
}

/// `POST /portal/waitlist`: joins the waitlist for a day and a kind of visit.
pub async fn join_waitlist(
    State(state): State<AppState>,
    auth: Option<Extension<Authenticated>>,
    Extension(client): Extension<ClientInfo>,
    Form(form): Form<WaitlistForm>,
) -> Response {
    let Some(Extension(auth)) = auth else {
        return Redirect::to("/signin?next=/portal/book").into_response();
    };
    let (Some(caller), Some(patient_id)) = (auth.caller(&client), auth.patient_id) else {
        return AppError::Forbidden.into_response();
    };
    let visit_type = VisitType::parse(&form.visit_type).unwrap_or(VisitType::InPerson);
    let back = |code: &str| {
        Redirect::to(&format!(
            "/portal/book?type={}&error={code}",
            visit_type.as_str()
        ))
        .into_response()
    };
    let Ok(day) = chrono::NaiveDate::parse_from_str(form.day.trim(), "%Y-%m-%d") else {
        return back("day");
    };
    let schedule = match schedule_of(&state).await {
        Ok(schedule) => schedule,
        Err(response) => return response,
    };
    let patient = match app::patients::entity::patient::Entity::find_by_id(patient_id)
        .one(&state.db)
        .await
    {
        Ok(Some(patient)) => patient,
        Ok(None) => return AppError::Forbidden.into_response(),
        Err(error) => return AppError::from(error).into_response(),
    };
    let now = state.clock.now();
    match waitlist::join(
        &state.db, now, &caller, &patient, visit_type, day, &schedule,
    )
    .await
    {
        Ok(_) => {
            // A time may be free already (freed before anyone waited): offer it at once.
            offer_freed_time(&state, &schedule, day).await;
            Redirect::to("/portal/visits?waitlisted=1#waitlist").into_response()
        }
        Err(AppError::Validation(errors)) => back(rule_code(&errors).unwrap_or("day")),
        Err(other) => other.into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct TimeZoneForm {
    #[serde(default)]
    time_zone: String,
    /// The booking page to return to (its kind of visit).
    #[serde(default)]
    visit_type: String,
}

/// `POST /portal/time-zone`: the zone a signed-in person sees times in.
pub async fn set_time_zone(
    State(state): State<AppState>,
    auth: Option<Extension<Authenticated>>,
    Form(form): Form<TimeZoneForm>,
) -> Response {
    let Some(Extension(auth)) = auth else {
        return Redirect::to("/signin?next=/portal/book").into_response();
    };
    let visit_type = VisitType::parse(&form.visit_type).unwrap_or(VisitType::InPerson);
    let back = format!("/portal/book?type={}", visit_type.as_str());
    match service::set_viewer_zone(&state.db, auth.user_id, &form.time_zone).await {
        Ok(()) => Redirect::to(&format!("{back}&zone=saved")).into_response(),
        Err(AppError::Validation(_)) => Redirect::to(&format!("{back}&error=zone")).into_response(),
        Err(other) => other.into_response(),
    }
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

#[derive(Debug, Deserialize)]
pub struct CompleteForm {
    #[serde(default)]
    id: String,
    /// Empty for no follow-up, else weeks.
    #[serde(default)]
    follow_up_weeks: String,
    /// The agenda page to return to.
    #[serde(default)]
    back: String,
}

/// `POST /dashboard/visits/complete`: the physician marks a visit done, with or without a
/// follow-up in N weeks; the patient's follow-up email goes out at once.
pub async fn complete(
    State(state): State<AppState>,
    auth: Option<Extension<Authenticated>>,
    Extension(client): Extension<ClientInfo>,
    Form(form): Form<CompleteForm>,
) -> Response {
    let Some(caller) = auth.and_then(|Extension(auth)| auth.caller(&client)) else {
        return Redirect::to("/signin?next=/dashboard/agenda").into_response();
    };
    // Only back to an agenda page of this site.
    let back = if form.back.starts_with("/dashboard")
        && !form.back.contains("//")
        && !form.back.contains('\\')
    {
        form.back.clone()
    } else {
        "/dashboard/agenda".to_owned()
    };
    let joiner = if back.contains('?') { '&' } else { '?' };
    let weeks = match form.follow_up_weeks.trim() {
        "" => None,
        text => match text.parse::<u32>() {
            Ok(weeks) => Some(weeks),
            Err(_) => {
                return Redirect::to(&format!("{back}{joiner}error=follow_up")).into_response()
            }
        },
    };
    match service::complete(&state.db, state.clock.now(), &caller, form.id.trim(), weeks).await {
        Ok(job) => {
            send_now(&state, job, "follow-up");
            Redirect::to(&format!("{back}{joiner}completed=1")).into_response()
        }
        Err(AppError::Refused(_) | AppError::Conflict(_)) => {
            Redirect::to(&format!("{back}{joiner}error=complete")).into_response()
        }
        Err(other) => other.into_response(),
    }
}
