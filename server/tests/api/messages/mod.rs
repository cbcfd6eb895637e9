//! Secure messaging (issue 15 §2–§4).

mod attachments;
mod auto_reply;
mod conversations;
mod hub;
mod notices;
mod search;

use crate::helpers::TestApp;
use app::mail::outbox_email;
use app::sms::outbox_sms;
use sea_orm::EntityTrait;

/// Emails and texts sent so far, opened: (to, subject and words).
pub async fn outbox(app: &TestApp) -> (Vec<(String, String)>, Vec<(String, String)>) {
    let emails = outbox_email::Entity::find()
        .all(&app.db)
        .await
        .expect("emails")
        .into_iter()
        .map(|row| app.open_email(row))
        .map(|e| (e.to_address, format!("{}\n{}", e.subject, e.text_body)))
        .collect();
    let texts = outbox_sms::Entity::find()
        .all(&app.db)
        .await
        .expect("texts")
        .into_iter()
        .map(|row| bedside::sms::outbox::open_text(&app.keyring, row).expect("opened"))
        .map(|t| (t.to_number, t.body))
        .collect();
    (emails, texts)
}

/// Starts a conversation as `who` (a patient, with the practice); returns its id.
pub async fn start(app: &TestApp, who: &reqwest::Client, subject: &str, body: &str) -> String {
    let (status, id) = app
        .call::<String>(
            who,
            "/api/messages/start",
            &[("subject", subject), ("body", body)],
        )
        .await;
    assert_eq!(status, 200, "{}: {id:?}", app.backend);
    id.expect("started")
}

/// Writes `body` in conversation `id` as `who`: the status, and the message's number.
pub async fn send(
    app: &TestApp,
    who: &reqwest::Client,
    id: &str,
    body: &str,
) -> (u16, Option<i64>) {
    let (status, seq) = app
        .call::<i64>(
            who,
            "/api/messages/send",
            &[("conversation", id), ("body", body)],
        )
        .await;
    (status, seq.ok())
}
