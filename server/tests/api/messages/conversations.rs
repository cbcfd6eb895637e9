//! Conversations between a patient and the practice: written and read through the server
//! functions, heard live by the other side, numbered by the server, read receipts, who may
//! read them (P5), one audit entry per read or write (P9), sealed at rest (P6).

use super::{send, start};
use crate::helpers::{backends, spawn_app, TestApp, TestUser};
use crate::live::Listening;
use app::auth::Role;
use app::messages::model::{ConversationSummary, ConversationView};
use sea_orm::{ConnectionTrait, EntityTrait};

async fn open(app: &TestApp, who: &reqwest::Client, id: &str) -> (u16, Option<ConversationView>) {
    let (status, view) = app
        .call::<ConversationView>(who, "/api/messages/open", &[("conversation", id)])
        .await;
    (status, view.ok())
}

async fn inbox(app: &TestApp, who: &reqwest::Client) -> (u16, Vec<ConversationSummary>) {
    let (status, list) = app
        .call::<Vec<ConversationSummary>>(who, "/api/messages/inbox", &[])
        .await;
    (status, list.unwrap_or_default())
}

/// What `call` adds to the audit log.
async fn audited<T>(app: &TestApp, call: impl std::future::Future<Output = T>) -> (T, u64) {
    let before = app.audit_count().await;
    let out = call.await;
    (out, app.audit_count().await - before)
}

struct Practice {
    maria: TestUser,
    physician: TestUser,
    hers: reqwest::Client,
    doctors: reqwest::Client,
}

async fn practice(app: &TestApp) -> Practice {
    let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
    let physician = app.create_user(Role::Physician, "dr@example.com").await;
    let hers = app.signed_in(&maria).await;
    let doctors = app.signed_in(&physician).await;
    Practice {
        maria,
        physician,
        hers,
        doctors,
    }
}

#[tokio::test]
async fn a_patient_writes_the_physician_reads_and_replies_and_each_side_hears_it_live() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let Practice {
            maria,
            physician,
            hers,
            doctors,
        } = practice(&app).await;
        let mut doctor_hears = Listening::open(&app.address, &doctors, None).await;
        let mut maria_hears = Listening::open(&app.address, &hers, None).await;
        doctor_hears.counts().await;
        maria_hears.counts().await;

        // Maria writes; one audited write.
        let (id, rows) = audited(
            &app,
            start(
                &app,
                &hers,
                "Refill",
                "Could I get a refill of my lisinopril?",
            ),
        )
        .await;
        assert_eq!(rows, 1, "{}", app.backend);
        // The physician's open dashboard hears it, and her count.
        let heard = doctor_hears.until("message").await.expect("heard");
        assert_eq!(
            heard.data,
            serde_json::json!({ "conversation": id }).to_string()
        );
        let count = doctor_hears.until("messages").await.expect("count");
        assert_eq!(count.data, r#"{"unread":1}"#, "{}", app.backend);

        // The inbox: one entry for the inbox and one for the patient shown.
        let ((status, list), rows) = audited(&app, inbox(&app, &doctors)).await;
        assert_eq!(status, 200);
        assert_eq!(rows, 2, "{}", app.backend);
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].subject, "Refill");
        assert_eq!(list[0].with, "Maria Lopez");
        assert_eq!(list[0].unread, 1);

        // She opens it (one audited read); Maria hears that it was read.
        let ((status, view), rows) = audited(&app, open(&app, &doctors, &id)).await;
        assert_eq!((status, rows), (200, 1), "{}", app.backend);
        let view = view.expect("opened");
        assert_eq!(view.messages.len(), 1);
        assert_eq!(
            view.messages[0].body,
            "Could I get a refill of my lisinopril?"
        );
        assert_eq!(view.messages[0].from, "Maria Lopez");
        assert!(!view.messages[0].mine);
        maria_hears
            .until("messages_read")
            .await
            .expect("read, heard");
        assert_eq!(
            doctor_hears.until("messages").await.expect("count").data,
            r#"{"unread":0}"#
        );

        // She replies; Maria hears it and has one unread.
        let ((status, seq), rows) = audited(
            &app,
            send(&app, &doctors, &id, "Yes, sent to your pharmacy."),
        )
        .await;
        assert_eq!((status, seq, rows), (200, Some(2), 1), "{}", app.backend);
        maria_hears
            .until("message")
            .await
            .expect("the reply, heard");
        assert_eq!(
            maria_hears.until("messages").await.expect("count").data,
            r#"{"unread":1}"#
        );
        let (status, mine) = app
            .call::<Vec<ConversationSummary>>(&hers, "/api/messages/mine", &[])
            .await;
        assert_eq!(status, 200);
        let mine = mine.expect("hers");
        assert_eq!(mine[0].unread, 1);
        assert_eq!(mine[0].with, "Harbor Street Medicine");

        // Maria reads: the server's order, her message read by the physician, with when.
        let (_, view) = open(&app, &hers, &id).await;
        let view = view.expect("opened");
        let order: Vec<i64> = view.messages.iter().map(|m| m.seq).collect();
        assert_eq!(order, vec![1, 2]);
        assert!(view.messages[0].mine);
        assert_eq!(view.messages[0].read_by.len(), 1, "{}", app.backend);
        assert_eq!(view.messages[0].read_by[0].who, "Test Physician");
        assert_eq!(view.messages[1].from, "Test Physician");
        // The physician sees Maria's receipt of the reply.
        doctor_hears.until("messages_read").await.expect("heard");
        let (_, again) = open(&app, &doctors, &id).await;
        assert_eq!(
            again.expect("opened").messages[1].read_by[0].who,
            "Maria Lopez"
        );
        let _ = (maria, physician);
    }
}

