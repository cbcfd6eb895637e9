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
    let (identity, _, caller) = context::caller()?;
    super::service::audit_log(identity.db(), identity.now(), &caller, &filter).await
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

/// The practice's newest invoices (admin only; the read is audited).
#[server]
pub async fn billing_invoices() -> Result<Vec<AdminInvoice>, AppError> {
    use crate::auth::api::context;
    let (identity, _, caller) = context::caller()?;
    let db = identity.db();
    let time_zone = crate::appointments::service::practice_time_zone(db).await?;
    crate::billing::admin::recent_invoices(db, identity.now(), &caller, time_zone).await
}
