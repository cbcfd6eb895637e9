//! The waitlist: a member waits for a day and a kind of visit. When a time on that day frees
//! up (a cancellation, a move, an offer let go), the first in line is offered the first free
//! time of their kind, held for them for [`HOLD_MINUTES`]: an `appointment` in status
//! `offered` with its holds, so the holds' constraint keeps everyone else off it (P2). They
//! book it (on their membership's terms, stated on the page) or let it go; an offer nobody
//! answers ends by a job, and the time goes to the next in line.

use super::allowance;
use super::availability::Schedule;
use super::benefits;
use super::entity::{appointment, appointment_hold, waitlist_entry};
use super::model::{VisitType, WaitlistItem};
use super::service::calendar::{self, status, BookedVisit, MINIMUM_NOTICE_HOURS};
use super::VisitRefusal;
use crate::auth::context::SignedIn;
use crate::auth::guard;
use crate::auth::{Action, Resource};
use crate::crypto::{Encrypted, Keyring};
use crate::jobs::{self, NewJob};
use crate::patients::entity::patient;
use crate::AppError;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};

/// How long a freed time is held for the patient it is offered to.
pub const HOLD_MINUTES: i64 = 30;

/// The job that ends an unanswered offer.
pub const EXPIRE_JOB_KIND: &str = "waitlist.expire";
/// The job that emails an offer.
pub const OFFER_EMAIL_JOB_KIND: &str = "waitlist.offer_email";

/// `waitlist_entry.status`, by the names the rules use.
pub mod entry_status {
    use super::super::model::WaitlistStatus;
    pub const WAITING: WaitlistStatus = WaitlistStatus::Waiting;
    pub const OFFERED: WaitlistStatus = WaitlistStatus::Offered;
    pub const BOOKED: WaitlistStatus = WaitlistStatus::Booked;
    pub const DECLINED: WaitlistStatus = WaitlistStatus::Declined;
    pub const EXPIRED: WaitlistStatus = WaitlistStatus::Expired;
    pub const WITHDRAWN: WaitlistStatus = WaitlistStatus::Withdrawn;
}

/// The payload of both waitlist jobs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryJob {
    pub entry: String,
    /// The held appointment the job is about (a later offer to the same entry is another).
    pub appointment: i32,
}

