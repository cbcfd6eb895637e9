//! Where a membership stands as the processor's payments and the member's confirmation arrive:
//! active once paid and confirmed, in whichever order.

use super::*;

/// The membership with this public id.
pub async fn by_ref(
    conn: &impl ConnectionTrait,
    public_id: &str,
) -> Result<Option<membership::Model>, AppError> {
    Ok(membership::Entity::find()
        .filter(membership::Column::PublicId.eq(public_id))
        .one(conn)
        .await?)
}

/// The membership paid by this processor subscription.
pub async fn by_subscription(
    conn: &impl ConnectionTrait,
    subscription_id: &str,
) -> Result<Option<membership::Model>, AppError> {
    Ok(membership::Entity::find()
        .filter(membership::Column::ProcessorSubscriptionId.eq(subscription_id))
        .one(conn)
        .await?)
}

/// The membership of a signed-in patient's own record.
pub async fn of_user(
    conn: &impl ConnectionTrait,
    user_id: i32,
) -> Result<Option<(patient::Model, membership::Model)>, AppError> {
    let Some(patient) = patient::Entity::find()
        .filter(patient::Column::UserId.eq(user_id))
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let membership = membership::Entity::find()
        .filter(membership::Column::PatientId.eq(patient.id))
        .one(conn)
        .await?;
    Ok(membership.map(|m| (patient, m)))
}

/// Where `m` stands.
pub fn status_of(m: &membership::Model) -> MembershipStatus {
    m.status
}

pub(super) async fn email_confirmed(
    conn: &impl ConnectionTrait,
    patient_id: i32,
) -> Result<bool, AppError> {
    let Some(patient) = patient::Entity::find_by_id(patient_id).one(conn).await? else {
        return Ok(false);
    };
    let Some(user_id) = patient.user_id else {
        return Ok(false);
    };
    Ok(user_account::Entity::find_by_id(user_id)
        .one(conn)
        .await?
        .is_some_and(|u| u.email_verified_at.is_some()))
}

/// Keeps the processor's customer and subscription ids (from a completed checkout).
pub async fn link_processor(
    conn: &impl ConnectionTrait,
    m: &membership::Model,
    customer_id: Option<&str>,
    subscription_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<membership::Model, AppError> {
    let mut active: membership::ActiveModel = m.clone().into();
    if let Some(customer) = customer_id {
        active.processor_customer_id = Set(Some(customer.to_owned()));
    }
    if let Some(subscription) = subscription_id {
        active.processor_subscription_id = Set(Some(subscription.to_owned()));
    }
    active.updated_at = Set(now);
    Ok(active.update(conn).await?)
}

/// What a change did, for the caller's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Unchanged,
    Became(MembershipStatus),
}

/// Makes the membership active if it is confirmed and paid, once (the welcome email goes out
/// on the first activation, and the commitment period starts then).
pub(super) async fn settle(
    conn: &impl ConnectionTrait,
    m: membership::Model,
    now: DateTime<Utc>,
) -> Result<Change, AppError> {
    let status = status_of(&m);
    let paid = m.current_period_end.is_some_and(|end| end > now);
    if status == MembershipStatus::Cancelled || status == MembershipStatus::Active || !paid {
        return Ok(Change::Unchanged);
    }
    if !email_confirmed(conn, m.patient_id).await? {
        return Ok(Change::Unchanged);
    }
    let first = m.activated_at.is_none();
    let commitment = if first {
        let months = membership_tier::Entity::find_by_id(m.tier_id)
            .one(conn)
            .await?
            .map_or(0, |t| t.commitment_months);
        u32::try_from(months)
            .ok()
            .filter(|m| *m > 0)
            .and_then(|months| now.checked_add_months(Months::new(months)))
    } else {
        m.commitment_ends_at
    };
    let id = m.id;
    let public_id = m.public_id.clone();
    let mut active: membership::ActiveModel = m.into();
    active.status = Set(MembershipStatus::Active);
    active.suspended_at = Set(None);
    if first {
        active.activated_at = Set(Some(now));
        active.commitment_ends_at = Set(commitment);
    }
    active.updated_at = Set(now);
    active.update(conn).await?;
    if first {
        notices::enqueue(
            conn,
            &MembershipEmail::Welcome {
                membership: public_id,
            },
            now,
        )
        .await?;
    }
    tracing::info!(membership = id, first, "membership active");
    Ok(Change::Became(MembershipStatus::Active))
}

/// A payment covered `period_end`: the membership is paid through the later of that and what
/// it had, and becomes active if its email is confirmed.
pub async fn record_paid_period(
    conn: &impl ConnectionTrait,
    m: &membership::Model,
    period_start: Option<DateTime<Utc>>,
    period_end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Change, AppError> {
    let mut active: membership::ActiveModel = m.clone().into();
    if m.current_period_end.is_none_or(|end| period_end > end) {
        active.current_period_end = Set(Some(period_end));
        active.current_period_start = Set(period_start.or(Some(now)));
    }
    // A move planned for the end of the period happens with the first payment after it.
    if let (Some(tier), Some(at)) = (m.pending_tier_id, m.change_at) {
        if period_start.is_some_and(|start| start >= at - chrono::Duration::minutes(1)) {
            active.tier_id = Set(tier);
            if let Some(period) = m.pending_billing_period {
                active.billing_period = Set(period);
            }
            active.pending_tier_id = Set(None);
            active.pending_billing_period = Set(None);
            active.change_at = Set(None);
        }
    }
    if matches!(
        status_of(m),
        MembershipStatus::PastDue | MembershipStatus::Suspended
    ) {
        // Paid again: back to "pending" for a moment, and `settle` decides.
        active.status = Set(MembershipStatus::Pending);
    }
    active.updated_at = Set(now);
    let updated = active.update(conn).await?;
    settle(conn, updated, now).await
}

/// The email was confirmed: activate the membership if it is paid.
pub async fn after_email_confirmed(
    db: &DatabaseConnection,
    user_id: i32,
    now: DateTime<Utc>,
) -> Result<Change, AppError> {
    let txn = db.begin().await?;
    let Some((_, m)) = of_user(&txn, user_id).await? else {
        return Ok(Change::Unchanged);
    };
    let change = settle(&txn, m, now).await?;
    txn.commit().await?;
    Ok(change)
}

/// Moves an active membership to `status` (past due, suspended, cancelled). A cancelled
/// membership stays cancelled.
pub async fn set_status(
    conn: &impl ConnectionTrait,
    m: &membership::Model,
    status: MembershipStatus,
    now: DateTime<Utc>,
) -> Result<Change, AppError> {
    let current = status_of(m);
    if current == status || current == MembershipStatus::Cancelled {
        return Ok(Change::Unchanged);
    }
    let mut active: membership::ActiveModel = m.clone().into();
    active.status = Set(status);
    match status {
        MembershipStatus::Suspended => active.suspended_at = Set(Some(now)),
        MembershipStatus::Cancelled => active.cancelled_at = Set(Some(now)),
        _ => {}
    }
    active.updated_at = Set(now);
    active.update(conn).await?;
    Ok(Change::Became(status))
}

/// A day in the practice's calendar, as the portal writes it.
pub(super) fn day(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%B %-d, %Y").to_string()
}
