//! Notices of waiting messages (R5.2): after five minutes unread, an email (and a text when
//! chosen) saying only that a secure message waits; at most one per conversation and person in
//! 15 minutes; none once read; audited; never the subject, the words or a name.

use super::outbox;
use crate::helpers::{backends, spawn_app, TestApp};

async fn start(app: &TestApp, who: &reqwest::Client, subject: &str, body: &str) -> String {
    super::start(app, who, subject, body).await
}

async fn send(app: &TestApp, who: &reqwest::Client, id: &str, body: &str) {
    assert_eq!(super::send(app, who, id, body).await.0, 200);
}
use app::auth::Role;
use chrono::Duration;

async fn later(app: &TestApp, minutes: i64) {
    app.clock.advance(Duration::minutes(minutes));
    app.jobs.run_due().await.expect("jobs");
}

#[tokio::test]
async fn a_waiting_message_is_told_once_without_its_words_and_a_read_one_is_not_told() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let physician = app.create_user(Role::Physician, "dr@example.com").await;
        let hers = app.signed_in(&maria).await;
        let doctors = app.signed_in(&physician).await;
        let subject = "Lump in my breast";
        let words = "I found a lump yesterday and I am worried.";
        let id = start(&app, &hers, subject, words).await;
        let (before, _) = outbox(&app).await;

        // Not before five minutes.
        later(&app, 4).await;
        assert_eq!(outbox(&app).await.0.len(), before.len(), "{}", app.backend);
        later(&app, 2).await;
        let (emails, _) = outbox(&app).await;
        let told: Vec<&(String, String)> = emails[before.len()..].iter().collect();
        assert_eq!(told.len(), 1, "{}: {told:?}", app.backend);
        assert_eq!(told[0].0, "dr@example.com");
        let text = &told[0].1;
        assert!(text.contains(
            "You have a new secure message from Harbor Street Medicine. Sign in to read it:"
        ));
        for secret in [subject, "lump", "worried", "Maria", "Lopez"] {
            assert!(
                !text.to_lowercase().contains(&secret.to_lowercase()),
                "{secret} in {text}"
            );
        }
        let audited = app
            .audit_rows()
            .await
            .into_iter()
            .filter(|r| r.action == "message.notice")
            .count();
        assert_eq!(audited, 1, "{}", app.backend);

        // Two more within 15 minutes of that notice: no second notice.
        send(&app, &hers, &id, "Also it is a bit painful.").await;
        later(&app, 6).await;
        assert_eq!(
            outbox(&app).await.0.len(),
            before.len() + 1,
            "{}",
            app.backend
        );

        // Read before its five minutes: nothing to tell.
        let (status, _) = app
            .call::<serde_json::Value>(&doctors, "/api/messages/open", &[("conversation", &id)])
            .await;
        assert_eq!(status, 200);
        send(&app, &hers, &id, "Thank you.").await;
        let (status, _) = app
            .call::<serde_json::Value>(&doctors, "/api/messages/open", &[("conversation", &id)])
            .await;
        assert_eq!(status, 200);
        later(&app, 20).await;
        assert_eq!(
            outbox(&app).await.0.len(),
            before.len() + 1,
            "{}",
            app.backend
        );
    }
}

#[tokio::test]
async fn a_patient_who_chose_texts_gets_a_text_too_and_one_who_chose_neither_nothing() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let physician = app.create_user(Role::Physician, "dr@example.com").await;
        let hers = app.signed_in(&maria).await;
        let doctors = app.signed_in(&physician).await;
        let (status, prefs) = app
            .call::<app::messages::model::NoticePreferences>(
                &hers,
                "/api/messages/preferences",
                &[],
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(
            prefs.expect("read"),
            app::messages::model::NoticePreferences {
                by_email: true,
                by_text: false,
                can_text: true
            }
        );
        let (status, _) = app
            .call::<()>(
                &hers,
                "/api/messages/preferences/save",
                &[("by_email", "1"), ("by_text", "1")],
            )
            .await;
        assert_eq!(status, 200, "{}", app.backend);
        let id = start(&app, &hers, "Results", "Are my results back?").await;
        send(
            &app,
            &doctors,
            &id,
            "Your cholesterol is a little high; let us talk.",
        )
        .await;
        let (emails_before, texts_before) = outbox(&app).await;
        later(&app, 6).await;
        let (emails, texts) = outbox(&app).await;
        let to_maria: Vec<_> = emails[emails_before.len()..]
            .iter()
            .filter(|(to, _)| to == "maria@example.com")
            .collect();
        assert_eq!(to_maria.len(), 1, "{}", app.backend);
        let new_texts = &texts[texts_before.len()..];
        assert_eq!(new_texts.len(), 1, "{}: {new_texts:?}", app.backend);
        assert_eq!(new_texts[0].0, "+12075550187");
        assert!(!new_texts[0].1.contains("cholesterol"));

        // Neither: nothing.
        let (status, _) = app
            .call::<()>(&hers, "/api/messages/preferences/save", &[])
            .await;
        assert_eq!(status, 200);
        send(
            &app,
            &doctors,
            &id,
            "Also, please fast before the next test.",
        )
        .await;
        let (emails_before, texts_before) = outbox(&app).await;
        later(&app, 30).await;
        let (emails, texts) = outbox(&app).await;
        assert_eq!(
            (emails.len(), texts.len()),
            (emails_before.len(), texts_before.len()),
            "{}",
            app.backend
        );
    }
}
