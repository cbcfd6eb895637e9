//! The built-in processor's books: charging a card, completing a checkout, renewing a
//! subscription at the end of its period.

use super::*;

impl LocalProcessor {
    /// Tries to charge `invoice` with the customer's card; emits the outcome.
    pub(super) async fn charge(
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
            row.status = Set(LocalInvoiceStatus::Paid);
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

    pub(super) async fn card_of(
        conn: &impl ConnectionTrait,
        customer_id: &str,
    ) -> Result<Option<TestCard>, DbErr> {
        Ok(local_customer::Entity::find()
            .filter(local_customer::Column::CustomerId.eq(customer_id))
            .one(conn)
            .await?
            .and_then(|c| c.card_behaviour))
    }

    pub(super) async fn plan_renewal(
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
            .filter(local_checkout::Column::Status.eq(CheckoutStatus::Open))
            .one(&self.db)
            .await?
        else {
            return Ok(Err(CardRefusal::SessionGone));
        };
        let subscribing = session.mode == CheckoutKind::Subscription;
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
            .col_expr(
                local_checkout::Column::Status,
                CheckoutStatus::Complete.into(),
            )
            .filter(local_checkout::Column::Id.eq(session.id))
            .filter(local_checkout::Column::Status.eq(CheckoutStatus::Open))
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
                    card_behaviour: Set(Some(card)),
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
                interval: Set(session.interval),
                status: Set(SubscriptionStatus::Active),
                current_period_start: Set(now),
                current_period_end: Set(period_end(now, session.interval)),
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
                status: Set(LocalInvoiceStatus::Open),
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

    /// Ends `subscription` and tells Bedside (`customer.subscription.deleted`). Returns the
    /// delivery job.
    pub(super) async fn end(
        txn: &DatabaseTransaction,
        subscription: local_subscription::Model,
        now: DateTime<Utc>,
    ) -> Result<i32, DbErr> {
        let mut ended: local_subscription::ActiveModel = subscription.clone().into();
        ended.status = Set(SubscriptionStatus::Canceled);
        ended.update(txn).await?;
        Self::emit(
            txn,
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
    }

    /// The subscription `invoice` bills.
    pub(super) async fn subscription_of(
        txn: &DatabaseTransaction,
        invoice: &local_invoice::Model,
    ) -> Result<local_subscription::Model, ProcessorError> {
        local_subscription::Entity::find()
            .filter(local_subscription::Column::SubscriptionId.eq(invoice.subscription_id.as_str()))
            .one(txn)
            .await
            .map_err(unavailable)?
            .ok_or_else(|| ProcessorError::Rejected("the invoice's subscription is gone".into()))
    }

    /// Bills the next period of a subscription (the renewal job). Returns the delivery job.
    pub async fn renew(&self, renewal: &Renewal) -> Result<Option<i32>, DbErr> {
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let Some(subscription) = local_subscription::Entity::find()
            .filter(local_subscription::Column::SubscriptionId.eq(renewal.subscription_id.as_str()))
            .filter(local_subscription::Column::Status.eq(SubscriptionStatus::Active))
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
            let job = Self::end(&txn, subscription, now).await?;
            txn.commit().await?;
            return Ok(Some(job));
        }
        let interval = subscription.next_interval.unwrap_or(subscription.interval);
        let amount = subscription
            .next_amount_cents
            .unwrap_or(subscription.amount_cents);
        let start = subscription.current_period_end;
        let end = period_end(start, interval);
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
            status: Set(LocalInvoiceStatus::Open),
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
