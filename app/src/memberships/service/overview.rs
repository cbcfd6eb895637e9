//! The member's own page: their plan, where it stands, their invoices, what they may change.

use super::*;
use crate::billing::model::LineKind;

/// The signed-in patient's membership, for the portal (audited read).
pub async fn overview(
    me: &SignedIn,
    time_zone: Tz,
) -> Result<Option<MembershipOverview>, AppError> {
    let (db, keyring, now, caller) = (me.db(), me.keyring(), me.now(), &me.caller);
    let Some(patient_id) = caller.actor.patient_id else {
        return Ok(None);
    };
    let permit = guard::permit(
        db,
        now,
        caller,
        Action::Read,
        Resource::Membership { patient_id },
        None,
        "membership.read",
    )
    .await?;
    let txn = permit.txn();
    let Some(m) = membership::Entity::find()
        .filter(membership::Column::PatientId.eq(patient_id))
        .one(txn)
        .await?
    else {
        permit.commit().await?;
        return Ok(None);
    };
    let tier = membership_tier::Entity::find_by_id(m.tier_id)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::internal("a membership's tier is missing"))?;
    let user = match caller.actor.role {
        Role::Patient => {
            user_account::Entity::find_by_id(caller.actor.user_id)
                .one(txn)
                .await?
        }
        _ => None,
    };
    let dependents = household_member::Entity::find()
        .filter(household_member::Column::MembershipId.eq(m.id))
        .all(txn)
        .await?;
    let mut names = Vec::new();
    for member in dependents {
        if let Some(p) = patient::Entity::find_by_id(member.patient_id)
            .one(txn)
            .await?
        {
            names.push(crate::patients::service::legal_name(keyring, &p)?);
        }
    }
    let invoices = invoice::Entity::find()
        .filter(invoice::Column::MembershipId.eq(m.id))
        .order_by_desc(invoice::Column::IssuedAt)
        .all(txn)
        .await?;
    let next_retry = crate::billing::service::next_retry(txn, &invoices, now).await?;
    let lines = crate::billing::entity::invoice_line::Entity::find()
        .filter(
            crate::billing::entity::invoice_line::Column::InvoiceId
                .is_in(invoices.iter().map(|i| i.id).collect::<Vec<_>>()),
        )
        .all(txn)
        .await?;
    let period = m.billing_period;
    let status = status_of(&m);
    let tiers = membership_tier::Entity::find()
        .filter(membership_tier::Column::Active.eq(true))
        .order_by_asc(membership_tier::Column::SortOrder)
        .all(txn)
        .await?;
    let changeable = status == MembershipStatus::Active && m.cancel_at.is_none();
    let options = match (changeable, m.current_period_start, m.current_period_end) {
        (true, Some(start), Some(end)) => tiers
            .iter()
            .flat_map(|t| {
                [BillingPeriod::Monthly, BillingPeriod::Annual]
                    .into_iter()
                    .map(move |p| (t, p))
            })
            .filter(|(t, p)| !(t.id == tier.id && *p == period))
            .filter(|(t, _)| Some(t.id) != m.pending_tier_id)
            .map(|(t, p)| {
                let (old, new) = (price_of(&tier, period), price_of(t, p));
                PlanOption {
                    slug: t.slug.clone(),
                    name: t.name.clone(),
                    period: p,
                    price_cents: new,
                    change: plan_change(
                        old,
                        period,
                        new,
                        p,
                        proration_cents(old, new, start, end, now),
                    ),
                    starts_on: day(end, time_zone),
                }
            })
            .collect(),
        _ => Vec::new(),
    };
    let pending_change = match (m.pending_tier_id, m.change_at) {
        (Some(id), Some(at)) => tiers
            .iter()
            .find(|t| t.id == id)
            .map(|t| (t.name.clone(), day(at, time_zone))),
        _ => None,
    };
    let paid = m.current_period_end.is_some_and(|end| end > now);
    let overview = MembershipOverview {
        public_id: m.public_id.clone(),
        tier_name: tier.name.clone(),
        period,
        price_cents: price_of(&tier, period),
        status,
        email_confirmed: user.as_ref().is_some_and(|u| u.email_verified_at.is_some()),
        email: user.map(|u| u.email).unwrap_or_default(),
        paid_through: m.current_period_end.map(|end| day(end, time_zone)),
        commitment_ends: m.commitment_ends_at.map(|end| day(end, time_zone)),
        dependents: names,
        payment_due: match status {
            MembershipStatus::Pending => !paid,
            MembershipStatus::PastDue | MembershipStatus::Suspended => true,
            MembershipStatus::Active | MembershipStatus::Cancelled => false,
        },
        next_retry: next_retry.map(|at| day(at, time_zone)),
        options,
        pending_change,
        would_end_on: (status == MembershipStatus::Active && m.cancel_at.is_none())
            .then(|| ends_if_cancelled(&m, now).map(|at| day(at, time_zone)))
            .flatten(),
        ends_on: m.cancel_at.map(|at| day(at, time_zone)),
        form_key: uuid::Uuid::new_v4().simple().to_string(),
        invoices: invoices
            .iter()
            .map(|i| {
                // The membership line, then any visit fees billed with it, each with its amount.
                let mut own: Vec<_> = lines.iter().filter(|l| l.invoice_id == i.id).collect();
                own.sort_by_key(|l| l.id);
                let extras: Vec<String> = own
                    .iter()
                    .skip(1)
                    .filter(|l| matches!(l.kind, LineKind::VisitFee | LineKind::LateFee))
                    .map(|l| {
                        format!(
                            "{} ({})",
                            l.description,
                            crate::domain::format_usd(l.amount_cents)
                        )
                    })
                    .collect();
                let described = own.first().map(|l| {
                    if extras.is_empty() {
                        l.description.clone()
                    } else {
                        format!("{}. Also: {}", l.description, extras.join("; "))
                    }
                });
                crate::billing::service::summary(i, described.as_deref(), time_zone)
            })
            .collect(),
    };
    permit.commit().await?;
    Ok(Some(overview))
}

/// A tier's price for `period`, in cents.
pub fn price_of(tier: &membership_tier::Model, period: BillingPeriod) -> i64 {
    period.pick(tier.monthly_price_cents, tier.annual_price_cents)
}

/// The day a membership cancelled now ends: the end of the paid period, and never before the
/// commitment ends (the member is billed as usual until then).
pub fn ends_if_cancelled(m: &membership::Model, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let paid_through = m.current_period_end?;
    Some(match m.commitment_ends_at {
        Some(commitment) if commitment > paid_through && commitment > now => {
            // Renewals continue to the period that covers the commitment's end. A period
            // ending on the commitment's last day covers it (the processor counts whole
            // seconds; the commitment was set to the microsecond).
            let mut end = paid_through;
            let months = m.billing_period.months();
            while end < commitment - chrono::Duration::days(1) {
                end = end.checked_add_months(Months::new(months))?;
            }
            end
        }
        _ => paid_through,
    })
}
