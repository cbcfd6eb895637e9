//! Payments on the server: the webhook endpoint, the built-in processor's checkout page, and
//! the payment jobs (event delivery and renewals of the built-in processor, retries of failed
//! payments).

pub mod local;
pub mod stripe;

use crate::jobs::{JobError, JobHandler};
use crate::startup::AppState;
use app::billing::processor::PaymentProcessor;
use app::billing::service::RetryPayment;
use app::billing::webhook::{self, Received, WebhookError};
use app::jobs::entity::job;
use async_trait::async_trait;
use axum::{
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{Html, IntoResponse, Redirect, Response},
    Form,
};
use local::{CardRefusal, LocalProcessor, TestCard};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use std::sync::Arc;

/// The processor's webhook and the built-in processor's checkout page.
pub fn routes() -> crate::area::Area {
    crate::area::Area::new()
        .webhook("/webhooks/stripe", receive_webhook)
        .get("/pay/checkout/{id}", show_checkout)
        .post("/pay/checkout/{id}", submit_checkout)
}

/// The payment side of the application state.
pub struct Payments {
    pub processor: Arc<dyn PaymentProcessor>,
    /// The built-in processor, when it is the one in use (its pages and jobs are served).
    pub local: Option<LocalProcessor>,
    /// The secret payment events are signed with.
    pub webhook_secret: Arc<Vec<u8>>,
}

/// The processor the settings name.
pub fn processor_from_settings(
    settings: &crate::settings::Settings,
    db: &DatabaseConnection,
    clock: app::clock::SharedClock,
) -> anyhow::Result<Payments> {
    use crate::settings::{Environment, PaymentProcessorKind};
    use secrecy::ExposeSecret;
    match settings.payments.processor {
        PaymentProcessorKind::Local => {
            if settings.environment == Environment::Production {
                tracing::warn!("payments use the built-in TEST processor: no real money is collected; set payments.processor = \"stripe\"");
            }
            let local = LocalProcessor::new(db.clone(), clock);
            Ok(Payments {
                processor: Arc::new(local.clone()),
                local: Some(local),
                webhook_secret: Arc::new(webhook_secret(&settings.data_dir)?),
            })
        }
        PaymentProcessorKind::Stripe => {
            let stripe = &settings.payments.stripe;
            let secret_key = stripe.secret_key.as_ref().ok_or_else(|| {
                anyhow::anyhow!("payments.processor is stripe but payments.stripe.secret_key (BEDSIDE_PAYMENTS__STRIPE__SECRET_KEY) is not set")
            })?;
            let signing = stripe.webhook_secret.as_ref().ok_or_else(|| {
                anyhow::anyhow!("payments.processor is stripe but payments.stripe.webhook_secret (BEDSIDE_PAYMENTS__STRIPE__WEBHOOK_SECRET, whsec_…) is not set")
            })?;
            let processor = stripe::StripeProcessor::new(
                secret_key.expose_secret(),
                &stripe.api_base,
                std::time::Duration::from_secs(stripe.timeout_seconds),
                &settings.public_url,
            )?;
            Ok(Payments {
                processor: Arc::new(processor),
                local: None,
                webhook_secret: Arc::new(signing.expose_secret().as_bytes().to_vec()),
            })
        }
    }
}

/// The secret webhook events are signed with. The built-in processor's is made once per
/// installation in the data folder (like the development encryption key) and shared by every
/// process that uses that folder.
pub fn webhook_secret(data_dir: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    use base64::Engine;
    use rand::RngCore;
    let path = data_dir.join("local-webhook.key");
    if let Ok(text) = std::fs::read_to_string(&path) {
        return Ok(text.trim().as_bytes().to_vec());
    }
    std::fs::create_dir_all(data_dir)?;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes)
    );
    match crate::keys::write_private(&path, &secret) {
        Ok(()) => Ok(secret.into_bytes()),
        // Another process made it first: use theirs.
        Err(_) => Ok(std::fs::read_to_string(&path)?.trim().as_bytes().to_vec()),
    }
}

