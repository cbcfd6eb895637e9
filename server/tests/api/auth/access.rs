//! Who may see what (P5), that every attempt is audited once (P9), that the audit log shows
//! tampering, that cross-site requests are refused, key rotation, and sessions in Redis.

use crate::helpers::{backends, caller_of, location, spawn_app, spawn_app_with, TestApp};
use app::audit::service as audit;
use app::auth::{can, Action, Resource, Role};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait};

async fn audit_count(app: &TestApp) -> u64 {
    app::audit::entity::audit_event::Entity::find()
        .count(&app.db)
        .await
        .expect("count")
}

/// P5 and P9: for random people and records, reading or changing a patient's details succeeds
/// exactly when the policy allows it, and every attempt, allowed or denied, adds exactly one
/// audit entry with the right outcome.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p5_p9_access_is_granted_iff_the_policy_allows_and_every_attempt_is_audited_once() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let mut people = vec![
            app.create_patient("p1@example.com", "Ann One").await,
            app.create_patient("p2@example.com", "Ben Two").await,
            app.create_patient("p3@example.com", "Cal Three").await,
        ];
        people.push(app.create_user(Role::Physician, "doc@example.com").await);
        people.push(app.create_user(Role::Staff, "staff@example.com").await);
        people.push(app.create_user(Role::Admin, "admin@example.com").await);
        let mut patient_ids = Vec::new();
        for person in &people {
            if let Some(public) = &person.patient_public_id {
                patient_ids.push((public.clone(), app.patient_row_id(public).await));
            }
        }
        let mut signed = Vec::new();
        for person in &people {
            signed.push(app.acting_as(person).await);
        }
        let handle = tokio::runtime::Handle::current();
        let mut runner = TestRunner::new(Config {
            cases: 40,
            ..Config::default()
        });
        let strategy = (0..people.len(), 0..patient_ids.len(), any::<bool>());
        let result = runner.run(&strategy, |(who, whose, write)| {
            let person = &people[who];
            let (public_id, row_id) = &patient_ids[whose];
            let own = patient_ids
                .iter()
                .find(|(p, _)| Some(p) == person.patient_public_id.as_ref())
                .map(|(_, id)| *id);
            let caller = caller_of(&app, person, own);
            let action = if write { Action::Write } else { Action::Read };
            let allowed = can(
                &caller.actor,
                action,
                &Resource::PatientProfile {
                    patient_id: *row_id,
                },
            );
            tokio::task::block_in_place(|| {
                handle.block_on(async {
                    let before = audit_count(&app).await;
                    let outcome = if write {
                        let details = app::patients::model::Details {
                            phone: app::domain::PhoneNumber::parse("(207) 555-0100").ok(),
                            ..Default::default()
                        };
                        app::patients::service::update_details(&signed[who], public_id, &details)
                            .await
                            .map(|_| ())
                    } else {
                        app::patients::service::read_profile(&signed[who], public_id)
                            .await
                            .map(|_| ())
                    };
                    let after = audit_count(&app).await;
                    prop_assert_eq!(after, before + 1, "exactly one audit entry per attempt");
                    prop_assert_eq!(outcome.is_ok(), allowed, "{:?} {:?}", caller.actor, action);
                    if !allowed {
                        prop_assert_eq!(outcome, Err(app::AppError::Forbidden));
                    }
                    let last = app.audit_rows().await.pop().expect("a row");
                    prop_assert_eq!(last.outcome, if allowed { "allowed" } else { "denied" });
                    prop_assert_eq!(last.actor_user_id, Some(person.id));
                    prop_assert_eq!(last.patient_id.as_deref(), Some(public_id.as_str()));
                    Ok(())
                })
            })
        });
        if let Err(e) = result {
            panic!("{} on {}", e, app.backend);
        }
        let report = audit::verify(&app.db, Some(app.keyring.audit_seal()))
            .await
            .expect("verify");
        assert!(report.is_intact(), "{:?}", report.problems);
    }
}

