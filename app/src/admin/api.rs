//! Admin server functions.

use crate::audit::{AuditEntry, AuditFilter};
use crate::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One page of the audit log, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Pass as `before` for the next (older) page; `None` on the last page.
    pub older: Option<i64>,
}

/// The audit log, filtered (admin only; reading it is itself audited).
#[server]
pub async fn audit_log(filter: AuditFilter) -> Result<AuditPage, AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    super::service::audit_log(me.db(), me.now(), &me.caller, &filter).await
}

/// One invoice on the admin's billing page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminInvoice {
    pub public_id: String,
    pub number: String,
    pub member: String,
    pub issued_on: String,
    pub total_cents: i64,
    pub paid_cents: i64,
    pub refunded_cents: i64,
    pub status: String,
}

impl AdminInvoice {
    /// What may still be refunded.
    pub fn refundable_cents(&self) -> i64 {
        (self.paid_cents - self.refunded_cents).max(0)
    }
}

/// A visit fee or late fee on the admin's billing page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminVisitCharge {
    pub member: String,
    pub description: String,
    pub amount_cents: i64,
    pub recorded_on: String,
    /// "On the next invoice", "Sending to the payment processor", "Collect at the practice".
    pub status: String,
}

/// The admin's billing page: the newest invoices and visit charges.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminBilling {
    pub invoices: Vec<AdminInvoice>,
    pub charges: Vec<AdminVisitCharge>,
}

/// The practice's newest invoices and visit charges (admin only; the read is audited).
#[server]
pub async fn billing_overview() -> Result<AdminBilling, AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    let db = me.db();
    let time_zone = crate::appointments::service::practice_time_zone(db).await?;
    crate::billing::admin::overview(db, me.keyring(), me.now(), &me.caller, time_zone).await
}

/// Where a refund posted without JavaScript goes: the billing page, saying it started or why
/// not (by code; nothing the admin typed goes into the address).
#[cfg(feature = "ssr")]
fn refund_problem(error: &AppError) -> String {
    let code = match error {
        AppError::Validation(_) => "amount",
        AppError::Refused(crate::Refusal::Refund(refusal)) => refusal.code(),
        AppError::Unauthorized => return "/signin?next=/admin/billing".to_owned(),
        AppError::Forbidden => "forbidden",
        _ => "failed",
    };
    format!("/admin/billing?problem={code}")
}

/// Refunds `amount` dollars (`49.50`) of an invoice to the card it was paid with (admin); the
/// processor's event records it on the invoice and the member is emailed. `key`: the page's
/// form key, so a second press of the same form refunds once.
#[server(endpoint = "billing/refund")]
pub async fn refund_invoice(
    invoice: String,
    amount: String,
    key: Option<String>,
) -> Result<(), AppError> {
    use crate::auth::api::context;
    let refunded = async {
        let me = context::signed_in()?;
        let amount_cents = crate::billing::admin::parse_dollars(&amount).ok_or_else(|| {
            AppError::field(
                "amount",
                "Enter an amount in dollars (for example 49.50), no more than what is left to refund.",
            )
        })?;
        let key = crate::memberships::api::form_key(key.as_deref());
        let payments = context::payments()?;
        let (db, now) = (me.db(), me.now());
        crate::billing::admin::refund(db, payments.as_ref(), now, &me.caller, &invoice, amount_cents, &key)
            .await?;
        // The processor reports the refund as an event: record it now, so the page shows it.
        me.run_due_now().await;
        Ok(())
    }
    .await;
    context::answer_write(
        refunded,
        |()| "/admin/billing?refunded=1".to_owned(),
        refund_problem,
    )
}