#[tokio::test]
async fn only_the_patient_the_physician_and_staff_let_in_reach_a_conversation_and_every_refusal_is_audited(
) {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let Practice {
            maria,
            hers,
            doctors,
            ..
        } = practice(&app).await;
        let id = start(&app, &hers, "Rash", "A rash on my arm since Monday.").await;
        let james = app
            .create_patient("james@example.com", "James Okafor")
            .await;
        let staff = app.create_user(Role::Staff, "desk@example.com").await;
        let admin = app.create_user(Role::Admin, "admin@example.com").await;
        let his = app.signed_in(&james).await;
        let desk = app.signed_in(&staff).await;
        let admins = app.signed_in(&admin).await;

        for (who, label) in [
            (&his, "another patient"),
            (&desk, "staff"),
            (&admins, "admin"),
        ] {
            let ((status, view), rows) = audited(&app, open(&app, who, &id)).await;
            assert_eq!(
                (status, view.is_none()),
                (403, true),
                "{label}: {}",
                app.backend
            );
            assert_eq!(rows, 1, "{label}: the refusal is audited");
            let ((status, _), _) = audited(&app, send(&app, who, &id, "Hello")).await;
            assert_eq!(status, 403, "{label} writes: {}", app.backend);
        }
        // Staff see no conversation in the inbox without a grant; the admin has no inbox.
        assert_eq!(inbox(&app, &desk).await, (200, Vec::new()));
        assert_eq!(inbox(&app, &admins).await.0, 403);
        // An unknown conversation: refused, audited.
        let ((status, _), rows) = audited(&app, open(&app, &hers, "nope")).await;
        assert_eq!((status, rows), (403, 1), "{}", app.backend);
        let ((status, _), _) = audited(&app, open(&app, &doctors, "nope")).await;
        assert_eq!(status, 404);

        // The physician lets the front desk work on Maria's chart: they see and answer it.
        let maria_public = maria.patient_public_id.clone().expect("record");
        let (status, _) = app
            .call::<()>(
                &doctors,
                "/api/grants/create",
                &[
                    ("patient", maria_public.as_str()),
                    ("staff", staff.public_id.as_str()),
                    ("days", "7"),
                    ("reason", "Handling refills"),
                ],
            )
            .await;
        assert_eq!(status, 200);
        let (status, list) = inbox(&app, &desk).await;
        assert_eq!((status, list.len()), (200, 1), "{}", app.backend);
        assert_eq!(send(&app, &desk, &id, "We are on it.").await.0, 200);
        // Not James's, though.
        let (status, theirs) = app
            .call::<Vec<ConversationSummary>>(&his, "/api/messages/mine", &[])
            .await;
        assert_eq!((status, theirs.expect("his").len()), (200, 0));
    }
}