#[tokio::test]
async fn a_patient_opening_another_patients_page_gets_403_and_the_attempt_is_audited() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let james = app
            .create_patient("james@example.com", "James Okafor")
            .await;
        let browser = app.signed_in(&maria).await;
        let theirs = james.patient_public_id.clone().expect("record");
        let response = app
            .get_with(&browser, &format!("/portal/patients/{theirs}"))
            .await;
        assert_eq!(response.status(), 403, "{}", app.backend);
        let html = response.text().await.expect("body");
        assert!(html.contains("You do not have access to this record"));
        assert!(
            !html.contains("James Okafor"),
            "nothing of the record is shown"
        );
        let last = app.audit_rows().await.pop().expect("row");
        assert_eq!(last.action, "patient_profile.read");
        assert_eq!(last.outcome, "denied");
        assert_eq!(last.actor_user_id, Some(maria.id));
        assert_eq!(last.patient_id.as_deref(), Some(theirs.as_str()));
        // An id that does not exist looks the same to a patient.
        let made_up = app
            .get_with(&browser, "/portal/patients/0123456789abcdef")
            .await;
        assert_eq!(made_up.status(), 403);
        // Her own is fine, and the physician sees both.
        let own = maria.patient_public_id.clone().expect("record");
        assert_eq!(
            app.visit(&browser, &format!("/portal/patients/{own}"))
                .await
                .0,
            200
        );
        let doctor = app.create_user(Role::Physician, "doc@example.com").await;
        let physician = app.signed_in(&doctor).await;
        let page = app
            .get_with(&physician, &format!("/dashboard/patients/{theirs}"))
            .await;
        let status = page.status();
        let html = page.text().await.expect("body");
        assert_eq!(status, 200, "{} {html}", app.backend);
        assert!(html.contains("James Okafor"));
    }
}

#[tokio::test]
async fn every_post_route_and_server_function_refuses_a_cross_site_request() {
    let app = spawn_app(&crate::helpers::Backend::Sqlite).await;
    let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
    // Signed in, so a forged request would carry the cookie if the browser sent it.
    let signed_in = app.signed_in(&maria).await;
    let mut paths: Vec<String> = bedside::startup::areas()
        .posts()
        .iter()
        .map(|p| p.replace("{id}", "cs_local_any"))
        .collect();
    let server_fns: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_owned())
        .collect();
    assert!(
        server_fns.len() >= 8,
        "server functions are registered: {server_fns:?}"
    );
    paths.extend(server_fns);
    // And a path nobody registered: the gate runs before routing, so new routes are covered.
    paths.push("/a/route/added/later".into());
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    for path in &paths {
        let url = format!("{}{path}", app.address);
        for (name, value) in [
            ("origin", "https://evil.example"),
            ("sec-fetch-site", "cross-site"),
        ] {
            let response = plain
                .post(&url)
                .header(name, value)
                .header("content-type", "application/x-www-form-urlencoded")
                .body("email=x%40example.com&password=x")
                .send()
                .await
                .expect("POST");
            assert_eq!(response.status(), 403, "{path} with {name}: {value}");
        }
        let bare = plain.post(&url).body("").send().await.expect("POST");
        assert_eq!(
            bare.status(),
            403,
            "{path} without Origin or Sec-Fetch-Site"
        );
    }
    // Webhooks come from servers, not browsers: what guards them is the sender's signature.
    let webhooks = bedside::startup::areas().webhooks().to_vec();
    assert!(!webhooks.is_empty());
    for path in webhooks {
        let forged = plain
            .post(format!("{}{path}", app.address))
            .header("origin", "https://evil.example")
            .header("content-type", "application/json")
            .body(r#"{"id":"evt_forged","type":"invoice.paid"}"#)
            .send()
            .await
            .expect("POST");
        assert_eq!(forged.status(), 400, "{path} without a signature");
    }
    // Share links' manifests are posted by apps from anywhere and read no session: from another
    // site, with Maria's cookie, a made-up secret opens nothing.
    let links = bedside::startup::areas().link_posts().to_vec();
    assert!(!links.is_empty());
    for path in links {
        let forged = signed_in
            .post(format!(
                "{}{}",
                app.address,
                path.replace("{secret}", &"A".repeat(43))
            ))
            .header("origin", "https://evil.example")
            .json(&serde_json::json!({ "recipient": "someone" }))
            .send()
            .await
            .expect("POST");
        assert_eq!(forged.status(), 404, "{path} without the link's secret");
    }
}

