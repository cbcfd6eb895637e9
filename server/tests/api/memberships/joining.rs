//! Joining the practice and paying: enrollment (P1), the built-in processor's checkout, the
//! signed payment webhook (P7), activation, receipts, failed renewals and their retries.

use crate::helpers::{backends, browser, location, spawn_app, TestApp};
use app::billing::entity::{invoice, payment_event};
use app::mail::outbox_email;
use app::memberships::entity::{household_member, membership, membership_consent, patient_profile};
use app::memberships::model::{BillingPeriod, MembershipStatus};
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
    // As a browser posts a form (it asks for a page back).
    client
        .post(format!("{}{path}", app.address))
        .header(reqwest::header::ACCEPT, "text/html")
        .form(form)
        .send()
        .await
        .expect("POST")
}

pub async fn emails_to(app: &TestApp, to: &str) -> Vec<bedside::mail::outbox::OpenedEmail> {
    app.jobs.settle().await;
    outbox_email::Entity::find()
        .filter(outbox_email::Column::ToAddress.eq(to))
        .order_by_asc(outbox_email::Column::Id)
        .all(&app.db)
        .await
        .expect("outbox")
        .into_iter()
        .map(|row| app.open_email(row))
        .collect()
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

/// Joins in `client`, then signs in there as the new member and opens the first payment, as
/// the "check your email" page says; returns the checkout page's path.
pub async fn join(app: &TestApp, client: &reqwest::Client, email: &str) -> String {
    let response = post(app, client, "/join", &join_form(email)).await;
    assert_eq!(response.status(), 303, "{}", app.backend);
    assert_eq!(
        location(&response).as_deref(),
        Some("/join/confirm?outcome=sent")
    );
    let signed_in = post(
        app,
        client,
        "/signin",
        &[("email", email.into()), ("password", JOIN_PASSWORD.into())],
    )
    .await;
    assert_eq!(signed_in.status(), 303, "{}", app.backend);
    let checkout = post(app, client, "/api/membership/checkout", &[]).await;
    location(&checkout).expect("the checkout page")
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
        assert_eq!(
            location(&response).as_deref(),
            Some("/join/confirm?outcome=sent")
        );
        assert!(
            response.headers().get("set-cookie").is_none(),
            "not signed in: that would say the address was free"
        );

        let m = only_membership(&app).await;
        assert_eq!(m.status, MembershipStatus::Pending);
        assert_eq!(m.billing_period, BillingPeriod::Monthly);
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
        // Signed in, the new member's checkout shows the amount and the test cards.
        let _ = post(
            &app,
            &app.client,
            "/signin",
            &[
                ("email", "ana@example.com".into()),
                ("password", JOIN_PASSWORD.into()),
            ],
        )
        .await;
        let checkout = post(&app, &app.client, "/api/membership/checkout", &[]).await;
        let to = location(&checkout).expect("checkout");
        assert!(to.starts_with("/pay/checkout/cs_local_"), "{to}");
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
        // The charge is described with the practice's own name (what the card statement and
        // the receipt show), not the software's.
        assert!(
            page.contains("Harbor Street Medicine: ") && page.contains(" membership, billed "),
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
async fn an_address_already_in_use_gets_the_same_answer_and_its_owner_an_email() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        join(&app, &app.new_browser(), "ana@example.com").await;
        app.jobs.run_due().await.expect("jobs");
        let before = emails_to(&app, "ana@example.com").await.len();

        // Word for word the answer a new address gets, and no session either way.
        let fresh = post(
            &app,
            &app.new_browser(),
            "/join",
            &join_form("new@example.com"),
        )
        .await;
        let taken = post(
            &app,
            &app.new_browser(),
            "/join",
            &join_form("ANA@example.com"),
        )
        .await;
        for response in [&fresh, &taken] {
            assert_eq!(response.status(), 303, "{}", app.backend);
            assert_eq!(
                location(response).as_deref(),
                Some("/join/confirm?outcome=sent")
            );
            assert!(response.headers().get("set-cookie").is_none());
        }
        let fresh_body = fresh.text().await.expect("body");
        assert_eq!(fresh_body, taken.text().await.expect("body"));
        assert_eq!(
            memberships(&app).await.len(),
            2,
            "no second account for Ana"
        );

        // Ana hears about it by email, once an hour however often the form is sent.
        let again = post(
            &app,
            &app.new_browser(),
            "/join",
            &join_form("ana@example.com"),
        )
        .await;
        assert_eq!(again.status(), 303);
        app.jobs.run_due().await.expect("jobs");
        let emails = emails_to(&app, "ana@example.com").await;
        assert_eq!(emails.len(), before + 1, "{}", app.backend);
        let told = emails.last().expect("email");
        assert!(
            told.subject.contains("You already have an account"),
            "{}",
            told.subject
        );
        assert!(told.text_body.contains("/signin/forgot"));
        assert!(!told.text_body.contains(JOIN_PASSWORD));

        // The queue keeps the account's number only, nothing that was typed.
        let queued = app::jobs::entity::job::Entity::find()
            .filter(app::jobs::entity::job::Column::Kind.eq("memberships.address_in_use_email"))
            .all(&app.db)
            .await
            .expect("jobs");
        assert_eq!(queued.len(), 1);
        assert!(!queued[0].payload.contains("ana@"), "{}", queued[0].payload);
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
        assert_eq!(m.status, MembershipStatus::Pending);
        assert!(m.processor_subscription_id.is_some() && m.processor_customer_id.is_some());
        let paid_through = m.current_period_end.expect("paid through");
        assert!(paid_through > app.clock_now() + Duration::days(27));

        confirm(&app, &client, "ana@example.com").await;
        app.jobs.run_due().await.expect("jobs");
        let m = only_membership(&app).await;
        assert_eq!(m.status, MembershipStatus::Active);
        assert!(m.activated_at.is_some());
        // The Complete membership commits for 6 months.
        assert!(m.commitment_ends_at.expect("commitment") > app.clock_now() + Duration::days(180));
        let invoices = invoice::Entity::find()
            .all(&app.db)
            .await
            .expect("invoices");
        assert_eq!(invoices.len(), 1);
        assert_eq!(invoices[0].status.as_str(), "paid");
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

        // The card can be replaced any time, on the processor's page.
        let card = post(&app, &client, "/api/membership/card", &[]).await;
        assert!(location(&card).is_some_and(|to| to.starts_with("/pay/checkout/cs_local_")));
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
        assert_eq!(
            only_membership(&app).await.status,
            MembershipStatus::Pending
        );
        pay(&app, &client, &checkout, "4242424242424242").await;
        assert_eq!(
            only_membership(&app).await.status,
            MembershipStatus::Active,
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
        let again = post(&app, &client, "/api/membership/checkout", &[]).await;
        assert_eq!(location(&again), Some(first.clone()));
        // Signed out, the button leads to sign-in; nothing is opened.
        let stranger = app.new_browser();
        let response = post(&app, &stranger, "/api/membership/checkout", &[]).await;
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
        assert_eq!(only_membership(&app).await.status, MembershipStatus::Active);
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
        assert_eq!(m.status, MembershipStatus::Active);
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
        assert_eq!(only_membership(&app).await.status, MembershipStatus::Active);
    }
}

/// A new browser signed in as the member who joined with `email` (after the clock moved past
/// the session's life).
pub async fn signed_in_member(app: &TestApp, email: &str) -> reqwest::Client {
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
pub async fn active_member(app: &TestApp, client: &reqwest::Client, email: &str) {
    let checkout = join(app, client, email).await;
    pay(app, client, &checkout, "4242 4242 4242 4242").await;
    confirm(app, client, email).await;
    app.jobs.run_due().await.expect("jobs");
    assert_eq!(only_membership(app).await.status, MembershipStatus::Active);
}

/// Replaces the card on file in `client` with `card`.
async fn replace_card(app: &TestApp, client: &reqwest::Client, card: &str) {
    let response = post(app, client, "/api/membership/card", &[]).await;
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
        assert_eq!(m.status, MembershipStatus::PastDue, "{}", app.backend);
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
            assert_eq!(
                only_membership(&app).await.status,
                MembershipStatus::PastDue
            );
            assert_eq!(failed(&app).await, reported);
        }
        // The last retry, after 5 days, fails too: suspended.
        app.clock
            .set(period_end + Duration::days(5) + Duration::minutes(2));
        app.jobs.run_due().await.expect("retry");
        let m = only_membership(&app).await;
        assert_eq!(m.status, MembershipStatus::Suspended);
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
        assert_eq!(m.status, MembershipStatus::Active);
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
        assert_eq!(m.status, MembershipStatus::Active, "{}", app.backend);
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

mod properties {
    use super::*;
    use app::auth::service::{NewAccount, PreparedAccount};
    use app::auth::Role;
    use app::domain::{Email, PhoneNumber};
    use app::memberships::model::{
        BillingPeriod, Dependent, EmergencyContact, Enrollment, PostalAddress,
    };
    use app::memberships::service::{self as memberships_service, ConsentContext, EnrollStep};
    use app::AppError;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};

    /// Row counts of everything an enrollment writes.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Counts {
        users: u64,
        patients: u64,
        profiles: u64,
        memberships: u64,
        consents: u64,
        household: u64,
        jobs: u64,
        audit: u64,
    }

    async fn counts(db: &DatabaseConnection) -> Counts {
        Counts {
            users: app::auth::entity::user_account::Entity::find()
                .count(db)
                .await
                .expect("c"),
            patients: patient::Entity::find().count(db).await.expect("c"),
            profiles: patient_profile::Entity::find().count(db).await.expect("c"),
            memberships: membership::Entity::find().count(db).await.expect("c"),
            consents: membership_consent::Entity::find()
                .count(db)
                .await
                .expect("c"),
            household: household_member::Entity::find().count(db).await.expect("c"),
            jobs: app::jobs::entity::job::Entity::find()
                .count(db)
                .await
                .expect("c"),
            audit: app::audit::entity::audit_event::Entity::find()
                .count(db)
                .await
                .expect("c"),
        }
    }

    const TIERS: [(&str, usize); 3] = [("essential", 0), ("complete", 0), ("family", 4)];

    fn enrollment(
        tier: usize,
        annual: bool,
        dependents: usize,
        name: &str,
        email: &str,
    ) -> Enrollment {
        let (slug, room) = TIERS[tier];
        Enrollment {
            tier_slug: slug.into(),
            period: if annual {
                BillingPeriod::Annual
            } else {
                BillingPeriod::Monthly
            },
            legal_name: name.into(),
            date_of_birth: chrono::NaiveDate::from_ymd_opt(1975, 5, 17).expect("date"),
            email: Email::parse(email).expect("email"),
            phone: PhoneNumber::parse("(207) 555-0101").expect("phone"),
            address: PostalAddress {
                street: "12 Pine St".into(),
                street2: None,
                city: "Portland".into(),
                region: "ME".into(),
                postal_code: "04101".into(),
            },
            emergency: EmergencyContact {
                name: "Luis Ruiz".into(),
                relationship: "Husband".into(),
                phone: "207-555-0102".into(),
            },
            dependents: (0..dependents.min(room))
                .map(|i| Dependent {
                    legal_name: format!("Child {i}"),
                    date_of_birth: chrono::NaiveDate::from_ymd_opt(2015, 1, 1).expect("date"),
                    relationship: "child",
                })
                .collect(),
            password: JOIN_PASSWORD.into(),
        }
    }

    async fn template(app: &TestApp) -> PreparedAccount {
        app.identity
            .prepare_account(&NewAccount {
                email: "template@example.com".into(),
                display_name: "Template".into(),
                role: Role::Patient,
                password: JOIN_PASSWORD.into(),
            })
            .await
            .expect("prepare")
    }

    fn consent() -> ConsentContext {
        ConsentContext {
            membership_agreement_version: "2026-11-01".into(),
            privacy_notice_version: "2026-11-01".into(),
            ..Default::default()
        }
    }

    /// P1: every enrollment yields exactly one account, patient, profile and pending membership
    /// (with its consents, dependents, confirmation email and audit entry), and a failure at any
    /// step — injected, or a real one such as an address already in use — leaves none of them.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn p1_an_enrollment_is_all_there_or_not_there_at_all() {
        for backend in backends() {
            let app = spawn_app(&backend).await;
            let prepared = template(&app).await;
            let handle = tokio::runtime::Handle::current();
            let mut runner = TestRunner::new(Config {
                cases: 40,
                ..Config::default()
            });
            let counter = std::sync::atomic::AtomicUsize::new(0);
            let strategy = (
                0..TIERS.len(),
                any::<bool>(),
                0usize..=4,
                proptest::option::weighted(0.6, 0..EnrollStep::ALL.len()),
                "[A-Z][a-z]{1,10} [A-Z][a-z]{1,12}",
                proptest::bool::weighted(0.15),
            );
            let result = runner.run(
                &strategy,
                |(tier, annual, dependents, fail_at, name, reuse)| {
                    let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    // A real failure: the address of the first enrollment again.
                    let email = if reuse && n > 0 {
                        "p1-0@example.com".to_owned()
                    } else {
                        format!("p1-{n}@example.com")
                    };
                    let enrollment = enrollment(tier, annual, dependents, &name, &email);
                    let mut account = prepared.clone();
                    account.email = email.clone();
                    let fail_step = fail_at.map(|i| EnrollStep::ALL[i]);
                    tokio::task::block_in_place(|| {
                        handle.block_on(async {
                            let before = counts(&app.db).await;
                            let taken = app
                                .identity
                                .account_with_email(&email)
                                .await
                                .expect("lookup")
                                .is_some();
                            let outcome = memberships_service::enroll(
                                &app.db,
                                &app.keyring,
                                &account,
                                &enrollment,
                                &consent(),
                                app.clock_now(),
                                |step| match fail_step {
                                    Some(failing) if failing == step => {
                                        Err(AppError::internal("injected failure"))
                                    }
                                    _ => Ok(()),
                                },
                            )
                            .await;
                            let after = counts(&app.db).await;
                            if fail_step.is_some() || taken {
                                prop_assert!(outcome.is_err());
                                prop_assert_eq!(&after, &before, "a failed enrollment left rows");
                            } else {
                                let enrolled =
                                    outcome.map_err(|e| TestCaseError::fail(e.to_string()))?;
                                let kept = enrollment.dependents.len() as u64;
                                prop_assert_eq!(
                                    &after,
                                    &Counts {
                                        users: before.users + 1,
                                        patients: before.patients + 1 + kept,
                                        profiles: before.profiles + 1,
                                        memberships: before.memberships + 1,
                                        consents: before.consents + 2,
                                        household: before.household + kept,
                                        jobs: before.jobs + 1,
                                        audit: before.audit + 1,
                                    }
                                );
                                let m = memberships_service::by_ref(
                                    &app.db,
                                    &enrolled.membership_public_id,
                                )
                                .await
                                .expect("read")
                                .expect("the membership");
                                prop_assert_eq!(m.status, MembershipStatus::Pending);
                                prop_assert_eq!(
                                    m.billing_period.as_str(),
                                    if annual { "annual" } else { "monthly" }
                                );
                                prop_assert!(
                                    m.current_period_end.is_none() && m.activated_at.is_none()
                                );
                            }
                            Ok(())
                        })
                    })
                },
            );
            if let Err(e) = result {
                panic!("{} on {}", e, app.backend);
            }
        }
    }

    /// The kinds of events P7 mixes: invoice `k` paid, invoice `k` failing (attempt `a`), and
    /// the checkout's completion.
    #[derive(Debug, Clone, Copy)]
    enum Happening {
        Paid(usize),
        Failed(usize, i32),
        CheckoutCompleted,
    }

    fn happening() -> impl Strategy<Value = Happening> {
        prop_oneof![
            (0usize..3).prop_map(Happening::Paid),
            (0usize..3, 1i32..=4).prop_map(|(k, a)| Happening::Failed(k, a)),
            Just(Happening::CheckoutCompleted),
        ]
    }

    fn event_body(h: Happening, id: usize, membership_ref: &str, start: i64) -> String {
        let period = |k: usize| {
            let s = start + (k as i64) * 30 * 86_400;
            (s, s + 30 * 86_400)
        };
        let (kind, object) = match h {
            Happening::Paid(k) | Happening::Failed(k, _) => {
                let (s, e) = period(k);
                let (kind, paid, attempts) = match h {
                    Happening::Paid(_) => ("invoice.paid", 19_900, 1),
                    Happening::Failed(_, a) => ("invoice.payment_failed", 0, a),
                    Happening::CheckoutCompleted => unreachable!("handled below"),
                };
                (
                    kind,
                    serde_json::json!({
                        "id": format!("in_{k}"),
                        "customer": "cus_p7",
                        "currency": "usd",
                        "amount_due": 19_900,
                        "amount_paid": paid,
                        "attempt_count": attempts,
                        "parent": {"subscription_details": {"subscription": "sub_p7", "metadata": {"membership": membership_ref}}},
                        "lines": {"data": [{"description": "Complete membership", "amount": 19_900, "period": {"start": s, "end": e}}]}
                    }),
                )
            }
            Happening::CheckoutCompleted => (
                "checkout.session.completed",
                serde_json::json!({"id": "cs_p7", "mode": "subscription", "customer": "cus_p7", "subscription": "sub_p7", "metadata": {"membership": membership_ref}}),
            ),
        };
        serde_json::json!({"id": format!("evt_{id}"), "type": kind, "data": {"object": object}})
            .to_string()
    }

    /// What P7 compares: money credited, receipts, and where the membership stands.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Books {
        invoices: Vec<(String, String, i64)>,
        receipts: u64,
        paid_through: Option<i64>,
        status: MembershipStatus,
    }

    async fn books(app: &TestApp, membership_id: i32) -> Books {
        let mut invoices: Vec<(String, String, i64)> = invoice::Entity::find()
            .filter(invoice::Column::MembershipId.eq(membership_id))
            .all(&app.db)
            .await
            .expect("invoices")
            .into_iter()
            .map(|i| {
                (
                    i.processor_invoice_id.unwrap_or_default(),
                    i.status.as_str().to_owned(),
                    i.amount_paid_cents,
                )
            })
            .collect();
        invoices.sort();
        let m = membership::Entity::find_by_id(membership_id)
            .one(&app.db)
            .await
            .expect("m")
            .expect("one");
        Books {
            invoices,
            receipts: app::jobs::entity::job::Entity::find()
                .filter(app::jobs::entity::job::Column::DedupeKey.starts_with("billing.receipt:"))
                .count(&app.db)
                .await
                .expect("count"),
            paid_through: m.current_period_end.map(|t| t.timestamp()),
            status: m.status,
        }
    }

    /// P7: whatever the order, and however often each event is delivered (up to five times,
    /// some at the same moment), each paid invoice is credited exactly once, one receipt goes
    /// out per paid invoice, the paid-through date is the latest paid period's end, and
    /// delivering everything again changes nothing.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn p7_payment_events_credit_exactly_once_in_any_order_and_any_number_of_times() {
        for backend in backends() {
            let app = spawn_app(&backend).await;
            let prepared = template(&app).await;
            let secret = secret_of(&app);
            let handle = tokio::runtime::Handle::current();
            let mut runner = TestRunner::new(Config {
                cases: 24,
                ..Config::default()
            });
            let counter = std::sync::atomic::AtomicUsize::new(0);
            let strategy = (
                proptest::collection::vec((happening(), 1usize..=5), 1..8),
                any::<u64>(),
            );
            let result = runner.run(&strategy, |(happenings, shuffle_seed)| {
                let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                tokio::task::block_in_place(|| {
                    handle.block_on(async {
                        // Receipts are counted across the database: start from a clean slate.
                        app::jobs::entity::job::Entity::delete_many()
                            .exec(&app.db)
                            .await
                            .expect("clear jobs");
                        let email = format!("p7-{n}@example.com");
                        let mut account = prepared.clone();
                        account.email = email.clone();
                        let enrolled = memberships_service::enroll(
                            &app.db,
                            &app.keyring,
                            &account,
                            &enrollment(1, false, 0, "Pat Seven", &email),
                            &consent(),
                            app.clock_now(),
                            |_| Ok(()),
                        )
                        .await
                        .expect("enroll");
                        let m =
                            memberships_service::by_ref(&app.db, &enrolled.membership_public_id)
                                .await
                                .expect("read")
                                .expect("one");
                        // Each case has its own processor ids, so cases do not meet.
                        let start = app.clock_now().timestamp();
                        let bodies: Vec<String> = happenings
                            .iter()
                            .enumerate()
                            .map(|(i, (h, _))| {
                                event_body(*h, n * 100 + i, &m.public_id, start)
                                    .replace("in_", &format!("in_{n}_"))
                                    .replace("sub_p7", &format!("sub_p7_{n}"))
                            })
                            .collect();
                        // Every delivery, its copies included, in a shuffled order; copies of
                        // one event are sent at the same moment.
                        let mut deliveries: Vec<(usize, usize)> = happenings
                            .iter()
                            .enumerate()
                            .map(|(i, (_, copies))| (i, *copies))
                            .collect();
                        let mut seed = shuffle_seed;
                        for i in (1..deliveries.len()).rev() {
                            seed = seed
                                .wrapping_mul(6364136223846793005)
                                .wrapping_add(1442695040888963407);
                            deliveries.swap(i, (seed >> 33) as usize % (i + 1));
                        }
                        let now = app.clock_now();
                        for (i, copies) in &deliveries {
                            let header = app::billing::signature::sign(
                                &secret,
                                now.timestamp(),
                                bodies[*i].as_bytes(),
                            );
                            let sends = (0..*copies).map(|_| {
                                app::billing::webhook::receive(
                                    &app.db,
                                    &secret,
                                    Some(&header),
                                    bodies[*i].as_bytes(),
                                    now,
                                )
                            });
                            for outcome in futures::future::join_all(sends).await {
                                // On SQLite a concurrent copy may find the database busy; the
                                // sender delivers it again, as Stripe would.
                                if outcome.is_err() {
                                    app::billing::webhook::receive(
                                        &app.db,
                                        &secret,
                                        Some(&app::billing::signature::sign(
                                            &secret,
                                            now.timestamp(),
                                            bodies[*i].as_bytes(),
                                        )),
                                        bodies[*i].as_bytes(),
                                        now,
                                    )
                                    .await
                                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                                }
                            }
                        }
                        let first = books(&app, m.id).await;
                        let paid: std::collections::BTreeSet<usize> = happenings
                            .iter()
                            .filter_map(|(h, _)| match h {
                                Happening::Paid(k) => Some(*k),
                                _ => None,
                            })
                            .collect();
                        let credited: i64 = first.invoices.iter().map(|(_, _, paid)| paid).sum();
                        prop_assert_eq!(credited, 19_900 * paid.len() as i64);
                        prop_assert_eq!(first.receipts, paid.len() as u64);
                        let latest = paid
                            .iter()
                            .max()
                            .map(|k| start + (*k as i64 + 1) * 30 * 86_400);
                        prop_assert_eq!(first.paid_through, latest);
                        // Everything again, in order: nothing changes.
                        for body in &bodies {
                            let outcome = app::billing::webhook::receive(
                                &app.db,
                                &secret,
                                Some(&app::billing::signature::sign(
                                    &secret,
                                    now.timestamp(),
                                    body.as_bytes(),
                                )),
                                body.as_bytes(),
                                now,
                            )
                            .await
                            .map_err(|e| TestCaseError::fail(e.to_string()))?;
                            prop_assert_eq!(outcome, app::billing::webhook::Received::Duplicate);
                        }
                        prop_assert_eq!(books(&app, m.id).await, first);
                        Ok(())
                    })
                })
            });
            if let Err(e) = result {
                panic!("{} on {}", e, app.backend);
            }
        }
    }
}

