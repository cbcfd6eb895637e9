//! Live events (issue 15 §1): numbered per person, resumed from `Last-Event-ID` without loss,
//! never an event whose transaction rolled back, across processes on PostgreSQL, and through a
//! lost listening connection.

use crate::helpers::{backends, spawn_app_with, Backend, TestApp};
use futures::StreamExt;
use sea_orm::{ConnectionTrait, TransactionTrait};
use std::pin::Pin;
use std::time::Duration;

/// One event as the browser hears it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heard {
    pub id: Option<String>,
    pub event: String,
    pub data: String,
}

type Body = Pin<Box<dyn futures::Stream<Item = reqwest::Result<axum::body::Bytes>> + Send>>;

/// An open `GET /api/live`, read as `EventSource` reads it.
pub struct Listening {
    body: Body,
    buffer: String,
}

impl Listening {
    /// Opens the stream at `address` in `client`, resuming after `last_id` if given.
    pub async fn open(address: &str, client: &reqwest::Client, last_id: Option<&str>) -> Self {
        let mut request = client.get(format!("{address}/api/live"));
        if let Some(id) = last_id {
            request = request.header("Last-Event-ID", id);
        }
        let response = request.send().await.expect("GET /api/live");
        assert_eq!(response.status(), 200);
        assert!(response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream")));
        Listening {
            body: Box::pin(response.bytes_stream()),
            buffer: String::new(),
        }
    }

    /// The next named event within `within` (comments, the keep-alives, skipped).
    pub async fn next_within(&mut self, within: Duration) -> Option<Heard> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut heard = Heard {
                    id: None,
                    event: String::new(),
                    data: String::new(),
                };
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        heard.event = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        heard.data.push_str(v.trim());
                    } else if let Some(v) = line.strip_prefix("id:") {
                        heard.id = Some(v.trim().to_owned());
                    }
                }
                if !heard.event.is_empty() {
                    return Some(heard);
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.body.next())
                .await
                .ok()??;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk.ok()?));
        }
    }

    pub async fn next(&mut self) -> Option<Heard> {
        self.next_within(Duration::from_secs(10)).await
    }

    /// The two counts a stream starts with (or starts over with): notifications, then messages.
    pub async fn counts(&mut self) -> (Heard, Heard) {
        let unread = self.next().await.expect("the notification count");
        assert_eq!(unread.event, "unread");
        let messages = self.next().await.expect("the message count");
        assert_eq!(messages.event, "messages");
        (unread, messages)
    }

    /// Events until one named `name`; returns it.
    pub async fn until(&mut self, name: &str) -> Option<Heard> {
        loop {
            let heard = self.next().await?;
            if heard.event == name {
                return Some(heard);
            }
        }
    }
}

/// A notification for `user_id`, committed.
pub async fn notify(app: &TestApp, user_id: i32, title: &str) {
    notify_on(app, &app.db, user_id, title).await;
}

/// A notification for `user_id`, committed through `db`.
pub async fn notify_on(app: &TestApp, db: &sea_orm::DatabaseConnection, user_id: i32, title: &str) {
    let txn = db.begin().await.expect("begin");
    app::notifications::service::create(
        &txn,
        &app.keyring,
        user_id,
        title,
        "body",
        None,
        app.clock_now(),
    )
    .await
    .expect("notification");
    txn.commit().await.expect("commit");
}

fn unread(count: u64, latest: Option<&str>) -> String {
    serde_json::json!({ "count": count, "latest": latest }).to_string()
}