/// Drops the triggers that keep the audit log append-only, as the table's owner could.
async fn lift_append_only(app: &crate::helpers::TestApp) {
    let statements: &[&str] = if app.backend == "postgres" {
        &[
            "DROP TRIGGER audit_event_append_only ON audit_event",
            "DROP TRIGGER audit_event_no_truncate ON audit_event",
        ]
    } else {
        &[
            "DROP TRIGGER audit_event_no_update",
            "DROP TRIGGER audit_event_no_delete",
        ]
    };
    for statement in statements {
        app.db
            .execute_unprepared(statement)
            .await
            .expect("drop a trigger");
    }
}

#[tokio::test]
async fn the_audit_log_refuses_updates_and_deletes_and_only_grows() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let _ = app.signed_in(&maria).await;
        let mut attempts = vec![
            "UPDATE audit_event SET outcome = 'denied' WHERE seq = 1",
            "UPDATE audit_event SET seq = 100 WHERE seq = 1",
            "DELETE FROM audit_event WHERE seq = 1",
            "DELETE FROM audit_event",
        ];
        if app.backend == "postgres" {
            attempts.push("TRUNCATE audit_event");
        }
        for attempt in attempts {
            let refused = app.db.execute_unprepared(attempt).await;
            let error = refused.err().map(|e| e.to_string()).unwrap_or_default();
            assert!(
                error.contains("append-only"),
                "{}: {attempt} was not refused ({error})",
                app.backend
            );
        }
        let report = audit::verify(&app.db, Some(app.keyring.audit_seal()))
            .await
            .expect("verify");
        assert!(report.is_intact(), "{:?}", report.problems);
        // Appending still works: another sign-in adds its row.
        let _ = app.signed_in(&maria).await;
        assert_eq!(
            audit::verify(&app.db, Some(app.keyring.audit_seal()))
                .await
                .expect("verify")
                .rows,
            report.rows + 1
        );
    }
}

#[tokio::test]
async fn the_audit_log_reports_an_edited_a_deleted_and_a_reordered_entry() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        for _ in 0..3 {
            let _ = app.signed_in(&maria).await;
        }
        let report = audit::verify(&app.db, Some(app.keyring.audit_seal()))
            .await
            .expect("verify");
        assert!(report.is_intact(), "{:?}", report.problems);
        assert_eq!(report.rows, 3);

        // Someone who owns the table (and so can drop its triggers) rewrites it anyway.
        lift_append_only(&app).await;
        app.db
            .execute_unprepared("UPDATE audit_event SET outcome = 'denied' WHERE seq = 2")
            .await
            .expect("edit");
        let report = audit::verify(&app.db, Some(app.keyring.audit_seal()))
            .await
            .expect("verify");
        assert!(
            report
                .problems
                .iter()
                .any(|p| p.contains("row 2 was edited")),
            "{:?} {}",
            report.problems,
            app.backend
        );
        app.db
            .execute_unprepared("UPDATE audit_event SET outcome = 'allowed' WHERE seq = 2")
            .await
            .expect("restore");
        assert!(audit::verify(&app.db, Some(app.keyring.audit_seal()))
            .await
            .expect("verify")
            .is_intact());

        // Swap two rows' contents (a reorder).
        app.db
            .execute_unprepared("UPDATE audit_event SET seq = 100 WHERE seq = 1")
            .await
            .expect("move");
        app.db
            .execute_unprepared("UPDATE audit_event SET seq = 1 WHERE seq = 2")
            .await
            .expect("move");
        app.db
            .execute_unprepared("UPDATE audit_event SET seq = 2 WHERE seq = 100")
            .await
            .expect("move");
        let report = audit::verify(&app.db, Some(app.keyring.audit_seal()))
            .await
            .expect("verify");
        assert!(!report.is_intact());
        app.db
            .execute_unprepared("UPDATE audit_event SET seq = 100 WHERE seq = 1")
            .await
            .expect("move");
        app.db
            .execute_unprepared("UPDATE audit_event SET seq = 1 WHERE seq = 2")
            .await
            .expect("move");
        app.db
            .execute_unprepared("UPDATE audit_event SET seq = 2 WHERE seq = 100")
            .await
            .expect("move");
        assert!(audit::verify(&app.db, Some(app.keyring.audit_seal()))
            .await
            .expect("verify")
            .is_intact());

        app.db
            .execute_unprepared("DELETE FROM audit_event WHERE seq = 2")
            .await
            .expect("delete");
        let report = audit::verify(&app.db, Some(app.keyring.audit_seal()))
            .await
            .expect("verify");
        assert!(
            report.problems.iter().any(|p| p.contains("missing")),
            "{:?}",
            report.problems
        );

        app.db
            .execute_unprepared("DELETE FROM audit_event WHERE seq >= 2")
            .await
            .expect("delete newest");
        let report = audit::verify(&app.db, Some(app.keyring.audit_seal()))
            .await
            .expect("verify");
        assert!(
            report
                .problems
                .iter()
                .any(|p| p.contains("newest rows are missing")),
            "{:?}",
            report.problems
        );
    }
}

