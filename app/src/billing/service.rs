//! Invoices as Bedside keeps them, and the retry plan for a failed payment (R6.5): three
//! retries, one, three and five days after the first failure; the patient is told each time;
//! after the last one fails the membership is suspended.

use super::entity::{invoice, invoice_line, invoice_refund};
use super::model::{invoice_status, InvoiceSummary};
use crate::jobs::{self, entity::job, NewJob};
use crate::AppError;
use chrono::{DateTime, Datelike, Duration, Utc};
use chrono_tz::Tz;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};

/// Days after the first failure on which a payment is tried again.
pub const RETRY_AFTER_DAYS: [i64; 3] = [1, 3, 5];

/// Attempts in all (the first charge and every retry) before a membership is suspended.
pub const ATTEMPTS_BEFORE_SUSPENSION: i32 = 1 + RETRY_AFTER_DAYS.len() as i32;

pub const RETRY_JOB_KIND: &str = "billing.retry";

/// The `billing.retry` job's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPayment {
    pub invoice: String,
    /// 1 to 3: the planned retries.
    pub retry: usize,
    /// Set instead for the charge made right after a new card is saved (the checkout's id).
    #[serde(default)]
    pub after_new_card: Option<String>,
}

impl RetryPayment {
    fn suffix(&self) -> String {
        match &self.after_new_card {
            Some(checkout) => format!("card:{checkout}"),
            None => self.retry.to_string(),
        }
    }

    pub fn key(&self) -> String {
        format!("{RETRY_JOB_KIND}:{}:{}", self.invoice, self.suffix())
    }

    /// The idempotency key of the processor call this retry makes.
    pub fn idempotency_key(&self) -> String {
        format!("retry:{}:{}", self.invoice, self.suffix())
    }
}

/// After a new card is saved: charge every unpaid invoice of the membership with it now.
pub async fn charge_open_invoices_after_new_card(
    conn: &impl ConnectionTrait,
    membership_id: i32,
    checkout_id: &str,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    let open = invoice::Entity::find()
        .filter(invoice::Column::MembershipId.eq(membership_id))
        .filter(invoice::Column::Status.eq(invoice_status::OPEN))
        .all(conn)
        .await?;
    for unpaid in &open {
        let retry = RetryPayment {
            invoice: unpaid.public_id.clone(),
            retry: 0,
            after_new_card: Some(checkout_id.to_owned()),
        };
        jobs::enqueue(
            conn,
            NewJob {
                kind: RETRY_JOB_KIND,
                payload: &retry,
                run_at: now,
                dedupe_key: Some(retry.key()),
                max_attempts: 5,
            },
            now,
        )
        .await?;
    }
    Ok(open.len())
}

/// A line as the processor reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLine {
    pub kind: super::model::LineKind,
    pub description: String,
    pub amount_cents: i64,
}

/// An invoice as the processor reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessorInvoice {
    pub processor_invoice_id: String,
    pub currency: String,
    pub total_cents: i64,
    pub period_start: Option<DateTime<Utc>>,
    pub period_end: Option<DateTime<Utc>>,
    pub lines: Vec<NewLine>,
}