#[tokio::test]
async fn a_stream_that_drops_resumes_from_its_last_event_id_and_misses_nothing() {
    for backend in backends() {
        let app = spawn_app_with(&backend, |_| {}).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let browser = app.signed_in(&maria).await;
        notify(&app, maria.id, "Earlier").await;

        // A first visit starts from where Maria stands: her count, her newest number.
        let mut live = Listening::open(&app.address, &browser, None).await;
        let (first, messages) = live.counts().await;
        assert_eq!(first.data, unread(1, Some("Earlier")));
        assert_eq!(messages.data, r#"{"unread":0}"#);
        assert_eq!(first.id.as_deref(), Some("1"), "{}", app.backend);

        notify(&app, maria.id, "Second").await;
        let second = live.next().await.expect("live");
        assert_eq!(second.id.as_deref(), Some("2"), "{}", app.backend);
        assert_eq!(second.data, unread(2, Some("Second")));

        // The connection drops; two more arrive meanwhile; the browser reconnects with the
        // last id it heard and is told where things stand at once, numbered on.
        drop(live);
        notify(&app, maria.id, "Third").await;
        notify(&app, maria.id, "Fourth").await;
        let mut again = Listening::open(&app.address, &browser, Some("2")).await;
        let resumed = again.until("unread").await.expect("the refill");
        assert_eq!(resumed.event, "unread", "{}", app.backend);
        assert_eq!(resumed.id.as_deref(), Some("4"), "{}", app.backend);
        assert_eq!(resumed.data, unread(4, Some("Fourth")));
        // Then live again.
        notify(&app, maria.id, "Fifth").await;
        let fifth = again.next().await.expect("live after resuming");
        assert_eq!(fifth.id.as_deref(), Some("5"), "{}", app.backend);

        // Up to date: nothing to refill, nothing sent until something happens.
        let mut current = Listening::open(&app.address, &browser, Some("5")).await;
        assert_eq!(
            current.next_within(Duration::from_millis(500)).await,
            None,
            "{}",
            app.backend
        );

        // Events older than the database keeps (or an id it never gave): start over.
        app::live::service::prune(&app.db, app.clock_now() + chrono::Duration::seconds(1))
            .await
            .expect("prune");
        let mut stale = Listening::open(&app.address, &browser, Some("3")).await;
        let resync = stale.next().await.expect("resync");
        assert_eq!(resync.event, "resync", "{}", app.backend);
        assert_eq!(resync.id.as_deref(), Some("5"));
        let (count, _) = stale.counts().await;
        assert_eq!(count.data, unread(5, Some("Fifth")));
        let mut foreign = Listening::open(&app.address, &browser, Some("99")).await;
        assert_eq!(foreign.next().await.expect("resync").event, "resync");
    }
}

#[tokio::test]
async fn an_event_whose_transaction_rolled_back_is_never_sent_and_its_number_is_taken_again() {
    for backend in backends() {
        let app = spawn_app_with(&backend, |_| {}).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let browser = app.signed_in(&maria).await;
        let mut live = Listening::open(&app.address, &browser, None).await;
        assert_eq!(live.counts().await.0.data, unread(0, None));

        let txn = app.db.begin().await.expect("begin");
        app::notifications::service::create(
            &txn,
            &app.keyring,
            maria.id,
            "Never",
            "body",
            None,
            app.clock_now(),
        )
        .await
        .expect("notification");
        txn.rollback().await.expect("rollback");
        assert_eq!(
            live.next_within(Duration::from_millis(600)).await,
            None,
            "{}: a rolled-back event went out",
            app.backend
        );

        notify(&app, maria.id, "Kept").await;
        let kept = live.next().await.expect("the committed one");
        assert_eq!(kept.id.as_deref(), Some("1"), "{}", app.backend);
        assert_eq!(kept.data, unread(1, Some("Kept")));
    }
}

#[tokio::test]
async fn each_person_hears_only_their_own_events_and_strangers_are_refused() {
    for backend in backends() {
        let app = spawn_app_with(&backend, |_| {}).await;
        let stranger = app.get("/api/live").await;
        assert_eq!(stranger.status(), 401, "{}", app.backend);
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let james = app
            .create_patient("james@example.com", "James Okafor")
            .await;
        let hers = app.signed_in(&maria).await;
        let his = app.signed_in(&james).await;
        let mut maria_hears = Listening::open(&app.address, &hers, None).await;
        let mut james_hears = Listening::open(&app.address, &his, None).await;
        maria_hears.counts().await;
        james_hears.counts().await;
        notify(&app, james.id, "For James").await;
        assert_eq!(
            james_hears.next().await.expect("his").data,
            unread(1, Some("For James"))
        );
        assert_eq!(
            maria_hears.next_within(Duration::from_millis(500)).await,
            None,
            "{}",
            app.backend
        );
    }
}

/// The backend ids of this database's listening connections.
async fn listeners(app: &TestApp) -> Vec<i32> {
    let rows = app
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT pid FROM pg_stat_activity \
             WHERE datname = current_database() AND query LIKE 'LISTEN %'",
        ))
        .await
        .expect("pg_stat_activity");
    rows.iter()
        .map(|row| row.try_get_by_index::<i32>(0).expect("pid"))
        .collect()
}