#[tokio::test]
async fn concurrent_audited_accesses_keep_one_unbroken_chain() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let doctor = app.create_user(Role::Physician, "doc@example.com").await;
        let me = app.acting_as(&doctor).await;
        let public_id = maria.patient_public_id.clone().expect("record");
        let tasks: Vec<_> = (0..24)
            .map(|_| {
                let (me, public_id) = (me.clone(), public_id.clone());
                tokio::spawn(
                    async move { app::patients::service::read_profile(&me, &public_id).await },
                )
            })
            .collect();
        let mut ok = 0;
        for task in tasks {
            if task.await.expect("task").is_ok() {
                ok += 1;
            }
        }
        assert_eq!(ok, 24, "{}", app.backend);
        let report = audit::verify(&app.db, Some(app.keyring.audit_seal()))
            .await
            .expect("verify");
        assert!(report.is_intact(), "{:?}", report.problems);
        assert_eq!(report.rows, 24);
    }
}

#[tokio::test]
async fn the_admin_filters_the_audit_log_and_reading_it_is_audited() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let james = app
            .create_patient("james@example.com", "James Okafor")
            .await;
        let patient = app.signed_in(&maria).await;
        let theirs = james.patient_public_id.clone().expect("record");
        app.get_with(&patient, &format!("/portal/patients/{theirs}"))
            .await;
        let admin = app.create_user(Role::Admin, "admin@example.com").await;
        let browser = app.signed_in(&admin).await;
        let page = app.get_with(&browser, "/admin/audit?outcome=denied").await;
        assert_eq!(page.status(), 200, "{}", app.backend);
        let html = page.text().await.expect("body");
        assert!(html.contains("maria@example.com (patient)"), "{html}");
        assert!(html.contains(&theirs));
        assert!(!html.contains("session.sign_in"), "filtered to denials");
        let by_patient = app
            .get_with(&browser, "/admin/audit?patient=james%40example.com")
            .await
            .text()
            .await
            .expect("body");
        assert!(by_patient.contains("patient_profile.read"));
        let last = app.audit_rows().await.pop().expect("row");
        assert_eq!(last.action, "audit_log.read");
        // Staff cannot read it, even by calling the server function directly.
        let staff = app.create_user(Role::Staff, "staff@example.com").await;
        let staff_browser = app.signed_in(&staff).await;
        assert_eq!(app.visit(&staff_browser, "/admin/audit").await.0, 303);
    }
}