#[tokio::test]
async fn the_receipt_is_a_pdf_attached_to_the_email_and_downloadable_by_the_member_alone() {
    use app::mail::outbox_attachment;
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let client = app.new_browser();
        let checkout = join(&app, &client, "ana@example.com").await;
        pay(&app, &client, &checkout, "4242 4242 4242 4242").await;
        confirm(&app, &client, "ana@example.com").await;
        app.jobs.run_due().await.expect("jobs");
        let receipt = emails_to(&app, "ana@example.com")
            .await
            .into_iter()
            .find(|e| e.subject.starts_with("Your receipt"))
            .expect("a receipt");
        let stored = outbox_attachment::Entity::find()
            .filter(outbox_attachment::Column::EmailId.eq(receipt.id))
            .all(&app.db)
            .await
            .expect("attachments");
        assert!(
            stored
                .iter()
                .all(|file| file.sealed && !file.content.starts_with(b"%PDF-")),
            "the receipt is sealed in the outbox"
        );
        let attached = bedside::mail::outbox::attachments(&app.db, &app.keyring, receipt.id)
            .await
            .expect("attachments");
        assert_eq!(attached.len(), 1, "{}", app.backend);
        assert_eq!(attached[0].content_type, "application/pdf");
        assert!(attached[0].content.starts_with(b"%PDF-"));
        let found = invoice::Entity::find()
            .one(&app.db)
            .await
            .expect("read")
            .expect("one");
        assert_eq!(
            attached[0].filename,
            format!("invoice-{}.pdf", found.number)
        );

        // The member downloads it from the portal: the same document, naming them.
        let path = format!("/portal/membership/invoices/{}.pdf", found.public_id);
        let page = app
            .get_with(&client, "/portal/membership")
            .await
            .text()
            .await
            .expect("page");
        assert!(page.contains(&path), "the page links the PDF");
        let response = app.get_with(&client, &path).await;
        let status = response.status();
        if status != 200 {
            panic!("{status}: {}", response.text().await.unwrap_or_default());
        }
        assert_eq!(response.headers()["content-type"], "application/pdf");
        assert_eq!(response.headers()["cache-control"], "no-store");
        let bytes = response.bytes().await.expect("pdf");
        assert_eq!(bytes.as_ref(), attached[0].content.as_slice());
        if let Ok(dir) = std::env::var("BEDSIDE_SAVE_PDF") {
            std::fs::write(format!("{dir}/receipt.pdf"), &bytes).expect("save");
        }
        let pdf = lopdf::Document::load_mem(&bytes).expect("a valid PDF");
        let text = pdf.extract_text(&[1]).expect("text");
        for expected in [
            "Receipt",
            "Ana Ruiz",
            "12 Pine St",
            "Portland, ME 04101",
            "$199",
            "HSA/FSA",
            &found.number,
        ] {
            assert!(text.contains(expected), "{expected} in {text}");
        }

        // Another member asking for it gets "not found", and the attempt is audited.
        let other = app.new_browser();
        join(&app, &other, "ben@example.com").await;
        let denied = app.get_with(&other, &path).await;
        assert_eq!(denied.status(), 404);
        let rows = app.audit_rows().await;
        assert!(rows
            .iter()
            .any(|r| r.action == "invoice.download" && r.outcome == "denied"));
        // Signed out: to sign-in.
        let (status, to) = app.visit(&app.new_browser(), &path).await;
        assert_eq!(status, 303);
        assert!(to.is_some_and(|to| to.starts_with("/signin")));
    }
}

