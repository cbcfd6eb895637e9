//! Booking a visit: the free times a patient is offered, and booking one: offered by the
//! schedule, allowed by the membership and the policy, audited, the reason sealed, and made
//! atomic by the holds' unique constraint (P2).

use super::calendar::{
    busy_between, hold, reason_context, status, BookedVisit, BOOKING_DAYS, MINIMUM_NOTICE_HOURS,
};
use super::schedule::zone_label;
use crate::appointments::availability::Schedule;
use crate::appointments::entity::appointment;
use crate::appointments::model::VisitType;
use crate::appointments::{allowance, benefits, VisitRefusal};
use crate::audit::{service as audit, Outcome};
use crate::auth::context::SignedIn;
use crate::auth::guard;
use crate::auth::{Action, Resource};
use crate::crypto::Encrypted;
use crate::patients::entity::patient;
use crate::{AppError, FieldErrors};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, DatabaseConnection, Set};

/// What a patient (or the practice, for them) asks for.
#[derive(Debug, Clone)]
pub struct BookingRequest {
    /// The patient's row id and public id, as their session carries them.
    pub patient_id: i32,
    pub patient_public_id: String,
    pub visit_type: VisitType,
    pub starts_at: DateTime<Utc>,
    pub reason: String,
    /// The per-visit fee the patient was shown and accepted, when the visit has one: a visit
    /// whose fee is not the one accepted is not booked (nothing is charged silently).
    pub accepted_fee_cents: Option<i64>,
}

pub(super) const NOT_OFFERED: &str =
    "That time is not offered. Please choose one of the times shown.";

