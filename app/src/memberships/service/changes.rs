//! Changing the plan, cancelling (at the period's end, after any commitment) and keeping it.

use super::*;

pub(super) fn processor_error(e: ProcessorError) -> AppError {
    match e {
        ProcessorError::Declined(_) => MembershipRefusal::CardDeclined.into(),
        other => AppError::internal(other),
    }
}

/// The caller's own active membership, for a change: the access is decided now and audited
/// with the change ([`apply_audited`]), after the processor has agreed, so the log never says a
/// change was made that then failed.
pub(super) async fn own_active(
    me: &SignedIn,
    verb: &str,
) -> Result<(guard::Approval, membership::Model, membership_tier::Model), AppError> {
    let (db, now, caller) = (me.db(), me.now(), &me.caller);
    let patient_id = caller.actor.patient_id.ok_or(AppError::Forbidden)?;
    let approval = guard::approve(
        db,
        now,
        caller,
        Action::Write,
        Resource::Membership { patient_id },
        None,
        verb,
    )
    .await?;
    let found = async {
        let m = membership::Entity::find()
            .filter(membership::Column::PatientId.eq(patient_id))
            .one(db)
            .await?
            .ok_or_else(|| AppError::NotFound("Your membership".into()))?;
        if status_of(&m) != MembershipStatus::Active {
            return Err(MembershipRefusal::NotActive.into());
        }
        let tier = membership_tier::Entity::find_by_id(m.tier_id)
            .one(db)
            .await?
            .ok_or_else(|| AppError::internal("a membership's tier is missing"))?;
        Ok((m, tier))
    }
    .await;
    match found {
        Ok((m, tier)) => Ok((approval, m, tier)),
        Err(error) => {
            approval.record_failed(db, &error).await?;
            Err(error)
        }
    }
}

/// Writes a prepared change of a membership and its audit row, after it, in one transaction;
/// a change that failed before this (the processor refused, a rule said no) is audited as
/// failed, with why, and its error returned.
pub(super) async fn apply_audited<R>(
    db: &DatabaseConnection,
    approval: guard::Approval,
    prepared: Result<(Option<membership::ActiveModel>, R), AppError>,
) -> Result<R, AppError> {
    match prepared {
        Ok((change, result)) => {
            let txn = db.begin().await?;
            if let Some(change) = change {
                change.update(&txn).await?;
            }
            approval.record_with(&txn).await?;
            txn.commit().await?;
            Ok(result)
        }
        Err(error) => {
            approval.record_failed(db, &error).await?;
            Err(error)
        }
    }
}

/// Moves the caller's membership to `tier_slug` billed `period`: a dearer one now (the
/// difference for the rest of the period charged today), anything else at the end of the paid
/// period. The processor is asked first; Bedside records the change only once it agreed.
pub async fn change_plan(
    me: &SignedIn,
    processor: &dyn PaymentProcessor,
    tier_slug: &str,
    period: BillingPeriod,
    form_key: &str,
) -> Result<PlanChange, AppError> {
    let (db, now) = (me.db(), me.now());
    let (approval, m, current) = own_active(me, "membership.change").await?;
    let prepared = prepare_plan_change(
        db, processor, &m, &current, tier_slug, period, form_key, now,
    )
    .await;
    apply_audited(db, approval, prepared).await
}