async fn set_card(app: &TestApp, behaviour: &str) {
    use bedside::billing::local::entity::local_customer;
    let m = only_membership(app).await;
    local_customer::Entity::update_many()
        .col_expr(
            local_customer::Column::CardBehaviour,
            Some(behaviour).into(),
        )
        .filter(
            local_customer::Column::CustomerId
                .eq(m.processor_customer_id.clone().expect("customer")),
        )
        .exec(&app.db)
        .await
        .expect("card");
}

async fn tier_of(app: &TestApp, m: &membership::Model) -> String {
    app::site::entity::membership_tier::Entity::find_by_id(m.tier_id)
        .one(&app.db)
        .await
        .expect("tier")
        .expect("one")
        .slug
}

#[tokio::test]
async fn an_upgrade_starts_now_and_charges_what_the_page_said_for_the_rest_of_the_period() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let client = app.new_browser();
        active_member(&app, &client, "ana@example.com").await;
        let m = only_membership(&app).await;
        let (start, end) = (
            m.current_period_start.expect("start"),
            m.current_period_end.expect("end"),
        );
        app.clock.set(start + (end - start) / 2);
        let client = signed_in_member(&app, "ana@example.com").await;
        let page = app
            .get_with(&client, "/portal/membership")
            .await
            .text()
            .await
            .expect("page");
        let expected =
            app::memberships::model::proration_cents(19_900, 34_900, start, end, app.clock_now());
        let stated = format!(
            "You pay {} now for the rest of this period",
            app::domain::format_usd(expected)
        );
        assert!(page.contains(&stated), "{stated} in {page}");
        assert!(page.contains("Upgrade to Family now"));
        assert!(page.contains("Switch to Essential on"));

        let response = post(
            &app,
            &client,
            "/api/membership/change",
            &[("tier", "family".into()), ("period", "monthly".into())],
        )
        .await;
        assert_eq!(
            location(&response).as_deref(),
            Some("/portal/membership?changed=upgraded"),
            "{}",
            app.backend
        );
        app.jobs.run_due().await.expect("jobs");
        let m = only_membership(&app).await;
        assert_eq!(tier_of(&app, &m).await, "family");
        assert_eq!(m.current_period_end, Some(end), "the period is unchanged");
        let invoices = invoice::Entity::find()
            .order_by_asc(invoice::Column::Id)
            .all(&app.db)
            .await
            .expect("invoices");
        assert_eq!(invoices.len(), 2);
        assert_eq!(invoices[1].amount_paid_cents, expected);
        let line = app::billing::entity::invoice_line::Entity::find()
            .filter(app::billing::entity::invoice_line::Column::InvoiceId.eq(invoices[1].id))
            .one(&app.db)
            .await
            .expect("line")
            .expect("one");
        assert_eq!(line.kind, app::billing::model::LineKind::Proration);
        // The next period is billed at the new price.
        app.clock.set(end + Duration::minutes(1));
        app.jobs.run_due().await.expect("renewal");
        let last = invoice::Entity::find()
            .order_by_desc(invoice::Column::Id)
            .one(&app.db)
            .await
            .expect("read")
            .expect("one");
        assert_eq!(last.amount_paid_cents, 34_900);
        // The change is in the audit log.
        assert!(app
            .audit_rows()
            .await
            .iter()
            .any(|r| r.action == "membership.change" && r.outcome == "allowed"));
    }
}

