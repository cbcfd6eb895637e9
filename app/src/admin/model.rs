//! The admin area's wire types: what its pages show.

use crate::audit::AuditEntry;
use serde::{Deserialize, Serialize};

/// One page of the audit log, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Pass as `before` for the next (older) page; `None` on the last page.
    pub older: Option<i64>,
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
