//! Stripe, through async-stripe: hosted Checkout for the first payment and for replacing a
//! card (card numbers never reach Bedside), paying an open invoice again, and ending a
//! subscription. Every call carries an idempotency key derived from Bedside's own operation.
//!
//! Requests are built with async-stripe's typed builders. Responses are read into small
//! structs holding only the fields Bedside uses, so a new field or API version on Stripe's side
//! cannot break a payment.
//!
//! Bedside retries failed payments itself (after 1, 3 and 5 days), so the practice turns off
//! Stripe's own automatic retries ("Smart Retries") in its Stripe dashboard (README).

use app::billing::processor::{
    CheckoutMode, CheckoutRequest, CheckoutStart, InvoiceItem, PaymentProcessor, PriceChange,
    ProcessorError,
};
use app::billing::webhook::MEMBERSHIP_KEY;
use app::memberships::model::BillingPeriod;
use async_trait::async_trait;
use std::collections::HashMap;
use stripe::{IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_billing::invoice::PayInvoice;
use stripe_billing::subscription::CancelSubscription;
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionLineItemsPriceData,
    CreateCheckoutSessionLineItemsPriceDataRecurring,
    CreateCheckoutSessionLineItemsPriceDataRecurringInterval,
    CreateCheckoutSessionSubscriptionData, ProductData,
};
use stripe_client_core::{RequestBuilder, StripeMethod};
use stripe_shared::CheckoutSessionMode;

/// The parts of a Checkout Session Bedside reads.
#[derive(Debug, miniserde::Deserialize)]
struct SessionReply {
    id: String,
    url: Option<String>,
}

/// Any object: only its id is read.
#[derive(Debug, miniserde::Deserialize)]
struct IdReply {
    id: String,
}

/// A Checkout Session in setup mode, with its SetupIntent expanded.
#[derive(Debug, miniserde::Deserialize)]
struct SetupSessionReply {
    customer: Option<String>,
    setup_intent: Option<SetupIntentReply>,
}

#[derive(Debug, miniserde::Deserialize)]
struct SetupIntentReply {
    payment_method: Option<String>,
}

#[derive(serde::Serialize)]
struct Expand {
    expand: Vec<&'static str>,
}

#[derive(serde::Serialize)]
struct DefaultCard<'a> {
    invoice_settings: InvoiceSettings<'a>,
}

#[derive(serde::Serialize)]
struct InvoiceSettings<'a> {
    default_payment_method: &'a str,
}

/// A subscription's first item and the product its price belongs to.
#[derive(Debug, miniserde::Deserialize)]
struct SubscriptionReply {
    items: ItemList,
}

#[derive(Debug, miniserde::Deserialize)]
struct ItemList {
    data: Vec<ItemReply>,
}

#[derive(Debug, miniserde::Deserialize)]
struct ItemReply {
    id: String,
    price: PriceReply,
}

#[derive(Debug, miniserde::Deserialize)]
struct PriceReply {
    product: String,
}

/// A subscription after an update. With `pending_if_incomplete`, a declined charge is not an
/// error: Stripe answers 200 and keeps the change in `pending_update` (not applied).
#[derive(Debug, miniserde::Deserialize)]
struct UpdateReply {
    id: String,
    pending_update: Option<miniserde::json::Value>,
}

#[derive(serde::Serialize)]
struct UpdatePrice<'a> {
    items: Vec<UpdateItem<'a>>,
    /// `always_invoice`: charge the difference now (an upgrade); `none`: the next period is
    /// billed at the new price (a downgrade or another billing period).
    proration_behavior: &'static str,
    /// An upgrade applies only if its charge succeeds.
    #[serde(skip_serializing_if = "Option::is_none")]
    payment_behavior: Option<&'static str>,
}

#[derive(serde::Serialize)]
struct UpdateItem<'a> {
    id: &'a str,
    price_data: NewPrice<'a>,
}

#[derive(serde::Serialize)]
struct NewPrice<'a> {
    currency: &'static str,
    product: &'a str,
    unit_amount: i64,
    recurring: Recurring,
}

#[derive(serde::Serialize)]
struct Recurring {
    interval: &'static str,
}