#[tokio::test]
async fn a_declined_upgrade_changes_nothing_and_says_why() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let client = app.new_browser();
        active_member(&app, &client, "ana@example.com").await;
        set_card(&app, "fails_on_charge").await;
        let response = post(
            &app,
            &client,
            "/api/membership/change",
            &[("tier", "family".into()), ("period", "monthly".into())],
        )
        .await;
        assert_eq!(
            location(&response).as_deref(),
            Some("/portal/membership?problem=declined"),
            "{}",
            app.backend
        );
        let m = only_membership(&app).await;
        assert_eq!(tier_of(&app, &m).await, "complete");
        assert_eq!(
            invoice::Entity::find().count(&app.db).await.expect("count"),
            1
        );
        // The audit log says the change was tried and failed, and why: never "allowed" for a
        // change that did not happen.
        let changes =
            |rows: Vec<app::audit::entity::audit_event::Model>| -> Vec<(String, Option<String>)> {
                rows.into_iter()
                    .filter(|r| r.action == "membership.change")
                    .map(|r| (r.outcome, r.detail))
                    .collect()
            };
        let tried = changes(app.audit_rows().await);
        assert_eq!(tried.len(), 1, "{tried:?}");
        assert_eq!(tried[0].0, "failed");
        assert!(
            tried[0]
                .1
                .as_deref()
                .is_some_and(|why| why.contains("declined")),
            "{tried:?}"
        );
        // With a good card the same change is made, and audited as allowed with it.
        set_card(&app, "succeeds").await;
        let response = post(
            &app,
            &client,
            "/api/membership/change",
            &[("tier", "family".into()), ("period", "monthly".into())],
        )
        .await;
        assert_ne!(
            location(&response).as_deref(),
            Some("/portal/membership?problem=declined")
        );
        let m = only_membership(&app).await;
        assert_eq!(tier_of(&app, &m).await, "family");
        let tried = changes(app.audit_rows().await);
        assert_eq!(
            tried.iter().map(|(o, _)| o.as_str()).collect::<Vec<_>>(),
            vec!["failed", "allowed"]
        );
    }
}

