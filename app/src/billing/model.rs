//! Billing's wire types and stored words, shared by the server and the pages.

use serde::{Deserialize, Serialize};

/// Where an invoice stands (`invoice.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::DeriveValueType))]
#[cfg_attr(feature = "ssr", sea_orm(value_type = "String"))]
pub enum InvoiceStatus {
    /// Issued, not (yet) paid: a failed payment leaves an invoice open.
    Open,
    Paid,
    /// Refunded in full.
    Refunded,
}

impl InvoiceStatus {
    pub const ALL: [InvoiceStatus; 3] = [
        InvoiceStatus::Open,
        InvoiceStatus::Paid,
        InvoiceStatus::Refunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceStatus::Open => "open",
            InvoiceStatus::Paid => "paid",
            InvoiceStatus::Refunded => "refunded",
        }
    }

    pub fn parse(text: &str) -> Option<InvoiceStatus> {
        InvoiceStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// As the practice's pages say it.
    pub fn label(self) -> &'static str {
        match self {
            InvoiceStatus::Open => "Open",
            InvoiceStatus::Paid => "Paid",
            InvoiceStatus::Refunded => "Refunded",
        }
    }
}

crate::stored_as_text!(InvoiceStatus, "invoice status");

/// `invoice.status`, by the names the rules use.
pub mod invoice_status {
    use super::InvoiceStatus;
    pub const OPEN: InvoiceStatus = InvoiceStatus::Open;
    pub const PAID: InvoiceStatus = InvoiceStatus::Paid;
    pub const REFUNDED: InvoiceStatus = InvoiceStatus::Refunded;
}

/// One invoice as the portal lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvoiceSummary {
    pub public_id: String,
    pub number: String,
    pub issued_on: String,
    pub description: String,
    pub total_cents: i64,
    pub refunded_cents: i64,
    pub status: InvoiceStatus,
    /// A payment of it failed (an open invoice the processor retries).
    pub payment_failed: bool,
}

impl InvoiceSummary {
    /// Where it stands, as the portal says it.
    pub fn status_label(&self) -> &'static str {
        match self.status {
            InvoiceStatus::Open if self.payment_failed => "Payment failed",
            status => status.label(),
        }
    }
}

/// What an invoice line is for (`invoice_line.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::DeriveValueType))]
#[cfg_attr(feature = "ssr", sea_orm(value_type = "String"))]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// The membership's fee for a period.
    Membership,
    /// The processor's adjustment for a plan changed mid-period.
    Proration,
    /// A visit the membership does not include.
    VisitFee,
    /// A visit cancelled late, by the tier's late policy.
    LateFee,
}

crate::stored_words!(LineKind, "invoice line kind", {
    Membership => "membership",
    Proration => "proration",
    VisitFee => "visit_fee",
    LateFee => "late_fee",
});

impl LineKind {
    /// Whether a health savings account may pay for it (a late fee is a penalty, not care).
    pub fn hsa_eligible(self) -> bool {
        self != LineKind::LateFee
    }
}

/// A charge for one visit, on top of the membership (`visit_charge.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::DeriveValueType))]
#[cfg_attr(feature = "ssr", sea_orm(value_type = "String"))]
#[serde(rename_all = "snake_case")]
pub enum ChargeKind {
    VisitFee,
    LateFee,
}

crate::stored_words!(ChargeKind, "visit charge kind", {
    VisitFee => "visit_fee",
    LateFee => "late_fee",
});

impl From<ChargeKind> for LineKind {
    fn from(kind: ChargeKind) -> LineKind {
        match kind {
            ChargeKind::VisitFee => LineKind::VisitFee,
            ChargeKind::LateFee => LineKind::LateFee,
        }
    }
}

/// Where a visit charge stands (`visit_charge.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::DeriveValueType))]
#[cfg_attr(feature = "ssr", sea_orm(value_type = "String"))]
#[serde(rename_all = "snake_case")]
pub enum ChargeStatus {
    /// Recorded; the job has not reached the processor yet.
    Pending,
    /// On the processor's next invoice.
    Billed,
    /// The membership has no processor subscription: the practice collects it itself.
    Collect,
}

crate::stored_words!(ChargeStatus, "visit charge status", {
    Pending => "pending",
    Billed => "billed",
    Collect => "collect",
});

impl ChargeStatus {
    /// As the admin's billing page says it.
    pub fn label(self) -> &'static str {
        match self {
            ChargeStatus::Pending => "Being sent to the payment processor",
            ChargeStatus::Billed => "On the member's next invoice",
            ChargeStatus::Collect => "Collect at the practice (no card on file)",
        }
    }
}