/// Puts the patient on the waitlist for `visit_type` on `day` (the practice's local day). A
/// member only, for a kind of visit their membership offers, within its booking window. Joining
/// twice is the same entry.
pub async fn join(
    me: &SignedIn,
    patient: &patient::Model,
    visit_type: VisitType,
    day: NaiveDate,
    schedule: &Schedule,
) -> Result<waitlist_entry::Model, AppError> {
    let (db, now) = (me.db(), me.now());
    let today = now.with_timezone(&schedule.time_zone).date_naive();
    let Some(standing) = allowance::standing(db, patient.id).await? else {
        return Err(benefits::Refusal::NoActiveMembership.into());
    };
    if day < today || schedule.local_starts(visit_type, day).is_empty() {
        return Err(AppError::field(
            "day",
            "Please choose one of the days listed: the practice offers this kind of visit then.",
        ));
    }
    if let Err(refusal) = benefits::within_window(&standing.rules, today, day) {
        return Err(refusal.into());
    }
    if let Err(refusal @ benefits::Refusal::NotIncluded { .. }) =
        benefits::quote(&standing.rules, visit_type, 0, "")
    {
        return Err(refusal.into());
    }
    let permit = guard::permit(
        db,
        now,
        &me.caller,
        Action::Write,
        Resource::Appointments {
            patient_id: patient.id,
        },
        Some(patient.public_id.clone()),
        "waitlist.join",
    )
    .await?;
    let existing = waitlist_entry::Entity::find()
        .filter(waitlist_entry::Column::PatientId.eq(patient.id))
        .filter(waitlist_entry::Column::VisitType.eq(visit_type))
        .filter(waitlist_entry::Column::Day.eq(day))
        .filter(
            waitlist_entry::Column::Status.is_in([entry_status::WAITING, entry_status::OFFERED]),
        )
        .one(permit.txn())
        .await?;
    let entry = match existing {
        Some(entry) => entry,
        None => {
            waitlist_entry::ActiveModel {
                public_id: Set(uuid::Uuid::new_v4().simple().to_string()),
                patient_id: Set(patient.id),
                visit_type: Set(visit_type),
                day: Set(day),
                status: Set(entry_status::WAITING.to_owned()),
                appointment_id: Set(None),
                offered_until: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(permit.txn())
            .await?
        }
    };
    permit.commit().await?;
    Ok(entry)
}

/// Offers a freed time to the waitlist of its day and sends the offers at once. A failure here
/// does not undo what freed the time: it is logged, and the next freed time tries again.
pub async fn offer_freed_and_send(me: &SignedIn, schedule: &Schedule, day: NaiveDate) {
    match offer_freed(me.db(), me.keyring(), me.now(), schedule, day).await {
        Ok(jobs) => {
            for job in jobs {
                me.run_soon(job, "waitlist offer");
            }
        }
        Err(error) => tracing::warn!(%error, %day, "could not offer a freed time to the waitlist"),
    }
}

/// After a time on `day` was freed: offers each kind of visit's first free time to the first
/// in line for it. Returns the email jobs to run now.
pub async fn offer_freed(
    db: &DatabaseConnection,
    keyring: &Keyring,
    now: DateTime<Utc>,
    schedule: &Schedule,
    day: NaiveDate,
) -> Result<Vec<i32>, AppError> {
    let mut jobs = Vec::new();
    for visit_type in VisitType::ALL {
        if let Some(job) = offer_next(db, keyring, now, schedule, day, visit_type).await? {
            jobs.push(job);
        }
    }
    Ok(jobs)
}

/// The days from today on that someone is waiting for (after a schedule change, each is offered
/// what it now has free).
pub async fn waiting_days(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    schedule: &Schedule,
) -> Result<Vec<NaiveDate>, AppError> {
    use sea_orm::QuerySelect;
    let today = now.with_timezone(&schedule.time_zone).date_naive();
    Ok(waitlist_entry::Entity::find()
        .select_only()
        .column(waitlist_entry::Column::Day)
        .distinct()
        .filter(waitlist_entry::Column::Status.eq(entry_status::WAITING))
        .filter(waitlist_entry::Column::Day.gte(today))
        .order_by_asc(waitlist_entry::Column::Day)
        .into_tuple()
        .all(db)
        .await?)
}

/// Offers the first free `visit_type` time on `day` to the first waiting patient, if both
/// exist. Returns the offer's email job.
pub async fn offer_next(
    db: &DatabaseConnection,
    keyring: &Keyring,
    now: DateTime<Utc>,
    schedule: &Schedule,
    day: NaiveDate,
    visit_type: VisitType,
) -> Result<Option<i32>, AppError> {
    // The first in line who can still take a time that day (their membership active and its
    // window open: an Essential member is not offered a time on the day itself); the others'
    // entries end, since their day can no longer be booked.
    let today = now.with_timezone(&schedule.time_zone).date_naive();
    let waiting = waitlist_entry::Entity::find()
        .filter(waitlist_entry::Column::Day.eq(day))
        .filter(waitlist_entry::Column::VisitType.eq(visit_type))
        .filter(waitlist_entry::Column::Status.eq(entry_status::WAITING))
        .order_by_asc(waitlist_entry::Column::Id)
        .all(db)
        .await?;
    let mut first = None;
    for entry in waiting {
        let can_book = match allowance::standing(db, entry.patient_id).await? {
            Some(standing) => benefits::within_window(&standing.rules, today, day).is_ok(),
            None => false,
        };
        if can_book {
            first = Some(entry);
            break;
        }
        waitlist_entry::Entity::update_many()
            .col_expr(waitlist_entry::Column::Status, entry_status::EXPIRED.into())
            .col_expr(waitlist_entry::Column::UpdatedAt, now.into())
            .filter(waitlist_entry::Column::Id.eq(entry.id))
            .filter(waitlist_entry::Column::Status.eq(entry_status::WAITING))
            .exec(db)
            .await?;
    }
    let Some(first) = first else {
        return Ok(None);
    };
    let Some(length) = schedule.length_of(visit_type) else {
        return Ok(None);
    };
    let tz = schedule.time_zone;
    let from =
        super::availability::instant(tz, day.and_time(chrono::NaiveTime::MIN)).unwrap_or(now);
    let busy = calendar::busy_between(db, schedule, from, from + Duration::days(2)).await?;
    let Some(slot) = super::availability::free_slots(
        schedule,
        visit_type,
        day,
        day,
        &busy,
        now + Duration::hours(MINIMUM_NOTICE_HOURS),
    )
    .into_iter()
    .next() else {
        return Ok(None);
    };
    let Some(patient) = patient::Entity::find_by_id(first.patient_id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let public_id = uuid::Uuid::new_v4().simple().to_string();
    let until = now + Duration::minutes(HOLD_MINUTES);
    let reason = Encrypted::seal(
        keyring,
        &calendar::reason_context(&public_id),
        &String::new(),
    )
    .map_err(|e| AppError::internal(format_args!("sealing: {e}")))?;
    let txn = db.begin().await?;
    let held = appointment::ActiveModel {
        public_id: Set(public_id.clone()),
        patient_id: Set(first.patient_id),
        visit_type: Set(visit_type),
        starts_at: Set(slot.starts_at),
        ends_at: Set(slot.ends_at),
        reason: Set(reason),
        status: Set(status::OFFERED.to_owned()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    if calendar::hold(
        &txn,
        held.id,
        slot.starts_at,
        slot.ends_at + Duration::minutes(length.buffer_minutes),
    )
    .await
    .is_err()
    {
        // Booked by someone else a moment ago: nothing to offer now.
        return Ok(None);
    }
    // Only a waiting entry is offered, once.
    let offered = waitlist_entry::Entity::update_many()
        .col_expr(waitlist_entry::Column::Status, entry_status::OFFERED.into())
        .col_expr(waitlist_entry::Column::AppointmentId, Some(held.id).into())
        .col_expr(waitlist_entry::Column::OfferedUntil, Some(until).into())
        .col_expr(waitlist_entry::Column::UpdatedAt, now.into())
        .filter(waitlist_entry::Column::Id.eq(first.id))
        .filter(waitlist_entry::Column::Status.eq(entry_status::WAITING))
        .exec(&txn)
        .await?;
    if offered.rows_affected != 1 {
        return Ok(None);
    }
    let payload = EntryJob {
        entry: first.public_id.clone(),
        appointment: held.id,
    };
    jobs::enqueue(
        &txn,
        NewJob {
            kind: EXPIRE_JOB_KIND,
            payload: &payload,
            run_at: until,
            dedupe_key: Some(format!("{EXPIRE_JOB_KIND}:{}:{}", first.public_id, held.id)),
            max_attempts: 20,
        },
        now,
    )
    .await?;
    let email = jobs::enqueue(
        &txn,
        NewJob {
            kind: OFFER_EMAIL_JOB_KIND,
            payload: &payload,
            run_at: now,
            dedupe_key: Some(format!(
                "{OFFER_EMAIL_JOB_KIND}:{}:{}",
                first.public_id, held.id
            )),
            max_attempts: 5,
        },
        now,
    )
    .await?;
    if let Some(user_id) = patient.user_id {
        let local = |at: DateTime<Utc>| at.with_timezone(&tz);
        crate::notifications::service::create(
            &txn,
            keyring,
            user_id,
            "A time opened up for you",
            &format!(
                "{} on {} is held for you until {}. Book it or let it go on My visits.",
                visit_type.label(),
                local(slot.starts_at).format("%A, %B %-d at %-I:%M %P"),
                local(until).format("%-I:%M %P")
            ),
            Some("/portal/visits#waitlist"),
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(Some(email))
}

/// Deletes a held time (the offer was declined or ran out).
async fn release(
    conn: &impl sea_orm::ConnectionTrait,
    entry: &waitlist_entry::Model,
    to: super::model::WaitlistStatus,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    waitlist_entry::Entity::update_many()
        .col_expr(waitlist_entry::Column::Status, to.into())
        .col_expr(waitlist_entry::Column::AppointmentId, None::<i32>.into())
        .col_expr(waitlist_entry::Column::UpdatedAt, now.into())
        .filter(waitlist_entry::Column::Id.eq(entry.id))
        .exec(conn)
        .await?;
    if let Some(held) = entry.appointment_id {
        appointment_hold::Entity::delete_many()
            .filter(appointment_hold::Column::AppointmentId.eq(held))
            .exec(conn)
            .await?;
        appointment::Entity::delete_many()
            .filter(appointment::Column::Id.eq(held))
            .filter(appointment::Column::Status.eq(status::OFFERED))
            .exec(conn)
            .await?;
    }
    Ok(())
}

/// A waitlist entry being changed: the entry, its patient, and the access the change runs in.
struct OpenEntry {
    entry: waitlist_entry::Model,
    patient: patient::Model,
    permit: guard::Permit,
}

/// The entry and its patient, with the policy's permit to change it.
async fn open_entry(
    me: &SignedIn,
    entry_public_id: &str,
    verb: &str,
) -> Result<OpenEntry, AppError> {
    let (db, now, caller) = (me.db(), me.now(), &me.caller);
    let Some(entry) = waitlist_entry::Entity::find()
        .filter(waitlist_entry::Column::PublicId.eq(entry_public_id))
        .one(db)
        .await?
    else {
        guard::record_missing(db, now, caller, verb, "waitlist", entry_public_id).await?;
        return Err(AppError::NotFound("That waitlist entry".into()));
    };
    let patient = patient::Entity::find_by_id(entry.patient_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("a waitlist entry without its patient"))?;
    let permit = guard::permit(
        db,
        now,
        caller,
        Action::Write,
        Resource::Appointments {
            patient_id: entry.patient_id,
        },
        Some(patient.public_id.clone()),
        verb,
    )
    .await?;
    Ok(OpenEntry {
        entry,
        patient,
        permit,
    })
}

/// A patient's answer to an offer: book it, with a reason and the fee they were shown.
#[derive(Debug, Clone, Copy)]
pub struct Acceptance<'a> {
    pub entry: &'a str,
    pub reason: &'a str,
    /// The fee on the page, when the visit has one.
    pub accepted_fee_cents: Option<i64>,
}

/// Books the time held for the patient, on their membership's terms.
pub async fn accept(
    me: &SignedIn,
    schedule: &Schedule,
    answer: Acceptance<'_>,
) -> Result<BookedVisit, AppError> {
    let Acceptance {
        entry: entry_public_id,
        reason,
        accepted_fee_cents,
    } = answer;
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(AppError::field(
            "reason",
            "Please tell the physician briefly what the visit is about (up to 500 characters).",
        ));
    }
    let now = me.now();
    let OpenEntry {
        entry,
        patient,
        permit,
    } = open_entry(me, entry_public_id, "waitlist.accept").await?;
    let held = match entry.appointment_id {
        Some(id) if entry.status == entry_status::OFFERED => {
            appointment::Entity::find_by_id(id)
                .one(permit.txn())
                .await?
        }
        _ => None,
    };
    let Some(held) = held.filter(|_| entry.offered_until.is_some_and(|until| until > now)) else {
        return Err(VisitRefusal::OfferGone.into());
    };
    let visit_type = held.visit_type;
    let Some(standing) = allowance::standing(permit.txn(), patient.id).await? else {
        return Err(benefits::Refusal::NoActiveMembership.into());
    };
    let quote = match allowance::quote(
        permit.txn(),
        &standing,
        visit_type,
        held.starts_at,
        now,
        schedule.time_zone,
    )
    .await?
    {
        Ok(quote) => quote,
        Err(refusal) => return Err(refusal.into()),
    };
    if let benefits::Coverage::Fee(cents) = quote.coverage {
        if accepted_fee_cents != Some(cents) {
            return Err(benefits::Refusal::FeeNotAccepted { terms: quote.terms }.into());
        }
    }
    let (coverage, fee_cents) = quote.coverage.columns();
    let sealed = Encrypted::seal(
        me.keyring(),
        &calendar::reason_context(&held.public_id),
        &reason.to_owned(),
    )
    .map_err(|e| AppError::internal(format_args!("sealing: {e}")))?;
    let mut row: appointment::ActiveModel = held.clone().into();
    row.status = Set(status::BOOKED.to_owned());
    row.reason = Set(sealed);
    row.coverage = Set(coverage.to_owned());
    row.fee_cents = Set(fee_cents);
    row.created_at = Set(now);
    row.update(permit.txn()).await?;
    if quote.uses_allowance {
        allowance::take(permit.txn(), &standing, held.starts_at, held.id).await?;
    }
    let confirmation_job =
        super::notices::plan(permit.txn(), &held.public_id, held.starts_at, 0, now).await?;
    waitlist_entry::Entity::update_many()
        .col_expr(waitlist_entry::Column::Status, entry_status::BOOKED.into())
        .col_expr(waitlist_entry::Column::UpdatedAt, now.into())
        .filter(waitlist_entry::Column::Id.eq(entry.id))
        .exec(permit.txn())
        .await?;
    permit.commit().await?;
    Ok(BookedVisit {
        public_id: held.public_id,
        visit_type,
        starts_at: held.starts_at,
        ends_at: held.ends_at,
        confirmation_job,
    })
}

/// The patient lets an offered time go, or leaves the waitlist. The time goes to the next in
/// line; returns that offer's email job.
pub async fn decline(
    me: &SignedIn,
    schedule: &Schedule,
    entry_public_id: &str,
) -> Result<Option<i32>, AppError> {
    let (db, keyring, now) = (me.db(), me.keyring(), me.now());
    let OpenEntry { entry, permit, .. } =
        open_entry(me, entry_public_id, "waitlist.decline").await?;
    let to = match entry.status {
        entry_status::OFFERED => entry_status::DECLINED,
        entry_status::WAITING => entry_status::WITHDRAWN,
        _ => {
            drop(permit);
            return Ok(None);
        }
    };
    release(permit.txn(), &entry, to, now).await?;
    permit.commit().await?;
    if to == entry_status::DECLINED {
        offer_next(db, keyring, now, schedule, entry.day, entry.visit_type).await
    } else {
        Ok(None)
    }
}

/// Ends an offer nobody answered in time (the `waitlist.expire` job) and offers the time to the
/// next in line. Returns that offer's email job.
pub async fn expire(
    db: &DatabaseConnection,
    keyring: &Keyring,
    now: DateTime<Utc>,
    schedule: &Schedule,
    job: &EntryJob,
) -> Result<Option<i32>, AppError> {
    let Some(entry) = waitlist_entry::Entity::find()
        .filter(waitlist_entry::Column::PublicId.eq(job.entry.as_str()))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let current = entry.status == entry_status::OFFERED
        && entry.appointment_id == Some(job.appointment)
        && entry.offered_until.is_some_and(|until| until <= now);
    if !current {
        return Ok(None);
    }
    let txn = db.begin().await?;
    release(&txn, &entry, entry_status::EXPIRED, now).await?;
    txn.commit().await?;
    offer_next(db, keyring, now, schedule, entry.day, entry.visit_type).await
}

/// The patient's current waitlist entries (waiting, or with a time held), soonest day first.
/// Read inside the visits list's audited read.
pub async fn entries_of(
    conn: &impl sea_orm::ConnectionTrait,
    patient_id: i32,
    now: DateTime<Utc>,
    schedule: &Schedule,
    shown_in: chrono_tz::Tz,
) -> Result<Vec<WaitlistItem>, AppError> {
    let today = now.with_timezone(&schedule.time_zone).date_naive();
    let entries = waitlist_entry::Entity::find()
        .filter(waitlist_entry::Column::PatientId.eq(patient_id))
        .filter(
            waitlist_entry::Column::Status.is_in([entry_status::WAITING, entry_status::OFFERED]),
        )
        .filter(waitlist_entry::Column::Day.gte(today))
        .order_by_asc(waitlist_entry::Column::Day)
        .all(conn)
        .await?;
    let standing = allowance::standing(conn, patient_id).await?;
    let mut out = Vec::new();
    for entry in entries {
        let visit_type = entry.visit_type;
        let held = match entry.appointment_id {
            Some(id) if entry.status == entry_status::OFFERED => {
                appointment::Entity::find_by_id(id).one(conn).await?
            }
            _ => None,
        };
        let mut item = WaitlistItem {
            public_id: entry.public_id.clone(),
            visit_type,
            day: entry.day.format("%A, %B %-d").to_string(),
            offered: None,
            held_until: None,
            terms: None,
            fee_cents: None,
        };
        if let (Some(held), Some(until)) = (held, entry.offered_until.filter(|u| *u > now)) {
            item.offered = Some(
                held.starts_at
                    .with_timezone(&shown_in)
                    .format("%A, %B %-d at %-I:%M %P")
                    .to_string(),
            );
            item.held_until = Some(
                until
                    .with_timezone(&shown_in)
                    .format("%-I:%M %P")
                    .to_string(),
            );
            if let Some(standing) = &standing {
                match allowance::quote(
                    conn,
                    standing,
                    visit_type,
                    held.starts_at,
                    now,
                    schedule.time_zone,
                )
                .await?
                {
                    Ok(quote) => {
                        item.terms = Some(quote.terms);
                        if let benefits::Coverage::Fee(cents) = quote.coverage {
                            item.fee_cents = Some(cents);
                        }
                    }
                    Err(refusal) => item.terms = Some(refusal.message()),
                }
            }
        }
        out.push(item);
    }
    Ok(out)
}
