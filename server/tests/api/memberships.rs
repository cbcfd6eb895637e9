//! Joining the practice and paying: enrollment (P1), the built-in processor's checkout, the
//! signed payment webhook (P7), activation, receipts, failed renewals and their retries.

use crate::helpers::{backends, browser, location, spawn_app, TestApp};
use app::billing::entity::{invoice, payment_event};
use app::mail::outbox_email;
use app::memberships::entity::{household_member, membership, membership_consent, patient_profile};
use app::patients::entity::patient;
use chrono::Duration;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

pub const JOIN_PASSWORD: &str = "lantern harbor quietly 42";

pub fn join_form(email: &str) -> Vec<(&'static str, String)> {
    vec![
        ("tier", "complete".into()),
        ("period", "monthly".into()),
        ("legal_name", "Ana Ruiz".into()),
        ("date_of_birth", "1980-02-29".into()),
        ("email", email.into()),
        ("phone", "(207) 555-0101".into()),
        ("street", "12 Pine St".into()),
        ("street2", String::new()),
        ("city", "Portland".into()),
        ("region", "ME".into()),
        ("postal_code", "04101".into()),
        ("emergency_name", "Luis Ruiz".into()),
        ("emergency_relationship", "Husband".into()),
        ("emergency_phone", "207-555-0102".into()),
        ("agree_membership", "on".into()),
        ("agree_privacy", "on".into()),
        ("password", JOIN_PASSWORD.into()),
    ]
}

async fn post(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    form: &[(&str, String)],
) -> reqwest::Response {
    client
        .post(format!("{}{path}", app.address))
        .form(form)
        .send()
        .await
        .expect("POST")
}

pub async fn emails_to(app: &TestApp, to: &str) -> Vec<outbox_email::Model> {
    outbox_email::Entity::find()
        .filter(outbox_email::Column::ToAddress.eq(to))
        .order_by_asc(outbox_email::Column::Id)
        .all(&app.db)
        .await
        .expect("outbox")
}

/// The confirmation token in the newest confirmation email to `to`.
pub async fn confirmation_token(app: &TestApp, to: &str) -> String {
    let emails = emails_to(app, to).await;
    let email = emails
        .iter()
        .rev()
        .find(|e| e.subject.contains("confirm your email"))
        .expect("a confirmation email");
    email
        .text_body
        .split("token=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("a token in the link")
        .to_owned()
}

async fn memberships(app: &TestApp) -> Vec<membership::Model> {
    membership::Entity::find()
        .all(&app.db)
        .await
        .expect("memberships")
}

/// Joins in `client`; returns where the browser was sent (the checkout page).
pub async fn join(app: &TestApp, client: &reqwest::Client, email: &str) -> String {
    let response = post(app, client, "/join", &join_form(email)).await;
    assert_eq!(response.status(), 303, "{}", app.backend);
    location(&response).expect("a redirect")
}

/// Pays on the built-in checkout page with `card`; the response.
pub async fn pay(
    app: &TestApp,
    client: &reqwest::Client,
    checkout: &str,
    card: &str,
) -> reqwest::Response {
    post(
        app,
        client,
        checkout,
        &[
            ("card_number", card.into()),
            ("expiry", "12 / 34".into()),
            ("cvc", "123".into()),
            ("cardholder", "Ana Ruiz".into()),
        ],
    )
    .await
}

pub async fn confirm(app: &TestApp, client: &reqwest::Client, email: &str) {
    let token = confirmation_token(app, email).await;
    let response = post(app, client, "/join/confirm", &[("token", token)]).await;
    assert_eq!(
        location(&response).as_deref(),
        Some("/join/confirm?outcome=confirmed")
    );
}

async fn only_membership(app: &TestApp) -> membership::Model {
    let all = memberships(app).await;
    assert_eq!(all.len(), 1, "{}", app.backend);
    all.into_iter().next().expect("one")
}

#[tokio::test]
async fn joining_stores_everything_in_one_go_and_sends_the_confirmation_link() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let mut form = join_form("ana@example.com");
        form[0].1 = "family".into();
        form.extend([
            ("dependent1_name", "Sofia Ruiz".to_owned()),
            ("dependent1_dob", "2015-06-01".to_owned()),
            ("dependent1_relationship", "child".to_owned()),
        ]);
        let response = post(&app, &app.client, "/join", &form).await;
        assert_eq!(response.status(), 303, "{}", app.backend);
        let to = location(&response).expect("redirect");
        assert!(to.starts_with("/pay/checkout/cs_local_"), "{to}");
        assert!(response.headers().get("set-cookie").is_some(), "signed in");

        let m = only_membership(&app).await;
        assert_eq!(m.status, "pending");
        assert_eq!(m.billing_period, "monthly");
        let patients = patient::Entity::find()
            .all(&app.db)
            .await
            .expect("patients");
        // Two demo patients are not seeded in API tests: the member and the dependent.
        assert_eq!(patients.len(), 2);
        assert_eq!(
            household_member::Entity::find()
                .count(&app.db)
                .await
                .expect("count"),
            1
        );
        let consents = membership_consent::Entity::find()
            .all(&app.db)
            .await
            .expect("consents");
        assert_eq!(consents.len(), 2);
        assert!(consents
            .iter()
            .all(|c| c.version == "2026-11-01" && c.ip.as_deref() == Some("127.0.0.1")));
        // The address and emergency contact are sealed.
        let profile = patient_profile::Entity::find()
            .one(&app.db)
            .await
            .expect("profile")
            .expect("one");
        let raw = format!("{:?}", profile.address.clone().into_bytes());
        assert!(!raw.contains("Pine"));

        let emails = emails_to(&app, "ana@example.com").await;
        assert_eq!(emails.len(), 1);
        assert!(emails[0].text_body.contains("/join/confirm?token="));
        // The checkout page shows the amount and the test cards.
        let page = app
            .get_with(&app.client, &to)
            .await
            .text()
            .await
            .expect("page");
        assert!(
            page.contains("$349") && page.contains("4242 4242 4242 4242"),
            "{page}"
        );
    }
}