#[tokio::test]
async fn a_cheaper_membership_starts_when_the_paid_period_ends_and_can_be_withdrawn() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let client = app.new_browser();
        active_member(&app, &client, "ana@example.com").await;
        let end = only_membership(&app).await.current_period_end.expect("end");
        // Planned, then withdrawn, then planned again.
        let change = [
            ("tier", "essential".to_owned()),
            ("period", "monthly".to_owned()),
        ];
        let response = post(&app, &client, "/api/membership/change", &change).await;
        assert_eq!(
            location(&response).as_deref(),
            Some("/portal/membership?changed=scheduled")
        );
        let page = app
            .get_with(&client, "/portal/membership")
            .await
            .text()
            .await
            .expect("page");
        assert!(
            page.contains("Your membership changes to Essential on"),
            "{page}"
        );
        post(&app, &client, "/api/membership/keep-plan", &[]).await;
        assert!(only_membership(&app).await.pending_tier_id.is_none());
        post(&app, &client, "/api/membership/change", &change).await;
        let m = only_membership(&app).await;
        assert_eq!(tier_of(&app, &m).await, "complete", "{}", app.backend);
        assert_eq!(m.change_at, Some(end));
        assert_eq!(
            invoice::Entity::find().count(&app.db).await.expect("count"),
            1,
            "nothing charged now"
        );

        app.clock.set(end + Duration::minutes(1));
        app.jobs.run_due().await.expect("renewal");
        let m = only_membership(&app).await;
        assert_eq!(tier_of(&app, &m).await, "essential");
        assert!(m.pending_tier_id.is_none());
        let last = invoice::Entity::find()
            .order_by_desc(invoice::Column::Id)
            .one(&app.db)
            .await
            .expect("read")
            .expect("one");
        assert_eq!(last.amount_paid_cents, 12_900);
    }
}

