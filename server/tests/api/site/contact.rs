use crate::helpers::{backends, spawn_app, spawn_app_with, TestApp};
use app::mail::outbox_email;
use app::site::entity::contact_inquiry;
use sea_orm::{EntityTrait, PaginatorTrait, QueryOrder};

const VALID: [(&str, &str); 6] = [
    ("name", "Ann Lee"),
    ("email", "ann@example.com"),
    ("phone", "(207) 555-0199"),
    ("topic", "membership"),
    ("message", "Are you accepting new members this spring?"),
    ("website", ""),
];

async fn inquiries(app: &TestApp) -> Vec<contact_inquiry::Model> {
    app.jobs.settle().await;
    contact_inquiry::Entity::find()
        .all(&app.db)
        .await
        .expect("inquiries")
}

async fn outbox(app: &TestApp) -> Vec<bedside::mail::outbox::OpenedEmail> {
    app.jobs.settle().await;
    outbox_email::Entity::find()
        .order_by_asc(outbox_email::Column::Id)
        .all(&app.db)
        .await
        .expect("outbox")
        .into_iter()
        .map(|row| app.open_email(row))
        .collect()
}

#[tokio::test]
async fn a_valid_inquiry_is_stored_emailed_to_the_practice_and_acknowledged() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let response = app.post_form("/contact", &VALID).await;
        assert_eq!(response.status(), 303, "{}", app.backend);
        assert_eq!(response.headers()["location"], "/contact?sent=1");

        let stored = inquiries(&app).await;
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].topic, "membership");
        assert!(stored[0].practice_notified_at.is_some() && stored[0].acknowledged_at.is_some());
        let details = app::site::service::open_inquiry(&app.keyring, &stored[0]).expect("decrypts");
        assert_eq!(details.name, "Ann Lee");
        assert_eq!(details.email, "ann@example.com");
        assert_eq!(details.phone.as_deref(), Some("(207) 555-0199"));
        assert_eq!(
            details.message,
            "Are you accepting new members this spring?"
        );
        assert_eq!(details.client_ip.as_deref(), Some("127.0.0.1"));
        // At rest, nothing the visitor wrote is readable.
        let raw = String::from_utf8_lossy(&stored[0].sealed_details);
        for secret in [
            "Ann Lee",
            "ann@example.com",
            "555-0199",
            "accepting new members",
        ] {
            assert!(!raw.contains(secret), "{secret} is stored in the clear");
        }

        let emails = outbox(&app).await;
        assert_eq!(emails.len(), 2, "one to the practice, one to the visitor");
        let to_practice = &emails[0];
        assert_eq!(to_practice.to_address, "hello@harborstreetmedicine.example");
        assert_eq!(to_practice.reply_to.as_deref(), Some("ann@example.com"));
        assert!(to_practice
            .text_body
            .contains("Are you accepting new members this spring?"));
        let to_visitor = &emails[1];
        assert_eq!(to_visitor.to_address, "ann@example.com");
        assert!(to_visitor.subject.contains("We received your message"));
        assert!(
            !to_visitor.text_body.contains("accepting new members"),
            "the acknowledgement does not echo the message"
        );
        // Nor anything else the visitor typed: it can go to any address they give.
        for typed in ["Ann", "Lee", "555-0199"] {
            assert!(
                !to_visitor.text_body.contains(typed) && !to_visitor.subject.contains(typed),
                "the acknowledgement echoes {typed:?}"
            );
        }

        let (_, _, thanks) = app.get_html("/contact?sent=1").await;
        assert!(thanks.contains("Thank you, your message has been sent."));
        app.stop().await;
    }
}

#[tokio::test]
async fn an_invalid_inquiry_shows_each_problem_and_keeps_what_was_typed() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let form = [
            ("name", "Ann <b>Lee</b>"),
            ("email", "ann@example"),
            ("phone", "call me"),
            ("topic", "membership"),
            ("message", "hi"),
            ("website", ""),
        ];
        let response = app.post_form("/contact", &form).await;
        assert_eq!(response.status(), 422);
        let body = response.text().await.expect("body");
        assert!(body.contains("Please correct 3 fields"), "{body}");
        assert!(body.contains("Please enter an email address like name@example.com."));
        assert!(body.contains("A phone number may contain only digits"));
        assert!(body.contains("Please write at least 10 characters for your message."));
        assert!(
            body.contains("value=\"Ann &lt;b&gt;Lee&lt;/b&gt;\""),
            "typed values come back, escaped"
        );
        assert!(body.contains("value=\"ann@example\""));
        assert!(body.contains(">hi</textarea>"));
        assert!(body.contains("aria-invalid=\"true\""));
        assert_eq!(inquiries(&app).await.len(), 0, "nothing stored");
        assert_eq!(outbox(&app).await.len(), 0, "nothing sent");
        app.stop().await;
    }
}

#[tokio::test]
async fn a_filled_honeypot_is_answered_like_success_but_nothing_is_kept() {
    let app = spawn_app(&backends()[0]).await;
    let mut form = VALID;
    form[5] = ("website", "http://cheap-pills.example");
    let response = app.post_form("/contact", &form).await;
    assert_eq!(response.status(), 303);
    assert_eq!(inquiries(&app).await.len(), 0);
    assert_eq!(outbox(&app).await.len(), 0);
    app.stop().await;
}

#[tokio::test]
async fn too_many_messages_from_one_address_are_refused_with_retry_after() {
    let app = spawn_app_with(&backends()[0], |s| s.contact.messages_per_hour = 2).await;
    for _ in 0..2 {
        assert_eq!(app.post_form("/contact", &VALID).await.status(), 303);
    }
    let refused = app.post_form("/contact", &VALID).await;
    assert_eq!(refused.status(), 429);
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!(retry_after > 0 && retry_after <= 3600);
    let body = refused.text().await.expect("body");
    assert!(body.contains("Please wait before sending another message"));
    assert!(
        body.contains("Are you accepting new members this spring?"),
        "the message is kept in the form"
    );
    assert_eq!(
        contact_inquiry::Entity::find()
            .count(&app.db)
            .await
            .expect("count"),
        2
    );
    app.stop().await;
}

#[tokio::test]
async fn a_form_that_is_not_a_form_is_a_bad_request() {
    let app = spawn_app(&backends()[0]).await;
    let response = app
        .client
        .post(format!("{}/contact", app.address))
        .body("{}")
        .header("content-type", "application/json")
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 400);
    app.stop().await;
}

#[tokio::test]
async fn a_sealed_inquiry_copied_onto_another_row_does_not_open() {
    let app = spawn_app(&backends()[0]).await;
    assert_eq!(app.post_form("/contact", &VALID).await.status(), 303);
    assert_eq!(app.post_form("/contact", &VALID).await.status(), 303);
    let rows = inquiries(&app).await;
    let mut swapped = rows[1].clone();
    swapped.sealed_details = rows[0].sealed_details.clone();
    assert!(app::site::service::open_inquiry(&app.keyring, &rows[0]).is_ok());
    assert!(app::site::service::open_inquiry(&app.keyring, &swapped).is_err());
    app.stop().await;
}
