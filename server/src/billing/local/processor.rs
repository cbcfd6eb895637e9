//! The built-in processor as Bedside calls it: the `PaymentProcessor` trait.

use super::*;

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
                if session.status == CheckoutStatus::Open {
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
                CheckoutMode::Subscribe => CheckoutKind::Subscription,
                CheckoutMode::ReplaceCard => CheckoutKind::Setup,
            }),
            membership_ref: Set(request.membership_ref.clone()),
            customer_email: Set(request.customer_email.clone()),
            customer_id: Set(request.customer_id.clone()),
            description: Set(request.description.chars().take(255).collect()),
            amount_cents: Set(request.amount_cents),
            interval: Set(interval_of(request.period)),
            success_url: Set(request.success_url.clone()),
            cancel_url: Set(request.cancel_url.clone()),
            status: Set(CheckoutStatus::Open),
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
        let Some(txn) = self.first_time(&key).await? else {
            return Ok(());
        };
        let now = self.clock.now();
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
        if invoice.status == LocalInvoiceStatus::Paid {
            txn.commit().await.map_err(unavailable)?;
            return Ok(());
        }
        let subscription = Self::subscription_of(&txn, &invoice).await?;
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
        let Some(txn) = self.first_time(&key).await? else {
            return Ok(());
        };
        let now = self.clock.now();
        let subscription = local_subscription::Entity::find()
            .filter(local_subscription::Column::SubscriptionId.eq(change.subscription_id.as_str()))
            .filter(local_subscription::Column::Status.eq(SubscriptionStatus::Active))
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
                    status: Set(LocalInvoiceStatus::Paid),
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
            row.next_interval = Set(Some(interval_of(change.period)));
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
        let Some(txn) = self.first_time(&key).await? else {
            return Ok(());
        };
        let now = self.clock.now();
        let updated = local_subscription::Entity::update_many()
            .col_expr(local_subscription::Column::CancelAt, at.into())
            .filter(local_subscription::Column::SubscriptionId.eq(subscription_id))
            .filter(local_subscription::Column::Status.eq(SubscriptionStatus::Active))
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
        let Some(txn) = self.first_time(&key).await? else {
            return Ok(());
        };
        let now = self.clock.now();
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
            .filter(local_invoice::Column::Status.eq(LocalInvoiceStatus::Paid))
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
        let subscription = Self::subscription_of(&txn, &invoice).await?;
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
        let Some(txn) = self.first_time(&key).await? else {
            return Ok(());
        };
        let now = self.clock.now();
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
            kind: Set(item.kind),
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
        Self::end(&txn, subscription, now)
            .await
            .map_err(unavailable)?;
        txn.commit().await.map_err(unavailable)
    }
}
