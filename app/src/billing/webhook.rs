//! Payment events (Stripe's webhook format, which the built-in processor also speaks).
//!
//! `receive` checks the signature on the raw body, then handles the event in one transaction
//! that first records its id: a replay — the same event again, at once or days later, even
//! five copies at the same moment — finds the id taken and changes nothing (P7). Handling does
//! not assume an order: a payment that arrives before its checkout's completion still finds
//! its membership (by subscription or by the membership reference in the metadata), an
//! invoice is credited once however often it is reported paid, a failure reported after the
//! payment is ignored, and the paid-through date only ever moves forward.

use super::entity::payment_event;
use super::model::{ChargeKind, LineKind};
use super::service::{self as billing, Failure, NewLine, ProcessorInvoice};
use super::signature::{self, SignatureError};
use crate::memberships::entity::membership;
use crate::memberships::model::MembershipStatus;
use crate::memberships::notices::{self, MembershipEmail};
use crate::memberships::service as memberships;
use crate::AppError;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, Set,
    TransactionTrait,
};
use serde::Deserialize;
use std::collections::HashMap;

/// The metadata key that carries the membership's public id on checkouts and subscriptions.
pub const MEMBERSHIP_KEY: &str = "membership";

#[derive(Debug, Deserialize)]
pub struct Event {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub data: EventData,
}

#[derive(Debug, Deserialize)]
pub struct EventData {
    pub object: serde_json::Value,
}