#[tokio::test]
async fn a_refused_enrollment_says_what_to_fix_keeps_what_was_typed_and_stores_nothing() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let mut form = join_form("ana@example.com");
        form[3].1 = "2031-01-01".into(); // date of birth in the future
        form[5].1 = "call me".into(); // phone
        form.retain(|(name, _)| *name != "agree_privacy");
        let response = post(&app, &app.client, "/join", &form).await;
        assert_eq!(response.status(), 422, "{}", app.backend);
        let page = response.text().await.expect("page");
        assert!(page.contains("Please correct 3 fields"), "{page}");
        assert!(page.contains("cannot be in the future"));
        assert!(page.contains("only digits"));
        assert!(page.contains("notice of privacy practices"));
        // What was typed is still there, except the password.
        assert!(page.contains("value=\"12 Pine St\"") && page.contains("value=\"Luis Ruiz\""));
        assert!(!page.contains(JOIN_PASSWORD));
        assert!(memberships(&app).await.is_empty());
        assert_eq!(
            patient::Entity::find().count(&app.db).await.expect("count"),
            0
        );
        assert!(emails_to(&app, "ana@example.com").await.is_empty());
    }
}

#[tokio::test]
async fn an_address_already_in_use_is_a_field_message_not_a_second_account() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        join(&app, &app.new_browser(), "ana@example.com").await;
        let response = post(
            &app,
            &app.new_browser(),
            "/join",
            &join_form("ANA@example.com"),
        )
        .await;
        assert_eq!(response.status(), 422);
        let page = response.text().await.expect("page");
        assert!(page.contains("already exists"), "{page}");
        assert_eq!(memberships(&app).await.len(), 1);
    }
}

