//! The payment processor as Bedside sees it: hosted checkout pages (card numbers never reach
//! Bedside), retrying an unpaid invoice, and ending a subscription. Stripe is one
//! implementation (`server/src/billing/stripe.rs`); the built-in test-mode processor
//! (`server/src/billing/local.rs`) is the other. Both report what happened through signed
//! webhook events, which [`super::webhook`] handles the same way.
//!
//! Every call carries an idempotency key derived from Bedside's own operation, so a repeated
//! request (a double click, a retried job) is answered, not performed twice (P7).

use crate::memberships::model::BillingPeriod;

/// What a hosted checkout page is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckoutMode {
    /// Start the membership's subscription and take the first payment.
    Subscribe,
    /// Put a new card on file (after a failed payment, or any time).
    ReplaceCard,
}

#[derive(Debug, Clone)]
pub struct CheckoutRequest {
    pub mode: CheckoutMode,
    /// The membership's public id; events about this checkout carry it back as metadata.
    pub membership_ref: String,
    pub customer_email: String,
    /// The processor's customer, once there is one (required to replace a card).
    pub customer_id: Option<String>,
    /// "Harbor Street Medicine — Complete membership, monthly".
    pub description: String,
    pub amount_cents: i64,
    pub period: BillingPeriod,
    /// Where the patient returns, as paths on this site (`/portal/membership?paid=1`); a
    /// processor on another host makes them absolute with the configured public URL.
    pub success_url: String,
    pub cancel_url: String,
    pub idempotency_key: String,
}

/// Where to send the patient to pay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutStart {
    pub session_id: String,
    pub url: String,
}

/// A new price for a subscription.
#[derive(Debug, Clone)]
pub struct PriceChange {
    pub subscription_id: String,
    pub amount_cents: i64,
    pub period: BillingPeriod,
    pub description: String,
    /// Charge the difference for the rest of the current period now (an upgrade, which applies
    /// only if that charge succeeds); otherwise the new price starts with the next period.
    pub prorate_now: bool,
    pub idempotency_key: String,
}

/// A one-off amount for a subscription's next invoice: a visit fee or a late fee.
#[derive(Debug, Clone)]
pub struct InvoiceItem {
    pub customer_id: String,
    pub subscription_id: String,
    pub amount_cents: i64,
    /// "Office visit fee, December 3, 2026": the date and kind of visit, nothing clinical.
    pub description: String,
    /// Carried back on the invoice line (webhook `CHARGE_KIND_KEY`, as its stored word).
    pub kind: crate::billing::model::ChargeKind,
    pub idempotency_key: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ProcessorError {
    /// The card was refused; nothing changed.
    #[error("the card was declined: {0}")]
    Declined(String),
    /// The processor refused the request as made (a bug or a configuration problem).
    #[error("the payment processor refused the request: {0}")]
    Rejected(String),
    /// The processor could not be reached or failed; trying again later may work.
    #[error("the payment processor is unavailable: {0}")]
    Unavailable(String),
}

#[async_trait::async_trait]
pub trait PaymentProcessor: Send + Sync {
    /// "stripe" or "local", for logs and the admin.
    fn name(&self) -> &'static str;

    async fn start_checkout(
        &self,
        request: &CheckoutRequest,
    ) -> Result<CheckoutStart, ProcessorError>;

    /// Makes the card saved by a `ReplaceCard` checkout the one future charges use.
    async fn use_new_card(
        &self,
        checkout_session_id: &str,
        idempotency_key: &str,
    ) -> Result<(), ProcessorError>;

    /// Charges an open invoice again with the card on file. The outcome arrives as an
    /// `invoice.paid` or `invoice.payment_failed` event.
    async fn retry_invoice(
        &self,
        invoice_id: &str,
        idempotency_key: &str,
    ) -> Result<(), ProcessorError>;

    /// Gives a subscription a new price (see [`PriceChange`]).
    async fn change_price(&self, change: &PriceChange) -> Result<(), ProcessorError>;

    /// Ends a subscription at `at` (no invoice after it); `None` keeps it going again.
    async fn cancel_at(
        &self,
        subscription_id: &str,
        at: Option<chrono::DateTime<chrono::Utc>>,
        idempotency_key: &str,
    ) -> Result<(), ProcessorError>;

    /// Refunds `amount_cents` of a paid invoice to the card it was paid with. Arrives as
    /// `refund.created`.
    async fn refund(
        &self,
        invoice_id: &str,
        amount_cents: i64,
        idempotency_key: &str,
    ) -> Result<(), ProcessorError>;

    /// Adds `item` to the subscription's next invoice (billed when it renews).
    async fn add_invoice_item(&self, item: &InvoiceItem) -> Result<(), ProcessorError>;

    /// Ends a subscription now (no further invoices). Arrives as
    /// `customer.subscription.deleted`.
    async fn cancel_subscription(
        &self,
        subscription_id: &str,
        idempotency_key: &str,
    ) -> Result<(), ProcessorError>;
}

/// The server's processor, as server functions find it in their context.
pub type Payments = std::sync::Arc<dyn PaymentProcessor>;
