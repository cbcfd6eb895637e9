//! The built-in payment processor: Stripe's test mode, in Bedside's own database, for a fresh
//! machine and the demo (no account, no network).
//!
//! It keeps its own books (`local_*` tables), answers each idempotency key once, renews
//! subscriptions at the end of each period, and reports everything as Stripe-shaped events
//! signed with the webhook secret and handed to the same `billing::webhook::receive` that
//! checks Stripe's — so the demo and the tests drive the real membership logic.
//!
//! Test cards behave as in Stripe's test mode:
//! - `4242 4242 4242 4242` succeeds;
//! - `4000 0000 0000 0002` is declined;
//! - `4000 0000 0000 0341` can be saved, but every charge to it fails (in a subscription
//!   checkout, whose first step is a charge, it is declined at once).

use app::billing::processor::{
    CheckoutMode, CheckoutRequest, CheckoutStart, InvoiceItem, PaymentProcessor, PriceChange,
    ProcessorError,
};
use app::billing::webhook::{CHARGE_KIND_KEY, MEMBERSHIP_KEY};
use app::clock::SharedClock;
use app::jobs::{self, NewJob};
use app::memberships::model::BillingPeriod;
use async_trait::async_trait;
use chrono::{DateTime, Months, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{
    ActiveValue::Set, DatabaseConnection, DatabaseTransaction, QueryOrder, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

mod books;
pub mod entity;
mod processor;

pub use entity::TestCard;
use entity::{
    local_checkout, local_customer, local_invoice, local_invoice_item, local_request,
    local_subscription, CheckoutKind, CheckoutStatus, Interval, LocalInvoiceStatus,
    SubscriptionStatus,
};

/// Job kinds of the built-in processor.
pub const DELIVER_KIND: &str = "local_payments.deliver";
pub const RENEW_KIND: &str = "local_payments.renew";

impl TestCard {
    pub fn from_number(number: &str) -> Option<TestCard> {
        let digits: String = number.chars().filter(char::is_ascii_digit).collect();
        match digits.as_str() {
            "4242424242424242" => Some(TestCard::Succeeds),
            "4000000000000002" => Some(TestCard::Declined),
            "4000000000000341" => Some(TestCard::FailsWhenCharged),
            _ => None,
        }
    }

    fn charges(self) -> bool {
        self == TestCard::Succeeds
    }
}

/// The event delivery job's payload: the event as JSON, signed when it is delivered.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Delivery {
    pub event: String,
}

/// The renewal job's payload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Renewal {
    pub subscription_id: String,
    pub period_end: DateTime<Utc>,
}

fn new_id(prefix: &str) -> String {
    format!("{prefix}_local_{}", uuid::Uuid::new_v4().simple())
}

fn unavailable(e: impl std::fmt::Display) -> ProcessorError {
    ProcessorError::Unavailable(e.to_string())
}

fn interval_of(period: BillingPeriod) -> Interval {
    match period {
        BillingPeriod::Monthly => Interval::Month,
        BillingPeriod::Annual => Interval::Year,
    }
}

fn period_end(start: DateTime<Utc>, interval: Interval) -> DateTime<Utc> {
    let months = interval.months();
    start
        .checked_add_months(Months::new(months))
        .unwrap_or(start + chrono::Duration::days(30 * i64::from(months)))
}

#[derive(Clone)]
pub struct LocalProcessor {
    db: DatabaseConnection,
    clock: SharedClock,
}

/// Why a card was refused on the checkout page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardRefusal {
    /// The session is finished or unknown.
    SessionGone,
    Declined(String),
}

/// What a completed checkout asks of the caller: deliver these events now, then send the
/// patient to `redirect`.
#[derive(Debug, Clone)]
pub struct Completed {
    pub delivery_jobs: Vec<i32>,
    pub redirect: String,
}

impl LocalProcessor {
    pub fn new(db: DatabaseConnection, clock: SharedClock) -> Self {
        LocalProcessor { db, clock }
    }

    pub async fn checkout(&self, session_id: &str) -> Result<Option<local_checkout::Model>, DbErr> {
        local_checkout::Entity::find()
            .filter(local_checkout::Column::SessionId.eq(session_id))
            .one(&self.db)
            .await
    }

