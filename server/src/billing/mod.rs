//! Payments on the server: the webhook endpoint, the built-in processor's checkout page, and
//! the payment jobs (event delivery and renewals of the built-in processor, retries of failed
//! payments).

mod checkout;
pub mod jobs;
pub mod local;
pub mod stripe;

use crate::state::AppState;
use app::billing::processor::PaymentProcessor;
use app::billing::webhook::{self, Received, WebhookError};
use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use local::LocalProcessor;
use sea_orm::DatabaseConnection;
use std::sync::Arc;

/// The processor's webhook and the built-in processor's checkout page.
pub fn routes() -> crate::area::Area {
    crate::area::Area::new()
        .webhook("/webhooks/stripe", receive_webhook)
        .get("/pay/checkout/{id}", checkout::show_checkout)
        .post("/pay/checkout/{id}", checkout::submit_checkout)
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

/// Payments' jobs: failed-payment retries, visit charges to the processor, and the built-in
/// processor's event deliveries and renewals when it is the one in use.
pub fn jobs(services: &crate::jobs::JobServices, scheduler: &mut crate::jobs::Scheduler) {
    jobs::register(services, scheduler);
}