#[tokio::test]
async fn paying_then_confirming_activates_the_membership_once_with_a_receipt_and_a_welcome() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let client = app.new_browser();
        let checkout = join(&app, &client, "ana@example.com").await;
        let response = pay(&app, &client, &checkout, "4242 4242 4242 4242").await;
        assert_eq!(response.status(), 303, "{}", app.backend);
        assert!(location(&response).is_some_and(|to| to.ends_with("/portal/membership?paid=1")));
        let m = only_membership(&app).await;
        // Paid, but the address is not confirmed yet: not active.
        assert_eq!(m.status, "pending");
        assert!(m.processor_subscription_id.is_some() && m.processor_customer_id.is_some());
        let paid_through = m.current_period_end.expect("paid through");
        assert!(paid_through > app.clock_now() + Duration::days(27));

        confirm(&app, &client, "ana@example.com").await;
        app.jobs.run_due().await.expect("jobs");
        let m = only_membership(&app).await;
        assert_eq!(m.status, "active");
        assert!(m.activated_at.is_some());
        // The Complete membership commits for 6 months.
        assert!(m.commitment_ends_at.expect("commitment") > app.clock_now() + Duration::days(180));
        let invoices = invoice::Entity::find()
            .all(&app.db)
            .await
            .expect("invoices");
        assert_eq!(invoices.len(), 1);
        assert_eq!(invoices[0].status, "paid");
        assert_eq!(invoices[0].amount_paid_cents, 19_900);
        let subjects: Vec<String> = emails_to(&app, "ana@example.com")
            .await
            .into_iter()
            .map(|e| e.subject)
            .collect();
        assert_eq!(subjects.len(), 3, "{subjects:?}");
        assert!(subjects.iter().any(|s| s.starts_with("Your receipt")));
        assert!(subjects.iter().any(|s| s.starts_with("Welcome")));

        // The portal shows it.
        let page = app
            .get_with(&client, "/portal/membership")
            .await
            .text()
            .await
            .expect("page");
        assert!(page.contains("Your membership is active"), "{page}");
        assert!(page.contains(&invoices[0].number));

        // A used confirmation link is refused, and nothing changes.
        let token = confirmation_token(&app, "ana@example.com").await;
        let response = post(&app, &client, "/join/confirm", &[("token", token)]).await;
        assert_eq!(
            location(&response).as_deref(),
            Some("/join/confirm?outcome=invalid")
        );
    }
}

#[tokio::test]
async fn confirming_first_then_paying_activates_too() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let client = app.new_browser();
        let checkout = join(&app, &client, "ana@example.com").await;
        confirm(&app, &client, "ana@example.com").await;
        assert_eq!(only_membership(&app).await.status, "pending");
        pay(&app, &client, &checkout, "4242424242424242").await;
        assert_eq!(
            only_membership(&app).await.status,
            "active",
            "{}",
            app.backend
        );
    }
}

#[tokio::test]
async fn a_declined_card_says_so_charges_nothing_and_can_be_retried() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let client = app.new_browser();
        let checkout = join(&app, &client, "ana@example.com").await;
        for card in ["4000 0000 0000 0002", "4000 0000 0000 0341"] {
            let response = pay(&app, &client, &checkout, card).await;
            assert_eq!(response.status(), 402, "{}", app.backend);
            let page = response.text().await.expect("page");
            assert!(page.contains("declined"), "{page}");
        }
        assert!(only_membership(&app).await.current_period_end.is_none());
        assert_eq!(
            invoice::Entity::find().count(&app.db).await.expect("count"),
            0
        );
        let response = pay(&app, &client, &checkout, "4242 4242 4242 4242").await;
        assert_eq!(response.status(), 303);
        assert!(only_membership(&app).await.current_period_end.is_some());
        // Paying the finished page again charges nothing more.
        let again = pay(&app, &client, &checkout, "4242 4242 4242 4242").await;
        assert_eq!(again.status(), 303);
        assert_eq!(
            invoice::Entity::find().count(&app.db).await.expect("count"),
            1
        );
    }
}

#[tokio::test]
async fn the_pay_button_opens_the_same_checkout_twice_and_refuses_other_people() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let client = app.new_browser();
        let first = join(&app, &client, "ana@example.com").await;
        let again = post(&app, &client, "/portal/membership/checkout", &[]).await;
        assert_eq!(location(&again), Some(first.clone()));
        // Signed out, the button leads to sign-in; nothing is opened.
        let stranger = app.new_browser();
        let response = post(&app, &stranger, "/portal/membership/checkout", &[]).await;
        assert!(location(&response).is_some_and(|to| to.starts_with("/signin")));
    }
}

/// A webhook delivery as Stripe's servers make it: no browser, no `Origin`, no cookie.
fn signed_event(app: &TestApp, secret: &[u8], body: &str, at: i64) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .post(format!("{}/webhooks/stripe", app.address))
        .header(
            "stripe-signature",
            app::billing::signature::sign(secret, at, body.as_bytes()),
        )
        .header("content-type", "application/json")
        .body(body.to_owned())
}

