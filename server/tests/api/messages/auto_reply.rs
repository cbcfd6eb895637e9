//! The practice's automatic reply out of office hours: sent at once to a patient who writes
//! while the practice is closed, once a conversation in 12 hours, never while it is open; only
//! the physician sets it.

use crate::helpers::{backends, spawn_app, TestApp};
use app::auth::Role;
use app::messages::model::{AutoReply, ConversationView};

/// Moves the clock on to the next moment (in half hours) the practice is `working` or not.
async fn until(app: &TestApp, working: bool) {
    let schedule = app::appointments::service::schedule::load_schedule(&app.db)
        .await
        .expect("schedule")
        .expect("the demo schedule");
    for _ in 0..(24 * 2 * 8) {
        let local = app
            .clock_now()
            .with_timezone(&schedule.time_zone)
            .naive_local();
        if schedule.working_at(local) == working {
            return;
        }
        app.clock.advance(chrono::Duration::minutes(30));
    }
    panic!("no such time within a week");
}

async fn write(app: &TestApp, who: &reqwest::Client, subject: &str) -> ConversationView {
    let (status, id) = app
        .call::<String>(
            who,
            "/api/messages/start",
            &[("subject", subject), ("body", "Hello")],
        )
        .await;
    assert_eq!(status, 200);
    let id = id.expect("started");
    let (status, view) = app
        .call::<ConversationView>(who, "/api/messages/open", &[("conversation", &id)])
        .await;
    assert_eq!(status, 200);
    view.expect("opened")
}

#[tokio::test]
async fn a_patient_writing_while_the_practice_is_closed_gets_the_automatic_reply_once() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let physician = app.create_user(Role::Physician, "dr@example.com").await;
        let doctors = app.signed_in(&physician).await;
        let (status, reply) = app
            .call::<Option<AutoReply>>(&doctors, "/api/messages/auto-reply", &[])
            .await;
        assert_eq!(status, 200);
        assert!(!reply.expect("read").expect("the physician's").enabled);
        let words = "We are closed now and will answer in the morning. Emergencies: call 911.";
        let (status, _) = app
            .call::<()>(
                &doctors,
                "/api/messages/auto-reply/save",
                &[("enabled", "1"), ("text", words)],
            )
            .await;
        assert_eq!(status, 200, "{}", app.backend);
        // Nobody else sets it.
        let hers = app.signed_in(&maria).await;
        let (status, _) = app
            .call::<()>(&hers, "/api/messages/auto-reply/save", &[("text", "hi")])
            .await;
        assert_eq!(status, 403);

        // Open: no automatic reply.
        until(&app, true).await;
        let hers = app.signed_in(&maria).await;
        let open = write(&app, &hers, "During hours").await;
        assert_eq!(open.messages.len(), 1, "{}", app.backend);

        // Closed: the reply at once, as the practice's, after her message.
        until(&app, false).await;
        let hers = app.signed_in(&maria).await;
        let closed = write(&app, &hers, "At night").await;
        assert_eq!(closed.messages.len(), 2, "{}", app.backend);
        let reply = &closed.messages[1];
        assert!(reply.automatic);
        assert_eq!(reply.body, words);
        assert_eq!(reply.from, "Harbor Street Medicine");
        assert_eq!(reply.seq, 2);
        // Once a conversation in 12 hours.
        let (status, _) = app
            .call::<i64>(
                &hers,
                "/api/messages/send",
                &[("conversation", &closed.public_id), ("body", "Also…")],
            )
            .await;
        assert_eq!(status, 200);
        let (_, again) = app
            .call::<ConversationView>(
                &hers,
                "/api/messages/open",
                &[("conversation", &closed.public_id)],
            )
            .await;
        assert_eq!(again.expect("opened").messages.len(), 3, "{}", app.backend);
    }
}