#[tokio::test]
async fn a_message_must_say_something_and_nothing_is_written_when_it_does_not() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let Practice { hers, .. } = practice(&app).await;
        let (status, refused) = app
            .call::<String>(
                &hers,
                "/api/messages/start",
                &[("subject", " "), ("body", "")],
            )
            .await;
        assert_eq!(status, 422, "{}", app.backend);
        let Err(app::AppError::Validation(fields)) = refused else {
            panic!("field errors")
        };
        assert_eq!(fields.get("subject"), Some("Give your message a subject."));
        assert_eq!(fields.get("body"), Some("Write your message."));
        let id = start(&app, &hers, "Question", "Is fasting needed?").await;
        assert_eq!(send(&app, &hers, &id, "   ").await.0, 422);
        let (_, view) = open(&app, &hers, &id).await;
        assert_eq!(view.expect("opened").messages.len(), 1);
    }
}

#[tokio::test]
async fn subjects_and_bodies_are_sealed_at_rest_bound_to_their_ids_and_equal_words_seal_differently(
) {
    use app::messages::entity::{conversation, message};
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let Practice { hers, .. } = practice(&app).await;
        let id = start(&app, &hers, "Chest pain at night", "Same words").await;
        send(&app, &hers, &id, "Same words").await;
        let rows = message::Entity::find().all(&app.db).await.expect("rows");
        assert_eq!(rows.len(), 2);
        let sealed: Vec<Vec<u8>> = rows.iter().map(|m| m.body.clone().into_bytes()).collect();
        assert_ne!(
            sealed[0], sealed[1],
            "{}: equal words, distinct ciphertexts",
            app.backend
        );
        for bytes in &sealed {
            assert!(!String::from_utf8_lossy(bytes).contains("Same words"));
        }
        let conversation = conversation::Entity::find()
            .one(&app.db)
            .await
            .expect("row")
            .expect("one");
        assert!(
            !String::from_utf8_lossy(&conversation.subject.clone().into_bytes())
                .contains("Chest pain")
        );

        // A body moved onto another message does not open there.
        let (first, second) = (&rows[0], &rows[1]);
        let stmt = sea_orm::Statement::from_sql_and_values(
            app.db.get_database_backend(),
            match app.db.get_database_backend() {
                sea_orm::DbBackend::Postgres => "UPDATE message SET body = $1 WHERE id = $2",
                _ => "UPDATE message SET body = ? WHERE id = ?",
            },
            [first.body.clone().into_bytes().into(), second.id.into()],
        );
        app.db.execute_raw(stmt).await.expect("tamper");
        let (status, _) = open(&app, &hers, &id).await;
        assert_eq!(
            status, 500,
            "{}: a moved body is refused, not shown",
            app.backend
        );
    }
}