#[tokio::test]
async fn on_postgresql_a_write_through_one_process_reaches_a_stream_on_another_and_survives_a_lost_listener(
) {
    let Some(backend) = backends()
        .into_iter()
        .find(|b| matches!(b, Backend::Postgres(_)))
    else {
        return;
    };
    let a = spawn_app_with(&backend, |_| {}).await;
    let (b, _serving) = a.second_process().await;
    let maria = a.create_patient("maria@example.com", "Maria Lopez").await;
    notify(&a, maria.id, "Waiting").await;
    // Two sessions, as two tabs behind a load balancer: one on each process.
    let on_a = a.signed_in(&maria).await;
    let on_b = a.signed_in(&maria).await;
    let mut live = Listening::open(&b, &on_b, None).await;
    assert_eq!(live.counts().await.0.data, unread(1, Some("Waiting")));

    // Opening her notifications through process A marks them read; process B's stream hears
    // it within a second.
    let started = std::time::Instant::now();
    let (status, _) = a
        .call::<serde_json::Value>(&on_a, "/api/notifications/open", &[])
        .await;
    assert_eq!(status, 200);
    let heard = live.next_within(Duration::from_secs(1)).await;
    let took = started.elapsed();
    assert_eq!(
        heard.map(|h| h.data),
        Some(unread(0, None)),
        "not heard on B within 1 s"
    );
    assert!(took < Duration::from_secs(1), "took {took:?}");

    // Every listening connection on the database is killed, and kept from coming back while
    // three events are written (new connections refused; the test's own stay open): nobody
    // hears them announced. Once the listeners are back, the stream still gets them, in
    // order, none missing.
    let database = a
        .settings
        .database_url
        .rsplit('/')
        .next()
        .expect("name")
        .to_owned();
    let Backend::Postgres(server) = &backend else {
        unreachable!()
    };
    let admin = sea_orm::Database::connect(server.as_str())
        .await
        .expect("admin");
    // The writer's one connection, open before new ones are refused.
    let writer = sea_orm::Database::connect(
        sea_orm::ConnectOptions::new(a.settings.database_url.clone())
            .max_connections(1)
            .min_connections(1)
            .to_owned(),
    )
    .await
    .expect("writer");
    writer
        .execute_unprepared("SELECT 1")
        .await
        .expect("connected");
    let killed = listeners(&a).await;
    assert!(killed.len() >= 2, "A and B each listen: {killed:?}");
    admin
        .execute_unprepared(&format!(
            "ALTER DATABASE {database} ALLOW_CONNECTIONS false"
        ))
        .await
        .expect("refuse connections");
    for pid in &killed {
        a.db.execute_unprepared(&format!("SELECT pg_terminate_backend({pid})"))
            .await
            .expect("terminate");
    }
    for n in 1..=3 {
        notify_on(&a, &writer, maria.id, &format!("After {n}")).await;
    }
    let listening = writer
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT pid FROM pg_stat_activity \
             WHERE datname = current_database() AND query LIKE 'LISTEN %'",
        ))
        .await
        .expect("pg_stat_activity");
    assert!(listening.is_empty(), "nobody listens meanwhile");
    assert_eq!(
        live.next_within(Duration::from_millis(300)).await,
        None,
        "nothing can be heard meanwhile"
    );
    admin
        .execute_unprepared(&format!("ALTER DATABASE {database} ALLOW_CONNECTIONS true"))
        .await
        .expect("allow connections");
    let mut last = None;
    while last.as_ref().and_then(|h: &Heard| h.id.clone()).as_deref() != Some("5") {
        let heard = live
            .next_within(Duration::from_secs(10))
            .await
            .expect("events after the listener came back");
        assert_eq!(heard.event, "unread");
        last = Some(heard);
    }
    assert_eq!(last.expect("heard").data, unread(3, Some("After 3")));
    // Listening again, with new connections.
    let now_listening = listeners(&a).await;
    assert!(now_listening.iter().all(|pid| !killed.contains(pid)));
    // And live as before.
    notify(&a, maria.id, "Later").await;
    let later = live.next().await.expect("live again");
    assert_eq!(later.id.as_deref(), Some("6"));
}