#[tokio::test]
async fn cancelling_honours_the_commitment_and_the_membership_ends_on_the_day_stated() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let client = app.new_browser();
        active_member(&app, &client, "ana@example.com").await;
        let m = only_membership(&app).await;
        let commitment = m.commitment_ends_at.expect("commitment");
        let ends = app::memberships::service::ends_if_cancelled(&m, app.clock_now()).expect("end");
        // The period that covers the commitment's last day.
        assert!(
            ends > commitment - Duration::days(1) && ends < commitment + Duration::days(32),
            "{ends} vs {commitment}"
        );
        let page = app
            .get_with(&client, "/portal/membership")
            .await
            .text()
            .await
            .expect("page");
        let day = ends
            .with_timezone(&chrono_tz::America::New_York)
            .format("%B %-d, %Y")
            .to_string();
        assert!(
            page.contains(&format!("Cancel my membership (ends {day})")),
            "{page}"
        );

        // Cancel, change one's mind, cancel again.
        let response = post(
            &app,
            &client,
            "/api/membership/cancel",
            &[("choice", "cancel".into())],
        )
        .await;
        assert_eq!(
            location(&response).as_deref(),
            Some("/portal/membership?changed=cancelled"),
            "{}",
            app.backend
        );
        post(
            &app,
            &client,
            "/api/membership/cancel",
            &[("choice", "keep".into())],
        )
        .await;
        assert!(only_membership(&app).await.cancel_at.is_none());
        post(
            &app,
            &client,
            "/api/membership/cancel",
            &[("choice", "cancel".into())],
        )
        .await;
        assert_eq!(only_membership(&app).await.cancel_at, Some(ends));
        let page = app
            .get_with(&client, "/portal/membership")
            .await
            .text()
            .await
            .expect("page");
        assert!(
            page.contains(&format!("Your membership ends on {day}")),
            "{page}"
        );

        // Billed as usual until then, and not after.
        app.clock.set(ends - Duration::days(1));
        app.jobs.run_due().await.expect("renewals");
        let m = only_membership(&app).await;
        assert_eq!(m.status, MembershipStatus::Active);
        let invoices_before_end = invoice::Entity::find().count(&app.db).await.expect("count");
        let periods: Vec<_> = invoice::Entity::find()
            .order_by_asc(invoice::Column::Id)
            .all(&app.db)
            .await
            .expect("invoices")
            .into_iter()
            .map(|i| (i.period_start, i.period_end, i.status))
            .collect();
        assert_eq!(
            invoices_before_end, 6,
            "six monthly payments cover the commitment: {periods:?}, ends {ends}"
        );
        app.clock.set(ends + Duration::minutes(1));
        app.jobs.run_due().await.expect("end");
        let m = only_membership(&app).await;
        assert_eq!(m.status, MembershipStatus::Cancelled);
        assert_eq!(
            invoice::Entity::find().count(&app.db).await.expect("count"),
            invoices_before_end
        );
    }
}

