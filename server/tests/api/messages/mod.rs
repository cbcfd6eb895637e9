//! Secure messaging (issue 15 §2–§4).

mod auto_reply;
mod conversations;
mod notices;
mod search;

use crate::helpers::TestApp;

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
