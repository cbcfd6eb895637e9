//! Booking a visit: offered by the schedule, allowed by the policy, audited, and made atomic by
//! the holds' unique constraint (P2).

use super::allowance;
use super::availability::Schedule;
use super::benefits;
use super::entity::{appointment, appointment_hold};
use super::model::VisitType;
use super::VisitRefusal;
use crate::audit::{service as audit, Outcome};
use crate::auth::guard::{self, Caller};
use crate::auth::{Action, Resource};
use crate::crypto::{Encrypted, FieldContext, Keyring};
use crate::patients::entity::patient;
use crate::{AppError, FieldErrors};
use chrono::{DateTime, Duration, DurationRound, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set,
};

/// Where a visit is in its life (`appointment.status`), by the names the rules use.
pub mod status {
    use super::super::model::VisitStatus;
    pub const BOOKED: VisitStatus = VisitStatus::Booked;
    pub const CANCELLED: VisitStatus = VisitStatus::Cancelled;
    pub const COMPLETED: VisitStatus = VisitStatus::Completed;
    pub const OFFERED: VisitStatus = VisitStatus::Offered;
}

/// Why a visit that is no longer booked cannot be changed.
fn not_booked(status: &super::model::VisitStatus) -> VisitRefusal {
    if *status == status::COMPLETED {
        VisitRefusal::Over
    } else {
        VisitRefusal::Cancelled
    }
}

/// The grain of the physician's time: holds are five-minute units.
pub const UNIT_MINUTES: i64 = 5;

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

/// What the confirmation shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookedVisit {
    pub public_id: String,
    pub visit_type: VisitType,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The job that sends the confirmation (the request runs it at once).
    pub confirmation_job: i32,
}

impl From<BookedVisit> for super::model::Booked {
    fn from(visit: BookedVisit) -> Self {
        Self {
            visit: visit.public_id,
            visit_type: visit.visit_type,
            starts_at: visit.starts_at,
            ends_at: visit.ends_at,
        }
    }
}

/// A visit moved: where it is now, and the time it left (offered to that day's waitlist).
pub struct MovedVisit {
    pub booked: BookedVisit,
    pub left: DateTime<Utc>,
}

/// The five-minute units `[starts_at, until)` covers.
pub fn units(starts_at: DateTime<Utc>, until: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let step = Duration::minutes(UNIT_MINUTES);
    let mut at = starts_at.duration_trunc(step).unwrap_or(starts_at);
    let mut out = Vec::new();
    while at < until {
        out.push(at);
        at += step;
    }
    out
}

pub(super) fn reason_context(public_id: &str) -> FieldContext<'_> {
    FieldContext {
        table: "appointment",
        column: "reason",
        row: public_id,
    }
}

const NOT_OFFERED: &str = "That time is not offered. Please choose one of the times shown.";

/// Whether the schedule offers a `visit_type` visit starting at `starts_at` (still ahead).
fn offered(
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
        && super::availability::instant(schedule.time_zone, local) == Some(starts_at)
}

/// Takes every unit of `[starts_at, until)` for `appointment_id`; fails on a unit already held.
pub(super) async fn hold(
    txn: &sea_orm::DatabaseTransaction,
    appointment_id: i32,
    starts_at: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    let holds: Vec<appointment_hold::ActiveModel> = units(starts_at, until)
        .into_iter()
        .map(|unit_start| appointment_hold::ActiveModel {
            unit_start: Set(unit_start),
            appointment_id: Set(appointment_id),
        })
        .collect();
    appointment_hold::Entity::insert_many(holds)
        .exec(txn)
        .await
        .map(|_| ())
}

/// Why a patient may not move `row` online now, or `None` when they may (P3's terms).
fn why_not_moved_online(row: &appointment::Model, now: DateTime<Utc>) -> Option<VisitRefusal> {
    use super::model::{cancellation_terms, CancellationTerms};
    if row.status != status::BOOKED {
        return Some(not_booked(&row.status));
    }
    match cancellation_terms(row.starts_at, now) {
        CancellationTerms::Free => None,
        CancellationTerms::Late => Some(VisitRefusal::LateReschedule),
        CancellationTerms::Started => Some(VisitRefusal::Started),
    }
}

/// Finds a visit and its patient and asks the policy for `verb` on `resource(patient)`: the
/// start of every change to a booked visit. An unknown visit is recorded as a denial.
async fn open_visit(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    caller: &Caller,
    appointment_public_id: &str,
    verb: &str,
    resource: impl FnOnce(i32) -> Resource,
) -> Result<(appointment::Model, patient::Model, guard::Permit), AppError> {
    let Some(row) = appointment::Entity::find()
        .filter(appointment::Column::PublicId.eq(appointment_public_id))
        .one(db)
        .await?
    else {
        guard::record_missing(db, now, caller, verb, "appointments", appointment_public_id).await?;
        return Err(AppError::NotFound("That visit".into()));
    };
    let patient = patient::Entity::find_by_id(row.patient_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("an appointment without its patient"))?;
    let permit = guard::permit(
        db,
        now,
        caller,
        Action::Write,
        resource(row.patient_id),
        Some(patient.public_id.clone()),
        verb,
    )
    .await?;
    Ok((row, patient, permit))
}

/// Records an attempt that changed nothing, on its own (the permit's entry rolled back).
async fn record_refusal(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    caller: &Caller,
    verb: &str,
    appointment_public_id: Option<String>,
    patient_public_id: &str,
    why: &str,
) -> Result<(), AppError> {
    let mut event = audit::event(
        Some(caller.audit_actor()),
        verb,
        "appointments",
        appointment_public_id,
        Some(patient_public_id.to_owned()),
        Outcome::Failed,
    );
    event.detail = Some(why.chars().take(120).collect());
    audit::record_alone(db, &caller.seal, now, &caller.client, &event).await?;
    Ok(())
}

