//! What every rule about visits builds on: a visit's statuses, the five-minute units a visit
//! holds (their unique constraint makes booking atomic, P2), the time already taken, and how
//! far ahead and how soon patients book.

use crate::appointments::availability::Schedule;
use crate::appointments::entity::{appointment, appointment_hold};
use crate::appointments::model::VisitType;
use crate::crypto::FieldContext;
use crate::AppError;
use chrono::{DateTime, Duration, DurationRound, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set};

/// Where a visit is in its life (`appointment.status`), by the names the rules use.
pub mod status {
    use crate::appointments::model::VisitStatus;
    pub const BOOKED: VisitStatus = VisitStatus::Booked;
    pub const CANCELLED: VisitStatus = VisitStatus::Cancelled;
    pub const COMPLETED: VisitStatus = VisitStatus::Completed;
    pub const OFFERED: VisitStatus = VisitStatus::Offered;
}

/// The grain of the physician's time: holds are five-minute units.
pub const UNIT_MINUTES: i64 = 5;

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

/// Takes every unit of `[starts_at, until)` for `appointment_id`; fails on a unit already held.
pub(in crate::appointments) async fn hold(
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

/// A visit filed outside a person's request (the demo practice's week).
pub struct FiledVisit<'a> {
    pub patient_id: i32,
    pub visit_type: crate::appointments::VisitType,
    pub starts_at: DateTime<Utc>,
    pub minutes: i64,
    /// Kept free after it (the schedule's buffer for its kind).
    pub buffer_minutes: i64,
    pub reason: &'a str,
    pub status: crate::appointments::model::VisitStatus,
}

/// Files `visit` with the time it holds, as a booking would, without a person's request: the
/// demo practice's visits (an included visit of an unlimited membership; reminders are not
/// planned). Not audited as an access, because nobody booked anything.
pub async fn file_visit(
    db: &DatabaseConnection,
    keyring: &crate::crypto::Keyring,
    visit: &FiledVisit<'_>,
    now: DateTime<Utc>,
) -> Result<crate::appointments::entity::appointment::Model, AppError> {
    use crate::appointments::entity::appointment;
    use sea_orm::{ActiveModelTrait, TransactionTrait};
    let public_id = uuid::Uuid::new_v4().simple().to_string();
    let reason = crate::crypto::Encrypted::seal(
        keyring,
        &reason_context(&public_id),
        &visit.reason.to_owned(),
    )
    .map_err(|e| AppError::internal(format_args!("sealing: {e}")))?;
    let ends_at = visit.starts_at + Duration::minutes(visit.minutes);
    let txn = db.begin().await?;
    let row = appointment::ActiveModel {
        public_id: Set(public_id),
        patient_id: Set(visit.patient_id),
        visit_type: Set(visit.visit_type),
        starts_at: Set(visit.starts_at),
        ends_at: Set(ends_at),
        reason: Set(reason),
        status: Set(visit.status),
        created_at: Set(now.min(visit.starts_at - Duration::days(3))),
        coverage: Set("included".to_owned()),
        fee_cents: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    hold(
        &txn,
        row.id,
        visit.starts_at,
        ends_at + Duration::minutes(visit.buffer_minutes),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// Time already booked between `from` and `to`, with each visit's buffer (for free slots).
pub async fn busy_between(
    db: &DatabaseConnection,
    schedule: &Schedule,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<crate::appointments::availability::Busy>, AppError> {
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
            crate::appointments::availability::Busy {
                starts_at,
                ends_at: ends_at + Duration::minutes(buffer),
            }
        })
        .collect())
}

pub(in crate::appointments) fn reason_context(public_id: &str) -> FieldContext<'_> {
    FieldContext {
        table: "appointment",
        column: "reason",
        row: public_id,
    }
}

/// What the patient wrote when booking visit `row`.
pub fn reason_of(
    keyring: &crate::crypto::Keyring,
    row: &crate::appointments::entity::appointment::Model,
) -> Result<String, crate::AppError> {
    row.reason
        .open(keyring, &reason_context(&row.public_id))
        .map_err(|e| {
            crate::AppError::internal(format_args!("opening appointment {}: {e}", row.public_id))
        })
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

impl From<BookedVisit> for crate::appointments::model::Booked {
    fn from(visit: BookedVisit) -> Self {
        Self {
            visit: visit.public_id,
            visit_type: visit.visit_type,
            starts_at: visit.starts_at,
            ends_at: visit.ends_at,
        }
    }
}

/// How far ahead patients may book, and how soon.
pub const BOOKING_DAYS: i64 = 14;

pub const MINIMUM_NOTICE_HOURS: i64 = 2;

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