#[tokio::test]
async fn rotating_keys_re_encrypts_every_sealed_value_under_the_active_key() {
    for backend in backends() {
        let app = spawn_app(&backend).await;
        let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
        let maria_signed = app.acting_as(&maria).await;
        let doctor = app.create_user(Role::Physician, "doc@example.com").await;
        app.post_form(
            "/contact",
            &[
                ("name", "Ann Lee"),
                ("email", "ann@example.com"),
                ("phone", ""),
                ("topic", "membership"),
                ("message", "Hello there, a question."),
                ("website", ""),
            ],
        )
        .await;
        // A member (sealed address and emergency contact, and a kept receipt) with a visit
        // (a sealed reason).
        let member = app.new_browser();
        let checkout = crate::memberships::joining::join(&app, &member, "ana@example.com").await;
        crate::memberships::joining::pay(&app, &member, &checkout, "4242424242424242").await;
        crate::memberships::joining::confirm(&app, &member, "ana@example.com").await;
        app.jobs.run_due().await.expect("jobs");
        let booking = app
            .get_with(&member, "/portal/book?type=in_person")
            .await
            .text()
            .await
            .expect("page");
        let slot = booking
            .split("name=\"starts_at\"")
            .nth(1)
            .and_then(|rest| rest.split("value=\"").nth(1))
            .and_then(|rest| rest.split('"').next())
            .expect("a free time")
            .to_owned();
        let booked = app
            .post_page_form(
                &member,
                "/api/visits/book",
                &[
                    ("visit_type", "in_person"),
                    ("starts_at", &slot),
                    ("reason", "Knee pain"),
                ],
            )
            .await;
        assert_eq!(
            location(&booked).as_deref(),
            Some("/portal/visits?booked=1")
        );
        // Ana says what she likes to be called (a sealed preferred name).
        let (status, _) = app
            .call::<()>(
                &member,
                "/api/patients/details",
                &[("phone", "(207) 555-0142"), ("preferred_name", "Ana")],
            )
            .await;
        assert_eq!(status, 200);
        // Maria's chart: an allergy (the entry and its first version, sealed).
        let chart = app.signed_in(&maria).await;
        let maria_record = maria.patient_public_id.clone().expect("record");
        let (status, _) = app
            .call::<()>(
                &chart,
                "/api/records/chart/save",
                &[
                    ("patient", maria_record.as_str()),
                    ("section", "allergy"),
                    ("substance", "Penicillin"),
                ],
            )
            .await;
        assert_eq!(status, 200);
        // Two visits of Maria's: one with a draft note, one with a signed note and an addendum.
        {
            use app::appointments::VisitType;
            use app::records::notes::{model, service};
            let physician = app.acting_as(&doctor).await;
            let mut visits = Vec::new();
            for days in [3, 10] {
                let at = app.free_times(VisitType::InPerson, days, 7).await[0];
                let booked = app
                    .book(&maria, VisitType::InPerson, at, "Check-up", None)
                    .await
                    .expect("booked");
                visits.push(booked.public_id);
            }
            let draft = model::NoteDraft {
                plan: "Fasting labs".into(),
                ..Default::default()
            };
            service::save_draft(&physician, &visits[0], None, &draft)
                .await
                .expect("a draft");
            let row = app::appointments::entity::appointment::Entity::find()
                .all(&app.db)
                .await
                .expect("visits")
                .into_iter()
                .find(|a| a.public_id == visits[1])
                .expect("the visit");
            let content = model::NoteContent {
                assessment: "Well adult".into(),
                plan: "Return in a year".into(),
                ..Default::default()
            };
            service::file_signed(
                &app.db,
                &app.keyring,
                &row,
                doctor.id,
                &content,
                app.clock_now(),
            )
            .await
            .expect("a signed note");
            service::add_addendum(&physician, &visits[1], "Labs normal.")
                .await
                .expect("an addendum");
        }
        // A lab report Maria added (its label and data key sealed in the row; the object
        // sealed under the data key, which rotation must leave as it is).
        let objects = bedside::storage::Objects::from_settings(&Default::default(), app.data_dir())
            .expect("objects");
        let lab = b"%PDF-1.4 glucose 101 mg/dL".to_vec();
        let form = reqwest::multipart::Form::new()
            .text("patient", maria_record.clone())
            .text("kind", "lab_result")
            .part(
                "file",
                reqwest::multipart::Part::bytes(lab.clone()).file_name("labs.pdf"),
            );
        let document: String = chart
            .post(format!("{}/api/records/documents/upload", app.address))
            .header(reqwest::header::ACCEPT, "application/json")
            .multipart(form)
            .send()
            .await
            .expect("upload")
            .json()
            .await
            .expect("its id");
        let object = format!("documents/{document}");
        let sealed_object = objects.sealed_bytes(&object).await.expect("object");
        let old = app.keyring.clone();
        let old_key = app::crypto::MasterKey::from_base64(1, &dev_key(&app)).expect("key");
        let new_key = app::crypto::MasterKey::generate(2);
        let both = app::crypto::Keyring::new(vec![old_key, new_key.clone()], 2).expect("ring");
        // The inquiry; Maria's name, date of birth and phone; the doctor's MFA secret; Ana's
        // name, date of birth, phone and preferred name, address and emergency contact,
        // receipt and visit reason; the three accounts' names; the outboxes and notifications;
        // Maria's allergy and its first version; her two visits' reasons, notes and addendum; her
        // lab report's label and data key.
        let before = values_under_key(&app, 1).await;
        assert!(before >= 20, "{} sealed values", before);
        let report = bedside::rotate::rotate_all(&app.db, &both, |_| {})
            .await
            .expect("rotate");
        // Every value under the old key, wherever it is: found from the schema (each binary
        // column of each table), not from rotate's own list, so a sealed column that rotate
        // misses fails here.
        assert_eq!(
            report.values_rotated, before,
            "{} {:?}",
            app.backend, report
        );
        assert_eq!(values_under_key(&app, 1).await, 0, "{}", app.backend);
        assert_eq!(values_under_key(&app, 2).await, before, "{}", app.backend);
        let again = bedside::rotate::rotate_all(&app.db, &both, |_| {})
            .await
            .expect("rotate");
        assert_eq!(again.values_rotated, 0, "a second run has nothing to do");
        // Only the new key is needed now.
        let only_new = app::crypto::Keyring::new(vec![new_key], 2).expect("ring");
        // Maria, reading her record with the new key alone, and with the old one alone.
        let maria_with = |keyring: app::crypto::Keyring| {
            let me = maria_signed.clone();
            app::auth::context::SignedIn::new(
                me.identity().with_keyring(keyring),
                me.auth.clone(),
                &Default::default(),
                None,
            )
            .expect("signed in")
        };
        // The lab report opens with the new key alone, from the very same object.
        let file = app::records::documents::service::open(&maria_with(only_new.clone()), &document)
            .await
            .expect("the document opens");
        assert!(objects.sealed_bytes(&object).await.expect("object") == sealed_object);
        let mut read = Box::pin(objects.open(&object, &file.key).await.expect("open"));
        let mut bytes = Vec::new();
        while let Some(piece) = futures::StreamExt::next(&mut read).await {
            bytes.extend_from_slice(&piece.expect("a checked piece"));
        }
        assert!(bytes == lab, "{}", app.backend);
        let public_id = maria.patient_public_id.as_deref().expect("id");
        let profile = app::patients::service::read_profile(&maria_with(only_new), public_id)
            .await
            .expect("readable");
        assert_eq!(profile.legal_name, "Maria Lopez");
        assert!(
            app::patients::service::read_profile(&maria_with(old), public_id)
                .await
                .is_err()
        );
    }
}

