//! The communication hub (issue 15 §4): from a patient's chart the physician writes by secure
//! message, email or text from one composer; each is one audited write, an email's or text's
//! copy sealed; the job sends it; the patient's history shows everything, newest first (one
//! audited read); only those who may write to the patient use it; templates are the practice's.

use super::outbox;
use crate::helpers::{backends, spawn_app, TestApp};
use app::auth::Role;
use app::messages::hub::entity::communication;
use app::messages::hub::model::{Channel, Hub, HubRefusal, Template};
use app::{AppError, Refusal};
use sea_orm::{ConnectionTrait, EntityTrait};

async fn hub(app: &TestApp, who: &reqwest::Client, patient: &str) -> (u16, Option<Hub>) {
    let (status, hub) = app
        .call::<Option<Hub>>(who, "/api/communication/hub", &[("patient", patient)])
        .await;
    (status, hub.ok().flatten())
}

async fn compose(
    app: &TestApp,
    who: &reqwest::Client,
    patient: &str,
    channel: &str,
    subject: &str,
    body: &str,
) -> (u16, Result<String, AppError>) {
    app.call::<String>(
        who,
        "/api/communication/send",
        &[
            ("patient", patient),
            ("channel", channel),
            ("subject", subject),
            ("body", body),
        ],
    )
    .await
}

/// The outbox once `sent` holds of it: the job runs at once in the background, or here.
async fn outbox_when(
    app: &TestApp,
    sent: impl Fn(&(Vec<(String, String)>, Vec<(String, String)>)) -> bool,
) -> (Vec<(String, String)>, Vec<(String, String)>) {
    for _ in 0..100 {
        app.jobs.run_due().await.expect("jobs");
        let now = outbox(app).await;
        if sent(&now) {
            return now;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("not sent within 5 s: {:?}", outbox(app).await);
}

#[tokio::test]
async fn the_physician_writes_by_email_text_and_message_from_the_chart_each_audited_once_and_kept()
{
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let physician = app.create_user(Role::Physician, "dr@example.com").await;
        let doctors = app.signed_in(&physician).await;
        let patient = maria.patient_public_id.clone().expect("record");

        // How she can be reached, with no history yet: one audited read.
        let before = app.audit_count().await;
        let (status, found) = hub(&app, &doctors, &patient).await;
        assert_eq!(status, 200, "{}", app.backend);
        let found = found.expect("the physician has the hub");
        assert_eq!(app.audit_count().await - before, 1);
        assert_eq!(found.first_name, "Maria");
        assert_eq!(found.email.as_deref(), Some("maria@example.com"));
        assert!(found.mobile.is_some() && found.portal);
        assert!(found.history.is_empty());

        // An email: one audited write; the job sends it with the words and the footer.
        let words = "Your flu shot is ready; stop by any morning this week.";
        let before = app.audit_count().await;
        let (status, next) = compose(&app, &doctors, &patient, "email", "Flu shot", words).await;
        assert_eq!(status, 200, "{}: {next:?}", app.backend);
        assert_eq!(
            next.expect("sent"),
            format!("/dashboard/patients/{patient}#communication")
        );
        assert_eq!(
            app.audit_count().await - before,
            1,
            "one audit entry per email"
        );
        let (emails, _) = outbox_when(&app, |(emails, _)| {
            emails.iter().any(|(_, text)| text.contains(words))
        })
        .await;
        let email = emails
            .iter()
            .find(|(to, text)| to == "maria@example.com" && text.contains(words))
            .expect("the email went out");
        assert!(email.1.starts_with("Flu shot\n"));
        assert!(email.1.contains("Please do not reply with health details"));

        // A text, short and without a subject, a minute later.
        app.clock.advance(chrono::Duration::minutes(1));
        let text = "Dr. Marsh is running 20 minutes late today.";
        let (status, _) = compose(&app, &doctors, &patient, "text", "", text).await;
        assert_eq!(status, 200, "{}", app.backend);
        let (_, texts) = outbox_when(&app, |(_, texts)| !texts.is_empty()).await;
        assert!(
            texts
                .iter()
                .any(|(to, body)| to == "+12075550187" && body.starts_with(text)),
            "{texts:?}"
        );

        // A secure message starts a conversation she reads in the portal.
        app.clock.advance(chrono::Duration::minutes(1));
        let (status, next) = compose(
            &app,
            &doctors,
            &patient,
            "message",
            "Your results",
            "All normal.",
        )
        .await;
        assert_eq!(status, 200, "{}", app.backend);
        assert!(next.expect("sent").starts_with("/dashboard/messages/"));

        // The copies are sealed at rest: the words are not in the table.
        for row in communication::Entity::find()
            .all(&app.db)
            .await
            .expect("rows")
        {
            let raw = app
                .db
                .query_one_raw(sea_orm::Statement::from_string(
                    app.db.get_database_backend(),
                    format!("SELECT copy FROM communication WHERE id = {}", row.id),
                ))
                .await
                .expect("raw")
                .expect("row");
            let bytes: Vec<u8> = raw.try_get("", "copy").expect("bytes");
            assert!(!bytes
                .windows(8)
                .any(|w| w == b"flu shot" || w == b"20 minut"));
        }

        // The history: newest first, each channel, sent.
        let (_, found) = hub(&app, &doctors, &patient).await;
        let history = found.expect("hub").history;
        let channels: Vec<Channel> = history.iter().map(|e| e.channel).collect();
        assert_eq!(
            channels,
            [Channel::Message, Channel::Text, Channel::Email],
            "{}",
            app.backend
        );
        assert_eq!(history[2].status, "Sent");
        assert_eq!(history[2].to, "maria@example.com");
        assert_eq!(history[2].body, words);
        assert_eq!(history[1].to, "+12075550187");
        assert_eq!(history[0].status, "1 message");
        assert!(history[0].link.is_some());
        assert!(history
            .iter()
            .all(|e| !e.by.is_empty() && e.by != "A former account"));
    }
}

#[tokio::test]
async fn what_cannot_go_is_refused_with_what_to_do_and_only_those_who_may_write_use_the_hub() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let james = app.create_patient("james@example.com", "James Chen").await;
        let physician = app.create_user(Role::Physician, "dr@example.com").await;
        let staff = app.create_user(Role::Staff, "desk@example.com").await;
        let admin = app.create_user(Role::Admin, "admin@example.com").await;
        let doctors = app.signed_in(&physician).await;
        let patient = maria.patient_public_id.clone().expect("record");

        // No mobile number: refused, with what to do; nothing kept.
        app.db
            .execute_unprepared(&format!(
                "UPDATE patient SET phone = NULL WHERE id = {}",
                maria.patient_id.expect("id")
            ))
            .await
            .expect("no phone");
        let (status, answer) = compose(&app, &doctors, &patient, "text", "", "Hello").await;
        assert_eq!(status, 422, "{}", app.backend);
        assert_eq!(
            answer.err(),
            Some(AppError::Refused(Refusal::Communication(
                HubRefusal::NoMobile
            )))
        );
        assert!(communication::Entity::find()
            .all(&app.db)
            .await
            .expect("rows")
            .is_empty());
        // Too long for a text, no subject for an email: what to fix.
        let long = "x".repeat(481);
        let (status, answer) = compose(&app, &doctors, &patient, "text", "", &long).await;
        assert_eq!(status, 422);
        assert!(matches!(answer, Err(AppError::Validation(e)) if e.get("body").is_some()));
        let (status, answer) = compose(&app, &doctors, &patient, "email", " ", "Hi").await;
        assert_eq!(status, 422);
        assert!(matches!(answer, Err(AppError::Validation(e)) if e.get("subject").is_some()));

        // Staff without a care grant, the administrator, another patient: no hub, and a send
        // is refused and audited.
        for (who, user) in [
            (app.signed_in(&staff).await, "staff"),
            (app.signed_in(&admin).await, "admin"),
            (app.signed_in(&james).await, "james"),
        ] {
            let (status, found) = hub(&app, &who, &patient).await;
            assert_eq!((status, found.is_none()), (200, true), "{user}");
            let before = app.audit_count().await;
            let (status, _) = compose(&app, &who, &patient, "email", "Hi", "Hello").await;
            assert_eq!(status, 403, "{user} on {}", app.backend);
            assert_eq!(
                app.audit_count().await - before,
                1,
                "{user}'s refusal audited"
            );
        }
    }
}

