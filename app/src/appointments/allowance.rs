//! A patient's membership as booking sees it (R2.5): the tier's rules, the included visits of
//! each membership year (numbered rows under a unique constraint, so two bookings at once can
//! never take more than the allowance), and the visit fees and late fees that follow a visit
//! (R6.1), each recorded once and sent to the payment processor by a job.

use super::benefits::{self, Charge, Coverage, Quote, Refusal, TierRules};
use super::entity::{allowance_use, appointment};
use super::model::VisitType;
use super::VisitRefusal;
use crate::billing::entity::visit_charge;
use crate::jobs::{self, NewJob};
use crate::memberships::entity::membership;
use crate::memberships::model::MembershipStatus;
use crate::site::entity::membership_tier;
use crate::AppError;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect, Set,
};
use serde::{Deserialize, Serialize};

/// The job that sends a visit charge to the payment processor.
pub const CHARGE_JOB_KIND: &str = "billing.visit_charge";

/// The `billing.visit_charge` job's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendCharge {
    pub charge: String,
}

/// A member who may book: their membership (active, or past due while a payment is retried)
/// and its tier's rules.
#[derive(Debug, Clone)]
pub struct Standing {
    pub membership: membership::Model,
    pub rules: TierRules,
}

impl Standing {
    /// Membership years count from the day the membership became active.
    pub fn anchor(&self) -> DateTime<Utc> {
        self.membership
            .activated_at
            .unwrap_or(self.membership.created_at)
    }
}

/// The rules of a tier row.
pub fn rules_of(tier: &membership_tier::Model) -> TierRules {
    let mut included = Vec::new();
    for (yes, visit_type) in [
        (tier.includes_in_person, VisitType::InPerson),
        (tier.includes_telemedicine, VisitType::Telemedicine),
        (tier.includes_home_visits, VisitType::HomeVisit),
    ] {
        if yes {
            included.push(visit_type);
        }
    }
    TierRules {
        tier_name: tier.name.clone(),
        visits_per_year: tier.visits_per_year,
        included,
        home_visit_fee_cents: tier.home_visit_fee_cents,
        extra_visit_fee_cents: tier.extra_visit_fee_cents,
        booking_horizon_days: i64::from(tier.booking_horizon_days.max(0)),
        same_day_booking: tier.same_day_booking,
        late_policy: benefits::LatePolicy::from_fee(tier.late_fee_cents),
    }
}

/// The patient's membership and rules, or `None` when they have no membership that books
/// visits (none, pending, suspended or cancelled).
pub async fn standing(
    conn: &impl ConnectionTrait,
    patient_id: i32,
) -> Result<Option<Standing>, AppError> {
    // The membership and its tier in one query.
    let Some((membership, tier)) = membership::Entity::find()
        .filter(membership::Column::PatientId.eq(patient_id))
        .find_also_related(membership_tier::Entity)
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let books = matches!(
        membership.status,
        MembershipStatus::Active | MembershipStatus::PastDue
    );
    if !books {
        return Ok(None);
    }
    let tier = tier.ok_or_else(|| AppError::internal("a membership without its tier"))?;
    Ok(Some(Standing {
        membership,
        rules: rules_of(&tier),
    }))
}

/// Included visits taken in the membership year that starts at `year_start`.
pub async fn used_in_year(
    conn: &impl ConnectionTrait,
    membership_id: i32,
    year_start: DateTime<Utc>,
) -> Result<i32, AppError> {
    let used = allowance_use::Entity::find()
        .filter(allowance_use::Column::MembershipId.eq(membership_id))
        .filter(allowance_use::Column::YearStart.eq(year_start))
        .count(conn)
        .await?;
    Ok(i32::try_from(used).unwrap_or(i32::MAX))
}

/// "March 3, 2027", in the practice's time zone.
pub fn day_words(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%B %-d, %Y").to_string()
}

/// The terms of booking a `visit_type` visit at `starts_at`, checked against the tier's window
/// (in the practice's time zone, from `now`) and the allowance of the visit's membership year.
pub async fn quote(
    conn: &impl ConnectionTrait,
    standing: &Standing,
    visit_type: VisitType,
    starts_at: DateTime<Utc>,
    now: DateTime<Utc>,
    tz: Tz,
) -> Result<Result<Quote, Refusal>, AppError> {
    let today = now.with_timezone(&tz).date_naive();
    let day = starts_at.with_timezone(&tz).date_naive();
    if let Err(refusal) = benefits::within_window(&standing.rules, today, day) {
        return Ok(Err(refusal));
    }
    let year_start = benefits::year_start(standing.anchor(), starts_at);
    // Only a tier with a yearly allowance counts the year's visits.
    let used = match standing.rules.visits_per_year {
        Some(_) => used_in_year(conn, standing.membership.id, year_start).await?,
        None => 0,
    };
    Ok(benefits::quote(
        &standing.rules,
        visit_type,
        used,
        &day_words(benefits::year_end(year_start), tz),
    ))
}

