//! Changing a booked visit: cancelling (free up to 24 hours before, the tier's late policy
//! after, P3), moving it to another free time, and completing it once it has taken place.

use super::booking::{offered, record_refusal, refusal_recorded, taken, NOT_OFFERED};
use super::calendar::{hold, status, BookedVisit};
use super::schedule::practice_time_zone;
use crate::appointments::availability::Schedule;
use crate::appointments::entity::{appointment, appointment_hold};
use crate::appointments::model::LateOutcome;
use crate::appointments::service_messages::FOLLOW_UP_WEEKS;
use crate::appointments::{allowance, benefits, VisitRefusal};
use crate::auth::context::SignedIn;
use crate::auth::guard;
use crate::auth::{Action, Resource};
use crate::patients::entity::patient;
use crate::{AppError, FieldErrors};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

/// A visit moved: where it is now, and the time it left (offered to that day's waitlist).
pub struct MovedVisit {
    pub booked: BookedVisit,
    pub left: DateTime<Utc>,
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

/// Why a visit that is no longer booked cannot be changed.
fn not_booked(status: &crate::appointments::model::VisitStatus) -> VisitRefusal {
    if *status == status::COMPLETED {
        VisitRefusal::Over
    } else {
        VisitRefusal::Cancelled
    }
}

/// Why a patient may not move `row` online now, or `None` when they may (P3's terms).
fn why_not_moved_online(row: &appointment::Model, now: DateTime<Utc>) -> Option<VisitRefusal> {
    use crate::appointments::model::{cancellation_terms, CancellationTerms};
    if row.status != status::BOOKED {
        return Some(not_booked(&row.status));
    }
    match cancellation_terms(row.starts_at, now) {
        CancellationTerms::Free => None,
        CancellationTerms::Late => Some(VisitRefusal::LateReschedule),
        CancellationTerms::Started => Some(VisitRefusal::Started),
    }
}

/// A visit being changed: its row, its patient, and the access the change runs in.
pub(crate) struct OpenVisit {
    pub(crate) row: appointment::Model,
    pub(crate) patient: patient::Model,
    pub(crate) permit: guard::Permit,
}

/// Finds a visit and its patient and asks the policy for `action` (`verb`) on
/// `resource(patient)`: the start of every change to a booked visit, and of its note. An unknown
/// visit is recorded as a denial.
pub(crate) async fn open_visit(
    me: &SignedIn,
    appointment_public_id: &str,
    action: Action,
    verb: &str,
    resource: impl FnOnce(i32) -> Resource,
) -> Result<OpenVisit, AppError> {
    let (db, now, caller) = (me.db(), me.now(), &me.caller);
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
        action,
        resource(row.patient_id),
        Some(patient.public_id.clone()),
        verb,
    )
    .await?;
    Ok(OpenVisit {
        row,
        patient,
        permit,
    })
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
    me: &SignedIn,
    appointment_public_id: &str,
    accept_late: Option<&str>,
) -> Result<Cancelled, AppError> {
    use crate::appointments::model::{cancellation_terms, CancellationTerms};
    const VERB: &str = "appointment.cancel";
    let now = me.now();
    let OpenVisit {
        row,
        patient,
        permit,
    } = open_visit(
        me,
        appointment_public_id,
        Action::Write,
        VERB,
        |patient_id| Resource::Appointments { patient_id },
    )
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
                return Err(refusal_recorded(me, VERB, &row, &patient, refusal).await);
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
            return Err(refusal_recorded(me, VERB, &row, &patient, refusal).await);
        }
    };
    let id = row.id;
    let freed_start = row.starts_at;
    // Its reminders are withdrawn with it (and delivery re-checks the status anyway).
    crate::appointments::notices::withdraw(permit.txn(), &row.public_id, row.starts_at).await?;
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
        Some(benefits::Charge::LateFee(_)) => LateOutcome::LateFee,
        Some(benefits::Charge::VisitFee(_)) => LateOutcome::VisitFee,
        None if effect.keeps_allowance => LateOutcome::Counted,
        None => LateOutcome::Recorded,
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