/// The invoice for a processor invoice, created (with its lines and number) the first time
/// an event mentions it.
pub async fn find_or_create(
    conn: &impl ConnectionTrait,
    membership_id: i32,
    reported: &ProcessorInvoice,
    now: DateTime<Utc>,
) -> Result<invoice::Model, AppError> {
    if let Some(existing) = invoice::Entity::find()
        .filter(invoice::Column::ProcessorInvoiceId.eq(reported.processor_invoice_id.as_str()))
        .one(conn)
        .await?
    {
        return Ok(existing);
    }
    let public_id = uuid::Uuid::new_v4().simple().to_string();
    let row = invoice::ActiveModel {
        public_id: Set(public_id.clone()),
        // Replaced below by the readable number, which needs the row's id.
        number: Set(public_id),
        membership_id: Set(membership_id),
        processor_invoice_id: Set(Some(reported.processor_invoice_id.clone())),
        status: Set(invoice_status::OPEN),
        currency: Set(reported.currency.chars().take(3).collect()),
        total_cents: Set(reported.total_cents),
        amount_paid_cents: Set(0),
        amount_refunded_cents: Set(0),
        failed_attempts: Set(0),
        period_start: Set(reported.period_start),
        period_end: Set(reported.period_end),
        issued_at: Set(now),
        paid_at: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    for line in &reported.lines {
        invoice_line::ActiveModel {
            invoice_id: Set(row.id),
            kind: Set(line.kind),
            description: Set(line.description.chars().take(255).collect()),
            quantity: Set(1),
            unit_amount_cents: Set(line.amount_cents),
            amount_cents: Set(line.amount_cents),
            // Membership and visit fees are itemized separately so a patient can submit them
            // to an HSA/FSA administrator (whether a plan reimburses them is the plan's
            // decision); a late-cancellation fee pays for no care, so it is not marked.
            hsa_eligible: Set(line.kind.hsa_eligible()),
            ..Default::default()
        }
        .insert(conn)
        .await?;
    }
    let mut numbered: invoice::ActiveModel = row.into();
    numbered.number = Set(format!("{}-{:05}", now.year(), numbered_id(&numbered)));
    Ok(numbered.update(conn).await?)
}

fn numbered_id(row: &invoice::ActiveModel) -> i32 {
    match &row.id {
        sea_orm::ActiveValue::Set(id) | sea_orm::ActiveValue::Unchanged(id) => *id,
        sea_orm::ActiveValue::NotSet => 0,
    }
}

/// Marks `found` paid. `false` if it was paid already (a replay: nothing more to do).
pub async fn mark_paid(
    conn: &impl ConnectionTrait,
    found: &invoice::Model,
    amount_paid_cents: i64,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    // Conditional, so two deliveries of the same payment cannot both credit it.
    let updated = invoice::Entity::update_many()
        .col_expr(
            invoice::Column::Status,
            sea_orm::sea_query::Expr::value(invoice_status::PAID),
        )
        .col_expr(invoice::Column::AmountPaidCents, amount_paid_cents.into())
        .col_expr(invoice::Column::PaidAt, Some(now).into())
        .filter(invoice::Column::Id.eq(found.id))
        .filter(invoice::Column::Status.ne(invoice_status::PAID))
        .exec(conn)
        .await?;
    if updated.rows_affected == 0 {
        return Ok(false);
    }
    for retry in 1..=RETRY_AFTER_DAYS.len() {
        jobs::cancel(
            conn,
            &RetryPayment {
                invoice: found.public_id.clone(),
                retry,
                after_new_card: None,
            }
            .key(),
        )
        .await?;
    }
    Ok(true)
}

/// What a failed attempt means for the membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Already known (a replay, or an invoice paid since).
    Known,
    /// The first failure: retries are planned; the first is at this time.
    First { next_retry: DateTime<Utc> },
    /// A retry failed; the next is at this time.
    Retry {
        attempt: i32,
        next_retry: Option<DateTime<Utc>>,
    },
    /// The last retry failed: suspend.
    Exhausted,
}

/// Records failed attempt number `attempt` (the processor's count) on `found`.
pub async fn record_failure(
    conn: &impl ConnectionTrait,
    found: &invoice::Model,
    attempt: i32,
    now: DateTime<Utc>,
) -> Result<Failure, AppError> {
    if found.status == invoice_status::PAID || attempt <= found.failed_attempts {
        return Ok(Failure::Known);
    }
    let updated = invoice::Entity::update_many()
        .col_expr(invoice::Column::FailedAttempts, attempt.into())
        .filter(invoice::Column::Id.eq(found.id))
        .filter(invoice::Column::FailedAttempts.lt(attempt))
        .filter(invoice::Column::Status.ne(invoice_status::PAID))
        .exec(conn)
        .await?;
    if updated.rows_affected == 0 {
        return Ok(Failure::Known);
    }
    if attempt >= ATTEMPTS_BEFORE_SUSPENSION {
        return Ok(Failure::Exhausted);
    }
    if found.failed_attempts == 0 {
        // The first failure plans every retry, at fixed days from now.
        for (index, days) in RETRY_AFTER_DAYS.iter().enumerate() {
            let retry = RetryPayment {
                invoice: found.public_id.clone(),
                retry: index + 1,
                after_new_card: None,
            };
            jobs::enqueue(
                conn,
                NewJob {
                    kind: RETRY_JOB_KIND,
                    payload: &retry,
                    run_at: now + Duration::days(*days),
                    dedupe_key: Some(retry.key()),
                    max_attempts: 5,
                },
                now,
            )
            .await?;
        }
        return Ok(Failure::First {
            next_retry: now + Duration::days(RETRY_AFTER_DAYS[0]),
        });
    }
    let pending = next_retry_of(conn, &found.public_id).await?;
    Ok(Failure::Retry {
        attempt,
        next_retry: pending,
    })
}