/// `POST /webhooks/stripe`: a payment event. 2xx tells the sender it arrived (handled now or
/// before); 400 that it will never be accepted (bad signature, unreadable); 500 to send it
/// again later.
pub async fn receive_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    match webhook::receive(
        &state.db,
        &state.webhook_secret,
        signature,
        &body,
        state.clock.now(),
    )
    .await
    {
        Ok(Received::Handled(_)) => (StatusCode::OK, "handled").into_response(),
        Ok(Received::Duplicate) => (StatusCode::OK, "already handled").into_response(),
        Err(WebhookError::Signature(why)) => {
            tracing::warn!(%why, "payment webhook refused: signature");
            (StatusCode::BAD_REQUEST, "signature refused").into_response()
        }
        Err(WebhookError::Unreadable(why)) => {
            tracing::warn!(%why, "payment webhook refused: unreadable");
            (StatusCode::BAD_REQUEST, "unreadable event").into_response()
        }
        Err(WebhookError::Failed(error)) => {
            tracing::error!(%error, "payment webhook failed; the sender will retry");
            (StatusCode::INTERNAL_SERVER_ERROR, "try again").into_response()
        }
    }
}

/// `local_payments.deliver`: signs a built-in processor event and hands it to the webhook
/// handler, as Stripe would post it.
pub struct DeliverLocalEvent {
    pub db: DatabaseConnection,
    pub secret: Arc<Vec<u8>>,
    pub clock: app::clock::SharedClock,
}

#[async_trait]
impl JobHandler for DeliverLocalEvent {
    async fn run(&self, job: &job::Model) -> Result<(), JobError> {
        let delivery: local::Delivery = serde_json::from_str(&job.payload)
            .map_err(|e| JobError::Permanent(format!("bad payload: {e}")))?;
        let now = self.clock.now();
        let body = delivery.event.as_bytes();
        let header = app::billing::signature::sign(&self.secret, now.timestamp(), body);
        match webhook::receive(&self.db, &self.secret, Some(&header), body, now).await {
            Ok(_) => Ok(()),
            Err(WebhookError::Failed(e)) => Err(JobError::Retry(e.to_string())),
            Err(other) => Err(JobError::Permanent(other.to_string())),
        }
    }
}

/// `local_payments.renew`: the built-in processor bills a subscription's next period.
pub struct RenewLocalSubscription {
    pub processor: LocalProcessor,
}

#[async_trait]
impl JobHandler for RenewLocalSubscription {
    async fn run(&self, job: &job::Model) -> Result<(), JobError> {
        let renewal: local::Renewal = serde_json::from_str(&job.payload)
            .map_err(|e| JobError::Permanent(format!("bad payload: {e}")))?;
        self.processor
            .renew(&renewal)
            .await
            .map(|_| ())
            .map_err(|e| JobError::Retry(e.to_string()))
    }
}

/// `billing.retry`: charges a failed invoice again (one of the three retries).
pub struct RetryFailedPayment {
    pub db: DatabaseConnection,
    pub processor: Arc<dyn PaymentProcessor>,
}

#[async_trait]
impl JobHandler for RetryFailedPayment {
    async fn run(&self, job: &job::Model) -> Result<(), JobError> {
        use app::billing::entity::invoice;
        use app::billing::service::invoice_status;
        let retry: RetryPayment = serde_json::from_str(&job.payload)
            .map_err(|e| JobError::Permanent(format!("bad payload: {e}")))?;
        let found = invoice::Entity::find()
            .filter(invoice::Column::PublicId.eq(retry.invoice.as_str()))
            .one(&self.db)
            .await
            .map_err(|e| JobError::Retry(e.to_string()))?
            .ok_or_else(|| JobError::Permanent(format!("invoice {} is gone", retry.invoice)))?;
        if found.status != invoice_status::OPEN {
            return Ok(());
        }
        let Some(processor_id) = found.processor_invoice_id else {
            return Err(JobError::Permanent(
                "the invoice has no processor id".into(),
            ));
        };
        self.processor
            .retry_invoice(&processor_id, &retry.idempotency_key())
            .await
            .map_err(|e| match e {
                app::billing::processor::ProcessorError::Unavailable(why) => JobError::Retry(why),
                other => JobError::Permanent(other.to_string()),
            })
    }
}