#[tokio::test]
async fn the_practice_assigns_a_conversation_marks_it_done_and_filters_its_inbox_and_a_patient_cannot(
) {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let Practice {
            physician,
            hers,
            doctors,
            ..
        } = practice(&app).await;
        let refill = start(&app, &hers, "Refill", "More lisinopril, please.").await;
        let knee = start(&app, &hers, "Knee", "My knee hurts.").await;
        let manage = |who: &reqwest::Client, form: Vec<(&'static str, String)>| {
            let who = who.clone();
            let app = &app;
            async move {
                let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
                app.call::<()>(&who, "/api/messages/manage", &form).await.0
            }
        };
        // Assigned to herself: one audited write; "mine" shows it.
        let (status, rows) = audited(
            &app,
            manage(
                &doctors,
                vec![
                    ("conversation", refill.clone()),
                    ("to", physician.public_id.clone()),
                ],
            ),
        )
        .await;
        assert_eq!((status, rows), (200, 1), "{}", app.backend);
        let (_, mine) = app
            .call::<Vec<ConversationSummary>>(&doctors, "/api/messages/inbox", &[("show", "mine")])
            .await;
        let mine = mine.expect("mine");
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].public_id, refill);
        assert!(mine[0].mine);
        // Someone who cannot read this patient's messages cannot have it.
        let staff = app.create_user(Role::Staff, "desk@example.com").await;
        let status = manage(
            &doctors,
            vec![
                ("conversation", refill.clone()),
                ("to", staff.public_id.clone()),
            ],
        )
        .await;
        assert_eq!(status, 422, "{}", app.backend);

        // Done: out of the open list, in the done list; a new message opens it again.
        let status = manage(
            &doctors,
            vec![("conversation", knee.clone()), ("done", "1".to_owned())],
        )
        .await;
        assert_eq!(status, 200);
        let list = |show: &'static str| {
            let doctors = doctors.clone();
            let app = &app;
            async move {
                app.call::<Vec<ConversationSummary>>(
                    &doctors,
                    "/api/messages/inbox",
                    &[("show", show)],
                )
                .await
                .1
                .expect("inbox")
                .into_iter()
                .map(|c| c.public_id)
                .collect::<Vec<_>>()
            }
        };
        assert_eq!(list("open").await, vec![refill.clone()], "{}", app.backend);
        assert_eq!(list("done").await, vec![knee.clone()]);
        assert_eq!(list("all").await.len(), 2);
        // Unread, among the open ones: the refill.
        assert_eq!(list("unread").await, vec![refill.clone()]);
        send(&app, &hers, &knee, "It is worse today.").await;
        assert_eq!(list("done").await, Vec::<String>::new(), "{}", app.backend);

        // A patient may not assign or close: refused, audited.
        let (status, rows) = audited(
            &app,
            manage(
                &hers,
                vec![("conversation", knee.clone()), ("done", "1".to_owned())],
            ),
        )
        .await;
        assert_eq!((status, rows), (403, 1), "{}", app.backend);
    }
}

#[tokio::test]
async fn the_inbox_narrows_to_a_patient_by_name_and_to_a_day_and_audits_only_those_shown() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let Practice { hers, doctors, .. } = practice(&app).await;
        let james = app
            .create_patient("james@example.com", "James Okafor")
            .await;
        let his = app.signed_in(&james).await;
        let old = start(&app, &hers, "Refill", "More lisinopril, please.").await;
        // Maria's last message came three days ago.
        let three_days_ago = app.clock_now() - chrono::Duration::days(3);
        app::messages::entity::conversation::Entity::update_many()
            .col_expr(
                app::messages::entity::conversation::Column::LastMessageAt,
                sea_orm::sea_query::Expr::val(three_days_ago),
            )
            .exec(&app.db)
            .await
            .expect("backdated");
        let today = app
            .clock_now()
            .with_timezone(&chrono_tz::America::New_York)
            .date_naive()
            .to_string();
        let new = start(&app, &his, "Knee", "My knee hurts.").await;
        let inbox = |form: Vec<(&'static str, String)>| {
            let doctors = doctors.clone();
            let app = &app;
            async move {
                let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let (status, list) = app
                    .call::<Vec<ConversationSummary>>(&doctors, "/api/messages/inbox", &form)
                    .await;
                (
                    status,
                    list.map(|l| l.into_iter().map(|c| c.public_id).collect::<Vec<_>>()),
                )
            }
        };
        // By a part of the name, any case: only Maria's; the inbox and Maria audited, not James.
        let before = app.audit_count().await;
        let (status, found) = inbox(vec![("patient", "LOPEZ".into())]).await;
        assert_eq!(
            (status, found.ok()),
            (200, Some(vec![old.clone()])),
            "{}",
            app.backend
        );
        assert_eq!(
            app.audit_count().await - before,
            2,
            "the inbox and the one patient shown"
        );
        // Since today: only James's.
        let (_, found) = inbox(vec![("since", today.clone())]).await;
        assert_eq!(found.ok(), Some(vec![new.clone()]), "{}", app.backend);
        // Both: nothing.
        let (_, found) = inbox(vec![("since", today), ("patient", "maria".into())]).await;
        assert_eq!(found.ok(), Some(Vec::new()));
        // A date that is not one: what to fix.
        let (status, answer) = inbox(vec![("since", "yesterday".into())]).await;
        assert_eq!(status, 422, "{}", app.backend);
        assert!(matches!(answer, Err(app::AppError::Validation(e)) if e.get("since").is_some()));
    }
}