fn secret_of(app: &TestApp) -> Vec<u8> {
    bedside::billing::webhook_secret(app.data_dir()).expect("secret")
}

fn invoice_paid(
    event_id: &str,
    invoice_id: &str,
    membership_ref: &str,
    start: i64,
    end: i64,
) -> String {
    serde_json::json!({
        "id": event_id,
        "type": "invoice.paid",
        "data": {"object": {
            "id": invoice_id,
            "customer": "cus_test",
            "currency": "usd",
            "amount_due": 19_900,
            "amount_paid": 19_900,
            "attempt_count": 1,
            "parent": {"subscription_details": {"subscription": "sub_test", "metadata": {"membership": membership_ref}}},
            "lines": {"data": [{"description": "Complete membership", "amount": 19_900, "period": {"start": start, "end": end}}]}
        }}
    })
    .to_string()
}

#[tokio::test]
async fn webhooks_with_a_bad_or_stale_signature_are_refused_and_change_nothing() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        join(&app, &app.new_browser(), "ana@example.com").await;
        let m = only_membership(&app).await;
        let now = app.clock_now().timestamp();
        let body = invoice_paid("evt_1", "in_1", &m.public_id, now, now + 30 * 86_400);
        let forged = signed_event(&app, b"whsec_guess", &body, now)
            .send()
            .await
            .expect("send");
        assert_eq!(forged.status(), 400, "{}", app.backend);
        let stale = signed_event(&app, &secret_of(&app), &body, now - 301)
            .send()
            .await
            .expect("send");
        assert_eq!(stale.status(), 400);
        let unsigned = reqwest::Client::new()
            .post(format!("{}/webhooks/stripe", app.address))
            .body(body.clone())
            .send()
            .await
            .expect("send");
        assert_eq!(unsigned.status(), 400);
        assert_eq!(
            payment_event::Entity::find()
                .count(&app.db)
                .await
                .expect("count"),
            0
        );
        assert!(only_membership(&app).await.current_period_end.is_none());
        // Signed properly, it is accepted.
        let good = signed_event(&app, &secret_of(&app), &body, now)
            .send()
            .await
            .expect("send");
        assert_eq!(good.status(), 200);
        assert!(only_membership(&app).await.current_period_end.is_some());
    }
}

#[tokio::test]
async fn p7_an_event_replayed_five_times_at_once_credits_once() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let client = app.new_browser();
        join(&app, &client, "ana@example.com").await;
        confirm(&app, &client, "ana@example.com").await;
        let m = only_membership(&app).await;
        let now = app.clock_now().timestamp();
        let secret = secret_of(&app);
        let body = invoice_paid(
            "evt_replayed",
            "in_replayed",
            &m.public_id,
            now,
            now + 30 * 86_400,
        );
        let sends = (0..5).map(|_| signed_event(&app, &secret, &body, now).send());
        let statuses: Vec<u16> = futures::future::join_all(sends)
            .await
            .into_iter()
            .map(|r| r.expect("send").status().as_u16())
            .collect();
        assert!(
            statuses.iter().all(|s| *s == 200),
            "{statuses:?} on {}",
            app.backend
        );
        // The same invoice reported paid again under another event id credits nothing either.
        let other = invoice_paid(
            "evt_other",
            "in_replayed",
            &m.public_id,
            now,
            now + 30 * 86_400,
        );
        assert_eq!(
            signed_event(&app, &secret, &other, now)
                .send()
                .await
                .expect("send")
                .status(),
            200
        );
        app.jobs.run_due().await.expect("jobs");
        let invoices = invoice::Entity::find()
            .all(&app.db)
            .await
            .expect("invoices");
        assert_eq!(invoices.len(), 1);
        assert_eq!(invoices[0].amount_paid_cents, 19_900);
        let receipts = emails_to(&app, "ana@example.com")
            .await
            .into_iter()
            .filter(|e| e.subject.starts_with("Your receipt"))
            .count();
        assert_eq!(receipts, 1);
        let welcomes = emails_to(&app, "ana@example.com")
            .await
            .into_iter()
            .filter(|e| e.subject.starts_with("Welcome"))
            .count();
        assert_eq!(welcomes, 1);
        assert_eq!(only_membership(&app).await.status, "active");
    }
}