    /// The answer stored for `key`, if this request was made before.
    pub(super) async fn replayed(&self, key: &str) -> Result<Option<String>, DbErr> {
        Ok(local_request::Entity::find()
            .filter(local_request::Column::IdempotencyKey.eq(key))
            .one(&self.db)
            .await?
            .map(|r| r.response))
    }

    /// A transaction for the request with idempotency key `key`, or `None` when that key was
    /// answered before (the request is a replay: nothing to do again).
    pub(super) async fn first_time(
        &self,
        key: &str,
    ) -> Result<Option<DatabaseTransaction>, ProcessorError> {
        if self.replayed(key).await.map_err(unavailable)?.is_some() {
            return Ok(None);
        }
        self.db.begin().await.map(Some).map_err(unavailable)
    }

    /// Records `key`'s answer in `txn`. `false` when another request with the key won.
    pub(super) async fn remember(
        txn: &DatabaseTransaction,
        key: &str,
        response: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, DbErr> {
        match (local_request::ActiveModel {
            idempotency_key: Set(key.to_owned()),
            response: Set(response.to_owned()),
            created_at: Set(now),
            ..Default::default()
        })
        .insert(txn)
        .await
        {
            Ok(_) => Ok(true),
            Err(e) if matches!(app::AppError::from(e.clone()), app::AppError::Conflict(_)) => {
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// Records `key`'s answer and commits the request's work; when another request with the
    /// same key got there first, this one's work is rolled back (it was the same request).
    pub(super) async fn finish(
        txn: DatabaseTransaction,
        key: &str,
        response: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ProcessorError> {
        if Self::remember(&txn, key, response, now)
            .await
            .map_err(unavailable)?
        {
            txn.commit().await.map_err(unavailable)?;
        }
        Ok(())
    }

    pub(super) async fn emit(
        txn: &DatabaseTransaction,
        kind: &str,
        object: serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<i32, DbErr> {
        let event = json!({
            "id": new_id("evt"),
            "object": "event",
            "type": kind,
            "created": now.timestamp(),
            "livemode": false,
            "data": { "object": object },
        });
        jobs::enqueue(
            txn,
            NewJob {
                kind: DELIVER_KIND,
                payload: &Delivery {
                    event: event.to_string(),
                },
                run_at: now,
                dedupe_key: None,
                max_attempts: 20,
            },
            now,
        )
        .await
        .map_err(|e| DbErr::Custom(e.to_string()))
    }

    pub(super) fn invoice_object(
        invoice: &local_invoice::Model,
        subscription: &local_subscription::Model,
        items: &[local_invoice_item::Model],
    ) -> serde_json::Value {
        let items_cents: i64 = items.iter().map(|i| i.amount_cents).sum();
        let mut lines = vec![json!({
            "description": invoice.description,
            "amount": invoice.amount_cents - items_cents,
            "proration": false,
            "period": {
                "start": invoice.period_start.timestamp(),
                "end": invoice.period_end.timestamp(),
            },
        })];
        lines.extend(items.iter().map(|item| {
            json!({
                "description": item.description,
                "amount": item.amount_cents,
                "proration": false,
                // As Stripe reports an invoice item: its period is when it was added.
                "period": {
                    "start": item.created_at.timestamp(),
                    "end": item.created_at.timestamp(),
                },
                "metadata": { CHARGE_KIND_KEY: item.kind.as_str() },
            })
        }));
        json!({
            "id": invoice.invoice_id,
            "object": "invoice",
            "customer": subscription.customer_id,
            "currency": "usd",
            "amount_due": invoice.amount_cents,
            "amount_paid": if invoice.status == LocalInvoiceStatus::Paid { invoice.amount_cents } else { 0 },
            "attempt_count": invoice.attempts,
            "status": invoice.status.as_str(),
            "parent": {
                "type": "subscription_details",
                "subscription_details": {
                    "subscription": subscription.subscription_id,
                    "metadata": { MEMBERSHIP_KEY: subscription.membership_ref },
                }
            },
            "lines": { "object": "list", "data": lines },
        })
    }
}
