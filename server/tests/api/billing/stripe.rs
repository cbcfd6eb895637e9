//! The Stripe client (async-stripe) against a fake Stripe the test starts: the requests it
//! makes (their form, their idempotency keys, the secret key), how it reads Stripe's answers,
//! and a whole enrollment paid through it, confirmed by a webhook signed with Stripe's secret.

use crate::helpers::{backends, spawn_app_with, TestApp};
use crate::memberships::joining::confirm;
use app::billing::processor::{PaymentProcessor, ProcessorError};
use app::memberships::model::MembershipStatus;
use axum::{body::Bytes, extract::State, http::HeaderMap, routing::any, Json, Router};
use bedside::billing::stripe::StripeProcessor;
use bedside::settings::PaymentProcessorKind;
use sea_orm::EntityTrait;
use secrecy::SecretString;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    query: String,
    authorization: String,
    idempotency_key: Option<String>,
    body: String,
}

impl Seen {
    /// The form body, decoded.
    fn form(&self) -> Vec<(String, String)> {
        serde_urlencoded::from_str(&self.body).unwrap_or_default()
    }

    fn field(&self, name: &str) -> Option<String> {
        self.form()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

type Log = Arc<Mutex<Vec<Seen>>>;

/// Answers like Stripe for the calls Bedside makes. `in_declined` is declined (402),
/// `in_flaky` fails on Stripe's side (500).
async fn fake_stripe() -> (String, Log) {
    async fn api(
        State(log): State<Log>,
        method: axum::http::Method,
        axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
        headers: HeaderMap,
        body: Bytes,
    ) -> (axum::http::StatusCode, Json<serde_json::Value>) {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let path = uri.path().to_owned();
        log.lock().expect("log").push(Seen {
            method: method.to_string(),
            path: path.clone(),
            query: uri.query().unwrap_or_default().to_owned(),
            authorization: header("authorization").unwrap_or_default(),
            idempotency_key: header("idempotency-key"),
            body: String::from_utf8_lossy(&body).into_owned(),
        });
        use axum::http::StatusCode;
        let ok = |value: serde_json::Value| (StatusCode::OK, Json(value));
        match (method.as_str(), path.as_str()) {
            ("POST", "/v1/checkout/sessions") => ok(serde_json::json!({
                "id": "cs_test_123", "object": "checkout.session",
                "url": "https://checkout.stripe.com/c/pay/cs_test_123", "mode": "subscription"
            })),
            ("GET", "/v1/checkout/sessions/cs_setup") => ok(serde_json::json!({
                "id": "cs_setup", "object": "checkout.session", "customer": "cus_1",
                "setup_intent": {"id": "seti_1", "object": "setup_intent", "payment_method": "pm_new"}
            })),
            ("POST", "/v1/customers/cus_1") => {
                ok(serde_json::json!({"id": "cus_1", "object": "customer"}))
            }
            ("POST", "/v1/invoices/in_declined/pay") => (
                StatusCode::PAYMENT_REQUIRED,
                Json(serde_json::json!({"error": {
                    "type": "card_error", "code": "card_declined", "decline_code": "generic_decline",
                    "message": "Your card was declined."
                }})),
            ),
            ("POST", "/v1/invoices/in_flaky/pay") => (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(
                    serde_json::json!({"error": {"type": "api_error", "message": "Something went wrong."}}),
                ),
            ),
            ("POST", p) if p.starts_with("/v1/invoices/") => ok(serde_json::json!({
                "id": p.trim_start_matches("/v1/invoices/").trim_end_matches("/pay"), "object": "invoice", "status": "paid"
            })),
            ("GET", "/v1/subscriptions/sub_1") => ok(serde_json::json!({
                "id": "sub_1", "object": "subscription",
                "items": {"object": "list", "data": [{"id": "si_1", "object": "subscription_item",
                    "price": {"id": "price_1", "object": "price", "product": "prod_complete"}}]}
            })),
            ("POST", "/v1/subscriptions/sub_1") => {
                ok(serde_json::json!({"id": "sub_1", "object": "subscription"}))
            }
            ("GET", "/v1/subscriptions/sub_declines") => ok(serde_json::json!({
                "id": "sub_declines", "object": "subscription",
                "items": {"object": "list", "data": [{"id": "si_2", "object": "subscription_item",
                    "price": {"id": "price_2", "object": "price", "product": "prod_complete"}}]}
            })),
            // `pending_if_incomplete` and a declined card: 200, with the change kept pending.
            ("POST", "/v1/subscriptions/sub_declines") => ok(serde_json::json!({
                "id": "sub_declines", "object": "subscription",
                "pending_update": {"expires_at": 1_811_000_000, "subscription_items": []}
            })),
            ("POST", "/v1/invoiceitems") => {
                ok(serde_json::json!({"id": "ii_1", "object": "invoiceitem"}))
            }
            ("DELETE", p) if p.starts_with("/v1/subscriptions/") => ok(serde_json::json!({
                "id": p.trim_start_matches("/v1/subscriptions/"), "object": "subscription", "status": "canceled"
            })),
            _ => (
                StatusCode::NOT_FOUND,
                Json(
                    serde_json::json!({"error": {"type": "invalid_request_error", "message": "Unrecognized request URL"}}),
                ),
            ),
        }
    }
    let log: Log = Arc::default();
    let app = Router::new()
        .route("/{*path}", any(api))
        .with_state(log.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (address, log)
}

fn processor(base: &str) -> StripeProcessor {
    StripeProcessor::new(
        "sk_test_bedside",
        base,
        std::time::Duration::from_secs(5),
        "https://harbor.example",
    )
    .expect("client")
}

const WEBHOOK_SECRET: &str = "whsec_test_bedside";

async fn app_on_stripe(backend: &crate::helpers::Backend, base: &str) -> TestApp {
    let base = base.to_owned();
    spawn_app_with(backend, move |settings| {
        settings.payments.processor = PaymentProcessorKind::Stripe;
        settings.payments.stripe.secret_key = Some(SecretString::from("sk_test_bedside"));
        settings.payments.stripe.webhook_secret = Some(SecretString::from(WEBHOOK_SECRET));
        settings.payments.stripe.api_base = base;
    })
    .await
}

#[tokio::test]
async fn joining_opens_stripe_checkout_with_the_tiers_price_the_membership_and_an_idempotency_key()
{
    let (base, log) = fake_stripe().await;
    for backend in backends() {
        let app = app_on_stripe(&backend, &base).await;
        let checkout =
            crate::memberships::joining::join(&app, &app.client, "ana@example.com").await;
        assert_eq!(checkout, "https://checkout.stripe.com/c/pay/cs_test_123");
        let m = app::memberships::entity::membership::Entity::find()
            .one(&app.db)
            .await
            .expect("read")
            .expect("membership");
        let seen = log
            .lock()
            .expect("log")
            .iter()
            .rev()
            .find(|s| s.path == "/v1/checkout/sessions")
            .cloned()
            .expect("a checkout request");
        assert_eq!(seen.method, "POST");
        assert_eq!(seen.authorization, "Bearer sk_test_bedside");
        assert_eq!(
            seen.idempotency_key.as_deref(),
            Some(format!("checkout:{}:complete:monthly", m.public_id).as_str())
        );
        for (name, value) in [
            ("mode", "subscription".to_owned()),
            ("customer_email", "ana@example.com".to_owned()),
            ("client_reference_id", m.public_id.clone()),
            ("metadata[membership]", m.public_id.clone()),
            (
                "subscription_data[metadata][membership]",
                m.public_id.clone(),
            ),
            ("line_items[0][price_data][currency]", "usd".to_owned()),
            ("line_items[0][price_data][unit_amount]", "19900".to_owned()),
            (
                "line_items[0][price_data][recurring][interval]",
                "month".to_owned(),
            ),
            ("line_items[0][quantity]", "1".to_owned()),
            (
                "success_url",
                "http://127.0.0.1:3000/portal/membership?paid=1".to_owned(),
            ),
        ] {
            assert_eq!(seen.field(name), Some(value), "{name} in {}", seen.body);
        }
        // No card number or card field is ever sent by Bedside.
        assert!(!seen.body.contains("card"), "{}", seen.body);
        // The built-in processor's pages are not served when Stripe is used.
        assert_eq!(app.get("/pay/checkout/cs_local_x").await.status(), 404);

        // Stripe's webhook, signed with Stripe's secret, activates the membership.
        let now = app.clock_now().timestamp();
        let body = serde_json::json!({
            "id": "evt_stripe_1", "type": "invoice.paid",
            "data": {"object": {
                "id": "in_1", "customer": "cus_1", "currency": "usd", "amount_due": 19_900, "amount_paid": 19_900,
                "attempt_count": 1,
                "parent": {"subscription_details": {"subscription": "sub_1", "metadata": {"membership": m.public_id}}},
                "lines": {"data": [{"description": "Complete membership", "amount": 19_900, "period": {"start": now, "end": now + 30 * 86_400}}]}
            }}
        })
        .to_string();
        let delivered = reqwest::Client::new()
            .post(format!("{}/webhooks/stripe", app.address))
            .header(
                "stripe-signature",
                app::billing::signature::sign(WEBHOOK_SECRET.as_bytes(), now, body.as_bytes()),
            )
            .body(body)
            .send()
            .await
            .expect("send");
        assert_eq!(delivered.status(), 200);
        confirm(&app, &app.client, "ana@example.com").await;
        let m = app::memberships::entity::membership::Entity::find()
            .one(&app.db)
            .await
            .expect("read")
            .expect("membership");
        assert_eq!(m.status, MembershipStatus::Active);
        assert_eq!(m.processor_subscription_id.as_deref(), Some("sub_1"));
    }
}

#[tokio::test]
async fn stripes_answers_are_sorted_into_done_declined_refused_and_try_again_later() {
    let (base, log) = fake_stripe().await;
    let stripe = processor(&base);
    // Paid, or declined (the outcome arrives by webhook): both are answers.
    stripe
        .retry_invoice("in_ok", "retry:inv1:1")
        .await
        .expect("paid");
    stripe
        .retry_invoice("in_declined", "retry:inv2:1")
        .await
        .expect("a decline is an answer");
    // Stripe failing is worth another try; a refused request is not.
    assert!(matches!(
        stripe.retry_invoice("in_flaky", "retry:inv3:1").await,
        Err(ProcessorError::Unavailable(_))
    ));
    assert!(matches!(
        stripe.use_new_card("cs_unknown", "card:x").await,
        Err(ProcessorError::Rejected(_))
    ));
    stripe
        .cancel_subscription("sub_1", "cancel:m1")
        .await
        .expect("cancelled");
    stripe
        .use_new_card("cs_setup", "card:m1:1")
        .await
        .expect("new card");
    // An upgrade: the new price on the same product, the difference invoiced now, applied only
    // if paid.
    stripe
        .change_price(&app::billing::processor::PriceChange {
            subscription_id: "sub_1".into(),
            amount_cents: 34_900,
            period: app::memberships::model::BillingPeriod::Monthly,
            description: "Family membership".into(),
            prorate_now: true,
            idempotency_key: "m1:family:monthly:k1".into(),
        })
        .await
        .expect("upgraded");
    let declined = stripe
        .change_price(&app::billing::processor::PriceChange {
            subscription_id: "sub_declines".into(),
            amount_cents: 34_900,
            period: app::memberships::model::BillingPeriod::Monthly,
            description: "Family membership".into(),
            prorate_now: true,
            idempotency_key: "m2:family:monthly:k1".into(),
        })
        .await;
    assert!(
        matches!(declined, Err(ProcessorError::Declined(_))),
        "{declined:?}"
    );
    let ends = chrono::DateTime::from_timestamp(1_811_000_000, 0).expect("time");
    stripe
        .cancel_at("sub_1", Some(ends), "m1:cancel:k2")
        .await
        .expect("cancel at");
    stripe
        .cancel_at("sub_1", None, "m1:keep:k3")
        .await
        .expect("keep");
    let seen = log.lock().expect("log").clone();
    let updates: Vec<&Seen> = seen
        .iter()
        .filter(|s| s.method == "POST" && s.path == "/v1/subscriptions/sub_1")
        .collect();
    assert_eq!(updates.len(), 3);
    for (name, value) in [
        ("items[0][id]", "si_1"),
        ("items[0][price_data][product]", "prod_complete"),
        ("items[0][price_data][unit_amount]", "34900"),
        ("items[0][price_data][recurring][interval]", "month"),
        ("proration_behavior", "always_invoice"),
        ("payment_behavior", "pending_if_incomplete"),
    ] {
        assert_eq!(
            updates[0].field(name).as_deref(),
            Some(value),
            "{name} in {}",
            updates[0].body
        );
    }
    assert_eq!(
        updates[0].idempotency_key.as_deref(),
        Some("price:m1:family:monthly:k1")
    );
    assert_eq!(updates[1].field("cancel_at").as_deref(), Some("1811000000"));
    assert_eq!(updates[2].field("cancel_at").as_deref(), Some(""));
    let pay = seen
        .iter()
        .find(|s| s.path == "/v1/invoices/in_ok/pay")
        .expect("pay");
    assert_eq!(pay.idempotency_key.as_deref(), Some("pay:retry:inv1:1"));
    let cancel = seen
        .iter()
        .find(|s| s.path == "/v1/subscriptions/sub_1")
        .expect("cancel");
    assert_eq!(cancel.method, "DELETE");
    assert_eq!(cancel.idempotency_key.as_deref(), Some("cancel:cancel:m1"));
    let expand = seen
        .iter()
        .find(|s| s.path == "/v1/checkout/sessions/cs_setup")
        .expect("expand");
    assert!(expand.query.contains("setup_intent"), "{}", expand.query);
    let default = seen
        .iter()
        .find(|s| s.path == "/v1/customers/cus_1")
        .expect("default card");
    assert_eq!(
        default
            .field("invoice_settings[default_payment_method]")
            .as_deref(),
        Some("pm_new")
    );
    assert_eq!(
        default.idempotency_key.as_deref(),
        Some("default-card:card:m1:1")
    );
    assert!(seen
        .iter()
        .all(|s| s.authorization == "Bearer sk_test_bedside"));
}

#[tokio::test]
async fn a_visit_charge_is_an_invoice_item_on_the_subscription_marked_with_its_kind() {
    let (base, log) = fake_stripe().await;
    let stripe = processor(&base);
    stripe
        .add_invoice_item(&app::billing::processor::InvoiceItem {
            customer_id: "cus_1".into(),
            subscription_id: "sub_1".into(),
            amount_cents: 4_000,
            description: "Late cancellation fee: office visit on December 2, 2026".into(),
            kind: app::billing::model::ChargeKind::LateFee,
            idempotency_key: "visit-charge:c1".into(),
        })
        .await
        .expect("added");
    let seen = log.lock().expect("log").clone();
    let item = seen
        .iter()
        .find(|s| s.method == "POST" && s.path == "/v1/invoiceitems")
        .expect("an invoice item");
    for (name, value) in [
        ("customer", "cus_1"),
        ("subscription", "sub_1"),
        ("amount", "4000"),
        ("currency", "usd"),
        (
            "description",
            "Late cancellation fee: office visit on December 2, 2026",
        ),
        // Read back from the invoice line by the webhook (`CHARGE_KIND_KEY`).
        (
            &format!("metadata[{}]", app::billing::webhook::CHARGE_KIND_KEY),
            "late_fee",
        ),
    ] {
        assert_eq!(
            item.field(name).as_deref(),
            Some(value),
            "{name} in {}",
            item.body
        );
    }
    assert_eq!(
        item.idempotency_key.as_deref(),
        Some("invoiceitem:visit-charge:c1")
    );
    assert!(item.authorization.starts_with("Bearer "));
}

#[tokio::test]
async fn stripe_needs_its_keys() {
    let data = tempfile::tempdir().expect("dir");
    let mut settings = crate::helpers::test_settings(data.path());
    settings.payments.processor = PaymentProcessorKind::Stripe;
    let error = bedside::Application::build(settings.clone())
        .await
        .err()
        .expect("refused");
    assert!(error.to_string().contains("secret_key"), "{error}");
    settings.payments.stripe.secret_key = Some(SecretString::from("sk_test_x"));
    let error = bedside::Application::build(settings)
        .await
        .err()
        .expect("refused");
    assert!(error.to_string().contains("webhook_secret"), "{error}");
}