/// Takes one of the year's included visits for `appointment_id`: the lowest free number. A
/// number taken at the same moment by another booking fails the unique constraint, and the
/// caller's transaction with it; no number beyond the allowance exists.
pub async fn take(
    conn: &impl ConnectionTrait,
    standing: &Standing,
    starts_at: DateTime<Utc>,
    appointment_id: i32,
) -> Result<(), AppError> {
    let Some(allowance) = standing.rules.visits_per_year else {
        return Ok(());
    };
    let year_start = benefits::year_start(standing.anchor(), starts_at);
    let taken: Vec<i32> = allowance_use::Entity::find()
        .select_only()
        .column(allowance_use::Column::Ordinal)
        .filter(allowance_use::Column::MembershipId.eq(standing.membership.id))
        .filter(allowance_use::Column::YearStart.eq(year_start))
        .into_tuple()
        .all(conn)
        .await?;
    let Some(ordinal) = (1..=allowance).find(|n| !taken.contains(n)) else {
        return Err(VisitRefusal::AllowanceJustUsed.into());
    };
    allowance_use::ActiveModel {
        membership_id: Set(standing.membership.id),
        year_start: Set(year_start),
        ordinal: Set(ordinal),
        appointment_id: Set(appointment_id),
        ..Default::default()
    }
    .insert(conn)
    .await
    .map_err(|error| match AppError::from(error) {
        AppError::Conflict(_) => VisitRefusal::AllowanceJustUsed.into(),
        other => other,
    })?;
    Ok(())
}

/// Gives an included visit back (a free cancellation, or a late one under a fee policy).
pub async fn release(conn: &impl ConnectionTrait, appointment_id: i32) -> Result<bool, AppError> {
    let deleted = allowance_use::Entity::delete_many()
        .filter(allowance_use::Column::AppointmentId.eq(appointment_id))
        .exec(conn)
        .await?;
    Ok(deleted.rows_affected > 0)
}

/// Whether `appointment_id` holds one of the year's included visits.
pub async fn holds_allowance(
    conn: &impl ConnectionTrait,
    appointment_id: i32,
) -> Result<bool, AppError> {
    Ok(allowance_use::Entity::find()
        .filter(allowance_use::Column::AppointmentId.eq(appointment_id))
        .count(conn)
        .await?
        > 0)
}

/// How the visit was booked; a stored coverage the code does not know is an error (a visit is
/// never quietly taken for included, or charged).
pub fn coverage_of(row: &appointment::Model) -> Result<Coverage, AppError> {
    Coverage::from_columns(&row.coverage, row.fee_cents).map_err(|unknown| {
        AppError::internal(format_args!("appointment {}: {unknown}", row.public_id))
    })
}

/// Records `charge` for the visit `row` (once per visit and kind) and plans the job that sends
/// it to the payment processor. Returns the job's id.
pub async fn record_charge(
    conn: &impl ConnectionTrait,
    membership_id: i32,
    row: &appointment::Model,
    charge: Charge,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<i32, AppError> {
    let visit_type = row.visit_type;
    let day = day_words(row.starts_at, tz);
    let description = match charge {
        Charge::VisitFee(_) => format!("{} fee, {day}", visit_type.label()),
        Charge::LateFee(_) => format!(
            "Late cancellation fee: {} on {day}",
            visit_type.label().to_lowercase()
        ),
    };
    let public_id = uuid::Uuid::new_v4().simple().to_string();
    visit_charge::ActiveModel {
        public_id: Set(public_id.clone()),
        membership_id: Set(membership_id),
        appointment_id: Set(row.id),
        kind: Set(charge.kind()),
        amount_cents: Set(charge.cents()),
        description: Set(description),
        status: Set(crate::billing::model::ChargeStatus::Pending),
        created_at: Set(now),
        billed_at: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    jobs::enqueue(
        conn,
        NewJob {
            kind: CHARGE_JOB_KIND,
            payload: &SendCharge {
                charge: public_id.clone(),
            },
            run_at: now,
            dedupe_key: Some(format!("{CHARGE_JOB_KIND}:{public_id}")),
            max_attempts: 20,
        },
        now,
    )
    .await
}

/// The membership of the patient a visit belongs to (any status: a charge follows the visit).
pub async fn membership_of_patient(
    conn: &impl ConnectionTrait,
    patient_id: i32,
) -> Result<Option<membership::Model>, AppError> {
    Ok(membership::Entity::find()
        .filter(membership::Column::PatientId.eq(patient_id))
        .one(conn)
        .await?)
}