/// Records a refused change to `row` on its own (the caller dropped the permit, whose entry
/// rolled back with it) and returns the refusal, or the error that kept it from being recorded.
async fn refusal_recorded(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    caller: &Caller,
    verb: &str,
    row: &appointment::Model,
    patient: &patient::Model,
    refusal: VisitRefusal,
) -> AppError {
    let why = refusal.message();
    let recorded = record_refusal(
        db,
        now,
        caller,
        verb,
        Some(row.public_id.clone()),
        &patient.public_id,
        &why,
    )
    .await;
    match recorded {
        Ok(()) => refusal.into(),
        Err(error) => error,
    }
}

/// Books `request` if the schedule offers that time and nobody holds any of it.
pub async fn book(
    db: &DatabaseConnection,
    keyring: &Keyring,
    now: DateTime<Utc>,
    caller: &Caller,
    schedule: &Schedule,
    request: &BookingRequest,
) -> Result<BookedVisit, AppError> {
    const VERB: &str = "appointment.book";
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
        record_refusal(db, now, caller, VERB, None, patient_public_id, &message).await?;
        return Err(refusal.into());
    }
    let Ok((standing, quote)) = terms else {
        return Err(AppError::internal("booking terms checked above"));
    };
    let resource = Resource::Appointments { patient_id };
    let permit = guard::permit(
        db,
        now,
        caller,
        Action::Write,
        resource,
        Some(patient_public_id.to_owned()),
        VERB,
    )
    .await?;
    let public_id = uuid::Uuid::new_v4().simple().to_string();
    let (coverage, fee_cents) = quote.coverage.columns();
    let ends_at = request.starts_at + Duration::minutes(length.minutes);
    let sealed = Encrypted::seal(keyring, &reason_context(&public_id), &reason.to_owned())
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
        Ok(()) => super::notices::plan(permit.txn(), &public_id, request.starts_at, 0, now).await,
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
            record_refusal(
                db,
                now,
                caller,
                VERB,
                None,
                patient_public_id,
                &error.to_string(),
            )
            .await?;
            Err(error)
        }
    }
}

/// A unique violation on the holds means another booking got there first (on the allowance,
/// that the last included visit went to another booking of the same member).
fn taken(error: AppError) -> AppError {
    match error {
        AppError::Conflict(_) => VisitRefusal::JustTaken.into(),
        other => other,
    }
}

/// Time already booked between `from` and `to`, with each visit's buffer (for free slots).
pub async fn busy_between(
    db: &DatabaseConnection,
    schedule: &Schedule,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<super::availability::Busy>, AppError> {
    // Only the times and the kind: the rows' sealed reasons are not needed here.
    let rows: Vec<(DateTime<Utc>, DateTime<Utc>, VisitType)> = appointment::Entity::find()
        .select_only()
        .column(appointment::Column::StartsAt)
        .column(appointment::Column::EndsAt)
        .column(appointment::Column::VisitType)
        .filter(appointment::Column::Status.is_in([
            status::BOOKED,
            status::COMPLETED,
            status::OFFERED,
        ]))
        .filter(appointment::Column::StartsAt.lt(to))
        .filter(appointment::Column::EndsAt.gt(from - Duration::hours(6)))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(starts_at, ends_at, visit_type)| {
            let buffer = schedule
                .length_of(visit_type)
                .map_or(0, |l| l.buffer_minutes);
            super::availability::Busy {
                starts_at,
                ends_at: ends_at + Duration::minutes(buffer),
            }
        })
        .collect())
}

fn minute_time(minute: i32) -> Option<chrono::NaiveTime> {
    let seconds = u32::try_from(minute).ok()?.checked_mul(60)?;
    chrono::NaiveTime::from_num_seconds_from_midnight_opt(seconds.min(86_399), 0)
}

/// The practice's time zone (the schedule's), UTC until a schedule is set up.
pub async fn practice_time_zone(
    db: &impl sea_orm::ConnectionTrait,
) -> Result<chrono_tz::Tz, AppError> {
    use super::entity::schedule_setting;
    Ok(schedule_setting::Entity::find_by_id(1)
        .one(db)
        .await?
        .and_then(|s| s.time_zone.parse().ok())
        .unwrap_or(chrono_tz::UTC))
}

/// The stored schedule, if the practice has set one up.
pub async fn load_schedule(
    db: &impl sea_orm::ConnectionTrait,
) -> Result<Option<Schedule>, AppError> {
    use super::entity::schedule_setting;
    match schedule_setting::Entity::find_by_id(1).one(db).await? {
        Some(setting) => Ok(Some(schedule_of(db, &setting).await?)),
        None => Ok(None),
    }
}

/// The schedule kept in memory while the database says it is current: one small read
/// (`schedule_setting`, whose `revision` the database raises on every change to hours, visit
/// lengths or days off) instead of four. Shared by a server's requests.
#[derive(Debug, Clone, Default)]
pub struct ScheduleCache {
    current: std::sync::Arc<std::sync::Mutex<Option<CachedSchedule>>>,
}

#[derive(Debug)]
struct CachedSchedule {
    revision: i64,
    time_zone: String,
    schedule: std::sync::Arc<Schedule>,
}