async fn next_retry_of(
    conn: &impl ConnectionTrait,
    invoice_public_id: &str,
) -> Result<Option<DateTime<Utc>>, AppError> {
    let prefix = format!("{RETRY_JOB_KIND}:{invoice_public_id}:");
    Ok(job::Entity::find()
        .filter(job::Column::Kind.eq(RETRY_JOB_KIND))
        .filter(job::Column::Status.eq(jobs::status::PENDING))
        .filter(job::Column::DedupeKey.starts_with(prefix.as_str()))
        .order_by_asc(job::Column::RunAt)
        .one(conn)
        .await?
        .map(|j| j.run_at))
}

/// When the next retry of any open invoice among `invoices` is planned (for the portal).
pub async fn next_retry(
    conn: &impl ConnectionTrait,
    invoices: &[invoice::Model],
    _now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, AppError> {
    let mut soonest: Option<DateTime<Utc>> = None;
    for open in invoices
        .iter()
        .filter(|i| i.status == invoice_status::OPEN && i.failed_attempts > 0)
    {
        if let Some(at) = next_retry_of(conn, &open.public_id).await? {
            soonest = Some(soonest.map_or(at, |s| s.min(at)));
        }
    }
    Ok(soonest)
}

/// How the portal lists an invoice: what it was for is its first line, as the processor
/// billed it (a membership changes tier; its old invoices keep saying what they were for).
pub fn summary(row: &invoice::Model, first_line: Option<&str>, time_zone: Tz) -> InvoiceSummary {
    let covered = match (row.period_start, row.period_end) {
        (Some(start), Some(end)) => format!(
            ", {} to {}",
            start.with_timezone(&time_zone).format("%b %-d, %Y"),
            end.with_timezone(&time_zone).format("%b %-d, %Y")
        ),
        _ => String::new(),
    };
    InvoiceSummary {
        public_id: row.public_id.clone(),
        number: row.number.clone(),
        issued_on: row
            .issued_at
            .with_timezone(&time_zone)
            .format("%B %-d, %Y")
            .to_string(),
        description: format!("{}{covered}", first_line.unwrap_or("Membership")),
        total_cents: row.total_cents,
        refunded_cents: row.amount_refunded_cents,
        status: row.status,
        payment_failed: row.failed_attempts > 0,
    }
}

/// Records a processor refund on its invoice, once (by the refund's id). Returns the invoice
/// when the refund is new.
pub async fn record_refund(
    conn: &impl ConnectionTrait,
    processor_invoice_id: &str,
    processor_refund_id: &str,
    amount_cents: i64,
    now: DateTime<Utc>,
) -> Result<Option<invoice::Model>, AppError> {
    let Some(found) = invoice::Entity::find()
        .filter(invoice::Column::ProcessorInvoiceId.eq(processor_invoice_id))
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    if invoice_refund::Entity::find()
        .filter(invoice_refund::Column::ProcessorRefundId.eq(processor_refund_id))
        .one(conn)
        .await?
        .is_some()
    {
        return Ok(None);
    }
    invoice_refund::ActiveModel {
        invoice_id: Set(found.id),
        processor_refund_id: Set(processor_refund_id.chars().take(255).collect()),
        amount_cents: Set(amount_cents),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    let refunded = found.amount_refunded_cents + amount_cents;
    let mut row: invoice::ActiveModel = found.clone().into();
    row.amount_refunded_cents = Set(refunded);
    if refunded >= found.amount_paid_cents && found.amount_paid_cents > 0 {
        row.status = Set(invoice_status::REFUNDED);
    }
    Ok(Some(row.update(conn).await?))
}