#[tokio::test]
async fn the_practice_keeps_templates_and_a_patient_cannot() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let staff = app.create_user(Role::Staff, "desk@example.com").await;
        let desk = app.signed_in(&staff).await;
        let hers = app.signed_in(&maria).await;
        let save = |who: &reqwest::Client, id: &str, name: &str, body: &str| {
            let (who, id, name, body) =
                (who.clone(), id.to_owned(), name.to_owned(), body.to_owned());
            let app = &app;
            async move {
                app.call::<String>(
                    &who,
                    "/api/communication/templates/save",
                    &[
                        ("template", id.as_str()),
                        ("name", name.as_str()),
                        ("subject", "Hello {first_name}"),
                        ("body", body.as_str()),
                    ],
                )
                .await
            }
        };
        let (status, id) = save(
            &desk,
            "",
            "Results in",
            "Hello {first_name}, your results are in.",
        )
        .await;
        assert_eq!(status, 200, "{}: {id:?}", app.backend);
        let id = id.expect("saved");
        let (status, _) = save(&desk, &id, "Results are in", "Your results are in.").await;
        assert_eq!(status, 200);
        let (status, answer) = save(&desk, "", " ", "").await;
        assert_eq!(status, 422);
        assert!(
            matches!(answer, Err(AppError::Validation(e)) if e.get("name").is_some() && e.get("body").is_some())
        );
        let (status, list) = app
            .call::<Vec<Template>>(&desk, "/api/communication/templates", &[])
            .await;
        assert_eq!(status, 200);
        let list = list.expect("list");
        assert_eq!(list.len(), 1);
        assert_eq!(
            (list[0].name.as_str(), list[0].body.as_str()),
            ("Results are in", "Your results are in.")
        );

        // A patient neither reads nor writes them.
        let (status, _) = app
            .call::<Vec<Template>>(&hers, "/api/communication/templates", &[])
            .await;
        assert_eq!(status, 403);
        let (status, _) = save(&hers, "", "Mine", "Words").await;
        assert_eq!(status, 403);

        let (status, _) = app
            .call::<()>(
                &desk,
                "/api/communication/templates/remove",
                &[("template", id.as_str())],
            )
            .await;
        assert_eq!(status, 200);
        let (_, list) = app
            .call::<Vec<Template>>(&desk, "/api/communication/templates", &[])
            .await;
        assert!(list.expect("list").is_empty());
    }
}
