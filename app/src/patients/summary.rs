//! What the physician's patient page shows beside the chart: the patient's next visits (each
//! with the way to its note) and where their membership stands. One audited read of the visits,
//! and one of the membership, which the caller may or may not be allowed to see.

use crate::appointments::entity::appointment;
use crate::appointments::service::calendar::{reason_of, status};
use crate::appointments::service::schedule::practice_time_zone;
use crate::audit::{service as audit, Outcome};
use crate::auth::context::SignedIn;
use crate::auth::{can, Action, Resource};
use crate::memberships::entity::membership;
use crate::patients::model::{PatientSummary, SummaryMembership, UpcomingVisit};
use crate::patients::service::{open_patient, OpenPatient};
use crate::site::entity::membership_tier;
use crate::AppError;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

/// How many upcoming visits the page lists.
const NEXT_VISITS: u64 = 5;

/// Patient `patient`'s next visits and membership, for the practice.
pub async fn summary(me: &SignedIn, patient: &str) -> Result<PatientSummary, AppError> {
    let OpenPatient { row, mut permit } = open_patient(
        me,
        patient,
        Action::Read,
        |patient_id| Resource::Appointments { patient_id },
        "appointments.list",
    )
    .await?;
    let (keyring, now) = (me.keyring(), me.now());
    let txn = permit.txn();
    let tz = practice_time_zone(txn).await?;
    let rows = appointment::Entity::find()
        .filter(appointment::Column::PatientId.eq(row.id))
        .filter(appointment::Column::Status.eq(status::BOOKED))
        .filter(appointment::Column::EndsAt.gt(now))
        .order_by_asc(appointment::Column::StartsAt)
        .limit(NEXT_VISITS)
        .all(txn)
        .await?;
    let mut upcoming = Vec::with_capacity(rows.len());
    for visit in &rows {
        upcoming.push(UpcomingVisit {
            appointment: visit.public_id.clone(),
            when: visit
                .starts_at
                .with_timezone(&tz)
                .format("%a, %b %-d at %-I:%M %P")
                .to_string(),
            visit_type: visit.visit_type,
            reason: reason_of(keyring, visit)?,
        });
    }
    // The membership only for whoever may read it (the physician, staff), in the same read.
    let membership_resource = Resource::Membership { patient_id: row.id };
    let membership = if can(&me.caller.actor, Action::Read, &membership_resource) {
        permit.record_also(audit::event(
            Some(me.caller.audit_actor()),
            "membership.read",
            membership_resource.kind(),
            None,
            Some(row.public_id.clone()),
            Outcome::Allowed,
        ));
        membership_of(permit.txn(), row.id, tz).await?
    } else {
        None
    };
    permit.commit().await?;
    Ok(PatientSummary {
        upcoming,
        membership,
    })
}

async fn membership_of(
    conn: &impl sea_orm::ConnectionTrait,
    patient_id: i32,
    tz: chrono_tz::Tz,
) -> Result<Option<SummaryMembership>, AppError> {
    let Some(m) = membership::Entity::find()
        .filter(membership::Column::PatientId.eq(patient_id))
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let tier = membership_tier::Entity::find_by_id(m.tier_id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::internal("a membership's tier is missing"))?;
    Ok(Some(SummaryMembership {
        tier: tier.name,
        status: m.status.label().to_owned(),
        since: m
            .activated_at
            .map(|at| at.with_timezone(&tz).format("%B %-d, %Y").to_string()),
    }))
}
