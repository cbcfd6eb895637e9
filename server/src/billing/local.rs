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

pub mod entity {
    pub mod local_checkout {
        use sea_orm::entity::prelude::*;
        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "local_checkout")]
        pub struct Model {
            #[sea_orm(primary_key)]
            pub id: i32,
            #[sea_orm(unique)]
            pub session_id: String,
            pub mode: String,
            pub membership_ref: String,
            pub customer_email: String,
            pub customer_id: Option<String>,
            pub description: String,
            pub amount_cents: i64,
            pub interval: String,
            pub success_url: String,
            pub cancel_url: String,
            pub status: String,
            pub created_at: DateTimeUtc,
        }
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}
        impl ActiveModelBehavior for ActiveModel {}
    }

    pub mod local_customer {
        use sea_orm::entity::prelude::*;
        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "local_customer")]
        pub struct Model {
            #[sea_orm(primary_key)]
            pub id: i32,
            #[sea_orm(unique)]
            pub customer_id: String,
            pub email: String,
            pub card_brand: Option<String>,
            pub card_last4: Option<String>,
            pub card_behaviour: Option<String>,
            pub created_at: DateTimeUtc,
        }
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}
        impl ActiveModelBehavior for ActiveModel {}
    }

    pub mod local_subscription {
        use sea_orm::entity::prelude::*;
        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "local_subscription")]
        pub struct Model {
            #[sea_orm(primary_key)]
            pub id: i32,
            #[sea_orm(unique)]
            pub subscription_id: String,
            pub customer_id: String,
            pub membership_ref: String,
            pub description: String,
            pub amount_cents: i64,
            pub interval: String,
            pub status: String,
            pub current_period_start: DateTimeUtc,
            pub current_period_end: DateTimeUtc,
            pub created_at: DateTimeUtc,
            pub next_amount_cents: Option<i64>,
            pub next_interval: Option<String>,
            pub cancel_at: Option<DateTimeUtc>,
        }
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}
        impl ActiveModelBehavior for ActiveModel {}
    }

    pub mod local_invoice {
        use sea_orm::entity::prelude::*;
        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "local_invoice")]
        pub struct Model {
            #[sea_orm(primary_key)]
            pub id: i32,
            #[sea_orm(unique)]
            pub invoice_id: String,
            pub subscription_id: String,
            pub description: String,
            pub amount_cents: i64,
            pub period_start: DateTimeUtc,
            pub period_end: DateTimeUtc,
            pub status: String,
            pub attempts: i32,
            pub created_at: DateTimeUtc,
            pub amount_refunded_cents: Option<i64>,
        }
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}
        impl ActiveModelBehavior for ActiveModel {}
    }

    /// An amount for a subscription's next invoice (`invoice_id` set once it is billed).
    pub mod local_invoice_item {
        use sea_orm::entity::prelude::*;
        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "local_invoice_item")]
        pub struct Model {
            #[sea_orm(primary_key)]
            pub id: i32,
            #[sea_orm(unique)]
            pub item_id: String,
            pub subscription_id: String,
            pub invoice_id: Option<String>,
            pub kind: String,
            pub description: String,
            pub amount_cents: i64,
            pub created_at: DateTimeUtc,
        }
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}
        impl ActiveModelBehavior for ActiveModel {}
    }

    pub mod local_request {
        use sea_orm::entity::prelude::*;
        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "local_request")]
        pub struct Model {
            #[sea_orm(primary_key)]
            pub id: i32,
            #[sea_orm(unique)]
            pub idempotency_key: String,
            pub response: String,
            pub created_at: DateTimeUtc,
        }
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}
        impl ActiveModelBehavior for ActiveModel {}
    }
}

use entity::{
    local_checkout, local_customer, local_invoice, local_invoice_item, local_request,
    local_subscription,
};

/// Job kinds of the built-in processor.
pub const DELIVER_KIND: &str = "local_payments.deliver";
pub const RENEW_KIND: &str = "local_payments.renew";