/// `billing.visit_charge`: sends a visit fee or late fee to the processor, to be billed with the
/// membership's next invoice. A membership without a processor subscription (paid at the
/// practice) leaves the charge for the practice to collect.
pub struct SendVisitCharge {
    pub db: DatabaseConnection,
    pub processor: Arc<dyn PaymentProcessor>,
    pub clock: app::clock::SharedClock,
}

#[async_trait]
impl JobHandler for SendVisitCharge {
    async fn run(&self, job: &job::Model) -> Result<(), JobError> {
        use app::appointments::allowance::{charge_status, SendCharge};
        use app::billing::entity::visit_charge;
        use app::billing::processor::{InvoiceItem, ProcessorError};
        use app::memberships::entity::membership;
        use sea_orm::{ActiveModelTrait, Set};
        let send: SendCharge = serde_json::from_str(&job.payload)
            .map_err(|e| JobError::Permanent(format!("bad payload: {e}")))?;
        let retry = |e: sea_orm::DbErr| JobError::Retry(e.to_string());
        let charge = visit_charge::Entity::find()
            .filter(visit_charge::Column::PublicId.eq(send.charge.as_str()))
            .one(&self.db)
            .await
            .map_err(retry)?
            .ok_or_else(|| JobError::Permanent(format!("visit charge {} is gone", send.charge)))?;
        if charge.status != charge_status::PENDING {
            return Ok(());
        }
        let member = membership::Entity::find_by_id(charge.membership_id)
            .one(&self.db)
            .await
            .map_err(retry)?
            .ok_or_else(|| JobError::Permanent("the charge's membership is gone".into()))?;
        let status = match (
            member.processor_customer_id,
            member.processor_subscription_id,
        ) {
            (Some(customer_id), Some(subscription_id)) => {
                let item = InvoiceItem {
                    customer_id,
                    subscription_id,
                    amount_cents: charge.amount_cents,
                    description: charge.description.clone(),
                    kind: charge.kind.clone(),
                    idempotency_key: format!("visit-charge:{}", charge.public_id),
                };
                match self.processor.add_invoice_item(&item).await {
                    Ok(()) => charge_status::BILLED,
                    Err(ProcessorError::Unavailable(why)) => return Err(JobError::Retry(why)),
                    Err(other) => {
                        tracing::warn!(charge = %charge.public_id, error = %other, "the processor refused a visit charge; the practice collects it");
                        charge_status::COLLECT
                    }
                }
            }
            _ => charge_status::COLLECT,
        };
        let mut row: visit_charge::ActiveModel = charge.into();
        row.status = Set(status.to_owned());
        if status == charge_status::BILLED {
            row.billed_at = Set(Some(self.clock.now()));
        }
        row.update(&self.db).await.map_err(retry)?;
        Ok(())
    }
}

/// `membership.email`: the membership's emails.
pub struct SendMembershipEmail {
    pub db: DatabaseConnection,
    pub keyring: app::crypto::Keyring,
    pub identity: app::auth::service::Identity,
    pub mailer: Arc<dyn app::mail::Mailer>,
    pub site: app::site::service::SiteContentStore,
    pub public_url: String,
    pub clock: app::clock::SharedClock,
}