#[tokio::test]
async fn a_payment_reported_before_its_checkout_completes_still_finds_its_membership() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let client = app.new_browser();
        join(&app, &client, "ana@example.com").await;
        confirm(&app, &client, "ana@example.com").await;
        let m = only_membership(&app).await;
        let now = app.clock_now().timestamp();
        let secret = secret_of(&app);
        // Second period first, then the first, then the checkout: the paid-through date is the
        // later period's end whatever the order.
        let second = invoice_paid(
            "evt_b",
            "in_b",
            &m.public_id,
            now + 30 * 86_400,
            now + 60 * 86_400,
        );
        let first = invoice_paid("evt_a", "in_a", &m.public_id, now, now + 30 * 86_400);
        let checkout = serde_json::json!({
            "id": "evt_c", "type": "checkout.session.completed",
            "data": {"object": {"id": "cs_1", "mode": "subscription", "customer": "cus_test", "subscription": "sub_test", "metadata": {"membership": m.public_id}}}
        })
        .to_string();
        for body in [&second, &first, &checkout] {
            assert_eq!(
                signed_event(&app, &secret, body, now)
                    .send()
                    .await
                    .expect("send")
                    .status(),
                200,
                "{}",
                app.backend
            );
        }
        let m = only_membership(&app).await;
        assert_eq!(m.status, "active");
        assert_eq!(m.processor_subscription_id.as_deref(), Some("sub_test"));
        assert_eq!(
            m.current_period_end.map(|t| t.timestamp()),
            Some(now + 60 * 86_400)
        );
        // A failure reported after its invoice was paid is ignored.
        let late_failure = serde_json::json!({
            "id": "evt_f", "type": "invoice.payment_failed",
            "data": {"object": {"id": "in_a", "currency": "usd", "amount_due": 19_900, "attempt_count": 1,
                "parent": {"subscription_details": {"subscription": "sub_test"}}}}
        })
        .to_string();
        signed_event(&app, &secret, &late_failure, now)
            .send()
            .await
            .expect("send");
        assert_eq!(only_membership(&app).await.status, "active");
    }
}

/// A new browser signed in as the member who joined with `email` (after the clock moved past
/// the session's life).
async fn signed_in_member(app: &TestApp, email: &str) -> reqwest::Client {
    let client = app.new_browser();
    let response = post(
        app,
        &client,
        "/signin",
        &[("email", email.into()), ("password", JOIN_PASSWORD.into())],
    )
    .await;
    assert_eq!(response.status(), 303);
    client
}

/// Joins, pays with 4242 and confirms: an active member, signed in as `client`.
async fn active_member(app: &TestApp, client: &reqwest::Client, email: &str) {
    let checkout = join(app, client, email).await;
    pay(app, client, &checkout, "4242 4242 4242 4242").await;
    confirm(app, client, email).await;
    app.jobs.run_due().await.expect("jobs");
    assert_eq!(only_membership(app).await.status, "active");
}

/// Replaces the card on file in `client` with `card`.
async fn replace_card(app: &TestApp, client: &reqwest::Client, card: &str) {
    let response = post(app, client, "/portal/membership/card", &[]).await;
    let page = location(&response).expect("card page");
    assert!(page.starts_with("/pay/checkout/"), "{page}");
    let response = pay(app, client, &page, card).await;
    assert_eq!(response.status(), 303, "{}", app.backend);
}