#[derive(Debug, Deserialize)]
struct CheckoutSession {
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    customer: Option<String>,
    #[serde(default)]
    subscription: Option<String>,
    #[serde(default)]
    metadata: HashMap<String, String>,
    #[serde(default)]
    client_reference_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct SubscriptionDetails {
    #[serde(default)]
    subscription: Option<String>,
    #[serde(default)]
    metadata: HashMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
struct InvoiceParent {
    #[serde(default)]
    subscription_details: Option<SubscriptionDetails>,
}

#[derive(Debug, Deserialize)]
struct Period {
    start: i64,
    end: i64,
}

#[derive(Debug, Deserialize)]
struct InvoiceLine {
    #[serde(default)]
    description: Option<String>,
    amount: i64,
    #[serde(default)]
    period: Option<Period>,
    #[serde(default)]
    proration: bool,
    /// An invoice item's metadata: Bedside's visit charges carry their kind.
    #[serde(default)]
    metadata: HashMap<String, String>,
}

/// The metadata key that carries a visit charge's kind on its invoice item.
pub const CHARGE_KIND_KEY: &str = "bedside_kind";

impl InvoiceLine {
    /// A visit fee or late fee Bedside added as an invoice item, if this line is one.
    fn visit_charge_kind(&self) -> Option<ChargeKind> {
        self.metadata
            .get(CHARGE_KIND_KEY)
            .and_then(|kind| ChargeKind::parse(kind))
    }
}

#[derive(Debug, Default, Deserialize)]
struct InvoiceLines {
    #[serde(default)]
    data: Vec<InvoiceLine>,
}

/// The parts of a Stripe invoice Bedside reads. Older API versions name the subscription at
/// the top level, newer ones under `parent.subscription_details`; both are read.
#[derive(Debug, Deserialize)]
struct Invoice {
    id: String,
    #[serde(default)]
    customer: Option<String>,
    #[serde(default)]
    subscription: Option<String>,
    #[serde(default)]
    subscription_details: Option<SubscriptionDetails>,
    #[serde(default)]
    parent: Option<InvoiceParent>,
    #[serde(default)]
    metadata: HashMap<String, String>,
    currency: String,
    amount_due: i64,
    #[serde(default)]
    amount_paid: i64,
    #[serde(default)]
    attempt_count: i32,
    #[serde(default)]
    lines: InvoiceLines,
}

impl Invoice {
    fn details(&self) -> impl Iterator<Item = &SubscriptionDetails> {
        self.subscription_details.iter().chain(
            self.parent
                .iter()
                .filter_map(|p| p.subscription_details.as_ref()),
        )
    }

    fn subscription_id(&self) -> Option<&str> {
        self.subscription
            .as_deref()
            .or_else(|| self.details().find_map(|d| d.subscription.as_deref()))
    }

    fn membership_ref(&self) -> Option<&str> {
        self.metadata
            .get(MEMBERSHIP_KEY)
            .or_else(|| self.details().find_map(|d| d.metadata.get(MEMBERSHIP_KEY)))
            .map(String::as_str)
    }

    fn as_reported(&self) -> ProcessorInvoice {
        let at = |seconds: i64| DateTime::from_timestamp(seconds, 0);
        // An invoice item's period is the moment it was added: the period billed is the
        // membership lines'.
        let periods = self
            .lines
            .data
            .iter()
            .filter(|l| l.visit_charge_kind().is_none())
            .filter_map(|l| l.period.as_ref());
        ProcessorInvoice {
            processor_invoice_id: self.id.clone(),
            currency: self.currency.to_lowercase(),
            total_cents: self.amount_due,
            period_start: periods.clone().map(|p| p.start).min().and_then(at),
            period_end: periods.map(|p| p.end).max().and_then(at),
            lines: self
                .lines
                .data
                .iter()
                .map(|line| NewLine {
                    kind: match line.visit_charge_kind() {
                        Some(kind) => kind.into(),
                        None if line.proration => LineKind::Proration,
                        None => LineKind::Membership,
                    },
                    description: line
                        .description
                        .clone()
                        .unwrap_or_else(|| "Membership".to_owned()),
                    amount_cents: line.amount,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize)]
struct Refund {
    id: String,
    amount: i64,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    metadata: HashMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct Subscription {
    id: String,
    #[serde(default)]
    metadata: HashMap<String, String>,
}

/// What became of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    Handled(String),
    /// Seen before: nothing was done again.
    Duplicate,
}

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("signature: {0}")]
    Signature(#[from] SignatureError),
    #[error("unreadable event: {0}")]
    Unreadable(String),
    /// Handling failed and was rolled back; the sender should deliver it again.
    #[error("{0}")]
    Failed(#[from] AppError),
}

impl From<sea_orm::DbErr> for WebhookError {
    fn from(e: sea_orm::DbErr) -> Self {
        WebhookError::Failed(e.into())
    }
}

/// Checks and handles one delivery.
pub async fn receive(
    db: &DatabaseConnection,
    secret: &[u8],
    signature_header: Option<&str>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Received, WebhookError> {
    signature::verify(
        secret,
        signature_header.unwrap_or_default(),
        body,
        now.timestamp(),
        signature::TOLERANCE_SECONDS,
    )?;
    let event: Event =
        serde_json::from_slice(body).map_err(|e| WebhookError::Unreadable(e.to_string()))?;
    handle(db, &event, now).await
}

/// Handles a verified event, once.
pub async fn handle(
    db: &DatabaseConnection,
    event: &Event,
    now: DateTime<Utc>,
) -> Result<Received, WebhookError> {
    let txn = db.begin().await?;
    let recorded = payment_event::ActiveModel {
        event_id: Set(event.id.chars().take(255).collect()),
        event_type: Set(event.kind.chars().take(64).collect()),
        received_at: Set(now),
        outcome: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    let recorded = match recorded {
        Ok(row) => row,
        Err(err) => {
            return match AppError::from(err) {
                AppError::Conflict(_) => Ok(Received::Duplicate),
                other => Err(other.into()),
            }
        }
    };
    let outcome = dispatch(&txn, event, now).await?;
    let mut row: payment_event::ActiveModel = recorded.into();
    row.outcome = Set(Some(outcome.chars().take(500).collect()));
    row.update(&txn).await?;
    txn.commit().await?;
    tracing::info!(event = %event.id, kind = %event.kind, %outcome, "payment event");
    Ok(Received::Handled(outcome))
}

fn object<T: serde::de::DeserializeOwned>(event: &Event) -> Result<T, WebhookError> {
    serde_json::from_value(event.data.object.clone())
        .map_err(|e| WebhookError::Unreadable(format!("{}: {e}", event.kind)))
}

async fn membership_for(
    txn: &DatabaseTransaction,
    subscription: Option<&str>,
    reference: Option<&str>,
) -> Result<Option<membership::Model>, AppError> {
    if let Some(subscription) = subscription {
        if let Some(found) = memberships::by_subscription(txn, subscription).await? {
            return Ok(Some(found));
        }
    }
    match reference {
        Some(reference) => memberships::by_ref(txn, reference).await,
        None => Ok(None),
    }
}

async fn dispatch(
    txn: &DatabaseTransaction,
    event: &Event,
    now: DateTime<Utc>,
) -> Result<String, WebhookError> {
    match event.kind.as_str() {
        "checkout.session.completed" => {
            let session: CheckoutSession = object(event)?;
            let reference = session
                .metadata
                .get(MEMBERSHIP_KEY)
                .or(session.client_reference_id.as_ref());
            let Some(m) = membership_for(txn, None, reference.map(String::as_str)).await? else {
                return Ok("no membership for this checkout".into());
            };
            memberships::link_processor(
                txn,
                &m,
                session.customer.as_deref(),
                session.subscription.as_deref(),
                now,
            )
            .await?;
            if session.mode.as_deref() == Some("setup") {
                let session_id = event.data.object["id"].as_str().unwrap_or(&event.id);
                let charged =
                    billing::charge_open_invoices_after_new_card(txn, m.id, session_id, now)
                        .await?;
                return Ok(format!(
                    "card replaced for membership {}; {charged} open invoices to charge",
                    m.public_id
                ));
            }
            Ok(format!("checkout linked to membership {}", m.public_id))
        }
        "invoice.paid" | "invoice.payment_succeeded" => {
            let invoice: Invoice = object(event)?;
            let Some(m) =
                membership_for(txn, invoice.subscription_id(), invoice.membership_ref()).await?
            else {
                return Ok("no membership for this invoice".into());
            };
            let m = if m.processor_subscription_id.is_none() || m.processor_customer_id.is_none() {
                memberships::link_processor(
                    txn,
                    &m,
                    invoice.customer.as_deref(),
                    invoice.subscription_id(),
                    now,
                )
                .await?
            } else {
                m
            };
            let reported = invoice.as_reported();
            let found = billing::find_or_create(txn, m.id, &reported, now).await?;
            if !billing::mark_paid(txn, &found, invoice.amount_paid, now).await? {
                return Ok(format!("invoice {} was paid already", found.number));
            }
            let period_end = reported.period_end.unwrap_or(now);
            let change =
                memberships::record_paid_period(txn, &m, reported.period_start, period_end, now)
                    .await?;
            notices::enqueue(
                txn,
                &MembershipEmail::Receipt {
                    invoice: found.public_id.clone(),
                },
                now,
            )
            .await?;
            Ok(format!(
                "invoice {} paid; membership {change:?}",
                found.number
            ))
        }
        "invoice.payment_failed" => {
            let invoice: Invoice = object(event)?;
            let Some(m) =
                membership_for(txn, invoice.subscription_id(), invoice.membership_ref()).await?
            else {
                return Ok("no membership for this invoice".into());
            };
            let found = billing::find_or_create(txn, m.id, &invoice.as_reported(), now).await?;
            let attempt = invoice.attempt_count.max(1);
            match billing::record_failure(txn, &found, attempt, now).await? {
                Failure::Known => Ok(format!("failure on {} already known", found.number)),
                Failure::First { next_retry } => {
                    past_due(txn, &m, &found, attempt, Some(next_retry), now).await?;
                    Ok(format!(
                        "payment of {} failed; retries planned",
                        found.number
                    ))
                }
                Failure::Retry {
                    attempt,
                    next_retry,
                } => {
                    past_due(txn, &m, &found, attempt, next_retry, now).await?;
                    Ok(format!("attempt {attempt} on {} failed", found.number))
                }
                Failure::Exhausted => {
                    memberships::set_status(txn, &m, MembershipStatus::Suspended, now).await?;
                    notices::enqueue(
                        txn,
                        &MembershipEmail::Suspended {
                            membership: m.public_id.clone(),
                        },
                        now,
                    )
                    .await?;
                    Ok(format!(
                        "last attempt on {} failed; membership suspended",
                        found.number
                    ))
                }
            }
        }
        "refund.created" | "refund.updated" => {
            let refund: Refund = object(event)?;
            if !matches!(
                refund.status.as_deref(),
                None | Some("succeeded") | Some("pending")
            ) {
                return Ok(format!(
                    "refund {} is {:?}: nothing credited",
                    refund.id, refund.status
                ));
            }
            let Some(invoice_id) = refund.metadata.get("invoice") else {
                return Ok("a refund without an invoice: not ours".into());
            };
            match billing::record_refund(txn, invoice_id, &refund.id, refund.amount, now).await? {
                Some(found) => {
                    notices::enqueue(
                        txn,
                        &MembershipEmail::Refunded {
                            invoice: found.public_id.clone(),
                            amount_cents: refund.amount,
                        },
                        now,
                    )
                    .await?;
                    Ok(format!("refund of {} on {}", refund.amount, found.number))
                }
                None => Ok(format!(
                    "refund {} known, or its invoice is not ours",
                    refund.id
                )),
            }
        }
        "customer.subscription.deleted" => {
            let subscription: Subscription = object(event)?;
            let Some(m) = membership_for(
                txn,
                Some(&subscription.id),
                subscription
                    .metadata
                    .get(MEMBERSHIP_KEY)
                    .map(String::as_str),
            )
            .await?
            else {
                return Ok("no membership for this subscription".into());
            };
            let change = memberships::set_status(txn, &m, MembershipStatus::Cancelled, now).await?;
            Ok(format!("subscription ended; membership {change:?}"))
        }
        other => Ok(format!("{other}: not used")),
    }
}

/// Used by tests and the built-in processor: whether an event id has been handled.
/// A payment of `invoice` failed on attempt `attempt` with another planned: the membership is
/// past due and the member is told (the next try's date, when there is one).
async fn past_due(
    txn: &impl ConnectionTrait,
    m: &membership::Model,
    invoice: &super::entity::invoice::Model,
    attempt: i32,
    next_retry: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    memberships::set_status(txn, m, MembershipStatus::PastDue, now).await?;
    notices::enqueue(
        txn,
        &MembershipEmail::PaymentFailed {
            invoice: invoice.public_id.clone(),
            attempt,
            next_retry,
        },
        now,
    )
    .await?;
    Ok(())
}

pub async fn seen(conn: &impl ConnectionTrait, event_id: &str) -> Result<bool, AppError> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    Ok(payment_event::Entity::find()
        .filter(payment_event::Column::EventId.eq(event_id))
        .one(conn)
        .await?
        .is_some())
}