#[async_trait]
impl JobHandler for SendMembershipEmail {
    async fn run(&self, job: &job::Model) -> Result<(), JobError> {
        use app::appointments::notices::DeliveryError;
        use app::memberships::notices::{self, EmailSenders, MembershipEmail};
        let email: MembershipEmail = serde_json::from_str(&job.payload)
            .map_err(|e| JobError::Permanent(format!("bad payload: {e}")))?;
        let (site, time_zone) = crate::jobs::practice_and_zone(&self.site, &self.db).await?;
        let senders = EmailSenders {
            db: &self.db,
            keyring: &self.keyring,
            identity: &self.identity,
            mailer: self.mailer.as_ref(),
            practice: &site.practice,
            public_url: &self.public_url,
            time_zone,
        };
        notices::deliver(&senders, &email, self.clock.now())
            .await
            .map_err(|e| match e {
                DeliveryError::Retry(why) => JobError::Retry(why),
                DeliveryError::Permanent(why) => JobError::Permanent(why),
            })
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn local_processor(state: &AppState) -> Option<&LocalProcessor> {
    state.local_payments.as_ref()
}

fn checkout_page(
    session: &local::entity::local_checkout::Model,
    error: Option<&str>,
    typed: &CardForm,
) -> Html<String> {
    let subscribing = session.mode == "subscription";
    let amount = app::site::model::format_usd(session.amount_cents);
    let what = if subscribing {
        format!(
            "<p class=\"price\"><span class=\"amount\">{amount}</span> a {}</p>",
            escape(&session.interval)
        )
    } else {
        "<p>Save a new card for future payments.</p>".to_owned()
    };
    let error = error
        .map(|e| {
            format!(
                "<div class=\"notice notice-error\" role=\"alert\" id=\"card-error\"><p>{}</p></div>",
                escape(e)
            )
        })
        .unwrap_or_default();
    let invalid = if error.is_empty() {
        ""
    } else {
        " aria-invalid=\"true\" aria-describedby=\"card-error\""
    };
    Html(format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Payment · Bedside test payments</title><link rel="stylesheet" href="/pkg/bedside.css"></head>
<body class="pay-page"><main class="section container narrow">
<p class="test-mode">Test mode: no real money moves</p>
<h1>{title}</h1>
<p class="lead">{description}</p>
{what}
<p class="fine-print">For {email}</p>
{error}
<form class="form card" method="post" action="/pay/checkout/{id}">
<div class="field"><label for="card_number">Card number</label>
<input id="card_number" name="card_number" inputmode="numeric" autocomplete="cc-number" maxlength="23" required value="{number}"{invalid}></div>
<div class="field-row">
<div class="field"><label for="expiry">Expiry (MM / YY)</label><input id="expiry" name="expiry" autocomplete="cc-exp" maxlength="7" required placeholder="12 / 30" value="{expiry}"></div>
<div class="field"><label for="cvc">Security code</label><input id="cvc" name="cvc" inputmode="numeric" autocomplete="cc-csc" maxlength="4" required value=""></div>
</div>
<div class="field"><label for="cardholder">Name on card</label><input id="cardholder" name="cardholder" autocomplete="cc-name" maxlength="100" required value="{name}"></div>
<button class="button button-block" type="submit">{button}</button>
</form>
<p><a href="{cancel}">Cancel and go back</a></p>
<section class="fine-print" aria-labelledby="test-cards"><h2 id="test-cards">Test cards</h2>
<p>This is Bedside's built-in payment processor, used until the practice connects Stripe. Use any future expiry date and any 3-digit code.</p>
<ul><li><code>4242 4242 4242 4242</code>: payment succeeds</li><li><code>4000 0000 0000 0002</code>: declined</li><li><code>4000 0000 0000 0341</code>: can be saved, but charges to it fail</li></ul></section>
</main></body></html>"#,
        title = if subscribing {
            "Start your membership"
        } else {
            "Update your card"
        },
        description = escape(&session.description),
        email = escape(&session.customer_email),
        id = escape(&session.session_id),
        number = escape(&typed.card_number),
        expiry = escape(&typed.expiry),
        name = escape(&typed.cardholder),
        button = if subscribing {
            format!("Pay {amount}")
        } else {
            "Save card".to_owned()
        },
        cancel = escape(&session.cancel_url),
    ))
}

/// `GET /pay/checkout/{id}`: the built-in processor's hosted payment page.
pub async fn show_checkout(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let Some(processor) = local_processor(&state) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match processor.checkout(&id).await {
        Ok(Some(session)) if session.status == "open" => {
            checkout_page(&session, None, &CardForm::default()).into_response()
        }
        Ok(Some(session)) => Redirect::to(&session.success_url).into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, "This payment page does not exist.").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "loading a checkout session");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct CardForm {
    card_number: String,
    expiry: String,
    cvc: String,
    cardholder: String,
}

/// Checks what a payment form would check before asking the bank.
fn check_card(form: &CardForm, today: chrono::NaiveDate) -> Result<TestCard, String> {
    use chrono::Datelike;
    let digits: String = form
        .card_number
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    if !(12..=19).contains(&digits.len()) {
        return Err("Your card number is incomplete.".into());
    }
    let (month, year) = form
        .expiry
        .split('/')
        .map(str::trim)
        .collect::<Vec<_>>()
        .as_slice()
        .iter()
        .map(|p| p.parse::<i32>().ok())
        .collect::<Option<Vec<_>>>()
        .and_then(|parts| match parts.as_slice() {
            [m, y] => Some((*m, if *y < 100 { 2000 + *y } else { *y })),
            _ => None,
        })
        .ok_or_else(|| "Please enter the expiry date as MM / YY.".to_owned())?;
    if !(1..=12).contains(&month) {
        return Err("Please enter the expiry date as MM / YY.".into());
    }
    if (year, month) < (today.year(), i32::try_from(today.month()).unwrap_or(1)) {
        return Err("Your card's expiration date is in the past.".into());
    }
    let cvc: String = form.cvc.chars().filter(char::is_ascii_digit).collect();
    if !(3..=4).contains(&cvc.len()) || cvc.len() != form.cvc.trim().len() {
        return Err("Your card's security code is incomplete.".into());
    }
    if form.cardholder.trim().is_empty() {
        return Err("Please enter the name on the card.".into());
    }
    TestCard::from_number(&digits).ok_or_else(|| {
        "Your card was declined: this is the test payment page, so please use one of the test cards listed below.".to_owned()
    })
}

/// `POST /pay/checkout/{id}`: pays (or saves a card) with a test card.
pub async fn submit_checkout(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(form): Form<CardForm>,
) -> Response {
    let Some(processor) = local_processor(&state) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let session = match processor.checkout(&id).await {
        Ok(Some(session)) => session,
        Ok(None) => {
            return (StatusCode::NOT_FOUND, "This payment page does not exist.").into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "loading a checkout session");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    if session.status != "open" {
        return Redirect::to(&session.success_url).into_response();
    }
    let today = state.clock.now().date_naive();
    let card = match check_card(&form, today) {
        Ok(card) => card,
        Err(message) => {
            let mut response = checkout_page(&session, Some(&message), &form).into_response();
            *response.status_mut() = StatusCode::PAYMENT_REQUIRED;
            return response;
        }
    };
    let digits: String = form
        .card_number
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let last4 = &digits[digits.len().saturating_sub(4)..];
    match processor.complete_checkout(&id, card, last4).await {
        Ok(Ok(completed)) => {
            // Deliver the events now, as Stripe would within a moment; the worker retries any
            // that fail.
            for job in completed.delivery_jobs {
                if let Err(e) = state.jobs.run_now(job).await {
                    tracing::warn!(job, error = %e, "delivering a payment event now failed; the worker will retry");
                }
            }
            Redirect::to(&completed.redirect).into_response()
        }
        Ok(Err(CardRefusal::Declined(message))) => {
            let mut response = checkout_page(&session, Some(&message), &form).into_response();
            *response.status_mut() = StatusCode::PAYMENT_REQUIRED;
            response
        }
        Ok(Err(CardRefusal::SessionGone)) => Redirect::to(&session.success_url).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "completing a checkout");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(number: &str, expiry: &str, cvc: &str) -> CardForm {
        CardForm {
            card_number: number.into(),
            expiry: expiry.into(),
            cvc: cvc.into(),
            cardholder: "Ana Ruiz".into(),
        }
    }

    #[test]
    fn the_test_cards_behave_as_in_stripes_test_mode_and_bad_input_says_what_to_fix() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).expect("date");
        assert_eq!(
            check_card(&form("4242 4242 4242 4242", "12 / 30", "123"), today),
            Ok(TestCard::Succeeds)
        );
        assert_eq!(
            check_card(&form("4000000000000002", "11/26", "123"), today),
            Ok(TestCard::Declined)
        );
        assert_eq!(
            check_card(&form("4000 0000 0000 0341", "01/2031", "1234"), today),
            Ok(TestCard::FailsWhenCharged)
        );
        assert!(check_card(&form("4242", "12/30", "123"), today)
            .expect_err("short")
            .contains("incomplete"));
        assert!(check_card(&form("4242424242424242", "10/26", "123"), today)
            .expect_err("expired")
            .contains("past"));
        assert!(check_card(&form("4242424242424242", "13/30", "123"), today).is_err());
        assert!(check_card(&form("4242424242424242", "12/30", "12"), today)
            .expect_err("cvc")
            .contains("security code"));
        assert!(check_card(&form("5555555555554444", "12/30", "123"), today)
            .expect_err("not a test card")
            .contains("test cards"));
    }
}
