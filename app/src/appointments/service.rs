//! Booking a visit: offered by the schedule, allowed by the policy, audited, and made atomic by
//! the holds' unique constraint (P2).

use super::availability::Schedule;
use super::entity::{appointment, appointment_hold};
use super::model::VisitType;
use crate::audit::{service as audit, Outcome};
use crate::auth::guard::{self, Caller};
use crate::auth::{Action, Resource};
use crate::crypto::{Encrypted, FieldContext, Keyring};
use crate::patients::entity::patient;
use crate::{AppError, FieldErrors};
use chrono::{DateTime, Duration, DurationRound, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};

/// The grain of the physician's time: holds are five-minute units.
pub const UNIT_MINUTES: i64 = 5;

/// What a patient (or the practice, for them) asks for.
#[derive(Debug, Clone)]
pub struct BookingRequest {
    pub patient_public_id: String,
    pub visit_type: VisitType,
    pub starts_at: DateTime<Utc>,
    pub reason: String,
}

/// What the confirmation shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookedVisit {
    pub public_id: String,
    pub visit_type: VisitType,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// The message for a slot someone else took first.
pub const JUST_TAKEN: &str =
    "That time was just taken by someone else. Please choose another time.";

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

fn reason_context(public_id: &str) -> FieldContext<'_> {
    FieldContext {
        table: "appointment",
        column: "reason",
        row: public_id,
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
    let local = request
        .starts_at
        .with_timezone(&schedule.time_zone)
        .naive_local();
    let offered = schedule
        .local_starts(request.visit_type, local.date())
        .contains(&local)
        && super::availability::instant(schedule.time_zone, local) == Some(request.starts_at);
    if !offered || request.starts_at <= now {
        errors.add(
            "starts_at",
            "That time is not offered. Please choose one of the times shown.",
        );
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let Some(patient) = patient::Entity::find()
        .filter(patient::Column::PublicId.eq(request.patient_public_id.as_str()))
        .one(db)
        .await?
    else {
        guard::record_missing(
            db,
            now,
            caller,
            VERB,
            "appointments",
            &request.patient_public_id,
        )
        .await?;
        return Err(AppError::Forbidden);
    };
    let resource = Resource::Appointments {
        patient_id: patient.id,
    };
    let permit = guard::permit(
        db,
        now,
        caller,
        Action::Write,
        resource,
        Some(patient.public_id.clone()),
        VERB,
    )
    .await?;
    let public_id = uuid::Uuid::new_v4().simple().to_string();
    let ends_at = request.starts_at + Duration::minutes(length.minutes);
    let sealed = Encrypted::seal(keyring, &reason_context(&public_id), &reason.to_owned())
        .map_err(|e| AppError::internal(format_args!("sealing: {e}")))?;
    let inserted = async {
        let row = appointment::ActiveModel {
            public_id: Set(public_id.clone()),
            patient_id: Set(patient.id),
            visit_type: Set(request.visit_type.as_str().to_owned()),
            starts_at: Set(request.starts_at),
            ends_at: Set(ends_at),
            reason: Set(sealed),
            status: Set("booked".into()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(permit.txn())
        .await?;
        let holds: Vec<appointment_hold::ActiveModel> = units(
            request.starts_at,
            ends_at + Duration::minutes(length.buffer_minutes),
        )
        .into_iter()
        .map(|unit_start| appointment_hold::ActiveModel {
            unit_start: Set(unit_start),
            appointment_id: Set(row.id),
        })
        .collect();
        appointment_hold::Entity::insert_many(holds)
            .exec(permit.txn())
            .await?;
        Ok::<_, sea_orm::DbErr>(())
    }
    .await;
    match inserted {
        Ok(()) => {
            permit.commit().await.map_err(taken)?;
            Ok(BookedVisit {
                public_id,
                visit_type: request.visit_type,
                starts_at: request.starts_at,
                ends_at,
            })
        }
        Err(err) => {
            // The transaction (and its audit row) rolls back; the attempt is recorded on its own.
            drop(permit);
            let error = taken(AppError::from(err));
            let mut event = audit::event(
                Some(caller.audit_actor()),
                VERB,
                "appointments",
                None,
                Some(patient.public_id.clone()),
                Outcome::Failed,
            );
            event.detail = Some(error.to_string());
            audit::record_alone(db, now, &caller.client, &event).await?;
            Err(error)
        }
    }
}

/// A unique violation on the holds means another booking got there first.
fn taken(error: AppError) -> AppError {
    match error {
        AppError::Conflict(_) => AppError::Conflict(JUST_TAKEN.into()),
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
    let rows = appointment::Entity::find()
        .filter(appointment::Column::Status.eq("booked"))
        .filter(appointment::Column::StartsAt.lt(to))
        .filter(appointment::Column::EndsAt.gt(from - Duration::hours(6)))
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let buffer = VisitType::parse(&row.visit_type)
                .and_then(|v| schedule.length_of(v))
                .map_or(0, |l| l.buffer_minutes);
            super::availability::Busy {
                starts_at: row.starts_at,
                ends_at: row.ends_at + Duration::minutes(buffer),
            }
        })
        .collect())
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