#[derive(serde::Serialize)]
struct CancelAt {
    /// A Unix time, or empty to keep the subscription going.
    cancel_at: String,
}

/// How an invoice was paid (older API versions name the charge, newer the PaymentIntent).
#[derive(Debug, miniserde::Deserialize)]
struct InvoicePaymentReply {
    charge: Option<String>,
    payment_intent: Option<String>,
}

#[derive(serde::Serialize)]
struct NewRefund<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    charge: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payment_intent: Option<&'a str>,
    amount: i64,
    metadata: RefundMetadata<'a>,
}

#[derive(serde::Serialize)]
struct NewInvoiceItem<'a> {
    customer: &'a str,
    subscription: &'a str,
    amount: i64,
    currency: &'a str,
    description: &'a str,
    metadata: ItemMetadata<'a>,
}

#[derive(serde::Serialize)]
struct ItemMetadata<'a> {
    bedside_kind: &'a str,
}

#[derive(serde::Serialize)]
struct RefundMetadata<'a> {
    invoice: &'a str,
}

pub struct StripeProcessor {
    client: stripe::Client,
    /// Where Stripe sends the patient back: the practice's public URL.
    public_url: String,
}

impl std::fmt::Debug for StripeProcessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeProcessor")
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

fn key(value: &str) -> Result<RequestStrategy, ProcessorError> {
    IdempotencyKey::new(value)
        .map(RequestStrategy::Idempotent)
        .map_err(|e| ProcessorError::Rejected(format!("idempotency key: {e}")))
}

/// Stripe's answers: a refused request (4xx) will not work by trying again; anything else might.
fn classify(error: StripeError) -> ProcessorError {
    match error {
        StripeError::Stripe(details, status) if (400..500).contains(&status) && status != 429 => {
            ProcessorError::Rejected(format!("{status}: {details:?}"))
        }
        other => ProcessorError::Unavailable(other.to_string()),
    }
}

impl StripeProcessor {
    /// `api_base` is Stripe's API (`https://api.stripe.com/`); tests point it at a local fake.
    pub fn new(
        secret_key: &str,
        api_base: &str,
        timeout: std::time::Duration,
        public_url: &str,
    ) -> anyhow::Result<Self> {
        let base = format!("{}/", api_base.trim_end_matches('/'));
        let client = stripe::ClientBuilder::new(secret_key)
            .url(base)
            .timeout(timeout)
            .build()
            .map_err(|e| anyhow::anyhow!("setting up the Stripe client: {e}"))?;
        Ok(StripeProcessor {
            client,
            public_url: public_url.trim_end_matches('/').to_owned(),
        })
    }

    fn absolute(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else {
            format!("{}{path}", self.public_url)
        }
    }
}

