//! The live notification stream: pushes the unread count when it changes, ends with the session
//! and never keeps it alive.

use crate::helpers::{backends, spawn_app_with, TestApp};
use chrono::Duration;
use futures::StreamExt;

/// Reads server-sent events until one named `name` arrives; returns its data.
async fn next_event(
    stream: &mut (impl futures::Stream<Item = reqwest::Result<axum::body::Bytes>> + Unpin),
    buffer: &mut String,
    name: &str,
) -> Option<String> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let mut event = None;
            let mut data = String::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    event = Some(v.trim().to_owned());
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim());
                }
            }
            if event.as_deref() == Some(name) {
                return Some(data);
            }
        }
        let chunk = tokio::time::timeout_at(deadline, stream.next())
            .await
            .ok()??;
        buffer.push_str(&String::from_utf8_lossy(&chunk.ok()?));
    }
}

async fn notify(app: &TestApp, user_id: i32, title: &str) {
    app::notifications::service::create(
        &app.db,
        &app.keyring,
        user_id,
        title,
        "body",
        None,
        app.clock_now(),
    )
    .await
    .expect("notification");
}

#[tokio::test]
async fn a_new_notification_arrives_live_and_the_stream_ends_with_the_session() {
    for backend in backends() {
        let app = spawn_app_with(&backend, |s| s.notifications.live_poll_seconds = 1).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let strangers = app.get("/api/notifications/live").await;
        assert_eq!(strangers.status(), 401, "{}", app.backend);

        let browser = app.signed_in(&maria).await;
        let response = app.get_with(&browser, "/api/notifications/live").await;
        assert_eq!(response.status(), 200, "{}", app.backend);
        assert!(response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream")));
        let mut stream = response.bytes_stream();
        let mut buffer = String::new();
        let first = next_event(&mut stream, &mut buffer, "unread").await;
        assert_eq!(first.as_deref(), Some(r#"{"count":0,"latest":null}"#));

        notify(&app, maria.id, "Your visit is coming up").await;
        let second = next_event(&mut stream, &mut buffer, "unread").await;
        assert_eq!(
            second.as_deref(),
            Some(r#"{"count":1,"latest":"Your visit is coming up"}"#),
            "{}",
            app.backend
        );

        // The stream does not count as activity: 31 idle minutes end the session, and the
        // stream says so and ends.
        app.clock.advance(Duration::minutes(31));
        let ended = next_event(&mut stream, &mut buffer, "signed_out").await;
        assert_eq!(ended.as_deref(), Some("{}"), "{}", app.backend);
        assert_eq!(app.visit(&browser, "/portal").await.0, 303);
    }
}