impl ScheduleCache {
    /// The stored schedule (as [`load_schedule`]), from memory when nothing changed since.
    pub async fn load(
        &self,
        db: &impl sea_orm::ConnectionTrait,
    ) -> Result<Option<std::sync::Arc<Schedule>>, AppError> {
        use super::entity::schedule_setting;
        let Some(setting) = schedule_setting::Entity::find_by_id(1).one(db).await? else {
            return Ok(None);
        };
        if let Some(cached) = self
            .lock()
            .as_ref()
            .filter(|c| c.revision == setting.revision && c.time_zone == setting.time_zone)
        {
            return Ok(Some(cached.schedule.clone()));
        }
        // Read after the revision: what is loaded is at least that current, so keeping it
        // under that revision can only cause one more load, never a stale schedule.
        let schedule = std::sync::Arc::new(schedule_of(db, &setting).await?);
        *self.lock() = Some(CachedSchedule {
            revision: setting.revision,
            time_zone: setting.time_zone,
            schedule: schedule.clone(),
        });
        Ok(Some(schedule))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<CachedSchedule>> {
        self.current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The hours, visit lengths and days off of the schedule whose setting is `setting`.
async fn schedule_of(
    db: &impl sea_orm::ConnectionTrait,
    setting: &super::entity::schedule_setting::Model,
) -> Result<Schedule, AppError> {
    use super::availability::{DateException, VisitLength, WeeklyHours};
    use super::entity::{schedule_exception, visit_length, weekly_hours};
    let time_zone: chrono_tz::Tz = setting
        .time_zone
        .parse()
        .map_err(|_| AppError::internal(format_args!("unknown time zone {}", setting.time_zone)))?;
    let lengths = visit_length::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|row| VisitLength {
            visit_type: row.visit_type,
            minutes: i64::from(row.minutes),
            buffer_minutes: i64::from(row.buffer_minutes),
        })
        .collect();
    let hours = weekly_hours::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .filter_map(|row| {
            Some(WeeklyHours {
                visit_type: row.visit_type,
                weekday: chrono::Weekday::try_from(u8::try_from(row.weekday).ok()?).ok()?,
                start: minute_time(row.start_minute)?,
                end: minute_time(row.end_minute)?,
            })
        })
        .collect();
    let exceptions = schedule_exception::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .filter_map(|row| match row.kind.as_str() {
            "closed" => Some(DateException::Closed { date: row.on_date }),
            "extra_hours" => Some(DateException::ExtraHours {
                date: row.on_date,
                visit_type: row.visit_type?,
                start: minute_time(row.start_minute?)?,
                end: minute_time(row.end_minute?)?,
            }),
            _ => None,
        })
        .collect();
    Ok(Schedule {
        time_zone,
        hours,
        lengths,
        exceptions,
    })
}

/// How far ahead patients may book, and how soon.
pub const BOOKING_DAYS: i64 = 14;
pub const MINIMUM_NOTICE_HOURS: i64 = 2;

/// The membership's terms for booking `visit_type` now, and the days its tier books.
async fn booking_terms(
    db: &DatabaseConnection,
    patient_id: i32,
    visit_type: VisitType,
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> Result<
    (
        super::model::BookingTerms,
        Option<(chrono::NaiveDate, chrono::NaiveDate)>,
    ),
    AppError,
> {
    use super::model::BookingTerms;
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
    db: &DatabaseConnection,
    schedule: &Schedule,
    visit_type: VisitType,
    now: DateTime<Utc>,
    from: Option<chrono::NaiveDate>,
    patient_id: Option<i32>,
    shown_in: chrono_tz::Tz,
) -> Result<super::model::BookingOptions, AppError> {
    use super::model::{BookingOptions, BookingTerms, DaySlots, SlotOption};
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
        super::availability::instant(tz, first.and_time(chrono::NaiveTime::MIN)).unwrap_or(now)
    };
    let busy = busy_between(
        db,
        schedule,
        window_start,
        window_start + Duration::days(BOOKING_DAYS + 1),
    )
    .await?;
    let slots = super::availability::free_slots(
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
                    super::availability::instant(tz, *local).is_some_and(|at| at >= not_before)
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

/// A patient's visits, upcoming and from the past year (one audited read: the list names them).
pub async fn my_visits(
    db: &DatabaseConnection,
    schedule: &Schedule,
    now: DateTime<Utc>,
    caller: &Caller,
    patient_id: i32,
    patient_public_id: &str,
    shown_in: chrono_tz::Tz,
) -> Result<super::model::VisitHistory, AppError> {
    use super::model::{PastVisit, VisitHistory, VisitSummary};
    use sea_orm::{QueryOrder, QuerySelect};
    let permit = guard::permit(
        db,
        now,
        caller,
        Action::Read,
        Resource::Appointments { patient_id },
        Some(patient_public_id.to_owned()),
        "appointments.list",
    )
    .await?;
    let upcoming = appointment::Entity::find()
        .filter(appointment::Column::PatientId.eq(patient_id))
        .filter(appointment::Column::Status.eq(status::BOOKED))
        .filter(appointment::Column::EndsAt.gt(now))
        .order_by_asc(appointment::Column::StartsAt)
        .all(permit.txn())
        .await?;
    let past = appointment::Entity::find()
        .filter(appointment::Column::PatientId.eq(patient_id))
        .filter(
            sea_orm::Condition::any()
                .add(appointment::Column::Status.is_in([status::CANCELLED, status::COMPLETED]))
                .add(
                    sea_orm::Condition::all()
                        .add(appointment::Column::Status.eq(status::BOOKED))
                        .add(appointment::Column::EndsAt.lte(now)),
                ),
        )
        .filter(appointment::Column::StartsAt.gt(now - Duration::days(365)))
        .order_by_desc(appointment::Column::StartsAt)
        .limit(20)
        .all(permit.txn())
        .await?;
    // Inside 24 hours the page states the late terms before the patient confirms.
    let mut late = std::collections::HashMap::new();
    for row in &upcoming {
        if super::model::cancellation_terms(row.starts_at, now)
            == super::model::CancellationTerms::Late
        {
            let (effect, allowance_count) = late_terms_of(permit.txn(), row).await?;
            late.insert(
                row.id,
                (
                    benefits::late_terms(effect, allowance_count),
                    benefits::late_token(effect),
                ),
            );
        }
    }
    let waitlist =
        super::waitlist::entries_of(permit.txn(), patient_id, now, schedule, shown_in).await?;
    permit.commit().await?;
    let local = |at: DateTime<Utc>| at.with_timezone(&shown_in);
    // Another zone than the practice's is named with each time.
    let zone = if shown_in == schedule.time_zone {
        String::new()
    } else {
        format!(" ({})", zone_label(shown_in))
    };
    Ok(VisitHistory {
        waitlist,
        upcoming: upcoming
            .into_iter()
            .map(|row| {
                let (late_terms, late_token) = late.remove(&row.id).unzip();
                let coverage = allowance::coverage_of(&row)?;
                Ok(VisitSummary {
                    visit_type: row.visit_type,
                    when: format!(
                        "{}{zone}",
                        local(row.starts_at).format("%A, %B %-d at %-I:%M %P")
                    ),
                    starts_at: row.starts_at,
                    cancellation: super::model::cancellation_terms(row.starts_at, now),
                    fee_note: match coverage {
                        benefits::Coverage::Fee(cents) => Some(format!(
                            "{} visit fee, billed after the visit",
                            crate::site::model::format_usd(cents)
                        )),
                        benefits::Coverage::Included => None,
                    },
                    late_terms,
                    late_token,
                    public_id: row.public_id,
                })
            })
            .collect::<Result<_, AppError>>()?,
        past: past
            .into_iter()
            .map(|row| PastVisit {
                visit_type: row.visit_type,
                when: format!(
                    "{}{zone}",
                    local(row.starts_at).format("%A, %B %-d, %Y at %-I:%M %P")
                ),
                cancelled: row.status == status::CANCELLED,
                note: row.late_outcome.as_deref().map(|outcome| {
                    match outcome {
                        "late_fee" => "Cancelled late: late-cancellation fee",
                        "visit_fee" => "Cancelled late: the visit fee applies",
                        "counted" => "Cancelled late: counted as a visit",
                        _ => "Cancelled late",
                    }
                    .to_owned()
                }),
            })
            .collect(),
    })
}

/// "Eastern Time" for the zones of the practice's country, the IANA name elsewhere.
pub fn zone_label(tz: chrono_tz::Tz) -> String {
    match tz.name() {
        "America/Detroit" => "Eastern Time".into(),
        "America/Phoenix" => "Mountain Time".into(),
        name => super::model::TIME_ZONES
            .iter()
            .find(|(zone, _)| *zone == name)
            .map(|(_, label)| (*label).to_owned())
            .unwrap_or_else(|| name.replace('_', " ")),
    }
}

/// The zone `user_id` sees times in: their own when they chose one, else the practice's.
pub async fn viewer_zone(
    db: &impl sea_orm::ConnectionTrait,
    user_id: i32,
    practice: chrono_tz::Tz,
) -> Result<chrono_tz::Tz, AppError> {
    use crate::auth::entity::user_account;
    Ok(user_account::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .and_then(|u| u.time_zone)
        .and_then(|zone| zone.parse().ok())
        .unwrap_or(practice))
}

/// Keeps `zone` (an IANA name) as the zone `user_id` sees times in; the practice's zone or an
/// empty value goes back to following the practice.
pub async fn set_viewer_zone(
    db: &impl sea_orm::ConnectionTrait,
    user_id: i32,
    zone: &str,
) -> Result<(), AppError> {
    use crate::auth::entity::user_account;
    let zone = zone.trim();
    let stored = if zone.is_empty() {
        None
    } else {
        let parsed: chrono_tz::Tz = zone.parse().map_err(|_| {
            let mut errors = FieldErrors::default();
            errors.add("time_zone", "Please choose one of the time zones listed.");
            AppError::Validation(errors)
        })?;
        Some(parsed.name().to_owned())
    };
    user_account::Entity::update_many()
        .col_expr(user_account::Column::TimeZone, stored.into())
        .filter(user_account::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// The physician's agenda from today for `days` days: every booked visit with its patient and
/// reason. One audit entry per patient shown, in the read's transaction (P9).
pub async fn agenda(
    db: &DatabaseConnection,
    keyring: &Keyring,
    schedule: &Schedule,
    now: DateTime<Utc>,
    caller: &Caller,
    first_day: chrono::NaiveDate,
    days: i64,
) -> Result<Vec<super::model::AgendaDay>, AppError> {
    use super::model::{AgendaDay, AgendaItem};
    let tz = schedule.time_zone;
    let today = now.with_timezone(&tz).date_naive();
    let midnight = |date: chrono::NaiveDate| {
        super::availability::instant(tz, date.and_time(chrono::NaiveTime::MIN))
            .or_else(|| {
                // A zone whose midnight is skipped by a clock change starts the day at 1:00.
                super::availability::instant(tz, date.and_hms_opt(1, 0, 0)?)
            })
            .unwrap_or(now)
    };
    let from = midnight(first_day);
    let to = midnight(first_day + Duration::days(days));
    let permit = guard::permit(
        db,
        now,
        caller,
        Action::Read,
        Resource::Agenda,
        None,
        "agenda.read",
    )
    .await?;
    let rows = appointment::Entity::find()
        .filter(appointment::Column::Status.is_in([status::BOOKED, status::COMPLETED]))
        .filter(appointment::Column::StartsAt.gte(from))
        .filter(appointment::Column::StartsAt.lt(to))
        .all(permit.txn())
        .await?;
    let patient_ids: Vec<i32> = rows.iter().map(|r| r.patient_id).collect();
    let patients: std::collections::HashMap<i32, patient::Model> = patient::Entity::find()
        .filter(patient::Column::Id.is_in(patient_ids))
        .all(permit.txn())
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    for row in &rows {
        if let Some(p) = patients.get(&row.patient_id) {
            if seen.insert(p.public_id.clone()) {
                let event = audit::event(
                    Some(caller.audit_actor()),
                    "appointments.read",
                    "appointments",
                    None,
                    Some(p.public_id.clone()),
                    Outcome::Allowed,
                );
                audit::record(permit.txn(), &caller.seal, now, &caller.client, &event).await?;
            }
        }
    }
    let mut items: Vec<AgendaItem> = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(patient) = patients.get(&row.patient_id) else {
            continue;
        };
        let visit_type = row.visit_type;
        let reason = row
            .reason
            .open(keyring, &reason_context(&row.public_id))
            .map_err(|e| {
                AppError::internal(format_args!("opening appointment {}: {e}", row.public_id))
            })?;
        let (start, end) = (
            row.starts_at.with_timezone(&tz),
            row.ends_at.with_timezone(&tz),
        );
        items.push(AgendaItem {
            starts_at: row.starts_at,
            time: format!(
                "{} – {}",
                start.format("%-I:%M %P"),
                end.format("%-I:%M %P")
            ),
            patient_public_id: patient.public_id.clone(),
            patient_name: crate::patients::service::legal_name(keyring, patient)?,
            visit_type,
            reason,
            can_complete: row.status == status::BOOKED
                && now >= row.starts_at
                && crate::auth::policy::can(
                    &caller.actor,
                    Action::Write,
                    &Resource::PatientChart {
                        patient_id: row.patient_id,
                    },
                ),
            completed: row.status == status::COMPLETED,
            public_id: row.public_id.clone(),
        });
    }
    permit.commit().await?;
    items.sort_by_key(|i| i.starts_at);
    let mut days_out: Vec<AgendaDay> = Vec::new();
    for item in items {
        let date = item.starts_at.with_timezone(&tz).date_naive();
        let label = if date == today {
            format!("Today, {}", date.format("%A, %B %-d"))
        } else {
            date.format("%A, %B %-d").to_string()
        };
        match days_out.last_mut() {
            Some(day) if day.day == label => day.visits.push(item),
            _ => days_out.push(AgendaDay {
                day: label,
                visits: vec![item],
            }),
        }
    }
    Ok(days_out)
}

fn clock_label(minute: i32) -> String {
    minute_time(minute).map_or_else(String::new, |t| t.format("%-I:%M %P").to_string())
}

const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// The schedule for its settings page (physician and staff).
pub async fn schedule_view(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    caller: &Caller,
) -> Result<super::model::ScheduleView, AppError> {
    use super::entity::{schedule_exception, schedule_setting, weekly_hours};
    use super::model::{DayOffRow, HoursRow, LengthRow, ScheduleView};
    use sea_orm::QueryOrder;
    let permit = guard::permit(
        db,
        now,
        caller,
        Action::Read,
        Resource::Schedule,
        None,
        "schedule.read",
    )
    .await?;
    let time_zone = schedule_setting::Entity::find_by_id(1)
        .one(permit.txn())
        .await?
        .map_or_else(|| "not set".to_owned(), |s| s.time_zone);
    let hours = weekly_hours::Entity::find()
        .order_by_asc(weekly_hours::Column::VisitType)
        .order_by_asc(weekly_hours::Column::Weekday)
        .order_by_asc(weekly_hours::Column::StartMinute)
        .all(permit.txn())
        .await?
        .into_iter()
        .filter_map(|row| {
            Some(HoursRow {
                id: row.id,
                visit_type: row.visit_type,
                weekday: WEEKDAYS
                    .get(usize::try_from(row.weekday).ok()?)?
                    .to_string(),
                time: format!(
                    "{} – {}",
                    clock_label(row.start_minute),
                    clock_label(row.end_minute)
                ),
            })
        })
        .collect();
    let today = now.date_naive() - Duration::days(1);
    let exceptions = schedule_exception::Entity::find()
        .filter(schedule_exception::Column::OnDate.gte(today))
        .order_by_asc(schedule_exception::Column::OnDate)
        .order_by_asc(schedule_exception::Column::StartMinute)
        .all(permit.txn())
        .await?;
    let mut days_off = Vec::new();
    let mut extra_hours = Vec::new();
    for row in exceptions {
        let label = row.on_date.format("%A, %B %-d, %Y").to_string();
        match row.kind.as_str() {
            "closed" => days_off.push(DayOffRow {
                id: row.id,
                date: row.on_date,
                label,
                note: row.note,
            }),
            "extra_hours" => {
                let kind = row.visit_type.map_or("Visits", VisitType::label);
                extra_hours.push(DayOffRow {
                    id: row.id,
                    date: row.on_date,
                    label,
                    note: Some(format!(
                        "{kind} · {} – {}",
                        clock_label(row.start_minute.unwrap_or(0)),
                        clock_label(row.end_minute.unwrap_or(0))
                    )),
                });
            }
            _ => {}
        }
    }
    let mut lengths: Vec<LengthRow> = super::entity::visit_length::Entity::find()
        .all(permit.txn())
        .await?
        .into_iter()
        .map(|row| LengthRow {
            visit_type: row.visit_type,
            minutes: row.minutes,
            buffer_minutes: row.buffer_minutes,
        })
        .collect();
    lengths.sort_by_key(|l| l.visit_type);
    permit.commit().await?;
    Ok(ScheduleView {
        time_zone,
        hours,
        days_off,
        extra_hours,
        lengths,
        can_edit: crate::auth::can(&caller.actor, Action::Write, &Resource::Schedule),
    })
}

/// A change to the schedule, from its settings page.
#[derive(Debug, Clone)]
pub enum ScheduleChange {
    AddHours {
        visit_type: VisitType,
        weekday: i16,
        start: String,
        end: String,
    },
    RemoveHours {
        id: i32,
    },
    AddDayOff {
        date: String,
        note: String,
    },
    RemoveDayOff {
        id: i32,
    },
    /// Hours on one date only (a Saturday clinic), on top of the weekly hours.
    AddExtraHours {
        visit_type: VisitType,
        date: String,
        start: String,
        end: String,
    },
    RemoveExtraHours {
        id: i32,
    },
    /// How long a kind of visit lasts and the pause after it (new bookings only).
    SetLength {
        visit_type: VisitType,
        minutes: String,
        buffer_minutes: String,
    },
}

/// Applies `change` (physician only), audited; input that does not fit is refused with its
/// [`ScheduleProblem`](super::model::ScheduleProblem).
pub async fn change_schedule(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    caller: &Caller,
    change: &ScheduleChange,
) -> Result<(), AppError> {
    use super::entity::{schedule_exception, weekly_hours};
    use super::model::{parse_minutes, ScheduleProblem};
    let hours = |start: &str, end: &str| match (parse_minutes(start)?, parse_minutes(end)?) {
        (start, end) if start < end => Ok((start, end)),
        _ => Err(ScheduleProblem::EndBeforeStart),
    };
    let checked = match change {
        ScheduleChange::AddHours {
            weekday,
            start,
            end,
            ..
        } => {
            if !(0..7).contains(weekday) {
                return Err(ScheduleProblem::Weekday.into());
            }
            Some(hours(start, end)?)
        }
        ScheduleChange::AddDayOff { date, .. } => {
            check_future_date(db, now, date).await?;
            None
        }
        ScheduleChange::AddExtraHours {
            date, start, end, ..
        } => {
            check_future_date(db, now, date).await?;
            Some(hours(start, end)?)
        }
        ScheduleChange::SetLength {
            minutes,
            buffer_minutes,
            ..
        } => {
            let five = |text: &str, min: i32, max: i32| {
                text.trim()
                    .parse::<i32>()
                    .ok()
                    .filter(|m| (min..=max).contains(m) && m % 5 == 0)
            };
            let minutes = five(minutes, 5, 240).ok_or(ScheduleProblem::VisitLength)?;
            let buffer = five(buffer_minutes, 0, 120).ok_or(ScheduleProblem::Pause)?;
            Some((minutes, buffer))
        }
        ScheduleChange::RemoveHours { .. }
        | ScheduleChange::RemoveDayOff { .. }
        | ScheduleChange::RemoveExtraHours { .. } => None,
    };
    let permit = guard::permit(
        db,
        now,
        caller,
        Action::Write,
        Resource::Schedule,
        None,
        "schedule.update",
    )
    .await?;
    match change {
        ScheduleChange::AddHours {
            visit_type,
            weekday,
            ..
        } => {
            let (start, end) = checked.unwrap_or_default();
            let overlapping = weekly_hours::Entity::find()
                .filter(weekly_hours::Column::VisitType.eq(*visit_type))
                .filter(weekly_hours::Column::Weekday.eq(*weekday))
                .filter(weekly_hours::Column::StartMinute.lt(end))
                .filter(weekly_hours::Column::EndMinute.gt(start))
                .one(permit.txn())
                .await?;
            if overlapping.is_some() {
                return Err(ScheduleProblem::Overlap.into());
            }
            weekly_hours::ActiveModel {
                visit_type: Set(*visit_type),
                weekday: Set(*weekday),
                start_minute: Set(start),
                end_minute: Set(end),
                ..Default::default()
            }
            .insert(permit.txn())
            .await?;
        }
        ScheduleChange::RemoveHours { id } => {
            weekly_hours::Entity::delete_by_id(*id)
                .exec(permit.txn())
                .await?;
        }
        ScheduleChange::AddDayOff { date, note } => {
            let day = chrono::NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
                .map_err(|_| AppError::internal("a checked date did not parse"))?;
            let note = note.trim();
            schedule_exception::ActiveModel {
                on_date: Set(day),
                kind: Set("closed".into()),
                note: Set((!note.is_empty()).then(|| note.chars().take(200).collect())),
                ..Default::default()
            }
            .insert(permit.txn())
            .await?;
        }
        ScheduleChange::RemoveDayOff { id } | ScheduleChange::RemoveExtraHours { id } => {
            schedule_exception::Entity::delete_by_id(*id)
                .exec(permit.txn())
                .await?;
        }
        ScheduleChange::AddExtraHours {
            visit_type, date, ..
        } => {
            let day = chrono::NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
                .map_err(|_| AppError::internal("a checked date did not parse"))?;
            let (start, end) = checked.unwrap_or_default();
            schedule_exception::ActiveModel {
                on_date: Set(day),
                kind: Set("extra_hours".into()),
                visit_type: Set(Some(*visit_type)),
                start_minute: Set(Some(start)),
                end_minute: Set(Some(end)),
                note: Set(None),
                ..Default::default()
            }
            .insert(permit.txn())
            .await?;
        }
        ScheduleChange::SetLength { visit_type, .. } => {
            use super::entity::visit_length;
            let (minutes, buffer) = checked.unwrap_or((30, 0));
            let row = visit_length::ActiveModel {
                visit_type: Set(*visit_type),
                minutes: Set(minutes),
                buffer_minutes: Set(buffer),
            };
            visit_length::Entity::insert(row)
                .on_conflict(
                    sea_orm::sea_query::OnConflict::column(visit_length::Column::VisitType)
                        .update_columns([
                            visit_length::Column::Minutes,
                            visit_length::Column::BufferMinutes,
                        ])
                        .to_owned(),
                )
                .exec(permit.txn())
                .await?;
        }
    }
    permit.commit().await
}

/// A date of today or later in the practice's time zone (not UTC's: a US evening is already
/// tomorrow in UTC).
async fn check_future_date(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    date: &str,
) -> Result<(), AppError> {
    use super::model::ScheduleProblem;
    let today = match load_schedule(db).await? {
        Some(schedule) => now.with_timezone(&schedule.time_zone).date_naive(),
        None => now.date_naive(),
    };
    match chrono::NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d") {
        Ok(day) if day < today => Err(ScheduleProblem::PastDate.into()),
        Ok(_) => Ok(()),
        Err(_) => Err(ScheduleProblem::Date.into()),
    }
}

/// The late-cancellation terms of a visit: what its tier's policy would do now, in words, and
/// the token a confirmation must carry.
pub async fn late_terms_of(
    conn: &impl sea_orm::ConnectionTrait,
    row: &appointment::Model,
) -> Result<(benefits::LateEffect, Option<i32>), AppError> {
    let membership = allowance::membership_of_patient(conn, row.patient_id).await?;
    let tier = match &membership {
        Some(m) => crate::site::entity::membership_tier::Entity::find_by_id(m.tier_id)
            .one(conn)
            .await?
            .map(|t| allowance::rules_of(&t)),
        None => None,
    };
    let policy = tier
        .as_ref()
        .map(|t| t.late_policy)
        .unwrap_or(benefits::LatePolicy::Counted);
    let holds = allowance::holds_allowance(conn, row.id).await?;
    Ok((
        benefits::late_effect(policy, allowance::coverage_of(row)?, holds),
        tier.and_then(|t| t.visits_per_year),
    ))
}

/// Cancels a booked visit. Up to 24 hours before it: free, the included visit given back and
/// the time released at once. Inside 24 hours: the tier's late policy, exactly (P3), and only
/// when `accept_late` is the token of the terms the patient was shown
/// ([`benefits::late_token`]); otherwise nothing changes and the terms come back as a conflict.
pub async fn cancel(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    caller: &Caller,
    appointment_public_id: &str,
    accept_late: Option<&str>,
) -> Result<Cancelled, AppError> {
    use super::model::{cancellation_terms, CancellationTerms};
    const VERB: &str = "appointment.cancel";
    let (row, patient, permit) =
        open_visit(db, now, caller, appointment_public_id, VERB, |patient_id| {
            Resource::Appointments { patient_id }
        })
        .await?;
    let terms = cancellation_terms(row.starts_at, now);
    let late = match (row.status == status::BOOKED, terms) {
        (true, CancellationTerms::Free) => None,
        (true, CancellationTerms::Late) => {
            let (effect, allowance_count) = late_terms_of(permit.txn(), &row).await?;
            let token = benefits::late_token(effect);
            if accept_late == Some(token.as_str()) {
                Some(effect)
            } else {
                let terms = benefits::late_terms(effect, allowance_count);
                drop(permit);
                let refusal = VisitRefusal::LateTerms { terms };
                return Err(refusal_recorded(db, now, caller, VERB, &row, &patient, refusal).await);
            }
        }
        (true, CancellationTerms::Started) | (false, _) => {
            let refusal = if row.status == status::BOOKED {
                VisitRefusal::Started
            } else {
                not_booked(&row.status)
            };
            // Nothing changes; the attempt is recorded on its own (the permit's entry rolls back).
            drop(permit);
            return Err(refusal_recorded(db, now, caller, VERB, &row, &patient, refusal).await);
        }
    };
    let id = row.id;
    let freed_start = row.starts_at;
    // Its reminders are withdrawn with it (and delivery re-checks the status anyway).
    super::notices::withdraw(permit.txn(), &row.public_id, row.starts_at).await?;
    let mut charge_job = None;
    match late {
        None => {
            allowance::release(permit.txn(), id).await?;
        }
        Some(effect) => {
            if !effect.keeps_allowance {
                allowance::release(permit.txn(), id).await?;
            }
            if let Some(charge) = effect.charge {
                match allowance::membership_of_patient(permit.txn(), row.patient_id).await? {
                    Some(membership) => {
                        let tz = practice_time_zone(permit.txn()).await?;
                        charge_job = Some(
                            allowance::record_charge(
                                permit.txn(),
                                membership.id,
                                &row,
                                charge,
                                tz,
                                now,
                            )
                            .await?,
                        );
                    }
                    None => tracing::warn!(
                        appointment = %row.public_id,
                        "a late charge without a membership to bill it to"
                    ),
                }
            }
        }
    }
    let outcome = late.map(|effect| match effect.charge {
        Some(charge) => charge.kind().to_owned(),
        None if effect.keeps_allowance => "counted".to_owned(),
        None => "recorded".to_owned(),
    });
    let mut active: appointment::ActiveModel = row.into();
    active.status = Set(status::CANCELLED);
    active.cancelled_at = Set(Some(now));
    active.late_outcome = Set(outcome);
    active.update(permit.txn()).await?;
    // The time is free again at once.
    appointment_hold::Entity::delete_many()
        .filter(appointment_hold::Column::AppointmentId.eq(id))
        .exec(permit.txn())
        .await?;
    permit.commit().await?;
    Ok(Cancelled {
        late: late.is_some(),
        charge_job,
        freed: freed_start,
    })
}

/// What a cancellation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cancelled {
    /// Inside 24 hours: the late policy applied.
    pub late: bool,
    /// The job that sends a late charge to the processor (the request runs it at once).
    pub charge_job: Option<i32>,
    /// When the freed time starts (the waitlist for that day is offered it).
    pub freed: DateTime<Utc>,
}

/// Moves a booked visit to `new_start` (same kind of visit), on the same terms as cancelling:
/// free up to 24 hours before the current start. The old time is released and the new one
/// held in one transaction (the holds' constraint decides a race, P2); the reminders of the old
/// start are withdrawn and the new start's planned, with a "moved" email first.
pub async fn reschedule(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    caller: &Caller,
    schedule: &Schedule,
    appointment_public_id: &str,
    new_start: DateTime<Utc>,
) -> Result<MovedVisit, AppError> {
    const VERB: &str = "appointment.reschedule";
    let (row, patient, permit) =
        open_visit(db, now, caller, appointment_public_id, VERB, |patient_id| {
            Resource::Appointments { patient_id }
        })
        .await?;
    let visit_type = row.visit_type;
    if let Some(refusal) = why_not_moved_online(&row, now) {
        drop(permit);
        return Err(refusal_recorded(db, now, caller, VERB, &row, &patient, refusal).await);
    }
    let length = schedule
        .length_of(visit_type)
        .ok_or_else(|| AppError::NotFound("That kind of visit".into()))?;
    // The tier's booking window applies to the new time as to a new booking.
    let standing = allowance::standing(permit.txn(), row.patient_id).await?;
    let tz = schedule.time_zone;
    if let Some(Err(refusal)) = standing.as_ref().map(|s| {
        benefits::within_window(
            &s.rules,
            now.with_timezone(&tz).date_naive(),
            new_start.with_timezone(&tz).date_naive(),
        )
    }) {
        drop(permit);
        return Err(refusal.into());
    }
    if new_start == row.starts_at || !offered(schedule, visit_type, new_start, now) {
        drop(permit);
        let mut errors = FieldErrors::default();
        errors.add("starts_at", NOT_OFFERED);
        return Err(AppError::Validation(errors));
    }
    let old_start = row.starts_at;
    let new_end = new_start + Duration::minutes(length.minutes);
    // Each move gets a higher calendar SEQUENCE: seconds since the booking.
    let sequence = (now - row.created_at).num_seconds().max(1);
    let public_id = row.public_id.clone();
    let moved = async {
        appointment_hold::Entity::delete_many()
            .filter(appointment_hold::Column::AppointmentId.eq(row.id))
            .exec(permit.txn())
            .await?;
        hold(
            permit.txn(),
            row.id,
            new_start,
            new_end + Duration::minutes(length.buffer_minutes),
        )
        .await?;
        // An included visit moved into another membership year is counted in that year.
        if let Some(standing) = &standing {
            let year = |at| benefits::year_start(standing.anchor(), at);
            if year(old_start) != year(new_start)
                && allowance::release(permit.txn(), row.id).await?
            {
                allowance::take(permit.txn(), standing, new_start, row.id).await?;
            }
        }
        let mut active: appointment::ActiveModel = row.into();
        active.starts_at = Set(new_start);
        active.ends_at = Set(new_end);
        active.update(permit.txn()).await?;
        Ok::<_, AppError>(())
    }
    .await;
    let planned = match moved {
        Ok(()) => match super::notices::withdraw(permit.txn(), &public_id, old_start).await {
            Ok(_) => super::notices::plan(permit.txn(), &public_id, new_start, sequence, now).await,
            Err(error) => Err(error),
        },
        Err(error) => Err(error),
    };
    match planned {
        Ok(first_job) => {
            permit.commit().await.map_err(taken)?;
            let booked = BookedVisit {
                public_id,
                visit_type,
                starts_at: new_start,
                ends_at: new_end,
                confirmation_job: first_job,
            };
            Ok(MovedVisit {
                booked,
                left: old_start,
            })
        }
        Err(err) => {
            drop(permit);
            let error = taken(err);
            record_refusal(
                db,
                now,
                caller,
                VERB,
                Some(public_id),
                &patient.public_id,
                &error.to_string(),
            )
            .await?;
            Err(error)
        }
    }
}

use super::service_messages::FOLLOW_UP_WEEKS;

/// The physician marks a visit that has started as completed (a clinical act: the policy's
/// chart write, which staff do not have). The patient gets the follow-up email (R10.4), and,
/// when `follow_up_weeks` is set, a suggested time to book in that many weeks (R10.5). Returns
/// the follow-up job's id (the request runs it at once).
pub async fn complete(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    caller: &Caller,
    appointment_public_id: &str,
    follow_up_weeks: Option<u32>,
) -> Result<i32, AppError> {
    const VERB: &str = "appointment.complete";
    let (row, patient, permit) =
        open_visit(db, now, caller, appointment_public_id, VERB, |patient_id| {
            Resource::PatientChart { patient_id }
        })
        .await?;
    let refusal = if row.status != status::BOOKED {
        Some(not_booked(&row.status))
    } else if now < row.starts_at {
        Some(VisitRefusal::NotStarted)
    } else if follow_up_weeks.is_some_and(|w| !FOLLOW_UP_WEEKS.contains(&w)) {
        Some(VisitRefusal::FollowUpInterval)
    } else {
        None
    };
    if let Some(refusal) = refusal {
        drop(permit);
        return Err(refusal_recorded(db, now, caller, VERB, &row, &patient, refusal).await);
    }
    let public_id = row.public_id.clone();
    let starts_at = row.starts_at;
    super::notices::withdraw(permit.txn(), &public_id, starts_at).await?;
    // A visit with a fee is charged once it has taken place.
    if let benefits::Coverage::Fee(cents) = allowance::coverage_of(&row)? {
        match allowance::membership_of_patient(permit.txn(), row.patient_id).await? {
            Some(membership) => {
                let tz = practice_time_zone(permit.txn()).await?;
                allowance::record_charge(
                    permit.txn(),
                    membership.id,
                    &row,
                    benefits::Charge::VisitFee(cents),
                    tz,
                    now,
                )
                .await?;
            }
            None => {
                tracing::warn!(appointment = %row.public_id, "a visit fee without a membership to bill it to")
            }
        }
    }
    let mut active: appointment::ActiveModel = row.into();
    active.status = Set(status::COMPLETED);
    active.update(permit.txn()).await?;
    let job =
        super::notices::plan_follow_up(permit.txn(), &public_id, starts_at, follow_up_weeks, now)
            .await?;
    permit.commit().await?;
    Ok(job)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_visit_holds_every_five_minute_unit_it_touches() {
        let start = DateTime::parse_from_rfc3339("2026-06-01T13:00:00Z")
            .expect("t")
            .with_timezone(&Utc);
        assert_eq!(units(start, start + Duration::minutes(30)).len(), 6);
        assert_eq!(units(start, start + Duration::minutes(31)).len(), 7);
        let odd = start + Duration::minutes(2);
        assert_eq!(units(odd, odd + Duration::minutes(5))[0], start);
    }
}