#[async_trait]
impl PaymentProcessor for StripeProcessor {
    fn name(&self) -> &'static str {
        "stripe"
    }

    async fn start_checkout(
        &self,
        request: &CheckoutRequest,
    ) -> Result<CheckoutStart, ProcessorError> {
        let metadata = HashMap::from([(MEMBERSHIP_KEY.to_owned(), request.membership_ref.clone())]);
        let mut create = CreateCheckoutSession::new()
            .success_url(self.absolute(&request.success_url))
            .cancel_url(self.absolute(&request.cancel_url))
            .client_reference_id(request.membership_ref.clone())
            .metadata(metadata.clone());
        create = match &request.customer_id {
            Some(customer) => create.customer(customer.clone()),
            None => create.customer_email(request.customer_email.clone()),
        };
        create = match request.mode {
            CheckoutMode::Subscribe => {
                let mut price =
                    CreateCheckoutSessionLineItemsPriceData::new(stripe_types::Currency::USD);
                price.unit_amount = Some(request.amount_cents);
                price.recurring = Some(CreateCheckoutSessionLineItemsPriceDataRecurring::new(
                    match request.period {
                        BillingPeriod::Monthly => {
                            CreateCheckoutSessionLineItemsPriceDataRecurringInterval::Month
                        }
                        BillingPeriod::Annual => {
                            CreateCheckoutSessionLineItemsPriceDataRecurringInterval::Year
                        }
                    },
                ));
                price.product_data = Some(ProductData::new(request.description.clone()));
                let mut line = CreateCheckoutSessionLineItems::new();
                line.price_data = Some(price);
                line.quantity = Some(1);
                let mut subscription = CreateCheckoutSessionSubscriptionData::new();
                subscription.metadata = Some(metadata);
                create
                    .mode(CheckoutSessionMode::Subscription)
                    .line_items(vec![line])
                    .subscription_data(subscription)
            }
            CheckoutMode::ReplaceCard => create
                .mode(CheckoutSessionMode::Setup)
                .currency(stripe_types::Currency::USD),
        };
        let reply: SessionReply = create
            .build()
            .customize::<SessionReply>()
            .request_strategy(key(&format!("checkout:{}", request.idempotency_key))?)
            .send(&self.client)
            .await
            .map_err(classify)?;
        let url = reply
            .url
            .ok_or_else(|| ProcessorError::Rejected("Stripe gave no checkout URL".into()))?;
        Ok(CheckoutStart {
            session_id: reply.id,
            url,
        })
    }

    async fn use_new_card(
        &self,
        checkout_session_id: &str,
        idempotency_key: &str,
    ) -> Result<(), ProcessorError> {
        let session: SetupSessionReply = RequestBuilder::new(
            StripeMethod::Get,
            format!("/checkout/sessions/{checkout_session_id}"),
        )
        .query(&Expand {
            expand: vec!["setup_intent"],
        })
        .customize::<SetupSessionReply>()
        .send(&self.client)
        .await
        .map_err(classify)?;
        let (Some(customer), Some(method)) = (
            session.customer,
            session.setup_intent.and_then(|s| s.payment_method),
        ) else {
            return Err(ProcessorError::Rejected(
                "the card checkout has no customer or card".into(),
            ));
        };
        RequestBuilder::new(StripeMethod::Post, format!("/customers/{customer}"))
            .form(&DefaultCard {
                invoice_settings: InvoiceSettings {
                    default_payment_method: &method,
                },
            })
            .customize::<IdReply>()
            .request_strategy(key(&format!("default-card:{idempotency_key}"))?)
            .send(&self.client)
            .await
            .map_err(classify)
            .map(|customer| tracing::info!(customer = %customer.id, "new card is the default"))
    }

    async fn retry_invoice(
        &self,
        invoice_id: &str,
        idempotency_key: &str,
    ) -> Result<(), ProcessorError> {
        let paid = PayInvoice::new(invoice_id)
            .build()
            .customize::<IdReply>()
            .request_strategy(key(&format!("pay:{idempotency_key}"))?)
            .send(&self.client)
            .await;
        match paid {
            Ok(invoice) => {
                tracing::info!(invoice = %invoice.id, "asked Stripe to charge the invoice again");
                Ok(())
            }
            // A declined card is an answer, not a failure of the call: the outcome arrives as
            // `invoice.payment_failed`.
            Err(StripeError::Stripe(_, 402)) => Ok(()),
            Err(error) => Err(classify(error)),
        }
    }

    async fn change_price(&self, change: &PriceChange) -> Result<(), ProcessorError> {
        let path = format!("/subscriptions/{}", change.subscription_id);
        let subscription: SubscriptionReply = RequestBuilder::new(StripeMethod::Get, path.clone())
            .customize::<SubscriptionReply>()
            .send(&self.client)
            .await
            .map_err(classify)?;
        let item = subscription
            .items
            .data
            .first()
            .ok_or_else(|| ProcessorError::Rejected("the subscription has no item".into()))?;
        let update = UpdatePrice {
            items: vec![UpdateItem {
                id: &item.id,
                price_data: NewPrice {
                    currency: "usd",
                    product: &item.price.product,
                    unit_amount: change.amount_cents,
                    recurring: Recurring {
                        interval: match change.period {
                            BillingPeriod::Monthly => "month",
                            BillingPeriod::Annual => "year",
                        },
                    },
                },
            }],
            proration_behavior: if change.prorate_now {
                "always_invoice"
            } else {
                "none"
            },
            payment_behavior: change.prorate_now.then_some("pending_if_incomplete"),
        };
        let updated = RequestBuilder::new(StripeMethod::Post, path)
            .form(&update)
            .customize::<UpdateReply>()
            .request_strategy(key(&format!("price:{}", change.idempotency_key))?)
            .send(&self.client)
            .await;
        match updated {
            Ok(reply)
                if reply
                    .pending_update
                    .as_ref()
                    .is_some_and(|p| !matches!(p, miniserde::json::Value::Null)) =>
            {
                tracing::info!(subscription = %reply.id, "the upgrade's charge was declined; Stripe kept it pending");
                Err(ProcessorError::Declined(
                    "the card was declined for the difference".into(),
                ))
            }
            Ok(reply) => {
                tracing::info!(subscription = %reply.id, "new price on Stripe");
                Ok(())
            }
            Err(StripeError::Stripe(_, 402)) => Err(ProcessorError::Declined(
                "Stripe declined the card for the difference".into(),
            )),
            Err(error) => Err(classify(error)),
        }
    }

    async fn cancel_at(
        &self,
        subscription_id: &str,
        at: Option<chrono::DateTime<chrono::Utc>>,
        idempotency_key: &str,
    ) -> Result<(), ProcessorError> {
        RequestBuilder::new(
            StripeMethod::Post,
            format!("/subscriptions/{subscription_id}"),
        )
        .form(&CancelAt {
            cancel_at: at.map(|t| t.timestamp().to_string()).unwrap_or_default(),
        })
        .customize::<IdReply>()
        .request_strategy(key(&format!("cancel-at:{idempotency_key}"))?)
        .send(&self.client)
        .await
        .map(|reply| tracing::info!(subscription = %reply.id, ?at, "Stripe subscription end set"))
        .map_err(classify)
    }

    async fn refund(
        &self,
        invoice_id: &str,
        amount_cents: i64,
        idempotency_key: &str,
    ) -> Result<(), ProcessorError> {
        let paid: InvoicePaymentReply =
            RequestBuilder::new(StripeMethod::Get, format!("/invoices/{invoice_id}"))
                .customize::<InvoicePaymentReply>()
                .send(&self.client)
                .await
                .map_err(classify)?;
        if paid.charge.is_none() && paid.payment_intent.is_none() {
            return Err(ProcessorError::Rejected(format!(
                "invoice {invoice_id} has no payment to refund"
            )));
        }
        RequestBuilder::new(StripeMethod::Post, "/refunds")
            .form(&NewRefund {
                charge: paid.charge.as_deref(),
                payment_intent: paid.payment_intent.as_deref(),
                amount: amount_cents,
                metadata: RefundMetadata {
                    invoice: invoice_id,
                },
            })
            .customize::<IdReply>()
            .request_strategy(key(&format!("refund:{idempotency_key}"))?)
            .send(&self.client)
            .await
            .map(|refund| tracing::info!(refund = %refund.id, invoice = invoice_id, "refund asked of Stripe"))
            .map_err(classify)
    }

    async fn add_invoice_item(&self, item: &InvoiceItem) -> Result<(), ProcessorError> {
        // `bedside_kind` comes back on the invoice line (`webhook::CHARGE_KIND_KEY`).
        RequestBuilder::new(StripeMethod::Post, "/invoiceitems")
            .form(&NewInvoiceItem {
                customer: &item.customer_id,
                subscription: &item.subscription_id,
                amount: item.amount_cents,
                currency: "usd",
                description: &item.description,
                metadata: ItemMetadata {
                    bedside_kind: item.kind.as_str(),
                },
            })
            .customize::<IdReply>()
            .request_strategy(key(&format!("invoiceitem:{}", item.idempotency_key))?)
            .send(&self.client)
            .await
            .map(|reply| tracing::info!(item = %reply.id, kind = %item.kind, "invoice item added at Stripe"))
            .map_err(classify)
    }

    async fn cancel_subscription(
        &self,
        subscription_id: &str,
        idempotency_key: &str,
    ) -> Result<(), ProcessorError> {
        CancelSubscription::new(subscription_id)
            .build()
            .customize::<IdReply>()
            .request_strategy(key(&format!("cancel:{idempotency_key}"))?)
            .send(&self.client)
            .await
            .map(|subscription| {
                tracing::info!(subscription = %subscription.id, "asked Stripe to end the subscription");
            })
            .map_err(classify)
    }
}