/// A Stripe test card and what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestCard {
    Succeeds,
    Declined,
    FailsWhenCharged,
}

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

    fn as_str(self) -> &'static str {
        match self {
            TestCard::Succeeds => "succeeds",
            TestCard::Declined => "declined",
            TestCard::FailsWhenCharged => "fails_on_charge",
        }
    }

    fn parse(value: Option<&str>) -> Option<TestCard> {
        match value? {
            "succeeds" => Some(TestCard::Succeeds),
            "declined" => Some(TestCard::Declined),
            "fails_on_charge" => Some(TestCard::FailsWhenCharged),
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

fn interval_of(period: BillingPeriod) -> &'static str {
    match period {
        BillingPeriod::Monthly => "month",
        BillingPeriod::Annual => "year",
    }
}

fn period_end(start: DateTime<Utc>, interval: &str) -> DateTime<Utc> {
    let months = if interval == "year" { 12 } else { 1 };
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
    async fn replayed(&self, key: &str) -> Result<Option<String>, DbErr> {
        Ok(local_request::Entity::find()
            .filter(local_request::Column::IdempotencyKey.eq(key))
            .one(&self.db)
            .await?
            .map(|r| r.response))
    }

    /// Records `key`'s answer in `txn`. `false` when another request with the key won.
    async fn remember(
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
    async fn finish(
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

    async fn emit(
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

    fn invoice_object(
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
                "metadata": { CHARGE_KIND_KEY: item.kind },
            })
        }));
        json!({
            "id": invoice.invoice_id,
            "object": "invoice",
            "customer": subscription.customer_id,
            "currency": "usd",
            "amount_due": invoice.amount_cents,
            "amount_paid": if invoice.status == "paid" { invoice.amount_cents } else { 0 },
            "attempt_count": invoice.attempts,
            "status": invoice.status,
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

    /// Tries to charge `invoice` with the customer's card; emits the outcome.
    async fn charge(
        txn: &DatabaseTransaction,
        invoice: local_invoice::Model,
        subscription: &local_subscription::Model,
        card: Option<TestCard>,
        now: DateTime<Utc>,
    ) -> Result<(bool, i32), DbErr> {
        let paid = card.is_some_and(TestCard::charges);
        let mut row: local_invoice::ActiveModel = invoice.clone().into();
        row.attempts = Set(invoice.attempts + 1);
        if paid {
            row.status = Set("paid".into());
        }
        let invoice = row.update(txn).await?;
        let items = local_invoice_item::Entity::find()
            .filter(local_invoice_item::Column::InvoiceId.eq(invoice.invoice_id.as_str()))
            .order_by_asc(local_invoice_item::Column::Id)
            .all(txn)
            .await?;
        let job = Self::emit(
            txn,
            if paid {
                "invoice.paid"
            } else {
                "invoice.payment_failed"
            },
            Self::invoice_object(&invoice, subscription, &items),
            now,
        )
        .await?;
        Ok((paid, job))
    }

    async fn card_of(
        conn: &impl ConnectionTrait,
        customer_id: &str,
    ) -> Result<Option<TestCard>, DbErr> {
        Ok(local_customer::Entity::find()
            .filter(local_customer::Column::CustomerId.eq(customer_id))
            .one(conn)
            .await?
            .and_then(|c| TestCard::parse(c.card_behaviour.as_deref())))
    }

    async fn plan_renewal(
        txn: &DatabaseTransaction,
        subscription: &local_subscription::Model,
        now: DateTime<Utc>,
    ) -> Result<(), DbErr> {
        let renewal = Renewal {
            subscription_id: subscription.subscription_id.clone(),
            period_end: subscription.current_period_end,
        };
        jobs::enqueue(
            txn,
            NewJob {
                kind: RENEW_KIND,
                payload: &renewal,
                run_at: subscription.current_period_end,
                dedupe_key: Some(format!(
                    "{RENEW_KIND}:{}:{}",
                    subscription.subscription_id,
                    subscription.current_period_end.timestamp()
                )),
                max_attempts: 20,
            },
            now,
        )
        .await
        .map(|_| ())
        .map_err(|e| DbErr::Custom(e.to_string()))
    }

    /// The patient submitted the checkout page with a card. On success the events are queued
    /// (deliver them with the returned job ids) and the patient goes to the success page.
    pub async fn complete_checkout(
        &self,
        session_id: &str,
        card: TestCard,
        last4: &str,
    ) -> Result<Result<Completed, CardRefusal>, DbErr> {
        let now = self.clock.now();
        let Some(session) = local_checkout::Entity::find()
            .filter(local_checkout::Column::SessionId.eq(session_id))
            .filter(local_checkout::Column::Status.eq("open"))
            .one(&self.db)
            .await?
        else {
            return Ok(Err(CardRefusal::SessionGone));
        };
        let subscribing = session.mode == "subscription";
        match card {
            TestCard::Declined => {
                return Ok(Err(CardRefusal::Declined(
                    "Your card was declined. Try another card.".into(),
                )))
            }
            TestCard::FailsWhenCharged if subscribing => {
                return Ok(Err(CardRefusal::Declined(
                    "Your card was declined when we tried to charge it. Try another card.".into(),
                )))
            }
            _ => {}
        }
        // Mark the session complete first (conditionally): of two submissions, one wins. It is
        // the transaction's first statement, so on SQLite this connection becomes the writer
        // (waiting its turn) before it reads anything: a transaction that read first could not
        // become the writer once another (an email sent in the background) had committed.
        let txn = self.db.begin().await?;
        let closed = local_checkout::Entity::update_many()
            .col_expr(local_checkout::Column::Status, "complete".into())
            .filter(local_checkout::Column::Id.eq(session.id))
            .filter(local_checkout::Column::Status.eq("open"))
            .exec(&txn)
            .await?;
        if closed.rows_affected != 1 {
            return Ok(Err(CardRefusal::SessionGone));
        }
        let customer_id = match &session.customer_id {
            Some(existing) => {
                local_customer::Entity::update_many()
                    .col_expr(local_customer::Column::CardBrand, Some("visa").into())
                    .col_expr(local_customer::Column::CardLast4, Some(last4).into())
                    .col_expr(
                        local_customer::Column::CardBehaviour,
                        Some(card.as_str()).into(),
                    )
                    .filter(local_customer::Column::CustomerId.eq(existing.as_str()))
                    .exec(&txn)
                    .await?;
                existing.clone()
            }
            None => {
                let id = new_id("cus");
                local_customer::ActiveModel {
                    customer_id: Set(id.clone()),
                    email: Set(session.customer_email.clone()),
                    card_brand: Set(Some("visa".into())),
                    card_last4: Set(Some(last4.to_owned())),
                    card_behaviour: Set(Some(card.as_str().to_owned())),
                    created_at: Set(now),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
                id
            }
        };
        let mut delivery_jobs = Vec::new();
        let mut completed = json!({
            "id": session.session_id,
            "object": "checkout.session",
            "mode": if subscribing { "subscription" } else { "setup" },
            "status": "complete",
            "customer": customer_id,
            "client_reference_id": session.membership_ref,
            "metadata": { MEMBERSHIP_KEY: session.membership_ref },
        });
        if subscribing {
            let subscription = local_subscription::ActiveModel {
                subscription_id: Set(new_id("sub")),
                customer_id: Set(customer_id.clone()),
                membership_ref: Set(session.membership_ref.clone()),
                description: Set(session.description.clone()),
                amount_cents: Set(session.amount_cents),
                interval: Set(session.interval.clone()),
                status: Set("active".into()),
                current_period_start: Set(now),
                current_period_end: Set(period_end(now, &session.interval)),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            completed["subscription"] = json!(subscription.subscription_id);
            completed["payment_status"] = json!("paid");
            delivery_jobs
                .push(Self::emit(&txn, "checkout.session.completed", completed, now).await?);
            let invoice = local_invoice::ActiveModel {
                invoice_id: Set(new_id("in")),
                subscription_id: Set(subscription.subscription_id.clone()),
                description: Set(session.description.clone()),
                amount_cents: Set(session.amount_cents),
                period_start: Set(subscription.current_period_start),
                period_end: Set(subscription.current_period_end),
                status: Set("open".into()),
                attempts: Set(0),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            let (_, job) = Self::charge(&txn, invoice, &subscription, Some(card), now).await?;
            delivery_jobs.push(job);
            Self::plan_renewal(&txn, &subscription, now).await?;
        } else {
            delivery_jobs
                .push(Self::emit(&txn, "checkout.session.completed", completed, now).await?);
        }
        txn.commit().await?;
        Ok(Ok(Completed {
            delivery_jobs,
            redirect: session.success_url,
        }))
    }

    /// Bills the next period of a subscription (the renewal job). Returns the delivery job.
    pub async fn renew(&self, renewal: &Renewal) -> Result<Option<i32>, DbErr> {
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let Some(subscription) = local_subscription::Entity::find()
            .filter(local_subscription::Column::SubscriptionId.eq(renewal.subscription_id.as_str()))
            .filter(local_subscription::Column::Status.eq("active"))
            .filter(local_subscription::Column::CurrentPeriodEnd.eq(renewal.period_end))
            .one(&txn)
            .await?
        else {
            // Cancelled, or renewed already.
            return Ok(None);
        };
        if subscription
            .cancel_at
            .is_some_and(|at| at <= subscription.current_period_end)
        {
            // Asked to stop by now: no next invoice; the subscription ends.
            let mut ended: local_subscription::ActiveModel = subscription.clone().into();
            ended.status = Set("canceled".into());
            ended.update(&txn).await?;
            let job = Self::emit(
                &txn,
                "customer.subscription.deleted",
                json!({
                    "id": subscription.subscription_id,
                    "object": "subscription",
                    "customer": subscription.customer_id,
                    "status": "canceled",
                    "metadata": { MEMBERSHIP_KEY: subscription.membership_ref },
                }),
                now,
            )
            .await?;
            txn.commit().await?;
            return Ok(Some(job));
        }
        let interval = subscription
            .next_interval
            .clone()
            .unwrap_or_else(|| subscription.interval.clone());
        let amount = subscription
            .next_amount_cents
            .unwrap_or(subscription.amount_cents);
        let start = subscription.current_period_end;
        let end = period_end(start, &interval);
        let mut advanced: local_subscription::ActiveModel = subscription.clone().into();
        advanced.current_period_start = Set(start);
        advanced.current_period_end = Set(end);
        advanced.amount_cents = Set(amount);
        advanced.interval = Set(interval);
        advanced.next_amount_cents = Set(None);
        advanced.next_interval = Set(None);
        let subscription = advanced.update(&txn).await?;
        // Visit fees and late fees added since the last invoice are billed with this one.
        let items = local_invoice_item::Entity::find()
            .filter(
                local_invoice_item::Column::SubscriptionId
                    .eq(subscription.subscription_id.as_str()),
            )
            .filter(local_invoice_item::Column::InvoiceId.is_null())
            .all(&txn)
            .await?;
        let invoice_id = new_id("in");
        let items_cents: i64 = items.iter().map(|i| i.amount_cents).sum();
        for item in items {
            let mut billed: local_invoice_item::ActiveModel = item.into();
            billed.invoice_id = Set(Some(invoice_id.clone()));
            billed.update(&txn).await?;
        }
        let invoice = local_invoice::ActiveModel {
            invoice_id: Set(invoice_id),
            subscription_id: Set(subscription.subscription_id.clone()),
            description: Set(subscription.description.clone()),
            amount_cents: Set(subscription.amount_cents + items_cents),
            period_start: Set(start),
            period_end: Set(end),
            status: Set("open".into()),
            attempts: Set(0),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let card = Self::card_of(&txn, &subscription.customer_id).await?;
        let (_, job) = Self::charge(&txn, invoice, &subscription, card, now).await?;
        Self::plan_renewal(&txn, &subscription, now).await?;
        txn.commit().await?;
        Ok(Some(job))
    }
}

#[async_trait]
impl PaymentProcessor for LocalProcessor {
    fn name(&self) -> &'static str {
        "local"
    }

    async fn start_checkout(
        &self,
        request: &CheckoutRequest,
    ) -> Result<CheckoutStart, ProcessorError> {
        let key = format!("checkout:{}", request.idempotency_key);
        let read = |stored: String| -> Result<CheckoutStart, ProcessorError> {
            let session_id = stored;
            Ok(CheckoutStart {
                url: format!("/pay/checkout/{session_id}"),
                session_id,
            })
        };
        if let Some(stored) = self.replayed(&key).await.map_err(unavailable)? {
            // The same request again: the same page, unless that one is finished.
            if let Some(session) = self.checkout(&stored).await.map_err(unavailable)? {
                if session.status == "open" {
                    return read(stored);
                }
            }
        }
        if request.mode == CheckoutMode::ReplaceCard && request.customer_id.is_none() {
            return Err(ProcessorError::Rejected(
                "replacing a card needs a customer".into(),
            ));
        }
        let now = self.clock.now();
        let session_id = new_id("cs");
        let txn = self.db.begin().await.map_err(unavailable)?;
        local_checkout::ActiveModel {
            session_id: Set(session_id.clone()),
            mode: Set(match request.mode {
                CheckoutMode::Subscribe => "subscription",
                CheckoutMode::ReplaceCard => "setup",
            }
            .into()),
            membership_ref: Set(request.membership_ref.clone()),
            customer_email: Set(request.customer_email.clone()),
            customer_id: Set(request.customer_id.clone()),
            description: Set(request.description.chars().take(255).collect()),
            amount_cents: Set(request.amount_cents),
            interval: Set(interval_of(request.period).into()),
            success_url: Set(request.success_url.clone()),
            cancel_url: Set(request.cancel_url.clone()),
            status: Set("open".into()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(unavailable)?;
        // A finished session's key is reused for the new one.
        local_request::Entity::delete_many()
            .filter(local_request::Column::IdempotencyKey.eq(key.as_str()))
            .exec(&txn)
            .await
            .map_err(unavailable)?;
        if !Self::remember(&txn, &key, &session_id, now)
            .await
            .map_err(unavailable)?
        {
            drop(txn);
            let stored = self
                .replayed(&key)
                .await
                .map_err(unavailable)?
                .ok_or_else(|| unavailable("an idempotency key vanished"))?;
            return read(stored);
        }
        txn.commit().await.map_err(unavailable)?;
        read(session_id)
    }

    async fn use_new_card(
        &self,
        _checkout_session_id: &str,
        _idempotency_key: &str,
    ) -> Result<(), ProcessorError> {
        // The checkout page put the card on the customer already.
        Ok(())
    }

    async fn retry_invoice(
        &self,
        invoice_id: &str,
        idempotency_key: &str,
    ) -> Result<(), ProcessorError> {
        let key = format!("pay:{idempotency_key}");
        if self.replayed(&key).await.map_err(unavailable)?.is_some() {
            return Ok(());
        }
        let now = self.clock.now();
        let txn = self.db.begin().await.map_err(unavailable)?;
        if !Self::remember(&txn, &key, invoice_id, now)
            .await
            .map_err(unavailable)?
        {
            return Ok(());
        }
        let invoice = local_invoice::Entity::find()
            .filter(local_invoice::Column::InvoiceId.eq(invoice_id))
            .one(&txn)
            .await
            .map_err(unavailable)?
            .ok_or_else(|| ProcessorError::Rejected(format!("no invoice {invoice_id}")))?;
        if invoice.status == "paid" {
            txn.commit().await.map_err(unavailable)?;
            return Ok(());
        }
        let subscription = local_subscription::Entity::find()
            .filter(local_subscription::Column::SubscriptionId.eq(invoice.subscription_id.as_str()))
            .one(&txn)
            .await
            .map_err(unavailable)?
            .ok_or_else(|| ProcessorError::Rejected("the invoice's subscription is gone".into()))?;
        let card = Self::card_of(&txn, &subscription.customer_id)
            .await
            .map_err(unavailable)?;
        Self::charge(&txn, invoice, &subscription, card, now)
            .await
            .map_err(unavailable)?;
        txn.commit().await.map_err(unavailable)
    }

    async fn change_price(&self, change: &PriceChange) -> Result<(), ProcessorError> {
        let key = format!("price:{}", change.idempotency_key);
        if self.replayed(&key).await.map_err(unavailable)?.is_some() {
            return Ok(());
        }
        let now = self.clock.now();
        let txn = self.db.begin().await.map_err(unavailable)?;
        let subscription = local_subscription::Entity::find()
            .filter(local_subscription::Column::SubscriptionId.eq(change.subscription_id.as_str()))
            .filter(local_subscription::Column::Status.eq("active"))
            .one(&txn)
            .await
            .map_err(unavailable)?
            .ok_or_else(|| {
                ProcessorError::Rejected(format!(
                    "no active subscription {}",
                    change.subscription_id
                ))
            })?;
        let mut row: local_subscription::ActiveModel = subscription.clone().into();
        if change.prorate_now {
            // The same arithmetic Bedside showed the member before they confirmed.
            let difference = app::memberships::model::proration_cents(
                subscription.amount_cents,
                change.amount_cents,
                subscription.current_period_start,
                subscription.current_period_end,
                now,
            );
            let card = Self::card_of(&txn, &subscription.customer_id)
                .await
                .map_err(unavailable)?;
            if difference > 0 {
                if !card.is_some_and(TestCard::charges) {
                    return Err(ProcessorError::Declined(
                        "the card on file was declined".into(),
                    ));
                }
                let invoice = local_invoice::ActiveModel {
                    invoice_id: Set(new_id("in")),
                    subscription_id: Set(subscription.subscription_id.clone()),
                    description: Set(format!(
                        "{} (the rest of the current period)",
                        change.description
                    )),
                    amount_cents: Set(difference),
                    period_start: Set(now),
                    period_end: Set(subscription.current_period_end),
                    status: Set("paid".into()),
                    attempts: Set(1),
                    created_at: Set(now),
                    ..Default::default()
                }
                .insert(&txn)
                .await
                .map_err(unavailable)?;
                let mut object = Self::invoice_object(&invoice, &subscription, &[]);
                object["lines"]["data"][0]["proration"] = json!(true);
                Self::emit(&txn, "invoice.paid", object, now)
                    .await
                    .map_err(unavailable)?;
            }
            row.amount_cents = Set(change.amount_cents);
            row.description = Set(change.description.clone());
            row.next_amount_cents = Set(None);
            row.next_interval = Set(None);
        } else {
            row.next_amount_cents = Set(Some(change.amount_cents));
            row.next_interval = Set(Some(interval_of(change.period).into()));
            row.description = Set(change.description.clone());
        }
        row.update(&txn).await.map_err(unavailable)?;
        Self::finish(txn, &key, &change.subscription_id, now).await
    }

    async fn cancel_at(
        &self,
        subscription_id: &str,
        at: Option<DateTime<Utc>>,
        idempotency_key: &str,
    ) -> Result<(), ProcessorError> {
        let key = format!("cancel-at:{idempotency_key}");
        if self.replayed(&key).await.map_err(unavailable)?.is_some() {
            return Ok(());
        }
        let now = self.clock.now();
        let txn = self.db.begin().await.map_err(unavailable)?;
        let updated = local_subscription::Entity::update_many()
            .col_expr(local_subscription::Column::CancelAt, at.into())
            .filter(local_subscription::Column::SubscriptionId.eq(subscription_id))
            .filter(local_subscription::Column::Status.eq("active"))
            .exec(&txn)
            .await
            .map_err(unavailable)?;
        if updated.rows_affected == 0 {
            return Err(ProcessorError::Rejected(format!(
                "no active subscription {subscription_id}"
            )));
        }
        Self::finish(txn, &key, subscription_id, now).await
    }

    async fn refund(
        &self,
        invoice_id: &str,
        amount_cents: i64,
        idempotency_key: &str,
    ) -> Result<(), ProcessorError> {
        let key = format!("refund:{idempotency_key}");
        if self.replayed(&key).await.map_err(unavailable)?.is_some() {
            return Ok(());
        }
        let now = self.clock.now();
        let txn = self.db.begin().await.map_err(unavailable)?;
        // One conditional update, written first: two refunds at the same moment (two tabs)
        // cannot together return more than was paid. The database re-checks the condition on
        // the row it locks, where a read-then-write would let both pass.
        use sea_orm::sea_query::{Expr, ExprTrait};
        let refunded = Expr::col(local_invoice::Column::AmountRefundedCents).if_null(0);
        let taken = local_invoice::Entity::update_many()
            .col_expr(
                local_invoice::Column::AmountRefundedCents,
                refunded.clone().add(amount_cents),
            )
            .filter(local_invoice::Column::InvoiceId.eq(invoice_id))
            .filter(local_invoice::Column::Status.eq("paid"))
            .filter(
                refunded
                    .add(amount_cents)
                    .lte(Expr::col(local_invoice::Column::AmountCents)),
            )
            .exec(&txn)
            .await
            .map_err(unavailable)?;
        if amount_cents <= 0 || taken.rows_affected != 1 {
            return Err(ProcessorError::Rejected(format!(
                "cannot refund {amount_cents} of invoice {invoice_id}: not paid, or more than is left"
            )));
        }
        let invoice = local_invoice::Entity::find()
            .filter(local_invoice::Column::InvoiceId.eq(invoice_id))
            .one(&txn)
            .await
            .map_err(unavailable)?
            .ok_or_else(|| ProcessorError::Rejected(format!("no invoice {invoice_id}")))?;
        let subscription = local_subscription::Entity::find()
            .filter(local_subscription::Column::SubscriptionId.eq(invoice.subscription_id.as_str()))
            .one(&txn)
            .await
            .map_err(unavailable)?
            .ok_or_else(|| ProcessorError::Rejected("the invoice's subscription is gone".into()))?;
        Self::emit(
            &txn,
            "refund.created",
            json!({
                "id": new_id("re"),
                "object": "refund",
                "amount": amount_cents,
                "currency": "usd",
                "status": "succeeded",
                "metadata": { "invoice": invoice.invoice_id, MEMBERSHIP_KEY: subscription.membership_ref },
            }),
            now,
        )
        .await
        .map_err(unavailable)?;
        Self::finish(txn, &key, invoice_id, now).await
    }

    async fn add_invoice_item(&self, item: &InvoiceItem) -> Result<(), ProcessorError> {
        let key = format!("invoiceitem:{}", item.idempotency_key);
        if self.replayed(&key).await.map_err(unavailable)?.is_some() {
            return Ok(());
        }
        let now = self.clock.now();
        let txn = self.db.begin().await.map_err(unavailable)?;
        let subscription = local_subscription::Entity::find()
            .filter(local_subscription::Column::SubscriptionId.eq(item.subscription_id.as_str()))
            .filter(local_subscription::Column::CustomerId.eq(item.customer_id.as_str()))
            .one(&txn)
            .await
            .map_err(unavailable)?;
        if subscription.is_none() {
            return Err(ProcessorError::Rejected(format!(
                "no subscription {} for customer {}",
                item.subscription_id, item.customer_id
            )));
        }
        if item.amount_cents <= 0 {
            return Err(ProcessorError::Rejected(
                "an invoice item needs a positive amount".into(),
            ));
        }
        let item_id = new_id("ii");
        local_invoice_item::ActiveModel {
            item_id: Set(item_id.clone()),
            subscription_id: Set(item.subscription_id.clone()),
            invoice_id: Set(None),
            kind: Set(item.kind.chars().take(32).collect()),
            description: Set(item.description.chars().take(255).collect()),
            amount_cents: Set(item.amount_cents),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(unavailable)?;
        Self::finish(txn, &key, &item_id, now).await
    }

    async fn cancel_subscription(
        &self,
        subscription_id: &str,
        idempotency_key: &str,
    ) -> Result<(), ProcessorError> {
        let key = format!("cancel:{idempotency_key}");
        let now = self.clock.now();
        let txn = self.db.begin().await.map_err(unavailable)?;
        if !Self::remember(&txn, &key, subscription_id, now)
            .await
            .map_err(unavailable)?
        {
            return Ok(());
        }
        let Some(subscription) = local_subscription::Entity::find()
            .filter(local_subscription::Column::SubscriptionId.eq(subscription_id))
            .one(&txn)
            .await
            .map_err(unavailable)?
        else {
            return Err(ProcessorError::Rejected(format!(
                "no subscription {subscription_id}"
            )));
        };
        let mut row: local_subscription::ActiveModel = subscription.clone().into();
        row.status = Set("canceled".into());
        row.update(&txn).await.map_err(unavailable)?;
        Self::emit(
            &txn,
            "customer.subscription.deleted",
            json!({
                "id": subscription.subscription_id,
                "object": "subscription",
                "customer": subscription.customer_id,
                "status": "canceled",
                "metadata": { MEMBERSHIP_KEY: subscription.membership_ref },
            }),
            now,
        )
        .await
        .map_err(unavailable)?;
        txn.commit().await.map_err(unavailable)
    }
}