/// An active member's paid invoice, the member's browser, and one signed in as the practice's
/// admin.
async fn paid_invoice_and_admin(
    app: &TestApp,
) -> (invoice::Model, reqwest::Client, reqwest::Client) {
    let member = app.new_browser();
    active_member(app, &member, "ana@example.com").await;
    let found = invoice::Entity::find()
        .one(&app.db)
        .await
        .expect("read")
        .expect("one");
    let admin = app
        .create_user(app::auth::Role::Admin, "admin@example.com")
        .await;
    (found, member, app.signed_in(&admin).await)
}

#[tokio::test]
async fn the_admin_refunds_part_then_the_rest_of_an_invoice_once_each_and_the_member_is_told() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let (found, client, browser) = paid_invoice_and_admin(&app).await;
        let page = app
            .get_with(&browser, "/admin/billing")
            .await
            .text()
            .await
            .expect("page");
        assert!(
            page.contains(&found.number) && page.contains("Ana Ruiz"),
            "{page}"
        );

        // Too much is refused with a clear reason; a partial refund, twice submitted, counts once.
        let form = |amount: &str, key: &str| {
            vec![
                ("invoice", found.public_id.clone()),
                ("amount", amount.to_owned()),
                ("key", key.to_owned()),
            ]
        };
        let refused = post(&app, &browser, "/api/billing/refund", &form("250", "k0")).await;
        assert!(refused.status() == 303, "{}", refused.status());
        assert_eq!(
            location(&refused).as_deref(),
            Some("/admin/billing?problem=amount"),
            "{}",
            app.backend
        );
        for _ in 0..2 {
            let done = post(&app, &browser, "/api/billing/refund", &form("49.50", "k1")).await;
            assert_eq!(
                location(&done).as_deref(),
                Some("/admin/billing?refunded=1")
            );
        }
        app.jobs.run_due().await.expect("jobs");
        let after = invoice::Entity::find_by_id(found.id)
            .one(&app.db)
            .await
            .expect("read")
            .expect("one");
        assert_eq!(after.amount_refunded_cents, 4_950);
        assert_eq!(after.status.as_str(), "paid");
        // The rest, then nothing is left.
        post(&app, &browser, "/api/billing/refund", &form("149.50", "k2")).await;
        app.jobs.run_due().await.expect("jobs");
        let after = invoice::Entity::find_by_id(found.id)
            .one(&app.db)
            .await
            .expect("read")
            .expect("one");
        assert_eq!(after.amount_refunded_cents, 19_900);
        assert_eq!(after.status.as_str(), "refunded");
        let more = post(&app, &browser, "/api/billing/refund", &form("1", "k3")).await;
        assert_eq!(
            location(&more).as_deref(),
            Some("/admin/billing?problem=nothing_left")
        );
        let refunds = emails_to(&app, "ana@example.com")
            .await
            .into_iter()
            .filter(|e| e.subject.starts_with("A refund from"))
            .count();
        assert_eq!(refunds, 2);
        assert!(app
            .audit_rows()
            .await
            .iter()
            .any(|r| r.action == "invoice.refund" && r.outcome == "allowed"));
        // A member cannot refund themselves.
        let own = post(&app, &client, "/api/billing/refund", &form("1", "k4")).await;
        assert_eq!(
            location(&own).as_deref(),
            Some("/admin/billing?problem=forbidden"),
            "{}",
            own.status()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refunds_of_one_invoice_from_two_tabs_at_once_never_exceed_what_was_paid() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let (found, _, browser) = paid_invoice_and_admin(&app).await;
        let everything = format!(
            "{}.{:02}",
            found.amount_paid_cents / 100,
            found.amount_paid_cents % 100
        );
        // Two tabs, each refunding the whole invoice, pressed at the same moment.
        let tab = |key: &'static str| {
            let form = vec![
                ("invoice", found.public_id.clone()),
                ("amount", everything.clone()),
                ("key", key.to_owned()),
            ];
            let browser = browser.clone();
            let app = &app;
            async move { location(&post(app, &browser, "/api/billing/refund", &form).await) }
        };
        let (first, second) = tokio::join!(tab("tab1"), tab("tab2"));
        let mut answers = vec![first, second];
        answers.sort();
        // One refunds; the other is refused, by our books when the first refund is recorded
        // already, or by the processor's when it is not yet.
        let refused = answers[0].as_deref();
        assert!(
            refused == Some("/admin/billing?problem=nothing_left")
                || refused == Some("/admin/billing?problem=processor_refused"),
            "{answers:?} {}",
            app.backend
        );
        assert_eq!(
            answers[1].as_deref(),
            Some("/admin/billing?refunded=1"),
            "{}",
            app.backend
        );
        app.jobs.run_due().await.expect("jobs");
        let after = invoice::Entity::find_by_id(found.id)
            .one(&app.db)
            .await
            .expect("read")
            .expect("one");
        assert_eq!(
            after.amount_refunded_cents, found.amount_paid_cents,
            "{}",
            app.backend
        );
        // Audited after the processor answered: one refund made, one refused.
        let mut outcomes: Vec<String> = app
            .audit_rows()
            .await
            .into_iter()
            .filter(|r| r.action == "invoice.refund")
            .map(|r| r.outcome)
            .collect();
        outcomes.sort();
        assert_eq!(outcomes, vec!["allowed", "failed"], "{}", app.backend);
    }
}

#[tokio::test]
async fn a_stored_status_nobody_knows_is_an_error_never_a_default() {
    use sea_orm::ConnectionTrait;
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app
            .create_member("maria@example.com", "Maria Lopez", Some("complete"))
            .await;
        let browser = app.signed_in(&maria).await;
        let (status, _) = app.visit(&browser, "/portal/membership").await;
        assert_eq!(status, 200, "{}", app.backend);
        // A word no version of Bedside writes (a hand edit, a bad restore).
        app.db
            .execute_unprepared("UPDATE membership SET status = 'frozen'")
            .await
            .expect("update");
        let page = app.get_with(&browser, "/portal/membership").await;
        let code = page.status().as_u16();
        let html = page.text().await.expect("body");
        assert_eq!(code, 500, "{}: {html}", app.backend);
        assert!(html.contains("Something went wrong on our side"), "{html}");
        assert!(!html.contains("Not active yet") && !html.contains("frozen"));
        // Reading the column fails with what was found, for the log.
        let read = membership::Entity::find().all(&app.db).await;
        let error = read.expect_err("an unknown status is not read").to_string();
        assert!(error.contains("frozen"), "{error}");
    }
}