/// The processor's agreement to a plan change, and the change to write.
#[allow(clippy::too_many_arguments)]
pub(super) async fn prepare_plan_change(
    db: &DatabaseConnection,
    processor: &dyn PaymentProcessor,
    m: &membership::Model,
    current: &membership_tier::Model,
    tier_slug: &str,
    period: BillingPeriod,
    form_key: &str,
    now: DateTime<Utc>,
) -> Result<(Option<membership::ActiveModel>, PlanChange), AppError> {
    let target = membership_tier::Entity::find()
        .filter(membership_tier::Column::Slug.eq(tier_slug))
        .filter(membership_tier::Column::Active.eq(true))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("That membership".into()))?;
    let current_period = m.billing_period;
    if target.id == current.id && period == current_period {
        return Err(MembershipRefusal::AlreadyYours.into());
    }
    let (Some(start), Some(end), Some(subscription)) = (
        m.current_period_start,
        m.current_period_end,
        m.processor_subscription_id.clone(),
    ) else {
        return Err(MembershipRefusal::BilledOutside.into());
    };
    let (old, new) = (price_of(current, current_period), price_of(&target, period));
    let change = plan_change(
        old,
        current_period,
        new,
        period,
        proration_cents(old, new, start, end, now),
    );
    processor
        .change_price(&PriceChange {
            subscription_id: subscription,
            amount_cents: new,
            period,
            description: format!("{} membership, billed {}", target.name, period.billed()),
            prorate_now: matches!(change, PlanChange::UpgradeNow { .. }),
            idempotency_key: format!(
                "{}:{}:{}:{form_key}",
                m.public_id,
                target.slug,
                period.as_str()
            ),
        })
        .await
        .map_err(processor_error)?;
    let mut active: membership::ActiveModel = m.clone().into();
    match change {
        PlanChange::UpgradeNow { .. } => {
            active.tier_id = Set(target.id);
            active.pending_tier_id = Set(None);
            active.pending_billing_period = Set(None);
            active.change_at = Set(None);
        }
        PlanChange::AtPeriodEnd => {
            active.pending_tier_id = Set(Some(target.id));
            active.pending_billing_period = Set(Some(period));
            active.change_at = Set(Some(end));
        }
    }
    active.updated_at = Set(now);
    Ok((Some(active), change))
}

/// Withdraws a move planned for the end of the period: the current price continues.
pub async fn keep_current_plan(
    me: &SignedIn,
    processor: &dyn PaymentProcessor,
    form_key: &str,
) -> Result<(), AppError> {
    let (db, now) = (me.db(), me.now());
    let (approval, m, current) = own_active(me, "membership.keep_plan").await?;
    let prepared = async {
        if m.pending_tier_id.is_none() {
            return Ok((None, ()));
        }
        let period = m.billing_period;
        if let Some(subscription) = m.processor_subscription_id.clone() {
            processor
                .change_price(&PriceChange {
                    subscription_id: subscription,
                    amount_cents: price_of(&current, period),
                    period,
                    description: format!("{} membership", current.name),
                    prorate_now: false,
                    idempotency_key: format!("{}:keep:{form_key}", m.public_id),
                })
                .await
                .map_err(processor_error)?;
        }
        let mut active: membership::ActiveModel = m.clone().into();
        active.pending_tier_id = Set(None);
        active.pending_billing_period = Set(None);
        active.change_at = Set(None);
        active.updated_at = Set(now);
        Ok((Some(active), ()))
    }
    .await;
    apply_audited(db, approval, prepared).await
}

/// Cancels the caller's membership: it ends on the day [`ends_if_cancelled`] gives, billed as
/// usual until then. `keep` withdraws a cancellation.
pub async fn cancel_or_keep(
    me: &SignedIn,
    processor: &dyn PaymentProcessor,
    keep: bool,
    form_key: &str,
) -> Result<Option<DateTime<Utc>>, AppError> {
    let (db, now) = (me.db(), me.now());
    let verb = if keep {
        "membership.keep"
    } else {
        "membership.cancel"
    };
    let (approval, m, _) = own_active(me, verb).await?;
    let prepared = async {
        let ends = if keep {
            None
        } else {
            Some(ends_if_cancelled(&m, now).ok_or(MembershipRefusal::NoPaidPeriod)?)
        };
        if let Some(subscription) = &m.processor_subscription_id {
            processor
                .cancel_at(
                    subscription,
                    ends,
                    &format!(
                        "{}:{}:{form_key}",
                        m.public_id,
                        if keep { "keep" } else { "cancel" }
                    ),
                )
                .await
                .map_err(processor_error)?;
        }
        let mut active: membership::ActiveModel = m.clone().into();
        active.cancel_at = Set(ends);
        active.updated_at = Set(now);
        Ok((Some(active), ends))
    }
    .await;
    apply_audited(db, approval, prepared).await
}