/// How many values in the whole database are sealed under key `key_id`: every binary column of
/// every table, read from the schema.
async fn values_under_key(app: &TestApp, key_id: u32) -> u64 {
    use sea_orm::{DbBackend, Statement};
    let backend = app.db.get_database_backend();
    let columns = if backend == DbBackend::Sqlite {
        "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND (upper(p.type) LIKE '%BLOB%' OR upper(p.type) LIKE '%BINARY%')"
    } else {
        "SELECT table_name::text, column_name::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND data_type = 'bytea'"
    };
    let columns = app
        .db
        .query_all_raw(Statement::from_string(backend, columns))
        .await
        .expect("the schema");
    assert!(columns.len() >= 10, "binary columns: {}", columns.len());
    let mut found = 0;
    for column in columns {
        let table: String = column.try_get_by_index(0).expect("table");
        let name: String = column.try_get_by_index(1).expect("column");
        let values = app
            .db
            .query_all_raw(Statement::from_string(
                backend,
                format!("SELECT \"{name}\" FROM \"{table}\" WHERE \"{name}\" IS NOT NULL"),
            ))
            .await
            .expect("values");
        for value in values {
            let bytes: Vec<u8> = value.try_get_by_index(0).expect("bytes");
            if app::crypto::Keyring::key_id_of(&bytes).is_ok_and(|id| id == key_id) {
                found += 1;
            }
        }
    }
    found
}