/// Whether the schedule offers a `visit_type` visit starting at `starts_at` (still ahead).
pub(super) fn offered(
    schedule: &Schedule,
    visit_type: VisitType,
    starts_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> bool {
    let local = starts_at.with_timezone(&schedule.time_zone).naive_local();
    starts_at > now
        && schedule
            .local_starts(visit_type, local.date())
            .contains(&local)
        && crate::appointments::availability::instant(schedule.time_zone, local) == Some(starts_at)
}

/// Books `request` if the schedule offers that time and nobody holds any of it.
pub async fn book(
    me: &SignedIn,
    schedule: &Schedule,
    request: &BookingRequest,
) -> Result<BookedVisit, AppError> {
    const VERB: &str = "appointment.book";
    let (db, now) = (me.db(), me.now());
    let reason = request.reason.trim();
    let mut errors = FieldErrors::default();
    if reason.is_empty() {
        errors.add(
            "reason",
            "Please tell the physician briefly what the visit is about.",
        );
    } else if reason.chars().count() > 500 {
        errors.add(
            "reason",
            "Please keep the reason under 500 characters; you can say more at the visit.",
        );
    }
    let Some(length) = schedule.length_of(request.visit_type) else {
        return Err(AppError::NotFound("That kind of visit".into()));
    };
    if !offered(schedule, request.visit_type, request.starts_at, now) {
        errors.add("starts_at", NOT_OFFERED);
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let patient_id = request.patient_id;
    let patient_public_id = request.patient_public_id.as_str();
    // The membership's rules (R2.5): checked before anything is written, stated in words.
    let terms = match allowance::standing(db, patient_id).await? {
        None => Err(benefits::Refusal::NoActiveMembership),
        Some(standing) => allowance::quote(
            db,
            &standing,
            request.visit_type,
            request.starts_at,
            now,
            schedule.time_zone,
        )
        .await?
        .map(|quote| (standing, quote)),
    };
    let refused = match &terms {
        Err(refusal) => Some(refusal.clone()),
        Ok((_, quote)) => match quote.coverage {
            benefits::Coverage::Fee(cents) if request.accepted_fee_cents != Some(cents) => {
                Some(benefits::Refusal::FeeNotAccepted {
                    terms: quote.terms.clone(),
                })
            }
            _ => None,
        },
    };
    if let Some(refusal) = refused {
        let message = refusal.message();
        record_refusal(me, VERB, None, patient_public_id, &message).await?;
        return Err(refusal.into());
    }
    let Ok((standing, quote)) = terms else {
        return Err(AppError::internal("booking terms checked above"));
    };
    let resource = Resource::Appointments { patient_id };
    let permit = guard::permit(
        db,
        now,
        &me.caller,
        Action::Write,
        resource,
        Some(patient_public_id.to_owned()),
        VERB,
    )
    .await?;
    let public_id = uuid::Uuid::new_v4().simple().to_string();
    let (coverage, fee_cents) = quote.coverage.columns();
    let ends_at = request.starts_at + Duration::minutes(length.minutes);
    let sealed = Encrypted::seal(
        me.keyring(),
        &reason_context(&public_id),
        &reason.to_owned(),
    )
    .map_err(|e| AppError::internal(format_args!("sealing: {e}")))?;
    let inserted = async {
        let row = appointment::ActiveModel {
            public_id: Set(public_id.clone()),
            patient_id: Set(patient_id),
            visit_type: Set(request.visit_type),
            starts_at: Set(request.starts_at),
            ends_at: Set(ends_at),
            reason: Set(sealed),
            status: Set(status::BOOKED),
            created_at: Set(now),
            coverage: Set(coverage.to_owned()),
            fee_cents: Set(fee_cents),
            ..Default::default()
        }
        .insert(permit.txn())
        .await?;
        hold(
            permit.txn(),
            row.id,
            request.starts_at,
            ends_at + Duration::minutes(length.buffer_minutes),
        )
        .await?;
        if quote.uses_allowance {
            allowance::take(permit.txn(), &standing, request.starts_at, row.id).await?;
        }
        Ok::<_, AppError>(())
    }
    .await;
    // The confirmation and reminders commit with the booking, or not at all.
    let inserted = match inserted {
        Ok(()) => {
            crate::appointments::notices::plan(permit.txn(), &public_id, request.starts_at, 0, now)
                .await
        }
        Err(err) => Err(err),
    };
    match inserted {
        Ok(confirmation_job) => {
            permit.commit().await.map_err(taken)?;
            Ok(BookedVisit {
                public_id,
                visit_type: request.visit_type,
                starts_at: request.starts_at,
                ends_at,
                confirmation_job,
            })
        }
        Err(err) => {
            // The transaction (and its audit row) rolls back; the attempt is recorded on its own.
            drop(permit);
            let error = taken(err);
            record_refusal(me, VERB, None, patient_public_id, &error.to_string()).await?;
            Err(error)
        }
    }
}

/// A unique violation on the holds means another booking got there first (on the allowance,
/// that the last included visit went to another booking of the same member).
pub(super) fn taken(error: AppError) -> AppError {
    match error {
        AppError::Conflict(_) => VisitRefusal::JustTaken.into(),
        other => other,
    }
}

/// Records an attempt that changed nothing, on its own (the permit's entry rolled back).
pub(super) async fn record_refusal(
    me: &SignedIn,
    verb: &str,
    appointment_public_id: Option<String>,
    patient_public_id: &str,
    why: &str,
) -> Result<(), AppError> {
    let mut event = audit::event(
        Some(me.caller.audit_actor()),
        verb,
        "appointments",
        appointment_public_id,
        Some(patient_public_id.to_owned()),
        Outcome::Failed,
    );
    event.detail = Some(why.chars().take(120).collect());
    let caller = &me.caller;
    audit::record_alone(me.db(), &caller.seal, me.now(), &caller.client, &event).await?;
    Ok(())
}

/// Records a refused change to `row` on its own (the caller dropped the permit, whose entry
/// rolled back with it) and returns the refusal, or the error that kept it from being recorded.
pub(crate) async fn refusal_recorded(
    me: &SignedIn,
    verb: &str,
    row: &appointment::Model,
    patient: &patient::Model,
    refusal: impl Into<AppError>,
) -> AppError {
    let refusal = refusal.into();
    let why = refusal.to_string();
    let recorded = record_refusal(
        me,
        verb,
        Some(row.public_id.clone()),
        &patient.public_id,
        &why,
    )
    .await;
    match recorded {
        Ok(()) => refusal,
        Err(error) => error,
    }
}

/// The membership's terms for booking `visit_type` now, and the days its tier books.
async fn booking_terms(
    db: &DatabaseConnection,
    patient_id: i32,
    visit_type: VisitType,
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> Result<
    (
        crate::appointments::model::BookingTerms,
        Option<(chrono::NaiveDate, chrono::NaiveDate)>,
    ),
    AppError,
> {
    use crate::appointments::model::BookingTerms;
    let Some(standing) = allowance::standing(db, patient_id).await? else {
        return Ok((
            BookingTerms {
                refusal: Some(benefits::Refusal::NoActiveMembership.message()),
                ..Default::default()
            },
            None,
        ));
    };
    let today = now.with_timezone(&tz).date_naive();
    let rules = &standing.rules;
    let window = benefits::window(rules, today);
    let year_start = benefits::year_start(standing.anchor(), now);
    let used = allowance::used_in_year(db, standing.membership.id, year_start).await?;
    let renews = allowance::day_words(benefits::year_end(year_start), tz);
    let mut terms = BookingTerms {
        window: Some(format!(
            "{} members book {}, up to {} days ahead.",
            rules.tier_name,
            if rules.same_day_booking {
                "from today"
            } else {
                "from tomorrow"
            },
            rules.booking_horizon_days
        )),
        ..Default::default()
    };
    match benefits::quote(rules, visit_type, used, &renews) {
        Ok(quote) => {
            terms.summary = Some(quote.terms);
            if let benefits::Coverage::Fee(cents) = quote.coverage {
                terms.fee_cents = Some(cents);
            }
        }
        Err(refusal) => terms.refusal = Some(refusal.message()),
    }
    Ok((terms, Some(window)))
}

/// The free times of `visit_type` for the next [`BOOKING_DAYS`] days, grouped by local day.
/// For a patient (`patient_id`), within their tier's booking window and with its terms; a
/// patient whose membership does not allow the booking is offered no times, only the reason.
pub async fn booking_options(
    me: &SignedIn,
    schedule: &Schedule,
    visit_type: VisitType,
    from: Option<chrono::NaiveDate>,
    shown_in: chrono_tz::Tz,
) -> Result<crate::appointments::model::BookingOptions, AppError> {
    let (db, now, patient_id) = (me.db(), me.now(), me.auth.patient_id);
    use crate::appointments::model::{BookingOptions, BookingTerms, DaySlots, SlotOption};
    let tz = schedule.time_zone;
    let today = now.with_timezone(&tz).date_naive();
    let (terms, window) = match patient_id {
        Some(id) => booking_terms(db, id, visit_type, now, tz).await?,
        None => (BookingTerms::default(), None),
    };
    // Two weeks of times from today, or from a later day (a suggested follow-up), inside the
    // tier's window.
    let mut first = from.filter(|day| *day > today).unwrap_or(today);
    let mut last = first + Duration::days(BOOKING_DAYS);
    if let Some((opens, closes)) = window {
        first = first.max(opens);
        last = last.min(closes);
    }
    if terms.refusal.is_some() {
        last = first - Duration::days(1);
    }
    let window_start = if first == today {
        now
    } else {
        crate::appointments::availability::instant(tz, first.and_time(chrono::NaiveTime::MIN))
            .unwrap_or(now)
    };
    let busy = busy_between(
        db,
        schedule,
        window_start,
        window_start + Duration::days(BOOKING_DAYS + 1),
    )
    .await?;
    let slots = crate::appointments::availability::free_slots(
        schedule,
        visit_type,
        first,
        last,
        &busy,
        now + Duration::hours(MINIMUM_NOTICE_HOURS),
    );
    // A member may wait for a full day of the window: one the practice offers this kind of
    // visit on, with times still to come, and none of them free.
    let not_before = now + Duration::hours(MINIMUM_NOTICE_HOURS);
    let waitlist_days: Vec<(String, String)> = if patient_id.is_some() {
        first
            .iter_days()
            .take_while(|day| *day <= last)
            .filter(|day| {
                schedule.local_starts(visit_type, *day).iter().any(|local| {
                    crate::appointments::availability::instant(tz, *local)
                        .is_some_and(|at| at >= not_before)
                })
            })
            .filter(|day| {
                !slots
                    .iter()
                    .any(|slot| slot.starts_at.with_timezone(&tz).date_naive() == *day)
            })
            .map(|day| {
                (
                    day.format("%Y-%m-%d").to_string(),
                    day.format("%A, %B %-d").to_string(),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut days: Vec<DaySlots> = Vec::new();
    // Laid out in the practice's time, shown in the patient's.
    for slot in slots {
        let local = slot.starts_at.with_timezone(&shown_in);
        let day = local.format("%A, %B %-d").to_string();
        let option = SlotOption {
            starts_at: slot.starts_at,
            time: local.format("%-I:%M %P").to_string(),
        };
        match days.last_mut() {
            Some(last) if last.day == day => last.slots.push(option),
            _ => days.push(DaySlots {
                day,
                slots: vec![option],
            }),
        }
    }
    let mut offered: Vec<VisitType> = schedule
        .lengths
        .iter()
        .map(|l| l.visit_type)
        .filter(|v| schedule.hours.iter().any(|h| h.visit_type == *v))
        .collect();
    offered.sort();
    Ok(BookingOptions {
        visit_type,
        offered,
        time_zone: zone_label(shown_in),
        days,
        terms,
        zone: shown_in.name().to_owned(),
        practice_zone_note: (shown_in != tz)
            .then(|| format!("The practice is in {}.", zone_label(tz))),
        waitlist_days,
    })
}
