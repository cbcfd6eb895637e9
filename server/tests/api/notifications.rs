//! The notification count on the live stream: pushed when it changes (in any tab), ends with
//! the session and never keeps it alive.

use crate::helpers::{backends, spawn_app_with};
use crate::live::{notify, Listening};
use chrono::Duration;

#[tokio::test]
async fn a_new_notification_arrives_live_and_the_stream_ends_with_the_session() {
    for backend in backends() {
        let app = spawn_app_with(&backend, |s| s.live.session_check_seconds = 1).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let strangers = app.get("/api/live").await;
        assert_eq!(strangers.status(), 401, "{}", app.backend);

        let browser = app.signed_in(&maria).await;
        let mut live = Listening::open(&app.address, &browser, None).await;
        let first = live.until("unread").await.map(|h| h.data);
        assert_eq!(first.as_deref(), Some(r#"{"count":0,"latest":null}"#));

        notify(&app, maria.id, "Your visit is coming up").await;
        let second = live.until("unread").await.map(|h| h.data);
        assert_eq!(
            second.as_deref(),
            Some(r#"{"count":1,"latest":"Your visit is coming up"}"#),
            "{}",
            app.backend
        );

        // Reading them in another tab clears the count here too.
        let other_tab = app.signed_in(&maria).await;
        let (status, _) = app
            .call::<serde_json::Value>(&other_tab, "/api/notifications/open", &[])
            .await;
        assert_eq!(status, 200, "{}", app.backend);
        let read = live.until("unread").await.map(|h| h.data);
        assert_eq!(read.as_deref(), Some(r#"{"count":0,"latest":null}"#));

        // The stream does not count as activity: 31 idle minutes end the session, and the
        // stream says so and ends.
        app.clock.advance(Duration::minutes(31));
        let ended = live.until("signed_out").await.map(|h| h.data);
        assert_eq!(ended.as_deref(), Some("{}"), "{}", app.backend);
        assert_eq!(
            live.next_within(std::time::Duration::from_secs(2)).await,
            None
        );
        assert_eq!(app.visit(&browser, "/portal").await.0, 303);
    }
}