fn dev_key(app: &TestApp) -> String {
    // The test's data folder holds the development key as `<id>:<base64>`.
    let text = std::fs::read_to_string(app.data_dir().join("dev-master.key")).expect("dev key");
    text.trim().split_once(':').expect("id:key").1.to_owned()
}

#[tokio::test]
async fn sessions_in_redis_behave_like_sessions_in_the_database() {
    let Ok(redis_url) = std::env::var("REDIS_URL") else {
        eprintln!("REDIS_URL is not set: the Redis session store is not tested in this run (the test command sets it)");
        return;
    };
    let prefix = format!("bedside-test-{}:", uuid::Uuid::new_v4().simple());
    let app = spawn_app_with(&crate::helpers::Backend::Sqlite, |s| {
        s.redis_url = Some(redis_url.clone());
        s.redis_key_prefix = prefix.clone();
    })
    .await;
    let maria = app.create_patient("maria@example.com", "Maria Lopez").await;
    let phone = app.signed_in(&maria).await;
    let laptop = app.signed_in(&maria).await;
    assert_eq!(app.visit(&phone, "/portal").await.0, 200);
    // Stored in Redis, not in the table.
    let rows = app::auth::entity::user_session::Entity::find()
        .count(&app.db)
        .await
        .expect("count");
    assert_eq!(rows, 0);
    let sessions = app
        .identity
        .sessions()
        .list_for_user(maria.id)
        .await
        .expect("list");
    assert_eq!(sessions.len(), 2);
    // Idle timeout, checked the same way.
    app.clock.advance(chrono::Duration::minutes(31));
    assert_eq!(app.visit(&phone, "/portal").await.0, 303);
    // Sign-out everywhere on a password change.
    let laptop2 = app.signed_in(&maria).await;
    let phone2 = app.signed_in(&maria).await;
    let changed = app
        .post_with(
            &laptop2,
            "/account/password",
            &[
                ("current_password", &maria.password),
                ("new_password", "quiet harbor morning tide"),
            ],
        )
        .await;
    assert_eq!(
        location(&changed).as_deref(),
        Some("/account/security?changed=password")
    );
    assert_eq!(app.visit(&phone2, "/portal").await.0, 303);
    assert_eq!(app.visit(&laptop2, "/portal").await.0, 200);
    drop(laptop);
}

#[tokio::test]
async fn bedside_admin_create_makes_an_account_that_can_sign_in() {
    let data = tempfile::tempdir().expect("dir");
    let db_url = format!("sqlite://{}?mode=rwc", data.path().join("b.db").display());
    let run = |args: &[&str], stdin: Option<&str>| {
        use std::io::Write;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_bedside"))
            .args(args)
            .env("BEDSIDE_DATABASE_URL", &db_url)
            .env("BEDSIDE_DATA_DIR", data.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run bedside");
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(input.as_bytes())
                .expect("write");
        }
        child.wait_with_output().expect("output")
    };
    let out = run(
        &[
            "admin",
            "create",
            "--email",
            "Owner@Example.com",
            "--name",
            "Pat Owner",
            "--role",
            "admin",
            "--password-stdin",
        ],
        Some("quiet harbor morning tide\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Created the admin account"));
    let weak = run(
        &[
            "admin",
            "create",
            "--email",
            "two@example.com",
            "--name",
            "Two",
            "--role",
            "staff",
            "--password-stdin",
        ],
        Some("password123\n"),
    );
    assert!(!weak.status.success());
    assert!(
        String::from_utf8_lossy(&weak.stderr).contains("password"),
        "{}",
        String::from_utf8_lossy(&weak.stderr)
    );
    let generated = run(
        &[
            "admin",
            "create",
            "--email",
            "doc@example.com",
            "--name",
            "Doc",
            "--role",
            "physician",
        ],
        None,
    );
    let text = String::from_utf8_lossy(&generated.stdout).to_string();
    assert!(text.contains("First password"), "{text}");
    let verify = run(&["audit", "verify"], None);
    assert!(verify.status.success());
}