/// Moves a booked visit to `new_start` (same kind of visit), on the same terms as cancelling:
/// free up to 24 hours before the current start. The old time is released and the new one
/// held in one transaction (the holds' constraint decides a race, P2); the reminders of the old
/// start are withdrawn and the new start's planned, with a "moved" email first.
pub async fn reschedule(
    me: &SignedIn,
    schedule: &Schedule,
    appointment_public_id: &str,
    new_start: DateTime<Utc>,
) -> Result<MovedVisit, AppError> {
    const VERB: &str = "appointment.reschedule";
    let now = me.now();
    let OpenVisit {
        row,
        patient,
        permit,
    } = open_visit(
        me,
        appointment_public_id,
        Action::Write,
        VERB,
        |patient_id| Resource::Appointments { patient_id },
    )
    .await?;
    let visit_type = row.visit_type;
    if let Some(refusal) = why_not_moved_online(&row, now) {
        drop(permit);
        return Err(refusal_recorded(me, VERB, &row, &patient, refusal).await);
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
        Ok(()) => match crate::appointments::notices::withdraw(permit.txn(), &public_id, old_start)
            .await
        {
            Ok(_) => {
                crate::appointments::notices::plan(
                    permit.txn(),
                    &public_id,
                    new_start,
                    sequence,
                    now,
                )
                .await
            }
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
                me,
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

/// The physician marks a visit that has started as completed (a clinical act: the policy's
/// chart write, which staff do not have): signing its note does this (`records::notes`). The
/// patient gets the follow-up email (R10.4), and, when `follow_up_weeks` is set, a suggested
/// time to book in that many weeks (R10.5). Returns the follow-up job's id (the request runs it
/// at once).
pub async fn complete(
    me: &SignedIn,
    appointment_public_id: &str,
    follow_up_weeks: Option<u32>,
) -> Result<i32, AppError> {
    const VERB: &str = "appointment.complete";
    let OpenVisit {
        row,
        patient,
        permit,
    } = open_visit(
        me,
        appointment_public_id,
        Action::Write,
        VERB,
        |patient_id| Resource::PatientChart { patient_id },
    )
    .await?;
    if let Some(refusal) = why_not_completed(&row, me.now(), follow_up_weeks) {
        drop(permit);
        return Err(refusal_recorded(me, VERB, &row, &patient, refusal).await);
    }
    let job = mark_completed(permit.txn(), row, follow_up_weeks, me.now()).await?;
    permit.commit().await?;
    Ok(job)
}

/// Why visit `row` cannot be completed now with a follow-up in `follow_up_weeks`, if it cannot.
pub(crate) fn why_not_completed(
    row: &appointment::Model,
    now: DateTime<Utc>,
    follow_up_weeks: Option<u32>,
) -> Option<VisitRefusal> {
    if row.status != status::BOOKED {
        Some(not_booked(&row.status))
    } else if now < row.starts_at {
        Some(VisitRefusal::NotStarted)
    } else if follow_up_weeks.is_some_and(|w| !FOLLOW_UP_WEEKS.contains(&w)) {
        Some(VisitRefusal::FollowUpInterval)
    } else {
        None
    }
}

/// Marks visit `row` completed in `conn` (the access's transaction): its reminders withdrawn,
/// its fee (if any) charged, its follow-up email planned. Returns the follow-up job's id.
pub(crate) async fn mark_completed(
    conn: &impl sea_orm::ConnectionTrait,
    row: appointment::Model,
    follow_up_weeks: Option<u32>,
    now: DateTime<Utc>,
) -> Result<i32, AppError> {
    let public_id = row.public_id.clone();
    let starts_at = row.starts_at;
    crate::appointments::notices::withdraw(conn, &public_id, starts_at).await?;
    // A visit with a fee is charged once it has taken place.
    if let benefits::Coverage::Fee(cents) = allowance::coverage_of(&row)? {
        match allowance::membership_of_patient(conn, row.patient_id).await? {
            Some(membership) => {
                let tz = practice_time_zone(conn).await?;
                allowance::record_charge(
                    conn,
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
    active.update(conn).await?;
    crate::appointments::notices::plan_follow_up(conn, &public_id, starts_at, follow_up_weeks, now)
        .await
}
