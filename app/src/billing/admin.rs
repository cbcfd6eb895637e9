//! The administrator's view of billing: recent invoices across the practice, and refunds
//! (full or partial) of what a member paid.

use super::entity::invoice;
use super::entity::visit_charge;
use super::model::invoice_status;
use super::processor::PaymentProcessor;
pub use crate::admin::model::{AdminBilling, AdminInvoice, AdminVisitCharge};
use crate::auth::context::SignedIn;
use crate::auth::guard;
use crate::auth::{Action, Resource};
use crate::memberships::entity::membership;
use crate::memberships::refusal::RefundRefusal;
use crate::patients::entity::patient;
use crate::AppError;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::HashMap;

/// The newest invoices and visit charges of the whole practice (admin only; one audited read).
pub async fn overview(me: &SignedIn, time_zone: Tz) -> Result<AdminBilling, AppError> {
    let (db, keyring, now, caller) = (me.db(), me.keyring(), me.now(), &me.caller);
    let permit = guard::permit(
        db,
        now,
        caller,
        Action::Read,
        Resource::Billing,
        None,
        "billing.read",
    )
    .await?;
    let txn = permit.txn();
    let rows = invoice::Entity::find()
        .order_by_desc(invoice::Column::Id)
        .limit(100)
        .all(txn)
        .await?;
    let charges = visit_charge::Entity::find()
        .order_by_desc(visit_charge::Column::Id)
        .limit(100)
        .all(txn)
        .await?;
    // Four queries for the page, not two per row.
    let membership_ids: Vec<i32> = rows
        .iter()
        .map(|r| r.membership_id)
        .chain(charges.iter().map(|c| c.membership_id))
        .collect();
    let memberships: HashMap<i32, i32> = membership::Entity::find()
        .filter(membership::Column::Id.is_in(membership_ids))
        .all(txn)
        .await?
        .into_iter()
        .map(|m| (m.id, m.patient_id))
        .collect();
    let names: HashMap<i32, String> = patient::Entity::find()
        .filter(patient::Column::Id.is_in(memberships.values().copied().collect::<Vec<_>>()))
        .all(txn)
        .await?
        .iter()
        .map(|p| Ok((p.id, crate::patients::service::legal_name(keyring, p)?)))
        .collect::<Result<_, AppError>>()?;
    let member = |membership_id: i32| {
        memberships
            .get(&membership_id)
            .and_then(|patient_id| names.get(patient_id))
            .cloned()
            .unwrap_or_default()
    };
    let day = |at: DateTime<Utc>| {
        at.with_timezone(&time_zone)
            .format("%b %-d, %Y")
            .to_string()
    };
    let charges = charges
        .into_iter()
        .map(|c| AdminVisitCharge {
            member: member(c.membership_id),
            recorded_on: day(c.created_at),
            amount_cents: c.amount_cents,
            status: c.status.label().to_owned(),
            description: c.description,
        })
        .collect();
    let invoices = rows
        .into_iter()
        .map(|row| AdminInvoice {
            member: member(row.membership_id),
            public_id: row.public_id,
            number: row.number,
            issued_on: day(row.issued_at),
            total_cents: row.total_cents,
            paid_cents: row.amount_paid_cents,
            refunded_cents: row.amount_refunded_cents,
            status: row.status.label().to_owned(),
        })
        .collect();
    permit.commit().await?;
    Ok(AdminBilling { invoices, charges })
}

/// Refunds `amount_cents` of an invoice (a write on the member's membership, audited). The
/// processor reports the refund back as an event, which records it on the invoice.
pub async fn refund(
    me: &SignedIn,
    processor: &dyn PaymentProcessor,
    invoice_public_id: &str,
    amount_cents: i64,
    form_key: &str,
) -> Result<(), AppError> {
    let (db, now, caller) = (me.db(), me.now(), &me.caller);
    let found = invoice::Entity::find()
        .filter(invoice::Column::PublicId.eq(invoice_public_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("That invoice".into()))?;
    let m = membership::Entity::find_by_id(found.membership_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("an invoice's membership is missing"))?;
    let member = patient::Entity::find_by_id(m.patient_id)
        .one(db)
        .await?
        .map(|p| p.public_id);
    // Money back is the practice's decision: a write on billing (the administrator), never
    // on the member's own membership, which the member may change.
    // Decided now, audited once the processor has answered: as done, or as failed with why.
    let approval = guard::approve(
        db,
        now,
        caller,
        Action::Write,
        Resource::Billing,
        member,
        "invoice.refund",
    )
    .await?;
    match ask_for_refund(processor, &found, amount_cents, form_key).await {
        Ok(()) => approval.record_done(db).await,
        Err(error) => {
            approval.record_failed(db, &error).await?;
            Err(error)
        }
    }
}

/// Checks what is left of `found` and asks the processor to refund `amount_cents` of it.
async fn ask_for_refund(
    processor: &dyn PaymentProcessor,
    found: &invoice::Model,
    amount_cents: i64,
    form_key: &str,
) -> Result<(), AppError> {
    let refundable = found.amount_paid_cents - found.amount_refunded_cents;
    if found.status == invoice_status::OPEN || refundable <= 0 {
        return Err(RefundRefusal::NothingLeft {
            invoice: found.number.clone(),
        }
        .into());
    }
    if amount_cents <= 0 || amount_cents > refundable {
        let mut errors = crate::FieldErrors::default();
        errors.add(
            "amount",
            format!(
                "Enter an amount between $0.01 and {}.",
                crate::domain::format_usd(refundable)
            ),
        );
        return Err(AppError::Validation(errors));
    }
    let Some(processor_invoice) = found.processor_invoice_id.clone() else {
        return Err(RefundRefusal::NotThroughProcessor.into());
    };
    match processor
        .refund(
            &processor_invoice,
            amount_cents,
            &format!("{}:{amount_cents}:{form_key}", found.public_id),
        )
        .await
    {
        Ok(()) => Ok(()),
        // The processor holds the books: it refuses a refund beyond what is left, also when
        // another refund of this invoice (another tab) got there first.
        Err(crate::billing::processor::ProcessorError::Rejected(why)) => {
            tracing::warn!(invoice = %found.public_id, %why, "refund refused by the processor");
            Err(RefundRefusal::ProcessorRefused {
                invoice: found.number.clone(),
            }
            .into())
        }
        Err(other) => Err(AppError::internal(other)),
    }
}

/// Dollars as typed ("12", "12.5", "$1,234.50") in cents.
pub fn parse_dollars(text: &str) -> Option<i64> {
    let cleaned: String = text.trim().trim_start_matches('$').replace(',', "");
    let (whole, fraction) = cleaned.split_once('.').unwrap_or((&cleaned, ""));
    if whole.is_empty() && fraction.is_empty() || fraction.len() > 2 {
        return None;
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let cents: i64 = match fraction.len() {
        0 => 0,
        1 => fraction.parse::<i64>().ok()? * 10,
        _ => fraction.parse().ok()?,
    };
    whole.checked_mul(100)?.checked_add(cents)
}

#[cfg(test)]
mod tests {
    use super::parse_dollars;

    #[test]
    fn amounts_are_read_as_people_type_them() {
        assert_eq!(parse_dollars("12"), Some(1_200));
        assert_eq!(parse_dollars("$12.5"), Some(1_250));
        assert_eq!(parse_dollars("1,234.05"), Some(123_405));
        assert_eq!(parse_dollars(".99"), Some(99));
        for bad in ["", "abc", "1.234", "-", "12.x"] {
            assert_eq!(parse_dollars(bad), None, "{bad}");
        }
    }
}