#[tokio::test]
async fn with_redis_the_attempt_limit_is_shared_by_every_process() {
    let Ok(redis_url) = std::env::var("REDIS_URL") else {
        eprintln!("REDIS_URL is not set: shared attempt limits are not tested in this run (the test command sets it)");
        return;
    };
    let prefix = format!("bedside-test-{}:", uuid::Uuid::new_v4().simple());
    let configure = |s: &mut bedside::Settings| {
        s.redis_url = Some(redis_url.clone());
        s.redis_key_prefix = prefix.clone();
    };
    // Two Bedside processes behind one load balancer.
    let first = spawn_app_with(&crate::helpers::Backend::Sqlite, configure).await;
    let second = spawn_app_with(&crate::helpers::Backend::Sqlite, configure).await;
    let form = [
        ("email", "maria@example.com"),
        ("password", "wrong password!!"),
    ];
    // The shared count is per clock minute: start early in one, so all eleven land in it.
    let second_of_minute = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs()
        % 60;
    if second_of_minute > 45 {
        tokio::time::sleep(std::time::Duration::from_secs(61 - second_of_minute)).await;
    }
    for i in 0..10 {
        let app = if i % 2 == 0 { &first } else { &second };
        assert_eq!(
            app.post_form("/signin", &form).await.status(),
            401,
            "attempt {i}"
        );
    }
    let limited = first.post_form("/signin", &form).await;
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().contains_key("retry-after"));
    assert_eq!(second.post_form("/signin", &form).await.status(), 429);
}

#[tokio::test]
async fn a_sign_out_in_redis_stays_a_sign_out_when_a_refresh_read_just_before_lands_after() {
    use app::auth::session::SessionStore;
    let Ok(redis_url) = std::env::var("REDIS_URL") else {
        eprintln!("REDIS_URL is not set: the Redis session store is not tested in this run (the test command sets it)");
        return;
    };
    let prefix = format!("bedside-test-{}:", uuid::Uuid::new_v4().simple());
    let store = bedside::auth::redis_store::RedisSessionStore::connect(&redis_url, &prefix)
        .await
        .expect("connect to Redis");
    let now = app::clock::test_start();
    let record = app::auth::session::SessionRecord {
        id: "a".repeat(64),
        user_id: 7,
        created_at: now,
        last_seen_at: now,
        expires_at: now + chrono::Duration::hours(12),
        mfa_passed: true,
        ip: None,
        user_agent: None,
    };
    store.insert(&record).await.expect("insert");
    // A request read the session; the person signs out; then that request records activity.
    let read = store.get(&record.id).await.expect("get").expect("there");
    store.remove(&record.id).await.expect("sign out");
    store
        .refresh(read, now + chrono::Duration::seconds(20))
        .await
        .expect("refresh");
    assert_eq!(
        store.get(&record.id).await.expect("get"),
        None,
        "still signed out"
    );
    // A live session is refreshed as before.
    store.insert(&record).await.expect("insert");
    let read = store.get(&record.id).await.expect("get").expect("there");
    let later = now + chrono::Duration::seconds(30);
    store.refresh(read, later).await.expect("refresh");
    assert_eq!(
        store
            .get(&record.id)
            .await
            .expect("get")
            .map(|r| r.last_seen_at),
        Some(later)
    );
    store.remove(&record.id).await.expect("clean up");
}