#[tokio::test]
async fn a_failed_renewal_is_retried_three_times_over_five_days_then_suspends_and_a_new_card_reactivates(
) {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let client = app.new_browser();
        active_member(&app, &client, "ana@example.com").await;
        // The card on file stops working (saved through the card page: only possible while past
        // due, so put it on the customer directly as a patient's bank would).
        let m = only_membership(&app).await;
        use bedside::billing::local::entity::local_customer;
        local_customer::Entity::update_many()
            .col_expr(
                local_customer::Column::CardBehaviour,
                Some("fails_on_charge").into(),
            )
            .filter(
                local_customer::Column::CustomerId
                    .eq(m.processor_customer_id.clone().expect("customer")),
            )
            .exec(&app.db)
            .await
            .expect("card");
        let period_end = m.current_period_end.expect("paid through");

        app.clock.set(period_end + Duration::minutes(1));
        app.jobs.run_due().await.expect("renewal");
        let m = only_membership(&app).await;
        assert_eq!(m.status, "past_due", "{}", app.backend);
        let failed = |app: &TestApp| {
            let app_db = app.db.clone();
            async move {
                outbox_email::Entity::find()
                    .filter(outbox_email::Column::Subject.contains("did not go through"))
                    .count(&app_db)
                    .await
                    .expect("count")
            }
        };
        assert_eq!(failed(&app).await, 1);
        let client = signed_in_member(&app, "ana@example.com").await;
        let page = app
            .get_with(&client, "/portal/membership")
            .await
            .text()
            .await
            .expect("page");
        assert!(
            page.contains("did not go through") && page.contains("try your card again"),
            "{page}"
        );

        // Retries after 1 and 3 days fail and are reported.
        for (day, reported) in [(1, 2), (3, 3)] {
            app.clock
                .set(period_end + Duration::days(day) + Duration::minutes(2));
            app.jobs.run_due().await.expect("retry");
            assert_eq!(only_membership(&app).await.status, "past_due");
            assert_eq!(failed(&app).await, reported);
        }
        // The last retry, after 5 days, fails too: suspended.
        app.clock
            .set(period_end + Duration::days(5) + Duration::minutes(2));
        app.jobs.run_due().await.expect("retry");
        let m = only_membership(&app).await;
        assert_eq!(m.status, "suspended");
        assert!(m.suspended_at.is_some());
        assert_eq!(
            outbox_email::Entity::find()
                .filter(outbox_email::Column::Subject.contains("suspended"))
                .count(&app.db)
                .await
                .expect("count"),
            1
        );

        // A new card is charged at once and the membership is active again.
        let client = signed_in_member(&app, "ana@example.com").await;
        replace_card(&app, &client, "4242 4242 4242 4242").await;
        app.jobs.run_due().await.expect("charge");
        let m = only_membership(&app).await;
        assert_eq!(m.status, "active");
        assert!(m.current_period_end.expect("paid") > period_end);
        let open = invoice::Entity::find()
            .filter(invoice::Column::Status.ne("paid"))
            .count(&app.db)
            .await
            .expect("count");
        assert_eq!(open, 0);
    }
}

#[tokio::test]
async fn a_renewal_that_succeeds_extends_the_membership_and_sends_a_receipt() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let client = app.new_browser();
        active_member(&app, &client, "ana@example.com").await;
        let first_end = only_membership(&app)
            .await
            .current_period_end
            .expect("paid");
        app.clock.set(first_end + Duration::minutes(1));
        app.jobs.run_due().await.expect("renewal");
        let m = only_membership(&app).await;
        assert_eq!(m.status, "active", "{}", app.backend);
        assert!(m.current_period_end.expect("paid") > first_end + Duration::days(27));
        assert_eq!(
            invoice::Entity::find().count(&app.db).await.expect("count"),
            2
        );
        let receipts = emails_to(&app, "ana@example.com")
            .await
            .into_iter()
            .filter(|e| e.subject.starts_with("Your receipt"))
            .count();
        assert_eq!(receipts, 2);
        // Only one welcome.
        let welcomes = emails_to(&app, "ana@example.com")
            .await
            .into_iter()
            .filter(|e| e.subject.starts_with("Welcome"))
            .count();
        assert_eq!(welcomes, 1);
    }
}

#[tokio::test]
async fn the_membership_page_needs_the_member_and_only_shows_their_own() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let client = app.new_browser();
        join(&app, &client, "ana@example.com").await;
        let page = app
            .get_with(&client, "/portal/membership")
            .await
            .text()
            .await
            .expect("page");
        assert!(
            page.contains("Two steps to start your membership"),
            "{page}"
        );
        assert!(page.contains("Pay $199 and start my membership"));
        // Another member sees their own (none here), never Ana's.
        let other = browser(&app.address);
        join(&app, &other, "ben@example.com").await;
        let page = app
            .get_with(&other, "/portal/membership")
            .await
            .text()
            .await
            .expect("page");
        assert!(page.contains("ben@example.com") && !page.contains("ana@example.com"));
    }
}
