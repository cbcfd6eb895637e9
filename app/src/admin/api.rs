//! Admin server functions.

use super::model::{AdminBilling, AuditPage};
use crate::audit::AuditFilter;
use crate::AppError;
use leptos::prelude::*;

/// The audit log, filtered (admin only; reading it is itself audited).
#[server]
pub async fn audit_log(filter: AuditFilter) -> Result<AuditPage, AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    super::service::audit_log(&me, &filter).await
}

/// The practice's newest invoices and visit charges (admin only; the read is audited).
#[server]
pub async fn billing_overview() -> Result<AdminBilling, AppError> {
    use crate::auth::api::context;
    let me = context::signed_in()?;
    let time_zone = crate::appointments::service::schedule::practice_time_zone(me.db()).await?;
    crate::billing::admin::overview(&me, time_zone).await
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
        crate::billing::admin::refund(&me, payments.as_ref(), &invoice, amount_cents, &key).await?;
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
